//! What a card source yields and how it fails: the resident's identity (personal
//! data: zeroized, redacted in `Debug`), the PIN, card events, errors, and the
//! [`IdentitySource`] contract every source implements.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Which card profile produced an identity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileId {
    /// Chinese social security card (SSSE application).
    SocialSecurity,
    /// The project's own kiosk service card, issued to technicians.
    ServiceCard,
    /// A simulated card (demo mode only).
    Simulated,
    /// No card: the central service vouched for the resident from the code on
    /// their phone, read by the kiosk's scanner.
    PhoneCode,
}

/// A resident's identity as read from a card. Every field is personal data: it is
/// zeroized on drop and never printed by `Debug`.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct Identity {
    #[zeroize(skip)]
    pub profile: ProfileId,
    pub card_number: String,
    /// Citizen ID number (the social security number on SSSE cards).
    pub id_number: String,
    pub name: String,
    /// "M", "F" or empty when the card does not say.
    pub gender: String,
    /// `YYYY-MM-DD`, or empty when the card does not say.
    pub birth_date: String,
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Identity")
            .field("profile", &self.profile)
            .field("card_number", &"<redacted>")
            .field("id_number", &"<redacted>")
            .field("name", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// A PIN typed on the kiosk keypad. Zeroized on drop, never printed.
#[derive(Clone)]
pub struct Pin(Zeroizing<String>);

impl Pin {
    pub fn new(digits: impl Into<String>) -> Self {
        Self(Zeroizing::new(digits.into()))
    }
    pub fn digits(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// What happened to readers and cards, as reported by the reader monitor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CardEvent {
    ReaderAdded { reader: String },
    ReaderRemoved { reader: String },
    CardInserted { reader: String, atr: Vec<u8> },
    CardRemoved { reader: String },
}

/// Why a card could not be read. `Display` is the technician-facing detail;
/// [`CardError::message_key`] names the translated resident-facing message.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum CardError {
    #[error("the PC/SC service is not running or not reachable: {0}")]
    ServiceUnavailable(String),
    #[error("no card reader is connected")]
    NoReader,
    #[error("no card in reader {0}")]
    NoCard(String),
    #[error("the card was removed during the read")]
    CardRemoved,
    #[error("the reader was unplugged")]
    ReaderUnplugged,
    #[error("the card does not answer (mute card)")]
    MuteCard,
    #[error("no known profile matches this card (ATR {0})")]
    UnknownCard(String),
    #[error("another application holds the card (sharing violation)")]
    SharingViolation,
    #[error("the card requires a PIN ({tries_left:?} tries left)")]
    PinRequired { tries_left: Option<u8> },
    #[error("wrong PIN ({tries_left:?} tries left)")]
    WrongPin { tries_left: Option<u8> },
    #[error("the PIN is blocked")]
    PinBlocked,
    #[error("the card answered with an unexpected response: {0}")]
    Malformed(String),
    #[error("reader error: {0}")]
    Reader(String),
}

impl CardError {
    /// The Fluent message id of the resident-facing explanation.
    pub fn message_key(&self) -> &'static str {
        match self {
            CardError::ServiceUnavailable(_) | CardError::NoReader | CardError::ReaderUnplugged => {
                "card-error-reader"
            }
            CardError::NoCard(_) => "card-error-no-card",
            CardError::CardRemoved => "card-error-removed",
            CardError::MuteCard | CardError::Malformed(_) | CardError::Reader(_) => {
                "card-error-unreadable"
            }
            CardError::UnknownCard(_) => "card-error-unknown",
            CardError::SharingViolation => "card-error-busy",
            CardError::PinRequired { .. } => "card-error-pin-required",
            CardError::WrongPin { .. } => "card-error-wrong-pin",
            CardError::PinBlocked => "card-error-pin-blocked",
        }
    }
}

/// Something that can read an identity from the card in a named reader. Reads block
/// (card I/O is synchronous); callers run them off the UI thread.
pub trait IdentitySource: Send + Sync {
    fn read_identity(&self, reader: &str, pin: Option<&Pin>) -> Result<Identity, CardError>;
}
