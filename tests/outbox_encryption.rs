//! The outbox keeps residents' data sealed at rest: nothing readable in the
//! SQLite files, delivery across a restart with the same key, and clear errors
//! for a wrong, short or exposed key file.

use crate::support::central as central_support;
use crate::support::outbox::{quick, until};

use std::path::{Path, PathBuf};
use std::sync::Arc;

use central_support::{address_change, client, column, rows};
use estation::central_client::outbox::{Outbox, OutboxError};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::EmbeddedCentral;

/// Every byte SQLite keeps for the database: the file, its WAL and shared memory.
fn raw_bytes(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    for suffix in ["-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        bytes.extend(std::fs::read(PathBuf::from(name)).unwrap_or_default());
    }
    bytes
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn queued_submissions_are_unreadable_on_disk_and_still_delivered_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.sqlite");
    // Production layout: the key lives apart from the database.
    let key_dir = dir.path().join("keys");
    std::fs::create_dir(&key_dir).unwrap();
    let key = key_dir.join("outbox.key");
    let submissions = [address_change(0), address_change(2), address_change(3)];
    {
        let outbox = Outbox::open_with_key(&db, &key).unwrap();
        for request in &submissions {
            outbox.enqueue_submission(request).unwrap();
        }
        assert_eq!(outbox.pending().unwrap().len(), 3);
        let bytes = raw_bytes(&db);
        for request in &submissions {
            for personal in [
                request.name.as_str(),
                request.id_number.as_str(),
                request.card_number.as_str(),
                request.fields["new_address"].as_str(),
                "13800000000",
            ] {
                assert!(
                    !contains(&bytes, personal.as_bytes()),
                    "personal data in the outbox files"
                );
            }
        }
        // The payloads themselves read back whole through the outbox.
        let pending = outbox.pending().unwrap();
        assert!(pending[0].payload.contains(DEMO_RESIDENTS[0].name));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::metadata(&key).unwrap().len(), 32);
    }

    // Restart: the same key opens the same queue, which drains to the service.
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let outbox = Arc::new(Outbox::open_with_key(&db, &key).unwrap());
    let api = client(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    );
    let sender = outbox.clone().spawn_sender_with(api, quick());
    let mut status = outbox.status();
    let done = until(&mut status, |s| s.backlog == 0).await;
    assert_eq!(done.rejected, 0);
    sender.stop().await.unwrap();
    let names = column(
        central.db_path(),
        "SELECT applicant_name FROM submissions ORDER BY receipt_number",
    );
    assert_eq!(
        names,
        submissions
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        rows(
            central.db_path(),
            "SELECT COUNT(*) FROM applications WHERE application_number LIKE 'RC%'"
        ),
        3
    );
}

#[test]
fn a_wrong_short_or_exposed_key_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.sqlite");
    let key = dir.path().join("right.key");
    let outbox = Outbox::open_with_key(&db, &key).unwrap();
    outbox.enqueue_submission(&address_change(1)).unwrap();
    drop(outbox);

    // Another key, e.g. a key file replaced or restored from another kiosk.
    let wrong = dir.path().join("wrong.key");
    let error = Outbox::open_with_key(&db, &wrong).unwrap_err();
    assert!(matches!(error, OutboxError::WrongKey), "{error}");
    assert!(error.to_string().contains("does not open this outbox"));

    let short = dir.path().join("short.key");
    std::fs::write(&short, [7u8; 16]).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&short, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let error = Outbox::open_with_key(&db, &short).unwrap_err();
    assert!(matches!(error, OutboxError::KeyLength(_)), "{error}");

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = Outbox::open_with_key(&db, &key).unwrap_err();
        assert!(matches!(error, OutboxError::KeyExposed(_)), "{error}");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let missing_dir = dir.path().join("no-such-dir").join("k.key");
    assert!(matches!(
        Outbox::open_with_key(&db, &missing_dir).unwrap_err(),
        OutboxError::KeyFile { .. }
    ));

    // The right key still opens it, with the entry intact.
    let outbox = Outbox::open_with_key(&db, &key).unwrap();
    let pending = outbox.pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert!(pending[0].payload.contains(DEMO_RESIDENTS[1].id_number));
}

#[test]
fn open_keeps_its_key_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("outbox.sqlite");
    let outbox = Outbox::open(&db).unwrap();
    outbox.enqueue_submission(&address_change(4)).unwrap();
    drop(outbox);
    assert!(dir.path().join("outbox.key").exists());
    // `open` and `open_with_key` with that path are the same outbox.
    let same = Outbox::open_with_key(&db, &dir.path().join("outbox.key")).unwrap();
    assert_eq!(same.pending().unwrap().len(), 1);
}
