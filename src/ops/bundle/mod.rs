//! Signed configuration bundles: what administrators push to kiosks.
//!
//! A bundle file is a [`SignedConfig`](estation_central::wire::SignedConfig) in
//! JSON: the exact `payload` text of a [`ConfigBundle`] plus an ed25519 signature
//! over its UTF-8 bytes. The same document is what the central service serves on
//! `/v1/config`, so any host can carry it without being trusted for integrity.
//!
//! - [`format`]: the bundle (services and hours, languages, timeouts, branding,
//!   printer settings, technician PIN hashes, version, expiry), its TOML source
//!   and its validation rules.
//! - [`signing`]: keys (PKCS#8 / SPKI PEM files), signing and verification
//!   against the kiosk's trust anchors.
//! - [`store`]: [`BundleStore`], the kiosk's current bundle on disk, replaced
//!   atomically; the previous good bundle is kept as a fallback.
//! - [`poller`]: [`spawn_config_poller`], the background fetch with `If-None-Match`.
//!
//! docs/operations.md describes the workflow and the rules.

mod error;
pub mod format;
pub mod poller;
pub mod signing;
pub mod store;

pub use error::BundleError;
pub use format::{
    Branding, BundleSource, ConfigBundle, PrinterSettings, SCHEMA_VERSION, Technician,
    TimeoutSettings,
};
pub use poller::{PollerHandle, spawn_config_poller};
pub use signing::{KeyPair, TrustAnchors, key_id, sign_bundle, verify_signed};
pub use store::{ApplyOutcome, BundleStore};
