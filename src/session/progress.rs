//! Application progress: by application number on the keypad, or by card for the
//! resident's own applications; the result can be printed.

use super::fault::Fault;
use super::flow::Cx;
use super::keypad::KeypadField;
use super::types::{ApplicationEntry, Effect, ProgressQuery, Screen, UiAction, Work};

#[derive(Debug, Default)]
pub struct State {
    by_card: bool,
}

pub(super) fn start(_state: &mut State, cx: &mut dyn Cx) {
    cx.go(Screen::ProgressChoice);
}

pub(super) fn on_action(state: &mut State, action: UiAction, cx: &mut dyn Cx) {
    match (cx.screen(), action) {
        (Screen::ProgressChoice, UiAction::ProgressByNumber) => {
            state.by_card = false;
            cx.ask(KeypadField::ApplicationNumber, "");
        }
        (Screen::ProgressChoice, UiAction::ProgressByCard) => {
            state.by_card = true;
            cx.identify();
        }
        (Screen::ProgressList, UiAction::ChooseApplication(number))
            if cx.has_application(&number) =>
        {
            fetch(number, cx);
        }
        _ => {}
    }
}

fn fetch(application_number: String, cx: &mut dyn Cx) {
    let locale = cx.locale();
    cx.effect(Effect::FetchProgress {
        query: ProgressQuery::ByNumber(application_number),
        locale,
    });
    cx.work(Work::FetchingProgress);
}

pub(super) fn on_keypad(_state: &mut State, field: KeypadField, value: String, cx: &mut dyn Cx) {
    if field == KeypadField::ApplicationNumber {
        fetch(value, cx);
    }
}

pub(super) fn on_identity(_state: &mut State, cx: &mut dyn Cx) {
    let Some(identity) = cx.identity() else {
        return;
    };
    let locale = cx.locale();
    cx.effect(Effect::FetchProgress {
        query: ProgressQuery::ByCard(identity),
        locale,
    });
    cx.work(Work::FetchingProgress);
}

pub(super) fn on_list(
    state: &mut State,
    result: Result<Vec<ApplicationEntry>, Fault>,
    cx: &mut dyn Cx,
) {
    match result {
        Ok(list) if list.is_empty() => cx.fail(
            Fault::new(
                "flow-error-no-applications",
                "no applications for this card",
            ),
            Screen::ProgressChoice,
        ),
        Ok(mut list) if list.len() == 1 => {
            let only = list.remove(0);
            fetch(only.application_number, cx);
        }
        Ok(list) => {
            cx.set_applications(list);
            cx.go(Screen::ProgressList);
        }
        Err(fault) => {
            let resume = resume_after_failure(state);
            cx.fail(fault, resume);
        }
    }
}

pub(super) fn resume_after_failure(state: &State) -> Screen {
    if state.by_card {
        Screen::ProgressChoice
    } else {
        Screen::Keypad(KeypadField::ApplicationNumber)
    }
}
