//! The reference central service: axum on tokio, over a [`store::Store`]: a
//! SQLite file (the embedded default) or a PostgreSQL server shared by
//! stateless replicas.
//!
//! [`EmbeddedCentral`] runs it inside another program (the kiosk's demo mode and
//! the tests); the `estation-central` binary runs it on its own.

pub mod admin;
pub mod api;
pub mod auth;
pub mod codes;
pub mod config;
mod documents;
mod domain;
pub mod embedded;
pub mod enroll;
pub mod error;
pub mod heartbeats;
pub mod http;
pub mod identity_code;
pub mod keys;
pub mod openapi;
pub mod phone;
pub mod rate_limit;
pub mod resident;
pub mod routes;
pub mod state;
pub mod store;

pub use auth::{AuthenticatedAdmin, AuthenticatedKiosk};
pub use embedded::{DEMO_KIOSK_ID, EMBEDDED_DB_FILE, EmbeddedCentral, embedded_db_path};
pub use error::{ApiError, StoreError};
pub use keys::KeySource;
pub use rate_limit::PublicRateLimit;
pub use routes::{router, serve};
pub use state::{
    AppState, Clock, ServerError, ServerOptions, key_id, new_token, open_state, open_store,
    public_key_info,
};
pub use store::Database;
