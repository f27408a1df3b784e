//! Pieces shared by the drivers' test modules.

pub mod vcard;
