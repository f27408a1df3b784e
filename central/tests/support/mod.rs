//! Set-up shared by the central service's test files: a server on each store
//! (SQLite file, PostgreSQL server), HTTP helpers, row counts, request bodies.
//!
//! `both_stores!` turns one async test body into a test per store.

#![allow(dead_code)]

pub mod postgres;

use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::{EmbeddedCentral, ServerOptions};
use estation_central::wire::*;
use time::macros::datetime;

/// Which store a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One async test per store: `both_stores!(name, |backend| async move { ... });`
/// makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_stores {
    ($name:ident, $body:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            #[tokio::test]
            async fn sqlite() {
                let run = $body;
                run($crate::support::Backend::Sqlite).await;
            }
            #[tokio::test]
            async fn postgres() {
                if $crate::support::postgres::server().is_none() {
                    return;
                }
                let run = $body;
                run($crate::support::Backend::Postgres).await;
            }
        }
    };
}

/// Options that put the service on `backend`: a fresh PostgreSQL database, or
/// the SQLite file of the service's directory.
pub fn options_for(backend: Backend, options: ServerOptions) -> ServerOptions {
    match backend {
        Backend::Sqlite => options,
        Backend::Postgres => ServerOptions {
            database: Some(
                postgres::server()
                    .expect("PostgreSQL server")
                    .fresh_database(),
            ),
            ..options
        },
    }
}

pub struct Harness {
    pub central: EmbeddedCentral,
    pub http: reqwest::Client,
    pub backend: Backend,
    /// The PostgreSQL URL, or the SQLite file.
    pub database: String,
    pub dir: tempfile::TempDir,
}

impl Harness {
    pub async fn start(backend: Backend) -> Harness {
        Self::start_with(backend, ServerOptions::default()).await
    }

    pub async fn start_with(backend: Backend, options: ServerOptions) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let options = options_for(backend, options);
        let database = options.database.clone();
        let central = EmbeddedCentral::start_with(dir.path(), options)
            .await
            .unwrap();
        let database = database.unwrap_or_else(|| central.db_path().to_string_lossy().into_owned());
        Harness {
            central,
            http: reqwest::Client::new(),
            backend,
            database,
            dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.central.base_url())
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(self.url(path))
            .header(KIOSK_ID_HEADER, self.central.kiosk_id())
            .bearer_auth(self.central.kiosk_token())
    }

    /// A kiosk's POST without an idempotency key (look-ups, phone links).
    pub fn kiosk_post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .header(KIOSK_ID_HEADER, self.central.kiosk_id())
            .bearer_auth(self.central.kiosk_token())
    }

    pub fn post(
        &self,
        path: &str,
        key: &str,
        body: &impl serde::Serialize,
    ) -> reqwest::RequestBuilder {
        self.http
            .post(self.url(path))
            .header(KIOSK_ID_HEADER, self.central.kiosk_id())
            .header(IDEMPOTENCY_KEY_HEADER, key)
            .bearer_auth(self.central.kiosk_token())
            .json(body)
    }

    /// A count (or any integer) from the store.
    pub fn rows(&self, sql: &str) -> i64 {
        rows(self.backend, &self.database, sql)
    }

    /// A text value from the store.
    pub fn text(&self, sql: &str) -> String {
        match self.backend {
            Backend::Sqlite => rusqlite::Connection::open(&self.database)
                .unwrap()
                .query_row(sql, [], |r| r.get(0))
                .unwrap(),
            Backend::Postgres => postgres::query_value(&self.database, sql),
        }
    }
}

/// A count from a store given by its URL or file.
pub fn rows(backend: Backend, database: &str, sql: &str) -> i64 {
    match backend {
        Backend::Sqlite => rusqlite::Connection::open(database)
            .unwrap()
            .query_row(sql, [], |r| r.get(0))
            .unwrap(),
        Backend::Postgres => postgres::query_value(database, sql),
    }
}

pub async fn problem(response: reqwest::Response) -> Problem {
    assert_eq!(
        response.headers().get("content-type").unwrap(),
        PROBLEM_CONTENT_TYPE,
        "errors must be problem documents"
    );
    response.json().await.unwrap()
}

pub fn certificate_request(service_id: &str, locale: Locale) -> IssueCertificateRequest {
    let r = &DEMO_RESIDENTS[0];
    IssueCertificateRequest {
        service_id: service_id.into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        locale,
        period: Some(Period {
            from: "2024-06".into(),
            to: "2025-05".into(),
        }),
    }
}

pub fn address_change(resident: usize, phone: &str) -> SubmissionRequest {
    let r = &DEMO_RESIDENTS[resident % DEMO_RESIDENTS.len()];
    SubmissionRequest {
        service_id: "address-change".into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        fields: [
            (
                "new_address".to_owned(),
                "浙江省杭州市西湖区文三路 90 号".to_owned(),
            ),
            ("phone".to_owned(), phone.to_owned()),
        ]
        .into(),
    }
}

pub fn heartbeat() -> Heartbeat {
    Heartbeat {
        sent_at: datetime!(2025-06-02 10:00 +8),
        app_version: "0.1.0".into(),
        config_version: Some(1),
        outbox_backlog: 0,
        devices: vec![DeviceHealth {
            device: "printer".into(),
            status: DeviceStatus::Warning,
            detail: Some("paper-low".into()),
        }],
    }
}
