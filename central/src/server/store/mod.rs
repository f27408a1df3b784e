//! The service's storage: one interface ([`Store`]), two implementations.
//!
//! - [`sqlite::SqliteStore`]: one file, the embedded default (demo mode, tests,
//!   small deployments); `rusqlite` with `rusqlite_migration`.
//! - `postgres::PgStore` (feature `postgres`): a PostgreSQL server shared by any
//!   number of stateless replicas; `tokio-postgres` with a `deadpool` pool.
//!
//! Handlers speak only this interface, in terms of the records below; each
//! implementation keeps its own schema, migrations and SQL (static statements
//! with bound parameters, never text built from values). Signing keys are not
//! stored here: they come from files the operator controls (`server::keys`).

pub mod demo;
pub mod sqlite;

#[cfg(feature = "postgres")]
pub mod postgres;

pub mod migrate;
pub mod model;
pub mod transfer;

pub use model::*;

use crate::server::error::StoreError;
use time::OffsetDateTime;

/// What a store URL names: `postgres://...` or `postgresql://...` is a server,
/// `sqlite:PATH` or a plain path is a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    Sqlite(std::path::PathBuf),
    Postgres(String),
}

impl Database {
    pub fn parse(url: &str) -> Database {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Database::Postgres(url.to_owned())
        } else {
            Database::Sqlite(url.strip_prefix("sqlite:").unwrap_or(url).into())
        }
    }
}

/// Opens (creating, migrating and seeding as needed) the store a URL names.
pub async fn open(
    database: &Database,
    options: &OpenOptions,
    now: OffsetDateTime,
) -> Result<std::sync::Arc<dyn Store>, StoreError> {
    let store: std::sync::Arc<dyn Store> = match database {
        Database::Sqlite(path) => std::sync::Arc::new(sqlite::SqliteStore::open(path).await?),
        #[cfg(feature = "postgres")]
        Database::Postgres(url) => {
            std::sync::Arc::new(postgres::PgStore::open(url, options.pool_size).await?)
        }
        #[cfg(not(feature = "postgres"))]
        Database::Postgres(_) => {
            let _ = options;
            return Err(StoreError::Unsupported(
                "this build has no PostgreSQL support (feature `postgres`)".into(),
            ));
        }
    };
    store.prepare_demo_data(now).await?;
    Ok(store)
}

/// Settings of a store connection.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Connections in the PostgreSQL pool.
    pub pool_size: usize,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions { pool_size: 16 }
    }
}
