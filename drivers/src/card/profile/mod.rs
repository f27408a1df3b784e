//! Card profiles: each turns APDU exchanges with one kind of card into an
//! [`Identity`]. A profile is chosen by ATR first (profiles whose ATR hint matches
//! are tried before the others) and confirmed by SELECTing its application.
//!
//! Adding a profile is one new module implementing [`CardProfile`] plus one line
//! in [`PROFILES`].

mod common;
pub mod service_card;
pub mod social_security;

pub use common::CardProfile;

use super::identity::{CardError, Identity, Pin};
use super::session::CardSession;

/// Every profile the kiosk knows, in default trial order.
pub static PROFILES: &[&dyn CardProfile] = &[
    &social_security::SocialSecurityProfile,
    &service_card::ServiceCardProfile,
];

/// The profiles in trial order for a card with this ATR: ATR matches first, then
/// the rest, each in registry order.
pub fn trial_order(atr: &[u8]) -> Vec<&'static dyn CardProfile> {
    let (mut hinted, rest): (Vec<_>, Vec<_>) =
        PROFILES.iter().copied().partition(|p| p.matches_atr(atr));
    hinted.extend(rest);
    hinted
}

/// Tries profiles in [`trial_order`] and reads the identity with the first whose
/// application SELECT succeeds.
pub fn read_identity(
    session: &mut CardSession<'_>,
    atr: &[u8],
    pin: Option<&Pin>,
) -> Result<Identity, CardError> {
    for profile in trial_order(atr) {
        if profile.select(session)? {
            tracing::debug!(profile = ?profile.id(), "card profile selected");
            return profile.read(session, pin);
        }
    }
    Err(CardError::UnknownCard(hex::encode_upper(atr)))
}

#[cfg(test)]
mod tests {
    use super::common::{trim_padding, verify_outcome};
    use super::*;
    use crate::card::ProfileId;

    #[test]
    fn padding_is_trimmed_from_the_end_only() {
        assert_eq!(trim_padding(b" ab \0\0\xFF"), b" ab");
        assert_eq!(trim_padding(b"\0\0"), b"");
        assert_eq!(trim_padding(b""), b"");
    }

    #[test]
    fn atr_hints_reorder_profiles() {
        let service_atr = service_card::ATR;
        let order: Vec<_> = trial_order(service_atr).iter().map(|p| p.id()).collect();
        assert_eq!(order, [ProfileId::ServiceCard, ProfileId::SocialSecurity]);
        let order: Vec<_> = trial_order(&[0x3B, 0x00]).iter().map(|p| p.id()).collect();
        assert_eq!(order, [ProfileId::SocialSecurity, ProfileId::ServiceCard]);
    }

    #[test]
    fn verify_answers_map_to_pin_errors() {
        use crate::card::apdu::StatusWord;
        assert_eq!(verify_outcome(StatusWord(0x9000)), Ok(()));
        assert_eq!(
            verify_outcome(StatusWord(0x63C2)),
            Err(CardError::WrongPin {
                tries_left: Some(2)
            })
        );
        assert_eq!(
            verify_outcome(StatusWord(0x63C0)),
            Err(CardError::PinBlocked)
        );
        assert_eq!(
            verify_outcome(StatusWord(0x6983)),
            Err(CardError::PinBlocked)
        );
        assert!(matches!(
            verify_outcome(StatusWord(0x6F00)),
            Err(CardError::Malformed(_))
        ));
    }
}
