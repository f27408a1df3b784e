//! Certificate-of-origin self-print for exporters: the application number and the
//! exporter code on the keypad, the approved form from the central service, printed
//! on A4-wide paper (or a clear word that this kiosk's printer cannot).

use super::flow::Cx;
use super::keypad::KeypadField;
use super::types::{Effect, Work};

#[derive(Debug, Default)]
pub struct State {
    pub application_number: String,
    pub exporter_code: String,
}

pub(super) fn start(state: &mut State, cx: &mut dyn Cx) {
    cx.ask(KeypadField::ApplicationNumber, &state.application_number);
}

pub(super) fn on_keypad(state: &mut State, field: KeypadField, value: String, cx: &mut dyn Cx) {
    match field {
        KeypadField::ApplicationNumber => {
            state.application_number = value;
            cx.ask(KeypadField::ExporterCode, &state.exporter_code);
        }
        KeypadField::ExporterCode => {
            state.exporter_code = value;
            let locale = cx.locale();
            cx.effect(Effect::FetchOriginForm {
                application_number: state.application_number.clone(),
                exporter_code: state.exporter_code.clone(),
                locale,
            });
            cx.work(Work::FetchingOriginForm);
        }
        _ => {}
    }
}
