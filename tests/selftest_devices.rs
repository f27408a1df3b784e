//! The device self-test against real peers: the printer emulator over TCP, the
//! reference central service on loopback (running, then stopped), and the
//! vpcd virtual reader through the machine's pcscd. Checks fail for the right
//! reason, the JSON keeps its documented shape and the CLI's exit code follows.

use crate::support::pty;

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use estation::central_client::{CentralClient, ClientConfig};
use estation::ops::selftest::{
    CardTest, CentralTest, DisplayResult, PrinterTest, ScannerTest, SelftestContext,
    SelftestReport, Status, run_selftest,
};
use estation_central::server::EmbeddedCentral;
use estation_drivers::card::virtual_card::harness::{self, acquire_or_skip};
use estation_drivers::card::virtual_card::{
    InsertedCard, SocialSecurityFixture, VPCD_READER, VirtualCardSpec,
};
use estation_drivers::card::{CardEvent, CardMonitor};
use estation_drivers::print::PrinterStatus;
use estation_drivers::print::emulator::Emulator;
use estation_drivers::scanner::ScannerConfig;

/// Guard against a hung test only; never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(30);

fn central_test(url: &str, client: Option<CentralClient>) -> CentralTest {
    CentralTest {
        base_url: url.to_owned(),
        client,
        timeout: Duration::from_secs(3),
    }
}

