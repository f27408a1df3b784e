//! Every resident service end to end through `estation demo --headless`, against
//! the reference central service (SQLite rows asserted), the file printer or the
//! TCP printer emulator (decoded pages asserted), including failure paths.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::support::demo::{ScriptRun, demo_command, run_script};
use crate::support::receipt;

use estation_central::seed::DEMO_RESIDENTS;
use estation_drivers::print::emulator::Emulator;
use estation_drivers::print::{PrinterStatus, WIDTH_80MM, WIDTH_A4, decode};

struct Run {
    data: tempfile::TempDir,
    output: Output,
}

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    fn db(&self) -> rusqlite::Connection {
        let path = self
            .stdout()
            .lines()
            .find_map(|line| line.strip_prefix("estation demo: central database "))
            .map(PathBuf::from)
            .expect("the demo names its central database");
        rusqlite::Connection::open(path).expect("central db")
    }

    fn printed(&self) -> Vec<Vec<u8>> {
        let dir = self.data.path().join("printed");
        let mut jobs: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        jobs.retain(|p| p.extension().is_some_and(|e| e == "escpos"));
        jobs.sort();
        jobs.iter()
            .map(|p| std::fs::read(p).expect("job bytes"))
            .collect()
    }

    fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |row| row.get(0))
            .expect("count query")
    }
}

fn run(script: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--no-card-reader"];
    args.extend_from_slice(extra);
    let ScriptRun { data, output } = run_script(script, &args);
    Run { data, output }
}

fn qr_codes(page: &image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(page.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, content)| content))
        .collect()
}

