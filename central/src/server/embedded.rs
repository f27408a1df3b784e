//! The service running inside another program (the kiosk's demo mode, tests,
//! the fleet simulator), on loopback, with a demo kiosk registered.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::keys::KeySource;
use super::routes::serve;
use super::state::{
    AppState, ServerError, ServerOptions, embedded_keys_dir, new_token, open_state,
};
use super::store::{Database, Store};
use crate::wire::PublicKeys;

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
    /// (created and seeded on first use, reused afterwards), the signing keys in
    /// `dir/keys` (generated on first use, 0600). Residents get phone identity
    /// codes from its `/m/id` page.
    pub async fn start(dir: &Path) -> Result<EmbeddedCentral, ServerError> {
        let options = ServerOptions {
            identity_code_page: true,
            ..ServerOptions::default()
        };
        Self::start_with(dir, options).await
    }

    /// As [`EmbeddedCentral::start`]; `options.database` may name a PostgreSQL
    /// server instead of the file in `dir`.
    pub async fn start_with(
        dir: &Path,
        mut options: ServerOptions,
    ) -> Result<EmbeddedCentral, ServerError> {
        tokio::fs::create_dir_all(dir).await?;
        let database = match &options.database {
            Some(url) => Database::parse(url),
            None => Database::Sqlite(dir.join(EMBEDDED_DB_FILE)),
        };
        if matches!(options.keys, KeySource::Unset) {
            options.keys = KeySource::Dir {
                path: embedded_keys_dir(dir),
                create: true,
            };
        }
        let state = open_state(&database, &options).await?;
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

    /// The SQLite file (empty for a PostgreSQL store).
    pub fn db_path(&self) -> &Path {
        self.state.db_path()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        self.state.store()
    }

    pub fn public_keys(&self) -> PublicKeys {
        self.state.public_keys()
    }

    /// Registers another kiosk and returns its token.
    pub async fn register_kiosk(&self, kiosk_id: &str) -> Result<String, ServerError> {
        self.state.register_kiosk(kiosk_id).await
    }

    /// Registers an administrator and returns the token.
    pub async fn register_admin(&self, admin_id: &str) -> Result<String, ServerError> {
        self.state.register_admin(admin_id).await
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
