//! Administration end to end over loopback: an administrator signs and
//! publishes bundles with the `estation admin` CLI; the reference central
//! service hands each kiosk the newest bundle its selector names; kiosks poll,
//! verify and apply it (or refuse it and keep theirs); heartbeats carry the
//! self-test and the version in force to the fleet status (JSON and page).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use estation::central_client::outbox::Outbox;
use estation::central_client::{CentralClient, ClientConfig, RetryPolicy};
use estation::ops::bundle::poller::PollStatus;
use estation::ops::bundle::{BundleStore, PollerHandle, TrustAnchors, spawn_config_poller};
use estation::ops::heartbeat::{
    HealthBoard, enqueue_heartbeat, follow_config_poller, spawn_board_heartbeat, spawn_heartbeat,
};
use estation::ops::selftest::{
    CentralTest, DisplayResult, PrinterTest, SelftestContext, Status, run_selftest,
};
use estation_central::server::EmbeddedCentral;
use estation_central::wire::{DeviceStatus, FleetStatus, KioskHealth, KioskStatus};
use estation_drivers::print::PrinterStatus;
use estation_drivers::print::emulator::Emulator;
use tokio::sync::watch;

/// Guard against a hung test only; never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(60);
const EXAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/config/example.toml");

fn estation(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_estation"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Signs the example with `version` into `dir/bundle-vN.json`.
fn sign(dir: &Path, key: &Path, version: u64) -> PathBuf {
    let source = dir.join(format!("config-v{version}.toml"));
    let text = std::fs::read_to_string(EXAMPLE)
        .unwrap()
        .replace("version = 7", &format!("version = {version}"));
    std::fs::write(&source, text).unwrap();
    let out = dir.join(format!("bundle-v{version}.json"));
    let (ok, _, stderr) = estation(&[
        "admin",
        "sign",
        path(&source),
        "--key",
        path(key),
        "--out",
        path(&out),
    ]);
    assert!(ok, "{stderr}");
    out
}

fn client(url: &str, kiosk: &str, token: &str) -> CentralClient {
    let mut config = ClientConfig::new(url, kiosk, token);
    config.retry = RetryPolicy {
        max_attempts: 1,
        ..RetryPolicy::default()
    };
    CentralClient::new(config).unwrap()
}

struct Kiosk {
    store: Arc<BundleStore>,
    poller: PollerHandle,
    status: watch::Receiver<PollStatus>,
}

impl Kiosk {
    fn start(dir: &Path, url: &str, id: &str, token: &str, trust: TrustAnchors) -> Kiosk {
        let store = Arc::new(BundleStore::open(&dir.join(id).join("bundle"), trust).unwrap());
        let poller = spawn_config_poller(
            client(url, id, token),
            store.clone(),
            Duration::from_millis(100),
        );
        let status = poller.status();
        Kiosk {
            store,
            poller,
            status,
        }
    }

    /// Waits for a poll that satisfies `done`.
    async fn until(&mut self, done: impl Fn(&PollStatus) -> bool) -> PollStatus {
        tokio::time::timeout(HANG_GUARD, self.status.wait_for(|s| done(s)))
            .await
            .expect("the poller never got there")
            .unwrap()
            .clone()
    }
}

async fn fleet(url: &str, admin: &str, token: &str) -> FleetStatus {
    reqwest::Client::new()
        .get(format!("{url}/v1/admin/fleet"))
        .basic_auth(admin, Some(token))
        .send()
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_bundles_reach_the_selected_kiosks_and_the_fleet_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let central = EmbeddedCentral::start(&dir.join("central")).await.unwrap();
    let url = central.base_url().to_owned();
    let admin_token = central.register_admin("ops-li").await.unwrap();
    let token_file = dir.join("admin-token");
    std::fs::write(&token_file, &admin_token).unwrap();
    let binjiang_token = central.register_kiosk("binjiang-01").await.unwrap();
    let jindong_token = central.register_kiosk("jindong-01").await.unwrap();

    let key = dir.join("admin-key");
    let (ok, _, stderr) = estation(&["admin", "keygen", "--out", path(&key)]);
    assert!(ok, "{stderr}");
    let public = dir.join("admin-key.pub");
    let trust = TrustAnchors::from_files(&[&public]).unwrap();
    let publish = |bundle: &Path, selector: &str| {
        estation(&[
            "admin",
            "publish",
            path(bundle),
            "--central",
            &url,
            "--kiosks",
            selector,
            "--admin",
            "ops-li",
            "--token-file",
            path(&token_file),
        ])
    };

    // v7 for Binjiang only.
    let v7 = sign(dir, &key, 7);
    let (ok, stdout, stderr) = publish(&v7, "binjiang-*");
    assert!(ok, "{stderr}");
    assert!(stdout.contains("1 kiosk match (binjiang-01)"), "{stdout}");
    let mut binjiang = Kiosk::start(dir, &url, "binjiang-01", &binjiang_token, trust.clone());
    let mut jindong = Kiosk::start(dir, &url, "jindong-01", &jindong_token, trust.clone());
    binjiang.until(|s| s.version == Some(7)).await;
    // Jindong gets the service's own default, signed by a key it does not trust.
    let refused = jindong.until(|s| s.last_rejection.is_some()).await;
    assert_eq!(refused.last_rejection.unwrap().0, "unknown-key");
    assert!(jindong.store.current().is_none());

    // A selector that matches no kiosk is refused (a typo would use up v8), and
    // the version is still free afterwards.
    let v8_early = sign(dir, &key, 8);
    let (ok, _, stderr) = publish(&v8_early, "binjaing-*");
    assert!(!ok);
    assert!(stderr.contains("matches no registered kiosk"), "{stderr}");

    // Publishing an older or equal version is refused by the service.
    let (ok, _, stderr) = publish(&v7, "*");
    assert!(!ok);
    assert!(stderr.contains("not newer"), "{stderr}");
    // A bundle signed by a stranger is accepted by the service (it does not
    // hold the keys) but refused by the kiosk, which keeps v7.
    let stranger = dir.join("stranger-key");
    assert!(estation(&["admin", "keygen", "--out", path(&stranger)]).0);
    let forged = sign(dir, &stranger, 8);
    assert!(publish(&forged, "*").0);
    let refused = binjiang.until(|s| s.last_rejection.is_some()).await;
    assert_eq!(refused.last_rejection.unwrap().0, "unknown-key");
    assert_eq!(binjiang.store.current().unwrap().version, 7);

    // v9 for everyone.
    let v9 = sign(dir, &key, 9);
    let (ok, stdout, _) = publish(&v9, "*");
    assert!(ok && stdout.contains("3 kiosks match"), "{stdout}"); // with the demo kiosk
    let mut applied = binjiang.store.subscribe();
    binjiang.until(|s| s.version == Some(9)).await;
    jindong.until(|s| s.version == Some(9)).await;
    assert!(applied.has_changed().unwrap());
    assert_eq!(applied.borrow_and_update().as_ref().unwrap().version, 9);

    // Binjiang runs a self-test (its printer's paper is running low) and
    // sends a heartbeat; Jindong never does.
    let printer = Emulator::start(576).unwrap();
    printer.set_status(PrinterStatus {
        paper_near_end: true,
        ..PrinterStatus::READY
    });
    // Everything else about this kiosk is set up, so the paper is the only
    // thing the fleet should hear about (the card reader, which needs pcscd,
    // stays a not-configured warning).
    let board = Arc::new(HealthBoard::new(Some(binjiang.store.clone())));
    let outbox = Arc::new(Outbox::open(&dir.join("binjiang-01").join("outbox.sqlite")).unwrap());
    let report = run_selftest(&SelftestContext {
        kiosk_id: "binjiang-01".into(),
        printer: Some(PrinterTest {
            uri: printer.uri(),
            width_dots: 576,
            print_test_page: false,
        }),
        central: Some(CentralTest {
            base_url: url.clone(),
            client: Some(client(&url, "binjiang-01", &binjiang_token)),
            timeout: Duration::from_secs(5),
        }),
        data_dir: Some(dir.join("binjiang-01")),
        outbox: Some(outbox.clone()),
        bundle: Some(binjiang.store.clone()),
        display: DisplayResult::Passed,
        ..SelftestContext::default()
    })
    .await;
    assert_eq!(report.check("printer").unwrap().code, "paper-near-end");
    let failed: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Fail)
        .map(|c| c.id.clone())
        .collect();
    assert!(failed.is_empty(), "unexpected failures: {failed:?}");
    board.set_selftest(report);
    let sender = outbox
        .clone()
        .spawn_sender(client(&url, "binjiang-01", &binjiang_token));
    let mut outbox_status = outbox.status();
    assert!(enqueue_heartbeat(&outbox, board.snapshot()).unwrap());
    tokio::time::timeout(HANG_GUARD, outbox_status.wait_for(|s| s.backlog == 0))
        .await
        .unwrap()
        .unwrap();
    sender.stop().await.unwrap();

    let status = fleet(&url, "ops-li", &admin_token).await;
    let kiosk = |id: &str| {
        status
            .kiosks
            .iter()
            .find(|k| k.kiosk_id == id)
            .unwrap()
            .clone()
    };
    let b = kiosk("binjiang-01");
    assert_eq!(b.health, KioskHealth::Warning);
    assert_eq!(b.assigned_config_version, Some(9));
    assert!(b.config_current);
    let last = b.last_heartbeat.unwrap();
    assert_eq!(last.config_version, Some(9));
    let printer_health = last.devices.iter().find(|d| d.device == "printer").unwrap();
    assert_eq!(printer_health.status, DeviceStatus::Warning);
    assert_eq!(printer_health.detail.as_deref(), Some("paper-near-end"));
    assert!(last.devices.iter().any(|d| d.device == "selftest"));
    let j = kiosk("jindong-01");
    assert_eq!(j.health, KioskHealth::Never);
    assert_eq!(j.assigned_config_version, Some(9));
    assert!(!j.config_current);

    // The same through the CLI, and as a page.
    let (ok, stdout, stderr) = estation(&[
        "admin",
        "fleet",
        "--central",
        &url,
        "--admin",
        "ops-li",
        "--token-file",
        path(&token_file),
    ]);
    assert!(ok, "{stderr}");
    let via_cli: FleetStatus = serde_json::from_str(&stdout).unwrap();
    assert_eq!(via_cli.kiosks.len(), status.kiosks.len());
    let http = reqwest::Client::new();
    let page = http
        .get(format!("{url}/admin/fleet"))
        .basic_auth("ops-li", Some(&admin_token))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("<tr class=\"warning\"><td>binjiang-01</td>"),
        "{page}"
    );
    assert!(page.contains("printer: paper-near-end"));
    assert!(page.contains("<tr class=\"never\"><td>jindong-01</td>"));

    // No credentials, or a kiosk's, get nothing.
    let anonymous = http.get(format!("{url}/admin/fleet")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers().get("www-authenticate").is_some());
    let as_kiosk = http
        .get(format!("{url}/v1/admin/fleet"))
        .basic_auth("binjiang-01", Some(&binjiang_token))
        .send()
        .await
        .unwrap();
    assert_eq!(as_kiosk.status(), 401);

    binjiang.poller.stop().await;
    jindong.poller.stop().await;
    central.shutdown().await.unwrap();
}