#[test]
fn household_proof_in_traditional_chinese() {
    let run = run("household-proof.script", &[]);
    let (service, locale, qr): (String, String, String) = run
        .db()
        .query_row(
            "SELECT service_id, locale, qr_payload FROM issued_certificates",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("one certificate");
    assert_eq!(service, "household-proof");
    assert_eq!(locale, "zh-TW");
    let jobs = run.printed();
    assert_eq!(jobs.len(), 1);
    let decoded = decode(&jobs[0], WIDTH_80MM);
    let found: Vec<String> = decoded.pages.iter().flat_map(qr_codes).collect();
    assert!(
        found.contains(&qr),
        "printed QR {found:?} is not the certificate's"
    );
    assert_eq!(
        run.count("SELECT COUNT(*) FROM ratings WHERE score = 'good'"),
        1
    );

    // The phone hand-off: the QR on screen opens this certificate's page, served
    // by the central service without kiosk credentials.
    let phone = image::open(run.data.path().join("script/shots/phone-link.png"))
        .expect("phone-link screenshot")
        .to_luma8();
    let links = qr_codes(&phone);
    let link = links
        .iter()
        .find(|l| l.starts_with("http://127.0.0.1"))
        .unwrap_or_else(|| panic!("no link QR on the phone-link screen: {links:?}"));
    // The demo (and its central service) has ended: check the link against the
    // central database, which keeps only the SHA-256 of each link's token.
    let token = link.rsplit('/').next().expect("token");
    let digest: Vec<u8> = <sha2::Sha256 as sha2::Digest>::digest(token.as_bytes()).to_vec();
    let linked: String = run
        .db()
        .query_row(
            "SELECT c.verification_code FROM phone_links l JOIN issued_certificates c USING (certificate_id) WHERE l.token_sha256 = ?1",
            [digest],
            |r| r.get(0),
        )
        .expect("the link's token belongs to the issued certificate");
    let code: String = run
        .db()
        .query_row(
            "SELECT verification_code FROM issued_certificates",
            [],
            |r| r.get(0),
        )
        .expect("code");
    assert_eq!(linked, code);
}

#[test]
fn certificate_for_a_chosen_period_and_a_bad_rating_with_reasons() {
    let run = run("period-certificate.script", &[]);
    let document: String = run
        .db()
        .query_row("SELECT document_json FROM issued_certificates", [], |r| {
            r.get(0)
        })
        .expect("one certificate");
    // "Last year" at 2026-11-24 is 2025-01 to 2025-12.
    assert!(document.contains("2025-01"), "{document}");
    assert!(document.contains("2025-12"), "{document}");
    assert!(
        !document.contains("2026-0"),
        "months outside the period: {document}"
    );
    let (score, reasons): (String, String) = run
        .db()
        .query_row("SELECT score, reasons_json FROM ratings", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("one rating");
    assert_eq!(score, "bad");
    assert!(reasons.contains("too-slow"), "{reasons}");
}

#[test]
fn origin_form_prints_on_an_a4_wide_printer() {
    let run = run("origin-a4.script", &["--printer-width", "1728"]);
    let jobs = run.printed();
    assert_eq!(jobs.len(), 1, "one origin form printed");
    let decoded = decode(&jobs[0], WIDTH_A4);
    assert!(!decoded.pages.is_empty());
    assert_eq!(decoded.pages[0].width(), WIDTH_A4);
    assert_eq!(decoded.unknown_bytes, 0);
}

/// Print jobs identify one request, not one document: the same form asked for
/// again (another resident, another week) prints again.
#[test]
fn an_origin_form_asked_for_twice_prints_twice() {
    let run = run("origin-twice.script", &["--printer-width", "1728"]);
    let jobs = run.printed();
    assert_eq!(jobs.len(), 2, "each request prints its own form");
    let first = decode(&jobs[0], WIDTH_A4);
    let second = decode(&jobs[1], WIDTH_A4);
    assert!(!first.pages.is_empty() && first.pages == second.pages);
}

#[test]
fn origin_form_on_an_80mm_printer_prints_nothing_and_says_why() {
    let run = run("origin-narrow.script", &[]);
    assert!(run.printed().is_empty());
}

#[test]
fn progress_by_application_number_prints() {
    let run = run("progress-number.script", &[]);
    let jobs = run.printed();
    assert_eq!(jobs.len(), 1);
    let decoded = decode(&jobs[0], WIDTH_80MM);
    let found: Vec<String> = decoded.pages.iter().flat_map(qr_codes).collect();
    assert!(
        found.iter().any(|q| q.contains("SQ2025060100012")),
        "the progress page carries its application number: {found:?}"
    );
}

#[test]
fn submission_while_offline_is_kept_and_delivered_later() {
    let run = run("submission-offline.script", &[]);
    let resident = &DEMO_RESIDENTS[0];
    let (fields, id_number): (String, String) = run
        .db()
        .query_row("SELECT fields_json, id_number FROM submissions", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("exactly one submission reached the central service");
    assert_eq!(id_number, resident.id_number);
    assert!(fields.contains("90号 501室"), "{fields}");
    assert!(fields.contains("13800138000"), "{fields}");
    // The receipt printed while offline says so.
    let jobs = run.printed();
    assert_eq!(jobs.len(), 1, "the receipt");
    let shot = image::open(run.data.path().join("script/shots/receipt-queued.png"))
        .expect("receipt screenshot")
        .to_rgb8();
    // The amber "received, will be sent when the network is back" banner.
    let amber = shot.pixels().filter(|p| p.0 == [0xff, 0xf4, 0xe0]).count();
    assert!(
        amber > 10_000,
        "the receipt screen does not say it is queued ({amber} px)"
    );
    // The submission was delivered, not refused, and nothing is left waiting.
    let outbox = rusqlite::Connection::open(run.data.path().join("outbox.sqlite")).expect("outbox");
    let states: Vec<String> = outbox
        .prepare("SELECT state FROM outbox WHERE kind = 'submission'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(states, ["delivered"]);
    let waiting: i64 = outbox
        .query_row(
            "SELECT COUNT(*) FROM outbox WHERE state != 'delivered'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(waiting, 0, "nothing pending or refused");
}

/// Online, the receipt carries the service's receipt number (not a kiosk-made
/// one), which opens the application in the progress inquiry.
#[test]
fn an_accepted_submission_prints_the_receipt_number_of_the_service() {
    let run = run("submission-online.script", &[]);
    let receipt_number: String = run
        .db()
        .query_row("SELECT receipt_number FROM submissions", [], |r| r.get(0))
        .expect("one submission");
    assert_eq!(
        run.count(&format!(
            "SELECT COUNT(*) FROM applications WHERE application_number = '{receipt_number}'"
        )),
        1,
        "the number opens an application in the progress inquiry"
    );
    assert!(estation_central::wire::is_application_number(
        &receipt_number
    ));
    let jobs = run.printed();
    assert_eq!(jobs.len(), 1);
    let printed = decode(&jobs[0], WIDTH_80MM);
    assert_eq!(qr_codes(&printed.pages[0]), vec![receipt_number.clone()]);
    let key: String = rusqlite::Connection::open(run.data.path().join("outbox.sqlite"))
        .unwrap()
        .query_row(
            "SELECT idempotency_key FROM outbox WHERE kind = 'submission'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let expected = receipt::expected_receipt(
        &estation::kiosk::backend::reference_from_key(&key),
        estation::kiosk::backend::SubmissionOutcome::Accepted { receipt_number },
    );
    assert!(
        printed.pages[0] == expected,
        "the printed receipt is not the accepted one"
    );
    let shot = image::open(run.data.path().join("script/shots/receipt.png"))
        .unwrap()
        .to_rgb8();
    assert!(shot.pixels().filter(|p| p.0 == [0xe5, 0xf6, 0xec]).count() > 10_000);
}

/// Wrong technician PINs lock the keypad, and a power cycle does not unlock it:
/// the right PIN is not even checked after a restart.
#[test]
fn a_technician_lockout_survives_a_restart() {
    let data = tempfile::tempdir().expect("temp dir");
    let script = |name: &str, body: &str| {
        let path = data.path().join(name);
        std::fs::write(&path, body).unwrap();
        path
    };
    let pin = |digits: &str| {
        digits
            .chars()
            .map(|d| format!("tap pin-digit {d}\n"))
            .collect::<String>()
            + "tap pin-submit\nwait maintenance-login 10\n"
    };
    let wrong_five = format!(
        "tap maintenance\nexpect maintenance-login\n{}",
        pin("111111").repeat(5)
    );
    let right = format!(
        "tap maintenance\nexpect maintenance-login\n{}",
        pin("246810")
    );
    let demo = |script: &Path| {
        demo_command(script, data.path())
            .arg("--no-card-reader")
            .output()
            .expect("estation runs")
    };
    let first = demo(&script("wrong.script", &wrong_five));
    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    let kept = std::fs::read_to_string(data.path().join("technician-lockout.json")).unwrap();
    assert!(kept.contains("\"lockouts\":1"), "{kept}");
    // After the restart the right PIN leaves the kiosk on the sign-in screen.
    let second = demo(&script("right.script", &right));
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // The control: in a fresh data folder the same script signs in, so the wait
    // above fails there (the menu shows instead).
    let fresh = tempfile::tempdir().unwrap();
    let control = demo_command(&data.path().join("right.script"), fresh.path())
        .arg("--no-card-reader")
        .output()
        .unwrap();
    assert!(
        !control.status.success(),
        "the right PIN signs in without a lockout"
    );
    assert!(String::from_utf8_lossy(&control.stderr).contains("maintenance-menu"));
}

#[test]
fn a_service_closed_now_is_not_offered() {
    let run = run("closed-service.script", &[]);
    assert_eq!(run.count("SELECT COUNT(*) FROM issued_certificates"), 0);
}

#[test]
fn printer_without_paper_stops_before_printing_and_explains() {
    let emulator = Emulator::start(WIDTH_80MM).expect("emulator");
    emulator.set_status(PrinterStatus {
        paper_end: true,
        ..PrinterStatus::READY
    });
    let run = run("paper-out.script", &["--printer", &emulator.uri()]);
    assert_eq!(
        emulator.bands_received(),
        0,
        "nothing printed without paper"
    );
    let journal =
        rusqlite::Connection::open(run.data.path().join("print-journal.sqlite")).expect("journal");
    let (state, key): (String, String) = journal
        .query_row("SELECT state, error_key FROM print_jobs", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("the refused job is journalled");
    assert_eq!(state, "failed");
    assert_eq!(key, "print-error-paper-out");
    // The certificate was issued all the same: it can be printed elsewhere.
    assert_eq!(run.count("SELECT COUNT(*) FROM issued_certificates"), 1);
}

#[test]
fn technician_signs_in_runs_the_self_test_and_leaves() {
    let run = run("maintenance.script", &[]);
    // The self-test printed its test page through the kiosk's printer.
    let dir = run.data.path().join("printed");
    let pages: Vec<_> = std::fs::read_dir(&dir)
        .expect("printed folder")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("test-page"))
        .collect();
    assert!(!pages.is_empty(), "no test page in {}", dir.display());
    for shot in ["login-denied", "selftest"] {
        assert!(
            run.data
                .path()
                .join(format!("script/shots/{shot}.png"))
                .exists()
        );
    }
    // No resident-facing data was created.
    assert_eq!(run.count("SELECT COUNT(*) FROM issued_certificates"), 0);
}

#[test]
fn offline_the_kiosk_offers_only_what_works_without_the_central_service() {
    let run = run("offline-catalogue.script", &[]);
    let shot = image::open(run.data.path().join("script/shots/offline-services.png"))
        .expect("screenshot")
        .to_rgb8();
    // The degraded banner (amber on cream) is on screen.
    let amber = shot.pixels().filter(|p| p.0 == [0xff, 0xf4, 0xe0]).count();
    assert!(amber > 10_000, "no degraded banner ({amber} px)");
}
