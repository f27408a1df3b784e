//! The service's state shared by every request: the store, the signing keys,
//! the clock, and the caches and batchers of the hot paths. Nothing in it is
//! the truth about the fleet: that is in the store, so replicas can share it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use time::{OffsetDateTime, UtcOffset};

use super::config::{self, ConfigCache, ConfigSnapshot};
use super::error::{ApiError, StoreError};
use super::heartbeats::HeartbeatBatcher;
use super::identity_code::IdentityCodeVerifier;
use super::keys::{self, KeySource, SigningKeys};
use super::rate_limit::{IDENTITY_CODE_RATE_LIMIT, PublicRateLimit, RateLimiter};
use super::store::{self, Database, DefaultConfigRecord, Store, sha256};
use crate::wire::{ConfigBundle, Locale, LocalizedText, PublicKeyInfo, PublicKeys};

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Keys(#[from] keys::KeyError),
    #[error("network error: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Api(String),
    #[error("the server task failed")]
    Task,
}

impl From<ApiError> for ServerError {
    fn from(e: ApiError) -> Self {
        ServerError::Api(e.0.to_string())
    }
}

/// The server's notion of "now". Tests pin it to check opening hours.
#[derive(Clone, Default)]
pub struct Clock(Option<Arc<Mutex<OffsetDateTime>>>);

impl Clock {
    pub fn system() -> Self {
        Clock(None)
    }

    /// A clock that stays at `at` until [`Clock::set`] moves it.
    pub fn manual(at: OffsetDateTime) -> Self {
        Clock(Some(Arc::new(Mutex::new(at))))
    }

    /// Moves a manual clock; no effect on the system clock.
    pub fn set(&self, at: OffsetDateTime) {
        if let Some(t) = &self.0 {
            *t.lock().unwrap_or_else(|p| p.into_inner()) = at;
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        match &self.0 {
            Some(t) => *t.lock().unwrap_or_else(|p| p.into_inner()),
            None => OffsetDateTime::now_utc(),
        }
    }
}

/// How to run the server.
#[derive(Clone)]
pub struct ServerOptions {
    /// Where to listen; the default is an ephemeral loopback port.
    pub listen: SocketAddr,
    pub clock: Clock,
    /// Time zone of the service centre: opening hours and printed times use it.
    pub utc_offset: UtcOffset,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// Token of the demo kiosk of an [`EmbeddedCentral`](super::EmbeddedCentral);
    /// random when `None`. Fixing it lets a restarted server accept a kiosk that
    /// kept its token.
    pub demo_kiosk_token: Option<String>,
    /// Origin of the links residents open on their phones, e.g.
    /// "https://estation.example.gov.cn"; `http://<listen address>` when `None`.
    /// A real deployment puts the public pages behind a public host.
    pub public_base_url: Option<String>,
    /// How long a phone link stays valid.
    pub phone_link_ttl: time::Duration,
    /// The store: `None` is the SQLite file of an embedded service's directory;
    /// `postgres://...` a PostgreSQL server.
    pub database: Option<String>,
    /// Connections in a PostgreSQL pool.
    pub pool_size: usize,
    /// Where the signing keys come from (an embedded service: its `keys/` folder).
    pub keys: KeySource,
    /// Requests per client address on the public routes.
    pub public_rate_limit: PublicRateLimit,
    /// Serve the reference "show my code" phone page (`/m/id`): demo mode and
    /// pilots, where no province platform issues the residents' codes.
    pub identity_code_page: bool,
    /// Identity codes one kiosk may have checked.
    pub identity_code_rate_limit: PublicRateLimit,
}

impl Default for ServerOptions {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            clock: Clock::system(),
            utc_offset: UtcOffset::from_hms(8, 0, 0).unwrap_or(UtcOffset::UTC),
            max_body_bytes: 64 * 1024,
            demo_kiosk_token: None,
            public_base_url: None,
            phone_link_ttl: time::Duration::seconds(crate::wire::PHONE_LINK_TTL_SECS),
            database: None,
            pool_size: store::OpenOptions::default().pool_size,
            keys: KeySource::Unset,
            public_rate_limit: PublicRateLimit::default(),
            identity_code_page: false,
            identity_code_rate_limit: IDENTITY_CODE_RATE_LIMIT,
        }
    }
}

