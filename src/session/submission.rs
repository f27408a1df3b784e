//! Material submission: an address-change notice. Identify by card, fill a short
//! form from choices and the keypad (no free text: no input method needed), review,
//! submit through the outbox (works offline), print the receipt.

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::{Cx, Effect, KeypadField, Screen, UiAction, Work};

/// The streets residents can move to in the demo district; a real deployment's list
/// comes with the service's form from the central service.
pub const DISTRICTS: [&str; 6] = [
    "西湖区 文三路",
    "西湖区 天目山路",
    "拱墅区 湖墅南路",
    "上城区 解放路",
    "滨江区 江南大道",
    "余杭区 文一西路",
];

/// The fields of the address-change form, in screen order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormField {
    District,
    House,
    Room,
    Phone,
}

impl FormField {
    pub const ALL: [FormField; 4] = [
        FormField::District,
        FormField::House,
        FormField::Room,
        FormField::Phone,
    ];

    pub fn id(self) -> &'static str {
        match self {
            FormField::District => "district",
            FormField::House => "house",
            FormField::Room => "room",
            FormField::Phone => "phone",
        }
    }

    pub fn from_id(id: &str) -> Option<FormField> {
        FormField::ALL.into_iter().find(|f| f.id() == id)
    }
}

/// The form as filled in. The phone number is personal data: zeroized on drop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AddressChangeForm {
    pub district: Option<usize>,
    pub house: String,
    pub room: String,
    pub phone: String,
}

impl AddressChangeForm {
    pub fn is_complete(&self) -> bool {
        self.district.is_some_and(|d| d < DISTRICTS.len())
            && KeypadField::HouseNumber.is_valid(&self.house)
            && KeypadField::RoomNumber.is_valid(&self.room)
            && KeypadField::Phone.is_valid(&self.phone)
    }

    /// The new address as one line, e.g. `西湖区 文三路 90号 501室`.
    pub fn new_address(&self) -> Option<String> {
        let street = DISTRICTS.get(self.district?)?;
        Some(format!("{street} {}号 {}室", self.house, self.room))
    }
}

#[derive(Debug, Default)]
pub struct State {
    pub form: AddressChangeForm,
}

pub(super) fn start(_state: &mut State, cx: &mut Cx<'_>) {
    cx.identify();
}

pub(super) fn on_identity(_state: &mut State, cx: &mut Cx<'_>) {
    cx.go(Screen::SubmissionForm);
}

pub(super) fn on_action(state: &mut State, action: UiAction, cx: &mut Cx<'_>) {
    match (cx.session.screen, action) {
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

pub(super) fn on_keypad(state: &mut State, field: KeypadField, value: String, cx: &mut Cx<'_>) {
    match field {
        KeypadField::HouseNumber => state.form.house = value,
        KeypadField::RoomNumber => state.form.room = value,
        KeypadField::Phone => state.form.phone = value,
        _ => return,
    }
    cx.go(Screen::SubmissionForm);
}
