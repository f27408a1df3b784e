//! Certificate self-print (social insurance payment certificate, household
//! registration proof, ...): choose the period where the service has one, identify
//! by card, the central service issues, then the shared document tail.

use super::flow::Cx;
use super::types::{Effect, PeriodChoice, Screen, UiAction, Work};

#[derive(Debug, Default)]
pub struct State {
    pub period: Option<PeriodChoice>,
}

pub(super) fn start(_state: &mut State, cx: &mut dyn Cx) {
    if cx.chooses_period() {
        cx.go(Screen::ChoosePeriod);
    } else {
        cx.identify();
    }
}

pub(super) fn on_action(state: &mut State, action: UiAction, cx: &mut dyn Cx) {
    if let UiAction::ChoosePeriod(period) = action
        && cx.screen() == Screen::ChoosePeriod
    {
        state.period = Some(period);
        cx.identify();
    }
}

pub(super) fn on_identity(state: &mut State, cx: &mut dyn Cx) {
    let (Some(service_id), Some(identity)) = (cx.service_id(), cx.identity()) else {
        return;
    };
    let locale = cx.locale();
    cx.effect(Effect::IssueCertificate {
        service_id,
        identity,
        period: state.period,
        locale,
    });
    cx.work(Work::Issuing);
}
