//! Technician authentication for maintenance mode, as pure logic: the UI owner
//! feeds it what the keypad and the card reader produced and a clock reading;
//! it answers granted, denied or locked out. No I/O, no clock reads.
//!
//! Two ways in: a technician service card (its id comes from the card, read
//! after the card verified its own PIN) plus the PIN hashed in the bundle, or
//! the PIN alone after the hidden gesture. Failures in a row lock the keypad
//! for a while, longer after each lockout, so a 6-digit PIN cannot be walked.

use std::fmt;

use argon2::password_hash::{PasswordHashString, PasswordVerifier, SaltString};
use argon2::{Argon2, PasswordHash, PasswordHasher};
use zeroize::Zeroizing;

use crate::ops::bundle::ConfigBundle;

/// Shortest and longest PIN accepted, in digits.
pub const PIN_DIGITS: std::ops::RangeInclusive<usize> = 6..=12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PinError {
    #[error("a PIN has {min} to {max} digits", min = PIN_DIGITS.start(), max = PIN_DIGITS.end())]
    Format,
    #[error("hashing failed: {0}")]
    Hash(String),
}

/// Hashes a PIN for the bundle (`estation admin hash-pin`): argon2id with the
/// crate's recommended parameters and a random salt, as a PHC string.
pub fn hash_pin(pin: &str) -> Result<String, PinError> {
    if !is_pin_shaped(pin) {
        return Err(PinError::Format);
    }
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(pin.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| PinError::Hash(e.to_string()))
}

fn is_pin_shaped(pin: &str) -> bool {
    PIN_DIGITS.contains(&pin.len()) && pin.bytes().all(|b| b.is_ascii_digit())
}

/// The technicians of the bundle in force and their PIN hashes.
#[derive(Clone, Default)]
pub struct TechnicianPins {
    entries: Vec<(String, PasswordHashString)>,
}

impl fmt::Debug for TechnicianPins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.entries.iter().map(|(id, _)| id))
            .finish()
    }
}

impl TechnicianPins {
    /// From (technician id, PHC string) pairs; entries whose hash does not
    /// parse are left out (a verified bundle never has any).
    pub fn new<I, S>(entries: I) -> TechnicianPins
    where
        I: IntoIterator<Item = (S, S)>,
        S: AsRef<str>,
    {
        TechnicianPins {
            entries: entries
                .into_iter()
                .filter_map(|(id, phc)| {
                    PasswordHashString::new(phc.as_ref())
                        .ok()
                        .map(|hash| (id.as_ref().to_owned(), hash))
                })
                .collect(),
        }
    }

    pub fn from_bundle(bundle: &ConfigBundle) -> TechnicianPins {
        TechnicianPins::new(
            bundle
                .technicians
                .iter()
                .map(|t| (t.id.as_str(), t.pin_hash.as_str())),
        )
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The technician whose PIN this is: among all of them for PIN-alone
    /// entry, or only the card's technician.
    fn matching(&self, technician_id: Option<&str>, pin: &str) -> Option<&str> {
        let argon2 = Argon2::default();
        let verifies = |hash: &PasswordHashString| {
            argon2
                .verify_password(pin.as_bytes(), &hash.password_hash())
                .is_ok()
        };
        match technician_id {
            Some(wanted) => self
                .entries
                .iter()
                .find(|(id, _)| id == wanted)
                .filter(|(_, hash)| verifies(hash))
                .map(|(id, _)| id.as_str()),
            None => self
                .entries
                .iter()
                .find(|(_, hash)| verifies(hash))
                .map(|(id, _)| id.as_str()),
        }
    }
}

/// How many failures lock the keypad, and for how long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutPolicy {
    /// Failures in a row that start a lockout.
    pub max_failures: u32,
    /// First lockout; each further lockout in a row doubles it.
    pub lockout_ms: u64,
    /// Longest lockout.
    pub max_lockout_ms: u64,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            max_failures: 5,
            lockout_ms: 5 * 60_000,
            max_lockout_ms: 60 * 60_000,
        }
    }
}

/// The failure count and lockout, as kept across restarts: a power cycle must not
/// give five more tries at a 6-digit PIN. Times are wall-clock Unix milliseconds,
/// since a restart resets every monotonic clock.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LockoutState {
    /// Wrong PINs in a row since the last lockout or success.
    pub failures: u32,
    /// Lockouts in a row; each doubles the next.
    pub lockouts: u32,
    /// When the lockout in force began, if one is.
    pub locked_from_ms: Option<i64>,
    /// How long it lasts.
    pub locked_for_ms: u64,
}

