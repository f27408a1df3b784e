//! The estation kiosk: resident flows, the central-service client, the durable
//! outbox and the bridge to the Slint UI.
//!
//! Data flows one way: devices and the central service produce events, the pure
//! [`session`] decides, the [`kiosk`] controller carries out the effects and derives
//! the [`view`] model, and the [`ui_bridge`] pushes it into the window. See
//! ARCHITECTURE.md for the map of the parts and the rules each keeps.

pub mod central_client;
pub mod cli;
pub mod i18n;
pub mod kiosk;
pub mod ops;
pub mod session;
pub mod speech;
pub mod ui_bridge;
pub mod view;
