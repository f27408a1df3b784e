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

pub mod format;
pub mod poller;
pub mod signing;
pub mod store;

pub use format::{
    Branding, BundleSource, ConfigBundle, PrinterSettings, SCHEMA_VERSION, Technician,
    TimeoutSettings,
};
pub use poller::{PollerHandle, spawn_config_poller};
pub use signing::{KeyPair, TrustAnchors, key_id, sign_bundle, verify_signed};
pub use store::{ApplyOutcome, BundleStore};

/// Why a bundle was refused or a key could not be used. Every variant names one
/// rule, so the reason logged and shown to a technician is precise.
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("the bundle is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("the bundle file is not a signed bundle: {0}")]
    Malformed(String),
    #[error("the bundle carries no signature")]
    Unsigned,
    #[error("the bundle is signed by key {key_id}, which this kiosk does not trust")]
    UnknownKey { key_id: String },
    #[error("the signature does not match the bundle's content (tampered or corrupted)")]
    BadSignature,
    #[error("the bundle does not follow the schema: {0}")]
    SchemaInvalid(String),
    #[error("the bundle uses schema {found}, this kiosk understands schema {supported}")]
    UnsupportedSchema { found: u32, supported: u32 },
    #[error("the bundle expired at {expires_at}")]
    Expired { expires_at: String },
    #[error("bundle version {offered} is not newer than version {running} in force")]
    NotNewer { offered: u64, running: u64 },
    #[error("no trusted configuration key is configured")]
    NoTrustAnchor,
    #[error("key file {path}: {message}")]
    Key { path: String, message: String },
    #[error("configuration source: {0}")]
    Source(String),
    #[error("bundle storage: {0}")]
    Io(#[from] std::io::Error),
}

impl BundleError {
    /// A short stable code for logs, heartbeats and tests.
    pub fn code(&self) -> &'static str {
        match self {
            BundleError::TooLarge { .. } => "too-large",
            BundleError::Malformed(_) => "malformed",
            BundleError::Unsigned => "unsigned",
            BundleError::UnknownKey { .. } => "unknown-key",
            BundleError::BadSignature => "bad-signature",
            BundleError::SchemaInvalid(_) => "schema-invalid",
            BundleError::UnsupportedSchema { .. } => "unsupported-schema",
            BundleError::Expired { .. } => "expired",
            BundleError::NotNewer { .. } => "not-newer",
            BundleError::NoTrustAnchor => "no-trust-anchor",
            BundleError::Key { .. } => "key",
            BundleError::Source(_) => "source",
            BundleError::Io(_) => "io",
        }
    }
}
