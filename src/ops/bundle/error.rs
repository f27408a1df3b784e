//! Why a bundle was refused or could not be made; `code()` is the stable short form
//! the self-test, the heartbeat and the logs use.

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