pub struct AppState {
    pub(crate) store: Arc<dyn Store>,
    clock: Clock,
    pub(crate) utc_offset: UtcOffset,
    pub(crate) certificate_key: SigningKey,
    pub(crate) config_key: SigningKey,
    /// Set from the options, or from the listening address when serving starts.
    pub(crate) public_base_url: OnceLock<String>,
    pub(crate) phone_link_ttl: time::Duration,
    pub(crate) config_cache: ConfigCache,
    pub(crate) heartbeats: HeartbeatBatcher,
    pub(crate) public_limiter: RateLimiter,
    pub(crate) identity_code_limiter: RateLimiter<String>,
    /// Seals and opens the reference phone identity codes.
    pub(crate) identity_codes: IdentityCodeVerifier,
    /// Serve the reference "show my code" page (`/m/id`).
    pub(crate) identity_code_page: bool,
}

impl AppState {
    /// Now, in the service centre's offset, to the microsecond: the precision
    /// both stores keep, so that an answer and its stored row agree.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let now = self.clock.now().to_offset(self.utc_offset);
        now.replace_microsecond(now.microsecond()).unwrap_or(now)
    }

    /// Origin of public links, without a trailing slash.
    pub(crate) fn public_base_url(&self) -> &str {
        self.public_base_url
            .get()
            .map_or("", |u| u.trim_end_matches('/'))
    }

    pub(crate) fn print_time(&self, at: OffsetDateTime) -> String {
        let at = at.to_offset(self.utc_offset);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute()
        )
    }

    /// The configuration bundles as they are now (see [`config::snapshot`]).
    pub(crate) async fn config_snapshot(&self) -> Result<ConfigSnapshot, ApiError> {
        config::snapshot(
            &*self.store,
            &self.config_cache,
            &key_id(&self.config_key.verifying_key()),
        )
        .await
    }

    /// The bundle a kiosk gets now.
    pub(crate) async fn config_for_kiosk(
        &self,
        kiosk_id: &str,
    ) -> Result<Option<(u64, crate::wire::SignedConfig)>, ApiError> {
        Ok(self.config_snapshot().await?.for_kiosk(kiosk_id))
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Registers a kiosk (or replaces its token) and returns the new token.
    pub async fn register_kiosk(&self, kiosk_id: &str) -> Result<String, ServerError> {
        self.register_kiosk_with_token(kiosk_id, new_token()).await
    }

    pub async fn register_kiosk_with_token(
        &self,
        kiosk_id: &str,
        token: String,
    ) -> Result<String, ServerError> {
        register_kiosk_with_token(&*self.store, kiosk_id, token, self.clock.now()).await
    }

    /// Registers an administrator (or replaces the token) and returns the new token.
    pub async fn register_admin(&self, admin_id: &str) -> Result<String, ServerError> {
        register_admin(&*self.store, admin_id, self.clock.now()).await
    }

    pub fn public_keys(&self) -> PublicKeys {
        PublicKeys {
            certificate: public_key_info(&self.certificate_key.verifying_key()),
            config: public_key_info(&self.config_key.verifying_key()),
        }
    }

    /// The SQLite file, when the store is one.
    pub fn db_path(&self) -> &std::path::Path {
        self.store
            .sqlite_path()
            .unwrap_or_else(|| std::path::Path::new(""))
    }
}

/// Registers a kiosk with a given token (or replaces its token).
pub async fn register_kiosk_with_token(
    store: &dyn Store,
    kiosk_id: &str,
    token: String,
    now: OffsetDateTime,
) -> Result<String, ServerError> {
    if kiosk_id.is_empty() || kiosk_id.len() > 64 {
        return Err(ServerError::Api("a kiosk id has 1 to 64 characters".into()));
    }
    store
        .register_kiosk(kiosk_id, sha256(token.as_bytes()), now)
        .await?;
    Ok(token)
}

/// Registers an administrator (or replaces the token) and returns the new token.
pub async fn register_admin(
    store: &dyn Store,
    admin_id: &str,
    now: OffsetDateTime,
) -> Result<String, ServerError> {
    if admin_id.is_empty() || admin_id.len() > 64 || admin_id.contains(':') {
        return Err(ServerError::Api(
            "an administrator id has 1 to 64 characters and no ':'".into(),
        ));
    }
    let token = new_token();
    store
        .register_admin(admin_id, sha256(token.as_bytes()), now)
        .await?;
    Ok(token)
}