fn status_of(report: &SelftestReport, id: &str) -> (Status, String) {
    let check = report
        .check(id)
        .unwrap_or_else(|| panic!("no {id} check in {report:#?}"));
    (check.status, check.code.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paper_end_and_a_stopped_central_service_fail_with_reasons_and_actions() {
    let dir = tempfile::tempdir().unwrap();
    let printer = Emulator::start(576).unwrap();
    printer.set_status(PrinterStatus {
        paper_end: true,
        ..PrinterStatus::READY
    });
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let url = central.base_url().to_owned();
    central.shutdown().await.unwrap();

    let report = run_selftest(&SelftestContext {
        kiosk_id: "binjiang-01".into(),
        printer: Some(PrinterTest {
            uri: printer.uri(),
            width_dots: 576,
            print_test_page: true,
        }),
        central: Some(central_test(&url, None)),
        data_dir: Some(dir.path().to_owned()),
        ..SelftestContext::default()
    })
    .await;
    assert_eq!(
        status_of(&report, "printer"),
        (Status::Fail, "paper-end".into())
    );
    assert_eq!(
        status_of(&report, "printer-test-page"),
        (Status::Fail, "not-ready".into())
    );
    assert_eq!(
        printer.bands_received(),
        0,
        "nothing printed on an empty roll"
    );
    assert_eq!(
        status_of(&report, "central"),
        (Status::Fail, "unreachable".into())
    );
    assert_eq!(
        status_of(&report, "clock"),
        (Status::Warn, "not-checked".into())
    );
    assert_eq!(status_of(&report, "disk").0, Status::Pass);
    assert_eq!(
        status_of(&report, "display"),
        (Status::Warn, "not-tested".into())
    );
    assert!(report.failed());
    for check in &report.checks {
        assert!(!check.reason.is_empty(), "{check:?}");
        assert_eq!(
            check.action.is_some(),
            check.status != Status::Pass,
            "{check:?}"
        );
    }
    assert!(
        report
            .check("printer")
            .unwrap()
            .action
            .as_deref()
            .unwrap()
            .contains("paper roll")
    );

    // The JSON has exactly the documented fields.
    let json = serde_json::to_value(&report).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "app_version",
            "checks",
            "config_version",
            "finished_at",
            "kiosk_id",
            "schema",
            "started_at",
            "status"
        ]
    );
    let check = json["checks"][0].as_object().unwrap();
    let keys: Vec<&str> = check.keys().map(String::as_str).collect();
    assert_eq!(keys, ["action", "code", "id", "reason", "status"]);
    assert_eq!(json["status"], "fail");
    assert_eq!(json["schema"], 1);

    // The CLI says the same and exits non-zero.
    let out = Command::new(env!("CARGO_BIN_EXE_estation"))
        .args([
            "selftest",
            "--json",
            "--no-card-reader",
            "--kiosk-id",
            "binjiang-01",
            "--printer",
        ])
        .arg(printer.uri())
        .args(["--central", &url, "--data"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let from_cli: SelftestReport = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        status_of(&from_cli, "printer"),
        (Status::Fail, "paper-end".into())
    );
    assert_eq!(
        status_of(&from_cli, "central"),
        (Status::Fail, "unreachable".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_kiosk_passes_and_prints_its_test_page() {
    let dir = tempfile::tempdir().unwrap();
    let printer = Emulator::start(576).unwrap();
    let central = EmbeddedCentral::start(&dir.path().join("central"))
        .await
        .unwrap();
    let client = CentralClient::new(ClientConfig::new(
        central.base_url(),
        central.kiosk_id(),
        central.kiosk_token(),
    ))
    .unwrap();
    // A serial code scanner: a pseudo-terminal the check opens.
    let scanner = pty::Pty::open();
    let report = run_selftest(&SelftestContext {
        kiosk_id: central.kiosk_id().into(),
        printer: Some(PrinterTest {
            uri: printer.uri(),
            width_dots: 576,
            print_test_page: true,
        }),
        scanner: Some(ScannerTest::Open {
            config: ScannerConfig::new(
                format!("serial:{}", scanner.path.display())
                    .parse()
                    .unwrap(),
            ),
            wait: std::time::Duration::from_secs(30),
        }),
        central: Some(central_test(central.base_url(), Some(client))),
        data_dir: Some(dir.path().to_owned()),
        display: DisplayResult::Passed,
        ..SelftestContext::default()
    })
    .await;
    // Everything this kiosk has passes; what it was not given (card reader,
    // outbox, bundle) is listed as not configured, a warning.
    assert_eq!(report.status, Status::Warn, "{report:#?}");
    for check in &report.checks {
        match check.id.as_str() {
            "card-reader" | "card-read" | "outbox" | "config" => {
                assert_eq!(
                    (check.status, check.code.as_str()),
                    (Status::Warn, "not-configured")
                )
            }
            _ => assert_eq!(check.status, Status::Pass, "{check:?}"),
        }
    }
    assert!(
        printer.bands_received() > 0,
        "the test page reached the printer"
    );
    let scanner_check = report.check("scanner").unwrap();
    assert_eq!(scanner_check.status, Status::Pass);
    assert!(
        scanner_check
            .reason
            .contains(&scanner.path.display().to_string()),
        "{scanner_check:?}"
    );
    assert!(
        report
            .check("clock")
            .unwrap()
            .reason
            .contains(" s from the central")
    );

    // A kiosk whose token was revoked: the service refuses it.
    let revoked = CentralClient::new(ClientConfig::new(
        central.base_url(),
        central.kiosk_id(),
        "not-the-token",
    ))
    .unwrap();
    let report = run_selftest(&SelftestContext {
        kiosk_id: central.kiosk_id().into(),
        central: Some(central_test(central.base_url(), Some(revoked))),
        display: DisplayResult::Failed {
            what: "dead touch cells in row 3".into(),
        },
        ..SelftestContext::default()
    })
    .await;
    assert_eq!(
        status_of(&report, "central"),
        (Status::Fail, "kiosk-unauthorized".into())
    );
    assert_eq!(
        status_of(&report, "display"),
        (Status::Fail, "display-fault".into())
    );

    // Warnings alone do not fail the CLI.
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_estation"))
        .args(["selftest", "--no-card-reader", "--printer"])
        .arg(printer.uri())
        .args(["--central", central.base_url(), "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("PASS  printer"), "{text}");
    assert!(text.contains("WARN  display"), "{text}");
    central.shutdown().await.unwrap();
}

/// Waits for card events from a monitor on its own thread.
struct Events {
    rx: mpsc::Receiver<CardEvent>,
    canceller: estation_drivers::card::MonitorCanceller,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Events {
    fn start() -> Events {
        let mut monitor = CardMonitor::new().unwrap();
        let canceller = monitor.canceller();
        let (tx, rx) = mpsc::channel();
        let thread = std::thread::spawn(move || {
            let _ = monitor.run(&mut |event| {
                let _ = tx.send(event);
            });
        });
        let events = Events {
            rx,
            canceller,
            thread: Some(thread),
        };
        events.expect(|e| matches!(e, CardEvent::ReaderAdded { reader } if reader == VPCD_READER));
        events
    }

    fn expect(&self, wanted: impl Fn(&CardEvent) -> bool) {
        loop {
            let event = self.rx.recv_timeout(HANG_GUARD).expect("card event");
            if wanted(&event) {
                return;
            }
        }
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.canceller.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_virtual_reader_without_a_card_fails_the_read_and_with_one_passes() {
    let Some(_pcscd) = acquire_or_skip("selftest card reader") else {
        return;
    };
    let card_test = |expect_card| SelftestContext {
        kiosk_id: "binjiang-01".into(),
        card: Some(CardTest {
            reader: Some(VPCD_READER.into()),
            expect_card,
        }),
        display: DisplayResult::Passed,
        ..SelftestContext::default()
    };
    // The harness hands the reader over empty.
    let report = run_selftest(&card_test(true)).await;
    assert_eq!(
        status_of(&report, "card-reader").0,
        Status::Pass,
        "{:#?}\n{}",
        report.check("card-reader"),
        harness::diagnosis()
    );
    assert_eq!(
        status_of(&report, "card-read"),
        (Status::Fail, "no-card".into())
    );
    assert!(report.failed());
    let report = run_selftest(&card_test(false)).await;
    assert_eq!(
        status_of(&report, "card-read"),
        (Status::Warn, "no-card".into())
    );
    // No card to read is a warning, not a failure (the rest of this context is
    // not configured, which fails on its own).
    assert!(
        report
            .checks
            .iter()
            .filter(|c| c.id.starts_with("card"))
            .all(|c| c.status != Status::Fail)
    );

    let events = Events::start();
    let card = InsertedCard::insert(VirtualCardSpec::social_security(
        SocialSecurityFixture::sample(),
    ))
    .unwrap();
    events.expect(|e| matches!(e, CardEvent::CardInserted { reader, .. } if reader == VPCD_READER));
    let report = run_selftest(&card_test(true)).await;
    assert_eq!(
        status_of(&report, "card-read").0,
        Status::Pass,
        "{report:#?}"
    );
    assert!(card.apdu_count() > 0, "the self-test talked to the card");
    // Only the profile is reported, never what the card holds.
    let json = serde_json::to_string(&report).unwrap();
    let sample = SocialSecurityFixture::sample();
    assert!(!json.contains(&sample.id_number) && !json.contains(&sample.name));
    card.remove();
    events.expect(|e| matches!(e, CardEvent::CardRemoved { reader } if reader == VPCD_READER));

    // A named reader that is not there.
    let mut missing = card_test(true);
    missing.card = Some(CardTest {
        reader: Some("No Such Reader 00 00".into()),
        expect_card: false,
    });
    let report = run_selftest(&missing).await;
    assert_eq!(
        status_of(&report, "card-reader"),
        (Status::Fail, "no-reader".into())
    );
}

/// A kiosk fresh from the package, with no configuration, no reader and no
/// printer: the report still lists every check, each saying what to do.
#[test]
fn a_fresh_kiosk_lists_every_check_with_the_next_step() {
    let out = Command::new(env!("CARGO_BIN_EXE_estation"))
        .args(["selftest", "--json", "--no-card-reader"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "an unconfigured kiosk does not pass");
    let report: SelftestReport = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = report.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "card-reader",
            "card-read",
            "scanner",
            "printer",
            "central",
            "clock",
            "disk",
            "outbox",
            "config",
            "display"
        ]
    );
    for check in &report.checks {
        assert_ne!(check.status, Status::Pass, "{check:?}");
        assert!(
            check.action.as_deref().is_some_and(|a| !a.is_empty()),
            "{check:?}"
        );
    }
    assert_eq!(
        status_of(&report, "printer"),
        (Status::Fail, "not-configured".into())
    );
    assert_eq!(
        status_of(&report, "central"),
        (Status::Fail, "not-configured".into())
    );
    let central = report.checks.iter().find(|c| c.id == "central").unwrap();
    assert!(
        central
            .action
            .as_deref()
            .unwrap()
            .contains("estation enroll")
    );
}

/// The self-test looks for the bundle where the kiosk keeps it: a kiosk's real
/// data folder, its configuration file and trust anchor.
#[test]
fn the_self_test_finds_the_bundle_in_force_in_the_kiosks_data_folder() {
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_estation");
    let key = dir.path().join("admin");
    let status = Command::new(bin)
        .args(["admin", "keygen", "--out"])
        .arg(&key)
        .status()
        .unwrap();
    assert!(status.success());
    let signed = dir.path().join("bundle.json");
    let status = Command::new(bin)
        .args(["admin", "sign"])
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets/config/example.toml"))
        .arg("--key")
        .arg(&key)
        .arg("--out")
        .arg(&signed)
        .status()
        .unwrap();
    assert!(status.success());
    let data = dir.path().join("state");
    let public = key.with_extension("pub");
    let store = estation::ops::bundle::BundleStore::open(
        &data.join(estation::ops::bundle::store::BUNDLE_FOLDER),
        estation::ops::bundle::TrustAnchors::from_files(std::slice::from_ref(&public)).unwrap(),
    )
    .unwrap();
    store.apply(&std::fs::read(&signed).unwrap()).unwrap();
    let version = store.current_version().unwrap();
    drop(store);
    std::fs::write(dir.path().join("token"), "t").unwrap();
    let config = dir.path().join("kiosk.toml");
    std::fs::write(
        &config,
        format!(
            "kiosk_id = \"k1\"\ncentral_url = \"http://127.0.0.1:9\"\ntoken_file = \"{}\"\nprinter = \"file:{}\"\ndata_dir = \"{}\"\nconfig_keys = [\"{}\"]\n",
            dir.path().join("token").display(),
            dir.path().join("printed").display(),
            data.display(),
            public.display()
        ),
    )
    .unwrap();
    let out = Command::new(bin)
        .args(["selftest", "--json", "--no-card-reader", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let report: SelftestReport = serde_json::from_slice(&out.stdout).unwrap();
    let check = report.checks.iter().find(|c| c.id == "config").unwrap();
    assert_eq!(check.status, Status::Pass, "{check:?}");
    assert!(check.reason.contains(&format!("v{version}")), "{check:?}");
    assert_eq!(report.config_version, Some(version));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_scanner_fails_its_check_with_what_to_do() {
    let report = run_selftest(&SelftestContext {
        kiosk_id: "k1".into(),
        scanner: Some(ScannerTest::Open {
            config: ScannerConfig::new("serial:/dev/estation-no-such-scanner".parse().unwrap()),
            wait: std::time::Duration::from_secs(30),
        }),
        ..SelftestContext::default()
    })
    .await;
    let check = report.check("scanner").unwrap();
    assert_eq!(
        (check.status, check.code.as_str()),
        (Status::Fail, "not-found")
    );
    assert!(
        check
            .action
            .as_deref()
            .is_some_and(|a| a.contains("[scanner]"))
    );
}
