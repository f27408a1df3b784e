//! The first resident flow, end to end, through `estation demo --headless`: the
//! central service's database holds the certificate and the rating, and the printer
//! folder holds a job whose bytes decode to the resident's certificate.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use estation_central::seed::DEMO_RESIDENTS;
use estation_drivers::print::{WIDTH_80MM, decode};

const BIN: &str = env!("CARGO_BIN_EXE_estation");

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/scripts")
        .join(name)
}

/// Runs a script in a fresh data folder; the script's screenshots land next to a copy.
fn run_demo(script_name: &str, data: &Path) -> Output {
    let work = data.join("script");
    std::fs::create_dir_all(&work).expect("script folder");
    let copy = work.join(script_name);
    std::fs::copy(script(script_name), &copy).expect("copy script");
    let output = Command::new(BIN)
        .args(["demo", "--headless", "--no-card-reader", "--script"])
        .arg(&copy)
        .arg("--data")
        .arg(data)
        .env("ESTATION_LOG", "info")
        .output()
        .expect("estation runs");
    assert!(
        output.status.success(),
        "demo failed\nstdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn central_db(stdout: &str) -> PathBuf {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("estation demo: central database "))
        .map(PathBuf::from)
        .expect("the demo names its central database")
}

fn decode_qr(page: &image::GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(page.clone());
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, content)| content))
        .collect()
}

#[test]
fn social_insurance_certificate_from_attract_to_attract() {
    let data = tempfile::tempdir().expect("temp dir");
    let output = run_demo("first-flow.script", data.path());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let resident = &DEMO_RESIDENTS[0];

    // The central service issued exactly one certificate, for the demo resident.
    let db = rusqlite::Connection::open(central_db(&stdout)).expect("central db");
    let (certificate_id, code, qr_payload, id_number, service): (String, String, String, String, String) = db
        .query_row(
            "SELECT certificate_id, verification_code, qr_payload, id_number, service_id FROM issued_certificates",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?, row.get(4)?)),
        )
        .expect("exactly one issued certificate");
    assert_eq!(id_number, resident.id_number);
    assert_eq!(service, "si-payment-certificate");

    // The rating reached the central service through the outbox.
    let (score, rated_certificate): (String, Option<String>) = db
        .query_row("SELECT score, certificate_id FROM ratings", [], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .expect("exactly one rating");
    assert_eq!(score, "good");
    assert_eq!(rated_certificate.as_deref(), Some(certificate_id.as_str()));

    // The printer folder holds one job; its bytes decode to the certificate.
    let printed = data.path().join("printed");
    let jobs: Vec<PathBuf> = std::fs::read_dir(&printed)
        .expect("printed folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "escpos"))
        .collect();
    assert_eq!(jobs.len(), 1, "one job expected in {}", printed.display());
    let bytes = std::fs::read(&jobs[0]).expect("job bytes");
    let decoded = decode(&bytes, WIDTH_80MM);
    assert!(!decoded.truncated, "the job ends inside a command");
    assert_eq!(decoded.unknown_bytes, 0);
    assert!(decoded.cuts >= 1, "the paper is cut");
    let found: Vec<String> = decoded.pages.iter().flat_map(decode_qr).collect();
    assert!(
        found.contains(&qr_payload),
        "the printed QR codes {found:?} do not carry the issued certificate's payload"
    );
    assert!(
        qr_payload.contains(&code),
        "the QR payload carries the verification code"
    );

    // Screenshots along the way are real pictures.
    for shot in ["attract", "services", "preview"] {
        let path = data.path().join("script/shots").join(format!("{shot}.png"));
        let image = image::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!((image.width(), image.height()), (1080, 1920));
    }

    // No personal data in the kiosk's log.
    let stderr = String::from_utf8_lossy(&output.stderr);
    for secret in [resident.id_number, resident.name, resident.card_number] {
        assert!(!stderr.contains(secret), "the log leaks personal data");
        assert!(!stdout.contains(secret), "the output leaks personal data");
    }
}

#[test]
fn idle_timeout_returns_to_attract_and_prints_nothing() {
    let data = tempfile::tempdir().expect("temp dir");
    run_demo("idle-timeout.script", data.path());
    let printed = data.path().join("printed");
    let count = std::fs::read_dir(&printed).map(|d| d.count()).unwrap_or(0);
    assert_eq!(count, 0, "nothing should have printed");
    let shot = image::open(data.path().join("script/shots/countdown.png")).expect("countdown shot");
    assert_eq!(shot.width(), 1080);
}

#[test]
fn a_bad_script_fails_with_the_line_number() {
    let data = tempfile::tempdir().expect("temp dir");
    let bad = data.path().join("bad.script");
    std::fs::write(&bad, "tap start\nwait nowhere\n").expect("write");
    let output = Command::new(BIN)
        .args(["demo", "--headless", "--script"])
        .arg(&bad)
        .arg("--data")
        .arg(data.path())
        .output()
        .expect("estation runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 2"), "{stderr}");
}

/// On a machine with no display at all (no X, no Wayland, no DRM device), the
/// demo says once what is missing and what to do, not Slint's list of every
/// framebuffer it tried.
#[test]
fn without_any_display_the_demo_says_what_to_do_once() {
    let has_drm = std::fs::read_dir("/dev/dri").is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("card"))
    });
    if has_drm {
        eprintln!("SKIPPED: this machine has a DRM device, so the console backend may start");
        return;
    }
    let data = tempfile::tempdir().expect("temp dir");
    let output = Command::new(BIN)
        .args(["demo", "--no-card-reader", "--data"])
        .arg(data.path())
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("WAYLAND_SOCKET")
        .env_remove("SLINT_BACKEND")
        .env("ESTATION_LOG", "warn")
        .output()
        .expect("estation runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.matches("no display here").count(), 1, "{stderr}");
    assert!(stderr.contains("--headless --script"), "{stderr}");
    assert!(!stderr.contains("/dev/fb"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}
