//! Smart-card identity: reader monitoring and card profiles that turn APDU exchanges
//! into a typed [`Identity`].
//!
//! - [`CardMonitor`]: reader and card events from `SCardGetStatusChange`.
//! - [`PcscIdentitySource`]: reads the card in a reader through the registered
//!   [`profile`]s (social security card, kiosk service card).
//! - [`list_readers`], [`default_reader`], [`IdentityRecord`]: what the technician
//!   CLI (`estation card list|read`) prints.
//! - [`virtual_card`]: a virtual card and pcscd harness for tests.
//!
//! docs/cards.md describes the card layouts, errors, tests and figures.

pub mod apdu;
mod identity;
pub mod monitor;
mod pcsc_source;
pub mod profile;
#[cfg(test)]
mod profile_tests;
mod record;
pub mod session;
pub mod virtual_card;

pub use identity::{CardError, CardEvent, Identity, IdentitySource, Pin, ProfileId};
pub use monitor::{CardMonitor, MonitorCanceller};
pub use pcsc_source::{PcscIdentitySource, ReadStats, ReaderInfo, default_reader, list_readers};
pub use profile::service_card::{ServiceCredential, ServiceRole};
pub use record::IdentityRecord;
