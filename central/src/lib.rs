//! The reference central service for estation kiosks, and the wire types shared by
//! the service and the kiosk's client.
//!
//! - [`wire`]: the JSON types of the `/v1` API, always compiled (the kiosk uses them).
//! - [`seed`]: demo residents and catalogue, also used by the kiosk's simulated card.
//! - `server` (feature `server`, on by default): the reference service on axum and
//!   SQLite, runnable on its own or embedded with `server::EmbeddedCentral`.

pub mod seed;
pub mod wire;

#[cfg(feature = "server")]
pub mod server;
