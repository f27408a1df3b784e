//! Card profiles: each turns APDU exchanges with one kind of card into an
//! [`Identity`]. A profile is chosen by ATR first (profiles whose ATR hint matches
//! are tried before the others) and confirmed by SELECTing its application.
//!
//! Adding a profile is one new module implementing [`CardProfile`] plus one line
//! in [`PROFILES`].

pub mod service_card;
pub mod social_security;

use super::session::CardSession;
use super::{CardError, Identity, Pin, ProfileId};

/// One kind of card the kiosk can read.
pub trait CardProfile: Sync {
    fn id(&self) -> ProfileId;
    /// True when the ATR suggests this card; such profiles are tried first.
    fn matches_atr(&self, atr: &[u8]) -> bool;
    /// SELECTs the profile's application. `Ok(false)` means "not this card".
    fn select(&self, session: &mut CardSession<'_>) -> Result<bool, CardError>;
    /// Reads the identity once [`CardProfile::select`] succeeded. Either a whole
    /// identity or an error: never a partial one.
    fn read(&self, session: &mut CardSession<'_>, pin: Option<&Pin>)
    -> Result<Identity, CardError>;
}

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

/// Strips the padding cards put after text fields (NUL, space, FF).
pub(crate) fn trim_padding(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, 0x00 | 0x20 | 0xFF))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Maps the answer to a VERIFY to the PIN outcome.
pub(crate) fn verify_outcome(sw: super::apdu::StatusWord) -> Result<(), CardError> {
    if sw.is_success() {
        Ok(())
    } else if sw.is_blocked() || sw.tries_left() == Some(0) {
        Err(CardError::PinBlocked)
    } else if let Some(tries) = sw.tries_left() {
        Err(CardError::WrongPin {
            tries_left: Some(tries),
        })
    } else {
        Err(CardError::Malformed(format!("VERIFY answered {sw}")))
    }
}

/// Asks the card how many PIN tries are left without spending one, to tell the
/// resident before they type. Cards that do not support the query give `None`.
pub(crate) fn pin_required(
    session: &mut CardSession<'_>,
    pin_reference: u8,
) -> Result<CardError, CardError> {
    let answer = session.exchange(&super::apdu::verify_status(pin_reference))?;
    Ok(
        if answer.sw.is_blocked() || answer.sw.tries_left() == Some(0) {
            CardError::PinBlocked
        } else {
            CardError::PinRequired {
                tries_left: answer.sw.tries_left(),
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

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
