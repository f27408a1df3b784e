//! What maintenance mode needs from the kiosk: technician PIN checks (on the
//! service card when one is in, and against the configuration's PIN hashes), the
//! self-test, and the health board the heartbeat reports.

use std::sync::{Arc, Mutex, PoisonError};

use estation_drivers::card::{CardError, PcscIdentitySource, Pin};

use crate::heartbeat::HealthBoard;
use crate::maintenance::{AuthOutcome, Authenticator};
use crate::selftest::{DisplayResult, SelftestContext, SelftestReport, run_selftest};
use crate::session::Fault;

pub struct MaintenancePort {
    pub authenticator: Mutex<Authenticator>,
    /// Reads technicians' service cards; `None` where the kiosk has no PC/SC.
    pub service_cards: Option<PcscIdentitySource>,
    /// The devices to test; the display verdict is filled in per run.
    pub selftest: SelftestContext,
    pub board: Option<Arc<HealthBoard>>,
}

impl MaintenancePort {
    /// Blocking: a card read and an argon2 hash check.
    pub fn check_technician(
        &self,
        reader: Option<&str>,
        pin: &Pin,
        now_ms: u64,
    ) -> Result<String, Fault> {
        let mut card_technician = None;
        if let (Some(reader), Some(cards)) = (reader, &self.service_cards) {
            match cards.read_service_credential(reader, pin) {
                Ok(credential) => card_technician = Some(credential.technician_id.clone()),
                // Not a service card (a resident's card left in): the PIN alone decides.
                Err(CardError::UnknownCard(_) | CardError::NoCard(_)) => {}
                Err(CardError::WrongPin { tries_left }) => {
                    let mut fault =
                        Fault::new("maintenance-error-denied", "wrong PIN on the service card");
                    fault.tries_left = tries_left;
                    return Err(fault);
                }
                Err(CardError::PinBlocked) => {
                    return Err(Fault::new(
                        "maintenance-error-locked",
                        "service card PIN blocked",
                    ));
                }
                Err(error) => return Err(Fault::new("maintenance-error-card", error.to_string())),
            }
        }
        let outcome = self
            .authenticator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .check(card_technician.as_deref(), pin.digits(), now_ms);
        match outcome {
            AuthOutcome::Granted { technician } => Ok(technician),
            AuthOutcome::Denied { tries_left } => {
                let mut fault = Fault::new("maintenance-error-denied", "wrong technician PIN");
                fault.tries_left = Some(u8::try_from(tries_left).unwrap_or(u8::MAX));
                Err(fault)
            }
            AuthOutcome::LockedOut { .. } => Err(Fault::new(
                "maintenance-error-locked",
                "too many wrong PINs; locked for a while",
            )),
        }
    }

    pub async fn run_selftest(&self, display: Option<bool>) -> SelftestReport {
        let mut context = self.selftest.clone();
        context.display = match display {
            None => DisplayResult::NotTested,
            Some(true) => DisplayResult::Passed,
            Some(false) => DisplayResult::Failed {
                what: "the technician saw a display fault".into(),
            },
        };
        let report = run_selftest(&context).await;
        if let Some(board) = &self.board {
            board.set_selftest(report.clone());
        }
        report
    }
}