#[tokio::test]
async fn heartbeats_wait_in_the_outbox_one_at_a_time_while_the_service_is_away() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.sqlite")).unwrap());
    let board = Arc::new(HealthBoard::new(None));
    board.set_device(estation_central::wire::DeviceHealth {
        device: "card-reader".into(),
        status: DeviceStatus::Error,
        detail: Some("no-reader".into()),
    });
    let mut status = outbox.status();
    let source = board.clone();
    let handle = spawn_heartbeat(outbox.clone(), Duration::from_secs(3600), move || {
        source.snapshot()
    });
    // The first one is queued at once; no sender runs, so it stays.
    tokio::time::timeout(HANG_GUARD, status.wait_for(|s| s.backlog == 1))
        .await
        .unwrap()
        .unwrap();
    handle.stop().await;
    assert!(!enqueue_heartbeat(&outbox, board.snapshot()).unwrap());
    let pending = outbox.pending().unwrap();
    assert_eq!(pending.len(), 1);
    let sent: estation_central::wire::Heartbeat =
        serde_json::from_str(&pending[0].payload).unwrap();
    // The card reader as the board knew it, and the outbox's own health.
    let devices: Vec<(&str, Option<&str>)> = sent
        .devices
        .iter()
        .map(|d| (d.device.as_str(), d.detail.as_deref()))
        .collect();
    assert_eq!(
        devices,
        [("card-reader", Some("no-reader")), ("outbox", None)]
    );
    assert_eq!(sent.app_version, env!("CARGO_PKG_VERSION"));
}

