//! Pieces shared by the kiosk's test modules.

pub mod central;
pub mod demo;
#[cfg(unix)]
pub mod display;
pub mod outbox;
#[cfg(unix)]
pub mod pty;
pub mod receipt;
