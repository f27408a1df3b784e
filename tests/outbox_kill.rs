//! A kiosk killed (SIGKILL) while it writes to the outbox and sends: after a
//! restart, every request it reported durable reaches the server exactly once.
//!
//! The kiosk is this test binary run again as a child process, executing the
//! ignored `kiosk_child` test.

use crate::support::central as central_support;
use crate::support::outbox::quick;

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use central_support::{address_change, client, column, rows};
use estation::central_client::outbox::{Outbox, OutboxKind};
use estation_central::server::EmbeddedCentral;
use tokio::io::{AsyncBufReadExt, BufReader};

const TOTAL: usize = 300;
const KILL_AFTER: usize = 60;

/// The kiosk side; only does something when started by the test below.
#[test]
#[ignore = "run as a child process by killed_kiosk_loses_and_duplicates_nothing"]
fn kiosk_child() {
    let (Ok(db), Ok(url), Ok(token)) = (
        std::env::var("OUTBOX_CHILD_DB"),
        std::env::var("OUTBOX_CHILD_URL"),
        std::env::var("OUTBOX_CHILD_TOKEN"),
    ) else {
        return;
    };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let outbox = Arc::new(Outbox::open(std::path::Path::new(&db)).unwrap());
    {
        let _guard = runtime.enter();
        let _sender = outbox
            .clone()
            .spawn_sender_with(client(&url, "demo-kiosk-01", &token), quick());
    }
    for i in 0..TOTAL {
        outbox
            .enqueue(
                OutboxKind::Submission,
                &format!("sub-{i:04}"),
                &address_change(i),
            )
            .unwrap();
        // Only now may the resident be told "done".
        println!("durable sub-{i:04}");
    }
    // Wait to be killed.
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
}

#[tokio::test]
async fn killed_kiosk_loses_and_duplicates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let db = dir.path().join("outbox.sqlite");

    let mut child = tokio::process::Command::new(std::env::current_exe().unwrap())
        .args([
            &child_test_name("kiosk_child"),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("OUTBOX_CHILD_DB", &db)
        .env("OUTBOX_CHILD_URL", central.base_url())
        .env("OUTBOX_CHILD_TOKEN", central.kiosk_token())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut durable = Vec::new();
    while durable.len() < KILL_AFTER {
        let line = lines
            .next_line()
            .await
            .unwrap()
            .expect("the child ended early");
        if let Some(key) = line.strip_prefix("durable ") {
            durable.push(key.to_owned());
        }
    }
    child.start_kill().unwrap();
    let exit = child.wait().await.unwrap();
    assert!(!exit.success(), "the child was killed, not finished");
    let delivered_before_restart = rows(central.db_path(), "SELECT COUNT(*) FROM submissions");

    // The kiosk comes back: same outbox file, new sender.
    let outbox = Arc::new(Outbox::open(&db).unwrap());
    let sender = outbox.clone().spawn_sender_with(
        client(
            central.base_url(),
            central.kiosk_id(),
            central.kiosk_token(),
        ),
        quick(),
    );
    let mut status = outbox.status();
    tokio::time::timeout(Duration::from_secs(60), status.wait_for(|s| s.backlog == 0))
        .await
        .expect("the backlog never drained")
        .unwrap();
    sender.stop().await.unwrap();

    let server_keys = column(
        central.db_path(),
        "SELECT idempotency_key FROM submissions ORDER BY receipt_number",
    );
    // Everything reported durable arrived; nothing twice; in order; and nothing
    // beyond what the child wrote (a key written just before the kill may arrive
    // without having been reported).
    let expected: Vec<String> = (0..server_keys.len())
        .map(|i| format!("sub-{i:04}"))
        .collect();
    assert_eq!(server_keys, expected);
    assert!(server_keys.len() >= durable.len());
    assert!(server_keys.len() <= TOTAL);
    assert_eq!(
        rows(central.db_path(), "SELECT COUNT(*) FROM submissions"),
        server_keys.len() as i64
    );
    eprintln!(
        "killed after {} durable entries; {} delivered before the kill, {} in all",
        durable.len(),
        delivered_before_restart,
        server_keys.len()
    );
}

/// The full name of test `name` of this module in the test binary, for running
/// it alone in a child process (`--exact`).
fn child_test_name(name: &str) -> String {
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, module)| module);
    format!("{module}::{name}")
}
