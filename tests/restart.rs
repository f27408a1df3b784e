//! A kiosk killed (SIGKILL) in the middle of a visit, then started again on the
//! same data, as systemd's `Restart=always` does: it comes back on the attract
//! screen, nothing of the resident is left on its disk in clear text, a print
//! job cut off half way is marked interrupted and never printed again, and what
//! waited in the outbox is delivered once.
//!
//! The kiosk is `estation demo --headless` with a script that says where it is
//! (`mark`) and then stays there (`hold`) until the test kills it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use estation_central::seed::DEMO_RESIDENTS;
use estation_drivers::print::emulator::{Emulator, EmulatorEvent};

/// Guard against a hung test only; never a timing assertion.
const HANG_GUARD: Duration = Duration::from_secs(90);

/// A running kiosk and the lines of its stdout.
struct Kiosk {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Kiosk {
    fn start(data: &Path, script: &str, printer: Option<&str>) -> Kiosk {
        std::fs::create_dir_all(data).unwrap();
        let path = data.join(format!(
            "visit-{}.script",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::write(&path, script).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_estation"));
        command
            .args(["demo", "--headless", "--no-card-reader", "--script"])
            .arg(&path)
            .arg("--data")
            .arg(data)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some(uri) = printer {
            command.args(["--printer", uri]);
        }
        let mut child = command.spawn().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if sender.send(line).is_err() {
                    break;
                }
            }
        });
        Kiosk { child, lines }
    }

    /// Waits for the script's `mark WORD`.
    fn reached(&self, word: &str) {
        let wanted = format!("mark {word}");
        loop {
            match self.lines.recv_timeout(HANG_GUARD) {
                Ok(line) if line == wanted => return,
                Ok(_) => {}
                Err(e) => panic!("the kiosk never reached {word:?}: {e}"),
            }
        }
    }

    /// SIGKILL: no destructor, no flush, no goodbye.
    fn kill(mut self) {
        self.child.kill().unwrap();
        let status = self.child.wait().unwrap();
        assert!(!status.success(), "the kiosk was killed, not finished");
    }

    /// Waits for a script that ends by itself; its stdout as one text.
    fn finish(mut self) -> String {
        let status = self.child.wait().unwrap();
        let stdout: Vec<String> = self.lines.try_iter().collect();
        assert!(status.success(), "the restarted kiosk failed: {stdout:?}");
        stdout.join("\n")
    }
}

/// The script of a restarted kiosk: its first screen must be attract.
const AFTER_RESTART: &str = "expect attract\nscreenshot after-restart.png\nmark restarted\n";

const TO_CERTIFICATE_PREVIEW: &str = "\
expect attract
tap start
tap language zh-CN
wait services
tap service si-payment-certificate
expect choose-period
tap period last-12-months
expect insert-card
card insert
wait certificate-preview 60
";

/// Every file of the kiosk's own state (not the embedded central service's
/// database, which holds residents by design, and not the file printer's
/// output, which is the paper) that contains `needle`.
fn kiosk_files_containing(data: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut folders = vec![data.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !matches!(
                    path.file_name().and_then(|n| n.to_str()),
                    Some("central" | "printed")
                ) {
                    folders.push(path);
                }
            } else if std::fs::read(&path)
                .unwrap()
                .windows(needle.len())
                .any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    found
}

fn assert_no_personal_data(data: &Path) {
    let resident = &DEMO_RESIDENTS[0];
    for needle in [resident.name, resident.id_number, resident.card_number] {
        let files = kiosk_files_containing(data, needle.as_bytes());
        assert!(files.is_empty(), "personal data in clear text in {files:?}");
    }
}

fn journal_states(data: &Path) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(data.join("print-journal.sqlite")).unwrap();
    let mut statement = db
        .prepare("SELECT kind, state FROM print_jobs ORDER BY rowid")
        .unwrap();
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn killed_with_a_resident_on_screen_comes_back_on_attract_with_nothing_of_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let printer = Emulator::start(576).unwrap();
    let kiosk = Kiosk::start(
        &data,
        &format!("{TO_CERTIFICATE_PREVIEW}mark identified\nhold 300\n"),
        Some(&printer.uri()),
    );
    kiosk.reached("identified");
    kiosk.kill();
    assert_no_personal_data(&data);
    // The search finds a resident where one is stored by design.
    let name = DEMO_RESIDENTS[0].name.as_bytes();
    assert!(!kiosk_files_containing(&data.join("central"), name).is_empty());

    let again = Kiosk::start(&data, AFTER_RESTART, Some(&printer.uri()));
    let stdout = again.finish();
    assert!(stdout.contains("mark restarted"), "{stdout}");
    assert!(data.join("after-restart.png").exists());
    assert_no_personal_data(&data);
    assert_eq!(printer.bands_received(), 0, "nothing was printed");
}

#[test]
fn a_job_cut_off_by_the_kill_is_marked_interrupted_and_not_printed_again() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let printer = Emulator::start(576).unwrap();
    // The printer takes a few bands and then hangs, so the kill lands mid-job.
    printer.script(|s| s.silent_after_bands = Some(4));
    let kiosk = Kiosk::start(
        &data,
        &format!("{TO_CERTIFICATE_PREVIEW}tap print\nhold 300\n"),
        Some(&printer.uri()),
    );
    assert!(
        printer.wait_for(
            HANG_GUARD,
            |e| matches!(e, EmulatorEvent::Band(n) if *n >= 4)
        ),
        "the job never started"
    );
    kiosk.kill();
    assert_eq!(
        journal_states(&data),
        [("certificate".to_owned(), "printing".to_owned())]
    );
    let bands_before = printer.bands_received();
    printer.script(|s| s.silent_after_bands = None);

    let again = Kiosk::start(&data, AFTER_RESTART, Some(&printer.uri()));
    again.finish();
    // The restarted kiosk noticed the cut-off job and leaves it to a person.
    assert_eq!(
        journal_states(&data),
        [("certificate".to_owned(), "interrupted".to_owned())]
    );
    assert_eq!(printer.bands_received(), bands_before, "printed twice");
    assert_no_personal_data(&data);
}

#[test]
fn a_submission_queued_before_the_kill_is_delivered_once_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("kiosk");
    let visit = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/submission-offline.script"),
    )
    .unwrap();
    // The offline submission up to its receipt screen, then the kill.
    let until_receipt: String = visit
        .lines()
        .take_while(|line| !line.starts_with("screenshot"))
        .map(|line| format!("{line}\n"))
        .collect();
    assert!(until_receipt.contains("wait submission-receipt"));
    let kiosk = Kiosk::start(
        &data,
        &format!("{until_receipt}mark queued\nhold 300\n"),
        None,
    );
    kiosk.reached("queued");
    kiosk.kill();
    assert_no_personal_data(&data);
    let central = estation_central::server::embedded_db_path(&data.join("central"));
    let submissions = || -> i64 {
        rusqlite::Connection::open(&central)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(submissions(), 0, "the network was down");

    let again = Kiosk::start(&data, &format!("{AFTER_RESTART}drain-outbox 60\n"), None);
    again.finish();
    assert_eq!(submissions(), 1);
    assert_no_personal_data(&data);
}
