//! The kiosk's client of the central service (`/v1`, see `docs/openapi.yaml`).
//!
//! The wire types come from `estation_central::wire`, the module the reference
//! server uses too, so client and server cannot drift apart silently.

mod client;
mod error;
pub mod outbox;
mod print;

pub use client::{
    CentralClient, ClientConfig, ConfigFetch, Connectivity, RetryPolicy, enroll,
    is_allowed_central_url, is_loopback, new_idempotency_key,
};
pub use error::CentralError;
pub use estation_central::wire;
pub use print::{certificate_content, origin_form_content, receipt_content};
