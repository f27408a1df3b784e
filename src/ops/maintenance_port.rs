//! What maintenance mode needs from the kiosk: technician PIN checks (on the
//! service card when one is in, and against the configuration's PIN hashes), the
//! self-test, and the health board the heartbeat reports.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use estation_drivers::card::{CardError, PcscIdentitySource, Pin};

use crate::ops::heartbeat::HealthBoard;
use crate::ops::maintenance::{AuthOutcome, Authenticator, LockoutPolicy, LockoutState};
use crate::ops::selftest::{DisplayResult, SelftestContext, SelftestReport, run_selftest};
use crate::session::Fault;

pub struct MaintenancePort {
    pub authenticator: Mutex<Authenticator>,
    /// Reads technicians' service cards; `None` where the kiosk has no PC/SC.
    pub service_cards: Option<PcscIdentitySource>,
    /// The devices to test; the display verdict is filled in per run.
    pub selftest: SelftestContext,
    pub board: Option<Arc<HealthBoard>>,
    /// Where the PIN failure count and lockout are kept across restarts.
    pub lockout_file: Option<PathBuf>,
}

/// The lockout state a previous run left in `path`: none yet is a fresh start; a
/// file that cannot be read or parsed starts a lockout (failing closed, since a
/// damaged file must not be a way to reset the count).
pub fn load_lockout(path: &Path, policy: &LockoutPolicy, now_ms: i64) -> LockoutState {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return LockoutState::default();
        }
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "lockout file unreadable; locking");
            return closed(policy, now_ms);
        }
    };
    serde_json::from_str(&text).unwrap_or_else(|error| {
        tracing::error!(%error, path = %path.display(), "lockout file damaged; locking");
        closed(policy, now_ms)
    })
}

fn closed(policy: &LockoutPolicy, now_ms: i64) -> LockoutState {
    LockoutState {
        failures: 0,
        lockouts: 1,
        locked_from_ms: Some(now_ms),
        locked_for_ms: policy.lockout_ms,
    }
}

/// Writes `state` so that a crash leaves the old file or the new one, never a mix.
pub fn save_lockout(path: &Path, state: &LockoutState) -> std::io::Result<()> {
    let text = serde_json::to_vec(state).map_err(std::io::Error::other)?;
    let partial = path.with_extension("partial");
    {
        let mut file = std::fs::File::create(&partial)?;
        file.write_all(&text)?;
        file.sync_all()?;
    }
    std::fs::rename(&partial, path)?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = std::fs::File::open(dir)
    {
        dir.sync_all()?;
    }
    Ok(())
}

impl MaintenancePort {
    /// Blocking: a card read and an argon2 hash check.
    pub fn check_technician(
        &self,
        reader: Option<&str>,
        pin: &Pin,
        now_ms: i64,
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
        let outcome = {
            let mut authenticator = self
                .authenticator
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let before = authenticator.state();
            let outcome = authenticator.check(card_technician.as_deref(), pin.digits(), now_ms);
            let after = authenticator.state();
            if let Some(path) = &self.lockout_file
                && after != before
                && let Err(error) = save_lockout(path, &after)
            {
                tracing::error!(%error, path = %path.display(), "lockout state not saved");
            }
            outcome
        };
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