impl LockoutState {
    /// The end of the lockout in force at `now_ms`. A clock set back before the
    /// lockout began counts it from `now_ms` instead, so it still lasts its full
    /// length and no more.
    fn locked_until(&self, now_ms: i64) -> Option<i64> {
        let from = self.locked_from_ms?.min(now_ms);
        let until = from.saturating_add(i64::try_from(self.locked_for_ms).unwrap_or(i64::MAX));
        (now_ms < until).then_some(until)
    }
}

/// The answer to one PIN entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuthOutcome {
    /// Maintenance mode may open for this technician.
    Granted { technician: String },
    /// Wrong PIN (or unknown card); this many tries before a lockout.
    Denied { tries_left: u32 },
    /// No PIN is checked until then (wall-clock Unix milliseconds).
    LockedOut { until_ms: i64 },
}

/// Checks PINs and keeps the failure count. One per kiosk, kept across visits
/// so walking away does not reset the count.
#[derive(Debug)]
pub struct Authenticator {
    pins: TechnicianPins,
    policy: LockoutPolicy,
    state: LockoutState,
}

impl Authenticator {
    pub fn new(pins: TechnicianPins, policy: LockoutPolicy) -> Authenticator {
        Self::with_state(pins, policy, LockoutState::default())
    }

    /// Carries on from a state kept by an earlier run.
    pub fn with_state(
        pins: TechnicianPins,
        policy: LockoutPolicy,
        state: LockoutState,
    ) -> Authenticator {
        Authenticator {
            pins,
            policy,
            state,
        }
    }

    /// What to keep for the next run.
    pub fn state(&self) -> LockoutState {
        self.state
    }

    /// A new bundle brings new PINs; the failure count and lockout stay.
    pub fn replace_pins(&mut self, pins: TechnicianPins) {
        self.pins = pins;
    }

    /// The lockout in force at `now_ms` (wall-clock Unix milliseconds), if any.
    pub fn locked_until(&self, now_ms: i64) -> Option<i64> {
        self.state.locked_until(now_ms)
    }

    /// Checks `pin` for the technician of the inserted service card
    /// (`Some(id)`), or for any technician (`None`, the hidden gesture).
    /// The caller keeps the PIN in a zeroizing buffer; nothing here copies it.
    pub fn check(&mut self, technician_id: Option<&str>, pin: &str, now_ms: i64) -> AuthOutcome {
        if let Some(from) = self.state.locked_from_ms
            && now_ms < from
        {
            // The clock went back: the lockout starts over from now, once.
            self.state.locked_from_ms = Some(now_ms);
        }
        if let Some(until_ms) = self.locked_until(now_ms) {
            return AuthOutcome::LockedOut { until_ms };
        }
        let granted = if is_pin_shaped(pin) {
            self.pins.matching(technician_id, pin).map(str::to_owned)
        } else {
            None
        };
        match granted {
            Some(technician) => {
                self.state = LockoutState::default();
                AuthOutcome::Granted { technician }
            }
            None => self.fail(now_ms),
        }
    }

    fn fail(&mut self, now_ms: i64) -> AuthOutcome {
        let state = &mut self.state;
        state.failures += 1;
        if state.failures < self.policy.max_failures {
            return AuthOutcome::Denied {
                tries_left: self.policy.max_failures - state.failures,
            };
        }
        let factor = 1u64 << state.lockouts.min(16);
        let duration = self
            .policy
            .lockout_ms
            .saturating_mul(factor)
            .min(self.policy.max_lockout_ms);
        state.failures = 0;
        state.lockouts = state.lockouts.saturating_add(1);
        state.locked_from_ms = Some(now_ms);
        state.locked_for_ms = duration;
        AuthOutcome::LockedOut {
            until_ms: now_ms.saturating_add(i64::try_from(duration).unwrap_or(i64::MAX)),
        }
    }
}

/// A PIN typed on the keypad, wiped from memory when dropped.
pub type PinBuffer = Zeroizing<String>;

