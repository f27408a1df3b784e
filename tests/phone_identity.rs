//! Identity without a card, end to end: the kiosk in demo mode with a serial code
//! scanner (a pseudo-terminal; the test is the scanner), the embedded central
//! service issuing a resident's code on its phone page, the resident's visit to a
//! printed certificate, and the codes the service refuses.

#![cfg(unix)]

use crate::support::demo::{copy_script, demo_command};
use crate::support::pty;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Stdio};

use estation_central::seed::DEMO_RESIDENTS;
use estation_drivers::print::{WIDTH_80MM, decode};

/// The demo kiosk running a script, its stdout read line by line.
struct Kiosk {
    child: Child,
    lines: std::io::Lines<BufReader<ChildStdout>>,
    central: String,
    transcript: Vec<String>,
}

impl Kiosk {
    fn start(script: &str, data: &Path, scanner: &Path) -> Kiosk {
        let copy = copy_script(script, data);
        let mut child = demo_command(&copy, data)
            .arg("--no-card-reader")
            .arg("--scanner")
            .arg(format!("serial:{}", scanner.display()))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("estation runs");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut kiosk = Kiosk {
            child,
            lines,
            central: String::new(),
            transcript: Vec::new(),
        };
        let page = kiosk.line_starting("estation demo: phone identity codes at ");
        kiosk.central = page.trim_end_matches("/m/id").to_owned();
        kiosk
    }

    /// Reads stdout up to the line that starts with `prefix`; answers its rest.
    fn line_starting(&mut self, prefix: &str) -> String {
        for line in self.lines.by_ref() {
            let line = line.expect("stdout");
            self.transcript.push(line.clone());
            if let Some(rest) = line.strip_prefix(prefix) {
                return rest.to_owned();
            }
        }
        panic!("the kiosk ended before {prefix:?}:\n{}", self.finish().1);
    }

    fn wait_mark(&mut self, word: &str) {
        self.line_starting(&format!("mark {word}"));
    }

    /// Waits for the end; answers whether it succeeded and what it printed.
    fn finish(&mut self) -> (bool, String) {
        for line in self.lines.by_ref().map_while(Result::ok) {
            self.transcript.push(line);
        }
        let status = self.child.wait().expect("wait");
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = pipe.read_to_string(&mut stderr);
        }
        (
            status.success(),
            format!("stdout:\n{}\nstderr:\n{stderr}", self.transcript.join("\n")),
        )
    }

    fn db(&self) -> rusqlite::Connection {
        let path = self
            .transcript
            .iter()
            .find_map(|l| l.strip_prefix("estation demo: central database "))
            .expect("database line");
        rusqlite::Connection::open(path).expect("central db")
    }
}

/// A code as the resident's phone shows it, from the central service's phone
/// page (a form post, as the phone's browser makes it).
fn code_from_phone_page(central: &str, resident: usize) -> String {
    let r = &DEMO_RESIDENTS[resident];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let html = runtime.block_on(async {
        let answer = reqwest::Client::new()
            .post(format!("{central}/m/id"))
            .form(&[("card_number", r.card_number), ("id_number", r.id_number)])
            .send()
            .await
            .expect("phone page");
        assert!(answer.status().is_success(), "{}", answer.status());
        answer.text().await.expect("page")
    });
    let start = html
        .find("id=\"identity-code\">")
        .expect("code on the page")
        + 19;
    let end = start + html[start..].find("</code>").expect("end of code");
    html[start..end].to_owned()
}

