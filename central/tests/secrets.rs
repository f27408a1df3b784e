//! The service keeps its secrets: signing keys live in 0600 files (never in the
//! database), the SQLite database is 0600, and the public routes are
//! rate-limited per client address.

use std::os::unix::fs::PermissionsExt;

use crate::support;
use crate::support::{Backend, Harness, problem};
use estation_central::server::keys::{CERTIFICATE_KEY_FILE, CONFIG_KEY_FILE};
use estation_central::server::store::Store;
use estation_central::server::store::sqlite::SqliteStore;
use estation_central::server::{EmbeddedCentral, PublicRateLimit, ServerOptions};
use estation_central::wire::*;
use reqwest::StatusCode;

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn secret_bytes(pem_file: &std::path::Path) -> [u8; 32] {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(pem_file).unwrap();
    ed25519_dalek::SigningKey::from_pkcs8_pem(&pem)
        .unwrap()
        .to_bytes()
}

#[tokio::test]
async fn keys_are_private_files_and_the_database_is_private_and_holds_no_key() {
    let h = Harness::start(Backend::Sqlite).await;
    let keys = h.dir.path().join("keys");
    assert_eq!(mode(&keys), 0o700);
    for name in [CERTIFICATE_KEY_FILE, CONFIG_KEY_FILE] {
        assert_eq!(mode(&keys.join(name)), 0o600, "{name}");
    }
    let db = h.central.db_path().to_owned();
    assert_eq!(mode(&db), 0o600, "the database holds residents' data");
    let wal = std::path::PathBuf::from(format!("{}-wal", db.display()));
    assert!(wal.exists());
    assert_eq!(mode(&wal), 0o600);
    assert_eq!(h.rows("SELECT COUNT(*) FROM signing_keys"), 0);
    // Write something so the WAL has pages, then look for the secrets' bytes.
    let response = h
        .post(
            "/v1/certificates",
            "k",
            &support::certificate_request("household-proof", Locale::ZhCn),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut bytes = std::fs::read(&db).unwrap();
    bytes.extend(std::fs::read(&wal).unwrap());
    for name in [CERTIFICATE_KEY_FILE, CONFIG_KEY_FILE] {
        assert!(!contains(&bytes, &secret_bytes(&keys.join(name))), "{name}");
    }
}

#[tokio::test]
async fn keys_an_earlier_version_kept_in_the_database_move_to_files_and_leave_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("central.sqlite3");
    // A database as an earlier version left it: the keys in `signing_keys`.
    let old_certificate = [3u8; 32];
    let old_config = [4u8; 32];
    {
        let store = SqliteStore::open(&db).await.unwrap();
        store
            .prepare_demo_data(time::OffsetDateTime::now_utc())
            .await
            .unwrap();
        drop(store);
        let conn = rusqlite::Connection::open(&db).unwrap();
        for (purpose, key) in [("certificate", old_certificate), ("config", old_config)] {
            conn.execute(
                "INSERT INTO signing_keys (purpose, secret_key, created_at) VALUES (?1, ?2, 'x')",
                rusqlite::params![purpose, key.to_vec()],
            )
            .unwrap();
        }
        // Widen the file as an earlier version created it.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let central = EmbeddedCentral::start(dir.path()).await.unwrap();
    let expected = ed25519_dalek::SigningKey::from_bytes(&old_certificate).verifying_key();
    assert_eq!(
        central.public_keys().certificate,
        estation_central::server::public_key_info(&expected),
        "kiosks keep trusting the same key"
    );
    let keys = dir.path().join("keys");
    assert_eq!(
        secret_bytes(&keys.join(CERTIFICATE_KEY_FILE)),
        old_certificate
    );
    assert_eq!(secret_bytes(&keys.join(CONFIG_KEY_FILE)), old_config);
    assert_eq!(mode(&db), 0o600);
    let conn = rusqlite::Connection::open(&db).unwrap();
    let left: i64 = conn
        .query_row("SELECT COUNT(*) FROM signing_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
    central.shutdown().await.unwrap();
    let bytes = std::fs::read(&db).unwrap();
    assert!(!contains(&bytes, &old_certificate));
    assert!(!contains(&bytes, &old_config));
}

both_stores!(
    public_routes_are_rate_limited_per_client_address,
    |backend: Backend| async move {
        let h = Harness::start_with(
            backend,
            ServerOptions {
                public_rate_limit: PublicRateLimit {
                    per_minute: 6,
                    burst: 3,
                },
                ..ServerOptions::default()
            },
        )
        .await;
        for _ in 0..3 {
            let answer = h
                .http
                .get(h.url("/v1/verify/0000-0000-0000"))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        }
        for path in ["/v1/verify/0000-0000-0001", "/v1/keys", "/m/abc"] {
            let limited = h.http.get(h.url(path)).send().await.unwrap();
            assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
            let wait: u64 = limited.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait));
            assert_eq!(problem(limited).await.code, ProblemCode::TooManyRequests);
        }
        // Another client address is not held back by this one.
        let other = reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
            .build()
            .unwrap();
        let answer = other
            .get(h.url("/v1/verify/0000-0000-0000"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND);
        // Kiosks' own routes are not limited this way.
        for _ in 0..10 {
            assert_eq!(
                h.get("/v1/catalogue").send().await.unwrap().status(),
                StatusCode::OK
            );
        }
    }
);

both_stores!(
    every_error_is_a_problem_document,
    |backend: Backend| async move {
        let h = Harness::start(backend).await;
        // A query string that does not parse: an unknown locale.
        let bad_query = h
            .get("/v1/applications/SQ2025052000007/progress?locale=fr-FR")
            .send()
            .await
            .unwrap();
        assert_eq!(bad_query.status(), StatusCode::BAD_REQUEST);
        assert_eq!(problem(bad_query).await.code, ProblemCode::ValidationFailed);
        let missing_query = h
            .get("/v1/origin-certificates/CO2025330100001")
            .send()
            .await
            .unwrap();
        assert_eq!(missing_query.status(), StatusCode::BAD_REQUEST);
        problem(missing_query).await;
        // A method the route does not have.
        let wrong_method = h
            .http
            .delete(h.url("/v1/catalogue"))
            .header(KIOSK_ID_HEADER, h.central.kiosk_id())
            .bearer_auth(h.central.kiosk_token())
            .send()
            .await
            .unwrap();
        assert_eq!(wrong_method.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(
            problem(wrong_method).await.code,
            ProblemCode::MethodNotAllowed
        );
        // No such route.
        let nowhere = h.get("/v2/nothing").send().await.unwrap();
        assert_eq!(problem(nowhere).await.code, ProblemCode::NotFound);
        // A body that is not JSON.
        let not_json = h
            .http
            .post(h.url("/v1/ratings"))
            .header(KIOSK_ID_HEADER, h.central.kiosk_id())
            .header(IDEMPOTENCY_KEY_HEADER, "k")
            .bearer_auth(h.central.kiosk_token())
            .header("content-type", "text/plain")
            .body("good")
            .send()
            .await
            .unwrap();
        assert_eq!(not_json.status(), StatusCode::UNPROCESSABLE_ENTITY);
        problem(not_json).await;
    }
);