/// Parses `hash` as a PHC string (for checks elsewhere).
pub fn is_pin_hash(hash: &str) -> bool {
    PasswordHash::new(hash).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pins() -> TechnicianPins {
        TechnicianPins::new([
            ("T-0042".to_owned(), hash_pin("314159").unwrap()),
            ("T-0043".to_owned(), hash_pin("271828").unwrap()),
        ])
    }

    fn quick() -> LockoutPolicy {
        LockoutPolicy {
            max_failures: 3,
            lockout_ms: 1_000,
            max_lockout_ms: 3_000,
        }
    }

    #[test]
    fn pin_alone_finds_the_technician_and_card_entry_checks_only_that_one() {
        let mut auth = Authenticator::new(pins(), quick());
        assert_eq!(
            auth.check(None, "271828", 0),
            AuthOutcome::Granted {
                technician: "T-0043".into()
            }
        );
        assert_eq!(
            auth.check(Some("T-0042"), "314159", 0),
            AuthOutcome::Granted {
                technician: "T-0042".into()
            }
        );
        // Another technician's PIN does not open with this card.
        assert_eq!(
            auth.check(Some("T-0042"), "271828", 0),
            AuthOutcome::Denied { tries_left: 2 }
        );
        assert_eq!(
            auth.check(Some("T-9999"), "314159", 0),
            AuthOutcome::Denied { tries_left: 1 }
        );
    }

    #[test]
    fn failures_in_a_row_lock_out_longer_each_time_and_success_resets() {
        let mut auth = Authenticator::new(pins(), quick());
        assert_eq!(
            auth.check(None, "000000", 10),
            AuthOutcome::Denied { tries_left: 2 }
        );
        assert_eq!(
            auth.check(None, "12", 10),
            AuthOutcome::Denied { tries_left: 1 }
        );
        assert_eq!(
            auth.check(None, "000000", 10),
            AuthOutcome::LockedOut { until_ms: 1_010 }
        );
        // Even the right PIN is not checked during a lockout.
        assert_eq!(
            auth.check(None, "314159", 1_009),
            AuthOutcome::LockedOut { until_ms: 1_010 }
        );
        assert_eq!(auth.locked_until(1_010), None);
        for _ in 0..2 {
            assert!(matches!(
                auth.check(None, "000000", 2_000),
                AuthOutcome::Denied { .. }
            ));
        }
        // Second lockout in a row: twice as long.
        assert_eq!(
            auth.check(None, "000000", 2_000),
            AuthOutcome::LockedOut { until_ms: 4_000 }
        );
        for _ in 0..2 {
            assert!(matches!(
                auth.check(None, "000000", 5_000),
                AuthOutcome::Denied { .. }
            ));
        }
        // Third: capped by the policy.
        assert_eq!(
            auth.check(None, "000000", 5_000),
            AuthOutcome::LockedOut { until_ms: 8_000 }
        );
        assert_eq!(
            auth.check(None, "314159", 8_000),
            AuthOutcome::Granted {
                technician: "T-0042".into()
            }
        );
        assert_eq!(
            auth.check(None, "000000", 8_000),
            AuthOutcome::Denied { tries_left: 2 }
        );
    }

    #[test]
    fn a_lockout_survives_a_restart_and_clock_changes() {
        let mut auth = Authenticator::new(pins(), quick());
        for _ in 0..3 {
            auth.check(None, "000000", 100_000);
        }
        let kept = auth.state();
        // A new process (a power cycle) carries on from the kept state.
        let mut again = Authenticator::with_state(pins(), quick(), kept);
        assert_eq!(
            again.check(None, "314159", 100_500),
            AuthOutcome::LockedOut { until_ms: 101_000 }
        );
        // The clock set back a day: the lockout runs its full length from now,
        // and then ends, rather than lasting until the clock catches up.
        let back = 100_000 - 86_400_000;
        assert_eq!(
            again.check(None, "314159", back),
            AuthOutcome::LockedOut {
                until_ms: back + 1_000
            }
        );
        assert!(matches!(
            again.check(None, "314159", back + 1_000),
            AuthOutcome::Granted { .. }
        ));
        assert_eq!(again.state(), LockoutState::default());
        // Serialised as the port keeps it.
        let text = serde_json::to_string(&kept).unwrap();
        assert_eq!(serde_json::from_str::<LockoutState>(&text).unwrap(), kept);
    }

    #[test]
    fn no_technicians_means_no_way_in_and_malformed_pins_are_refused() {
        let mut auth = Authenticator::new(TechnicianPins::default(), LockoutPolicy::default());
        assert_eq!(
            auth.check(None, "314159", 0),
            AuthOutcome::Denied { tries_left: 4 }
        );
        assert_eq!(hash_pin("12a456"), Err(PinError::Format));
        assert_eq!(hash_pin("123"), Err(PinError::Format));
        let broken = TechnicianPins::new([("T-1", "not a hash")]);
        assert!(broken.is_empty());
        assert!(!format!("{:?}", pins()).contains("argon2"));
    }
}