#[test]
fn a_resident_without_a_card_gets_a_certificate_with_the_code_on_the_phone() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut scanner = pty::Pty::open();
    let mut kiosk = Kiosk::start("phone-code.script", data.path(), &scanner.path);
    let resident = &DEMO_RESIDENTS[1];
    let code = code_from_phone_page(&kiosk.central, 1);

    // On the service list nobody asked for identity: the code goes nowhere and
    // is not spent.
    kiosk.wait_mark("stray-scan");
    scanner.scan(&code);
    kiosk.wait_mark("insert-card");
    scanner.scan(&code);
    let (ok, output) = kiosk.finish();
    assert!(ok, "{output}");

    let db = kiosk.db();
    let uses: i64 = db
        .query_row("SELECT COUNT(*) FROM identity_code_uses", [], |r| r.get(0))
        .expect("uses");
    assert_eq!(
        uses, 1,
        "the stray scan spent nothing; the wanted one, once"
    );
    let (id_number, card_number): (String, String) = db
        .query_row(
            "SELECT id_number, card_number FROM issued_certificates",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("exactly one certificate, for the code's resident");
    assert_eq!(id_number, resident.id_number);
    assert_eq!(card_number, resident.card_number);

    // The paper came out: one job whose bytes decode to a cut page.
    let printed = data.path().join("printed");
    let jobs: Vec<PathBuf> = std::fs::read_dir(&printed)
        .expect("printed folder")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "escpos"))
        .collect();
    assert_eq!(jobs.len(), 1, "{output}");
    let decoded = decode(&std::fs::read(&jobs[0]).expect("job"), WIDTH_80MM);
    assert!(!decoded.truncated && decoded.cuts >= 1);

    // The identity screen offered the phone code (its picture is on screen), and
    // the goodbye reminds of the phone, not of a card.
    let identify = image::open(data.path().join("script/shots/identify.png"))
        .expect("identify screenshot")
        .to_rgb8();
    let scanner_green = identify
        .pixels()
        .filter(|p| p.0 == [0x7f, 0xe0, 0xa3])
        .count();
    assert!(
        scanner_green > 2_000,
        "the picture shows the scanner window ({scanner_green} px)"
    );
    // No log line carries the code or the resident.
    for secret in [code.as_str(), resident.id_number, resident.name] {
        assert!(!output.contains(secret), "the output leaks {secret:?}");
    }
}

#[test]
fn used_and_forged_codes_are_refused_and_a_scan_types_nothing_into_the_keypad() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut scanner = pty::Pty::open();
    let mut kiosk = Kiosk::start("phone-code-refused.script", data.path(), &scanner.path);
    let code = code_from_phone_page(&kiosk.central, 0);
    kiosk.wait_mark("first-code");
    // Forged: one character of the sealed part changed.
    let mut forged: Vec<char> = code.chars().collect();
    let i = forged.len() - 6;
    forged[i] = if forged[i] == 'K' { 'L' } else { 'K' };
    scanner.scan(&forged.into_iter().collect::<String>());
    kiosk.wait_mark("second-code");
    scanner.scan("https://example.invalid/not-an-identity-code");
    kiosk.wait_mark("keypad");
    scanner.scan(&code);
    let (ok, output) = kiosk.finish();
    assert!(ok, "{output}");

    let uses: i64 = kiosk
        .db()
        .query_row("SELECT COUNT(*) FROM identity_code_uses", [], |r| r.get(0))
        .expect("uses");
    assert_eq!(uses, 0, "refused and stray codes spend nothing");
    // Each refusal was shown as its own message (the operators' log names it).
    let shown: Vec<&str> = output
        .lines()
        .filter(|l| l.contains("resident shown an error"))
        .collect();
    assert_eq!(shown.len(), 2, "{output}");
    assert!(shown[0].contains("code-error-unknown"), "{}", shown[0]);
    assert!(shown[1].contains("code-error-malformed"), "{}", shown[1]);
    // The scan in the middle of the application number typed nothing into it:
    // the number typed around it found the application (the script reached the
    // progress result, which a garbled number would not).
    for shot in ["refused-1", "refused-2", "keypad"] {
        let image =
            image::open(data.path().join(format!("script/shots/{shot}.png"))).expect("screenshot");
        assert_eq!((image.width(), image.height()), (1080, 1920));
    }
}