/// A kiosk that refuses a bundle says so in a heartbeat sent at once (the
/// interval here is an hour), the fleet shows it as an error naming the
/// version and the reason, and publishing a fixed bundle clears it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_bundle_reaches_the_fleet_at_once_and_a_fixed_one_clears_it() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let central = EmbeddedCentral::start(&dir.join("central")).await.unwrap();
    let url = central.base_url().to_owned();
    let admin_token = central.register_admin("ops-li").await.unwrap();
    let token_file = dir.join("admin-token");
    std::fs::write(&token_file, &admin_token).unwrap();
    let kiosk_token = central.register_kiosk("fuyang-01").await.unwrap();
    let key = dir.join("admin-key");
    let stranger = dir.join("stranger-key");
    for k in [&key, &stranger] {
        assert!(estation(&["admin", "keygen", "--out", path(k)]).0);
    }
    let trust = TrustAnchors::from_files(&[dir.join("admin-key.pub")]).unwrap();
    let publish = |bundle: &Path| {
        let (ok, _, stderr) = estation(&[
            "admin",
            "publish",
            path(bundle),
            "--central",
            &url,
            "--kiosks",
            "fuyang-*",
            "--admin",
            "ops-li",
            "--token-file",
            path(&token_file),
        ]);
        assert!(ok, "{stderr}");
    };

    let mut kiosk = Kiosk::start(dir, &url, "fuyang-01", &kiosk_token, trust);
    let board = Arc::new(HealthBoard::new(Some(kiosk.store.clone())));
    let outbox = Arc::new(Outbox::open(&dir.join("fuyang-01").join("outbox.sqlite")).unwrap());
    let _sender = outbox
        .clone()
        .spawn_sender(client(&url, "fuyang-01", &kiosk_token));
    let _follower = follow_config_poller(board.clone(), kiosk.poller.status());
    let _heartbeat =
        spawn_board_heartbeat(outbox.clone(), Duration::from_secs(3600), board.clone());
    let mut outbox_status = outbox.status();
    // Waits, on the outbox's own changes, until the fleet shows `wanted`.
    let mut fleet_until = async |wanted: &dyn Fn(&KioskStatus) -> bool| -> KioskStatus {
        tokio::time::timeout(HANG_GUARD, async {
            loop {
                let status = fleet(&url, "ops-li", &admin_token).await;
                let row = status
                    .kiosks
                    .into_iter()
                    .find(|k| k.kiosk_id == "fuyang-01");
                if let Some(row) = row.filter(|r| wanted(r)) {
                    return row;
                }
                outbox_status.changed().await.unwrap();
            }
        })
        .await
        .expect("the fleet never showed it")
    };
    let config_detail = |row: &KioskStatus| {
        row.last_heartbeat.as_ref().and_then(|h| {
            h.devices
                .iter()
                .find(|d| d.device == "config")
                .map(|d| (d.status, d.detail.clone().unwrap_or_default()))
        })
    };

    publish(&sign(dir, &stranger, 8));
    kiosk.until(|s| s.last_rejection.is_some()).await;
    let row = fleet_until(&|row| config_detail(row).is_some()).await;
    let (status, detail) = config_detail(&row).unwrap();
    assert_eq!(status, DeviceStatus::Error);
    assert!(
        detail.starts_with("refused v8: unknown-key at "),
        "{detail}"
    );
    assert!(detail.ends_with("running built-in defaults"), "{detail}");
    assert_eq!(row.health, KioskHealth::Error);
    let page = reqwest::Client::new()
        .get(format!("{url}/admin/fleet"))
        .basic_auth("ops-li", Some(&admin_token))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("config: refused v8: unknown-key"), "{page}");

    publish(&sign(dir, &key, 9));
    kiosk.until(|s| s.version == Some(9)).await;
    let row = fleet_until(&|row| {
        config_detail(row).is_some_and(|(status, _)| status == DeviceStatus::Ok)
    })
    .await;
    assert_eq!(config_detail(&row).unwrap().1, "v9");
    assert!(row.config_current);
    assert_ne!(row.health, KioskHealth::Error);
}