/// First 8 bytes of SHA-256 of the public key, in hex.
pub fn key_id(key: &VerifyingKey) -> String {
    sha256(key.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn public_key_info(key: &VerifyingKey) -> PublicKeyInfo {
    PublicKeyInfo {
        key_id: key_id(key),
        algorithm: "ed25519".into(),
        public_key: base64::engine::general_purpose::STANDARD.encode(key.as_bytes()),
    }
}

/// A new random kiosk token: 32 bytes, base64url.
pub fn new_token() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Opens the store a URL names (creating, migrating and seeding it as needed).
/// A SQLite store's signing keys from an earlier version are left for
/// [`open_state`] to move out.
pub async fn open_store(
    database: &Database,
    options: &ServerOptions,
) -> Result<Arc<dyn Store>, ServerError> {
    let now = options.clock.now().to_offset(options.utc_offset);
    Ok(store::open(
        database,
        &store::OpenOptions {
            pool_size: options.pool_size,
        },
        now,
    )
    .await?)
}

/// Opens the store, loads the signing keys (moving keys an earlier version
/// kept in a SQLite database into the key directory) and keeps a signed
/// default configuration available.
pub async fn open_state(
    database: &Database,
    options: &ServerOptions,
) -> Result<Arc<AppState>, ServerError> {
    // The service's own date decides the demo data's "current month".
    let now = options.clock.now().to_offset(options.utc_offset);
    let (store, legacy_store): (Arc<dyn Store>, _) = match database {
        Database::Sqlite(path) => {
            let sqlite = Arc::new(store::sqlite::SqliteStore::open(path).await?);
            sqlite.prepare_demo_data(now).await?;
            (sqlite.clone(), Some(sqlite))
        }
        Database::Postgres(_) => (open_store(database, options).await?, None),
    };
    let legacy = match &legacy_store {
        Some(sqlite) => sqlite.legacy_signing_keys().await?,
        None => vec![],
    };
    let (keys, legacy_safe) = keys::load(&options.keys, &legacy)?;
    if legacy_safe && let Some(sqlite) = &legacy_store {
        sqlite.forget_legacy_signing_keys().await?;
    }
    ensure_default_config(&*store, &keys, now).await?;
    let identity_codes = IdentityCodeVerifier::derive(&keys.certificate);
    Ok(Arc::new(AppState {
        heartbeats: HeartbeatBatcher::spawn(store.clone()),
        store,
        clock: options.clock.clone(),
        utc_offset: options.utc_offset,
        certificate_key: keys.certificate,
        config_key: keys.config,
        public_base_url: options
            .public_base_url
            .clone()
            .map(OnceLock::from)
            .unwrap_or_default(),
        phone_link_ttl: options.phone_link_ttl,
        config_cache: ConfigCache::default(),
        public_limiter: RateLimiter::new(options.public_rate_limit),
        identity_code_limiter: RateLimiter::new(options.identity_code_rate_limit),
        identity_codes,
        identity_code_page: options.identity_code_page,
    }))
}

/// Keeps a valid default bundle available: issues a new version when there is
/// none or the newest one expires within a week.
async fn ensure_default_config(
    store: &dyn Store,
    keys: &SigningKeys,
    now: OffsetDateTime,
) -> Result<(), ServerError> {
    let newest = store.default_config().await?;
    let next_version = match &newest {
        Some(record) => {
            let bundle: ConfigBundle = store::from_json(&record.payload)?;
            if bundle.expires_at > now + time::Duration::days(7) {
                return Ok(());
            }
            record.version + 1
        }
        None => 1,
    };
    let bundle = ConfigBundle {
        version: u64::try_from(next_version).unwrap_or(1),
        issued_at: now,
        expires_at: now + time::Duration::days(90),
        station_name: LocalizedText::new(
            "滨江区 24 小时政务服务 e 站",
            "濱江區 24 小時政務服務 e 站",
            "Binjiang 24-hour service e-station",
        ),
        locales: Locale::ALL.to_vec(),
        default_locale: Locale::ZhCn,
        idle_timeout_secs: 90,
        disabled_services: vec![],
        technician_pin_hashes: vec![],
        settings: [("printer.paper_width_dots".to_owned(), "576".to_owned())].into(),
    };
    let payload = store::to_json(&bundle)?;
    let signature = base64::engine::general_purpose::STANDARD
        .encode(keys.config.sign(payload.as_bytes()).to_bytes());
    store
        .insert_default_config(&DefaultConfigRecord {
            version: next_version,
            payload,
            signature,
            created_at: now,
        })
        .await?;
    Ok(())
}

/// Path of a key directory inside an embedded service's directory.
pub fn embedded_keys_dir(dir: &std::path::Path) -> PathBuf {
    dir.join("keys")
}
