//! The reference central service: axum on tokio, SQLite underneath.
//!
//! [`EmbeddedCentral`] runs it inside another program (the kiosk's demo mode and
//! the tests); the `estation-central` binary runs it on its own.

pub mod admin;
pub mod api;
mod demo;
mod documents;
pub mod error;
pub mod openapi;
pub mod phone;
pub mod resident;
pub mod store;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use base64::Engine;
use ed25519_dalek::{SigningKey, VerifyingKey};
use time::{OffsetDateTime, UtcOffset};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::wire::{KIOSK_ID_HEADER, ProblemCode, PublicKeyInfo, PublicKeys};
pub use error::{ApiError, StoreError};
use store::{KeyPurpose, Store};

/// Errors starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error(transparent)]
    Store(#[from] StoreError),
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
    /// Token of the demo kiosk of an [`EmbeddedCentral`]; random when `None`.
    /// Fixing it lets a restarted server accept a kiosk that kept its token.
    pub demo_kiosk_token: Option<String>,
    /// Origin of the links residents open on their phones, e.g.
    /// "https://estation.example.gov.cn"; `http://<listen address>` when `None`.
    /// A real deployment puts the public pages behind a public host.
    pub public_base_url: Option<String>,
    /// How long a phone link stays valid.
    pub phone_link_ttl: time::Duration,
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
        }
    }
}

pub struct AppState {
    pub(crate) store: Arc<Store>,
    clock: Clock,
    utc_offset: UtcOffset,
    pub(crate) certificate_key: SigningKey,
    pub(crate) config_key: SigningKey,
    /// Set from the options, or from the listening address when serving starts.
    public_base_url: OnceLock<String>,
    pub(crate) phone_link_ttl: time::Duration,
}

impl AppState {
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.clock.now().to_offset(self.utc_offset)
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
}

/// The kiosk a request was authenticated as.
#[derive(Clone, Debug)]
pub struct AuthenticatedKiosk(pub String);

/// First 8 bytes of SHA-256 of the public key, in hex.
pub fn key_id(key: &VerifyingKey) -> String {
    store::sha256(key.as_bytes())[..8]
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

async fn require_kiosk(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (kiosk_id, token) = {
        let headers = req.headers();
        let text = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let token = text(header::AUTHORIZATION.as_str())
            .and_then(|v| v.strip_prefix("Bearer ").map(|t| t.trim().to_owned()));
        (text(KIOSK_ID_HEADER), token)
    };
    let (Some(kiosk_id), Some(token)) = (kiosk_id, token) else {
        return Err(ApiError::unauthorized());
    };
    if kiosk_id.is_empty() || kiosk_id.len() > 64 {
        return Err(ApiError::unauthorized());
    }
    let store = state.store.clone();
    let id = kiosk_id.clone();
    let known = tokio::task::spawn_blocking(move || store.kiosk_token_matches(&id, &token))
        .await
        .map_err(|_| ApiError::internal())??;
    if !known {
        tracing::warn!(kiosk_id = %kiosk_id.escape_debug(), "rejected request from an unknown kiosk or with a wrong token");
        return Err(ApiError::unauthorized());
    }
    req.extensions_mut().insert(AuthenticatedKiosk(kiosk_id));
    Ok(next.run(req).await)
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        ProblemCode::NotFound,
        "No such resource",
    )
}

/// The HTTP API, ready to serve.
pub fn router(state: Arc<AppState>, max_body_bytes: usize) -> Router {
    let kiosk_only = Router::new()
        .route("/v1/catalogue", get(api::catalogue))
        .route("/v1/identity/lookup", post(api::identity_lookup))
        .route("/v1/certificates", post(api::issue_certificate))
        .route(
            "/v1/certificates/{certificate_id}/phone-link",
            post(phone::create_phone_link),
        )
        .route(
            "/v1/applications/lookup",
            post(resident::applications_by_card),
        )
        .route(
            "/v1/origin-certificates/{application_number}/form",
            get(resident::origin_certificate_form),
        )
        .route(
            "/v1/services/{service_id}/form",
            get(resident::submission_form),
        )
        .route(
            "/v1/origin-certificates/{application_number}",
            get(api::origin_certificate),
        )
        .route(
            "/v1/origin-certificates/{application_number}/document",
            get(api::origin_certificate_document),
        )
        .route(
            "/v1/applications/{application_number}/progress",
            get(api::application_progress),
        )
        .route("/v1/submissions", post(api::submit))
        .route("/v1/ratings", post(api::rate))
        .route("/v1/heartbeats", post(api::heartbeat))
        .route("/v1/config", get(api::config))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_kiosk));
    let public = Router::new()
        .route("/v1/verify/{code}", get(api::verify_certificate))
        .route("/v1/keys", get(api::public_keys))
        .route("/m/{token}", get(phone::phone_page));
    kiosk_only
        .merge(public)
        .merge(admin::routes(state.clone()))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .with_state(state)
}

