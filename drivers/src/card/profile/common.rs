//! What every card profile shares: the [`CardProfile`] contract and the small
//! helpers for padded text fields and PIN answers.

use crate::card::apdu::{self, StatusWord};
use crate::card::identity::{CardError, Identity, Pin, ProfileId};
use crate::card::session::CardSession;

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

/// Strips the padding cards put after text fields (NUL, space, FF).
pub(crate) fn trim_padding(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !matches!(b, 0x00 | 0x20 | 0xFF))
        .map_or(0, |i| i + 1);
    &bytes[..end]
}

/// Maps the answer to a VERIFY to the PIN outcome.
pub(crate) fn verify_outcome(sw: StatusWord) -> Result<(), CardError> {
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
    let answer = session.exchange(&apdu::verify_status(pin_reference))?;
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
