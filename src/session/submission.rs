//! Material submission: an address-change notice. Identify by card, fill a short
//! form from choices and the keypad (no free text: no input method needed), review,
//! submit through the outbox (works offline), print the receipt.

use super::flow::Cx;
use super::form::{AddressChangeForm, DISTRICTS, FormField};
use super::keypad::KeypadField;
use super::types::{Effect, Screen, UiAction, Work};

#[derive(Debug, Default)]
pub struct State {
    pub form: AddressChangeForm,
}

pub(super) fn start(_state: &mut State, cx: &mut dyn Cx) {
    cx.identify();
}

pub(super) fn on_identity(_state: &mut State, cx: &mut dyn Cx) {
    cx.go(Screen::SubmissionForm);
}

pub(super) fn on_action(state: &mut State, action: UiAction, cx: &mut dyn Cx) {
    match (cx.screen(), action) {
        (Screen::SubmissionForm, UiAction::EditField(field)) => match field {
            FormField::District => cx.go(Screen::SubmissionDistrict),
            FormField::House => cx.ask(KeypadField::HouseNumber, &state.form.house.clone()),
            FormField::Room => cx.ask(KeypadField::RoomNumber, &state.form.room.clone()),
            FormField::Phone => cx.ask(KeypadField::Phone, &state.form.phone.clone()),
        },
        (Screen::SubmissionDistrict, UiAction::ChooseDistrict(index))
            if index < DISTRICTS.len() =>
        {
            state.form.district = Some(index);
            cx.go(Screen::SubmissionForm);
        }
        (Screen::SubmissionForm, UiAction::ReviewSubmission) if state.form.is_complete() => {
            cx.go(Screen::SubmissionConfirm);
        }
        (Screen::SubmissionConfirm, UiAction::Submit) => {
            let (Some(service_id), Some(identity)) = (cx.service_id(), cx.identity()) else {
                // The card left with its data: ask for it again, the form stays.
                cx.identify();
                return;
            };
            let locale = cx.locale();
            cx.effect(Effect::Submit {
                service_id,
                identity,
                form: state.form.clone(),
                locale,
            });
            cx.work(Work::Submitting);
        }
        _ => {}
    }
}

pub(super) fn on_keypad(state: &mut State, field: KeypadField, value: String, cx: &mut dyn Cx) {
    match field {
        KeypadField::HouseNumber => state.form.house = value,
        KeypadField::RoomNumber => state.form.room = value,
        KeypadField::Phone => state.form.phone = value,
        _ => return,
    }
    cx.go(Screen::SubmissionForm);
}