/// Opens the database (migrating and seeding as needed) and loads the keys.
pub async fn open_state(
    db_path: &Path,
    options: &ServerOptions,
) -> Result<Arc<AppState>, ServerError> {
    let path = db_path.to_owned();
    // The service's own date decides the demo data's "current month".
    let now = options.clock.now().to_offset(options.utc_offset);
    let (store, certificate_key, config_key) =
        tokio::task::spawn_blocking(move || -> Result<_, StoreError> {
            let store = Store::open(&path, now)?;
            let certificate_key = store.signing_key(KeyPurpose::Certificate)?;
            let config_key = store.signing_key(KeyPurpose::Config)?;
            Ok((store, certificate_key, config_key))
        })
        .await
        .map_err(|_| ServerError::Task)??;
    Ok(Arc::new(AppState {
        store: Arc::new(store),
        clock: options.clock.clone(),
        utc_offset: options.utc_offset,
        certificate_key,
        config_key,
        public_base_url: options
            .public_base_url
            .clone()
            .map(OnceLock::from)
            .unwrap_or_default(),
        phone_link_ttl: options.phone_link_ttl,
    }))
}

impl AppState {
    /// Registers a kiosk (or replaces its token) and returns the new token.
    pub async fn register_kiosk(&self, kiosk_id: &str) -> Result<String, ServerError> {
        self.register_kiosk_with_token(kiosk_id, new_token()).await
    }

    pub async fn register_kiosk_with_token(
        &self,
        kiosk_id: &str,
        token: String,
    ) -> Result<String, ServerError> {
        let store = self.store.clone();
        let (id, t, now) = (kiosk_id.to_owned(), token.clone(), self.clock.now());
        tokio::task::spawn_blocking(move || store.register_kiosk(&id, &t, now))
            .await
            .map_err(|_| ServerError::Task)??;
        Ok(token)
    }

    pub fn public_keys(&self) -> PublicKeys {
        PublicKeys {
            certificate: public_key_info(&self.certificate_key.verifying_key()),
            config: public_key_info(&self.config_key.verifying_key()),
        }
    }

    pub fn db_path(&self) -> &Path {
        self.store.path()
    }
}

/// Serves until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    max_body_bytes: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    state
        .public_base_url
        .get_or_init(|| format!("http://{addr}"));
    axum::serve(listener, router(state, max_body_bytes))
        .with_graceful_shutdown(shutdown)
        .await
}

/// File name of the database inside the directory given to [`EmbeddedCentral`].
pub const EMBEDDED_DB_FILE: &str = "central.sqlite3";
/// Kiosk id of the demo kiosk an [`EmbeddedCentral`] registers.
pub const DEMO_KIOSK_ID: &str = "demo-kiosk-01";

/// The reference server running on the caller's tokio runtime, on loopback,
/// with a demo kiosk registered. Stops on [`EmbeddedCentral::shutdown`] or drop.
pub struct EmbeddedCentral {
    base_url: String,
    addr: SocketAddr,
    kiosk_token: String,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl EmbeddedCentral {
    /// Starts on 127.0.0.1 with an ephemeral port; the database lives in `dir`
    /// (created and seeded on first use, reused afterwards).
    pub async fn start(dir: &Path) -> Result<EmbeddedCentral, ServerError> {
        Self::start_with(dir, ServerOptions::default()).await
    }

    pub async fn start_with(
        dir: &Path,
        options: ServerOptions,
    ) -> Result<EmbeddedCentral, ServerError> {
        tokio::fs::create_dir_all(dir).await?;
        let state = open_state(&dir.join(EMBEDDED_DB_FILE), &options).await?;
        let token = options.demo_kiosk_token.clone().unwrap_or_else(new_token);
        let kiosk_token = state
            .register_kiosk_with_token(DEMO_KIOSK_ID, token)
            .await?;
        let listener = TcpListener::bind(options.listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(serve(
            listener,
            state.clone(),
            options.max_body_bytes,
            async move {
                let _ = stopped.await;
            },
        ));
        Ok(EmbeddedCentral {
            base_url: format!("http://{addr}"),
            addr,
            kiosk_token,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// "http://127.0.0.1:PORT", without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn kiosk_id(&self) -> &str {
        DEMO_KIOSK_ID
    }

    pub fn kiosk_token(&self) -> &str {
        &self.kiosk_token
    }

    pub fn db_path(&self) -> &Path {
        self.state.db_path()
    }

    pub fn public_keys(&self) -> PublicKeys {
        self.state.public_keys()
    }

    /// Registers another kiosk and returns its token.
    pub async fn register_kiosk(&self, kiosk_id: &str) -> Result<String, ServerError> {
        self.state.register_kiosk(kiosk_id).await
    }

    /// Stops accepting connections and waits for requests under way to finish.
    pub async fn shutdown(mut self) -> Result<(), ServerError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => Ok(task.await.map_err(|_| ServerError::Task)??),
            None => Ok(()),
        }
    }
}

impl Drop for EmbeddedCentral {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Path of the database of a directory used by [`EmbeddedCentral`].
pub fn embedded_db_path(dir: &Path) -> PathBuf {
    dir.join(EMBEDDED_DB_FILE)
}
