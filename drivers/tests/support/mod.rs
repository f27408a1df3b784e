//! Pieces shared by the drivers' test modules.

pub mod paper;
pub mod vcard;
