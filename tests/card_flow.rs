//! Resident flows with a card read through real pcscd: the vpcd virtual reader and
//! a virtual social security card (in this process) that asks for its PIN; one of
//! them driven by keys alone with voice guidance on. All run the headless demo
//! through `run_card_script`.

use std::path::Path;
use std::process::Command;

#[path = "support/receipt.rs"]
mod receipt;

use estation::kiosk::backend::{SubmissionOutcome, reference_from_key};
use estation_central::seed::DEMO_RESIDENTS;
use estation_drivers::card::virtual_card::harness::acquire_or_skip;
use estation_drivers::card::virtual_card::{InsertedCard, SocialSecurityFixture, VirtualCardSpec};
use estation_drivers::print;
use receipt::expected_receipt;

const BIN: &str = env!("CARGO_BIN_EXE_estation");

#[test]
fn household_proof_with_a_pin_protected_card_through_pcscd() {
    let Some(_pcscd) = acquire_or_skip("household_proof_with_a_pin_protected_card_through_pcscd")
    else {
        return;
    };
    let resident = &DEMO_RESIDENTS[0];
    let fixture = SocialSecurityFixture {
        card_number: resident.card_number.into(),
        id_number: resident.id_number.into(),
        name: resident.name.into(),
        gender_code: b'1',
        birth_date_bcd: Some([0x19, 0x85, 0x03, 0x12]),
        pin: Some("123456".into()),
        pin_tries: 3,
        first_generation: false,
    };
    let card = InsertedCard::insert(VirtualCardSpec::social_security(fixture)).expect("card in");

    let data = tempfile::tempdir().expect("temp dir");
    let (stdout, stderr) = run_card_script("card-pin.script", data.path());

    // A right PIN resets the try counter on real cards, which the virtual card models.
    assert!(card.apdu_count() > 5, "the kiosk talked to the card");
    assert_eq!(card.pin_tries(), 3, "the right PIN resets the try counter");

    let db = central_db(&stdout);
    let (id_number, card_number): (String, String) = db
        .query_row(
            "SELECT id_number, card_number FROM issued_certificates",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a certificate for the card's holder");
    assert_eq!(id_number, resident.id_number);
    assert_eq!(card_number, resident.card_number);
    for secret in [resident.id_number, resident.name] {
        assert!(!stderr.contains(secret), "the log leaks personal data");
    }
}

/// Runs a script of `tests/scripts` in the headless demo with the machine's PC/SC
/// readers; answers its stdout and stderr, having checked it succeeded.
fn run_card_script(script: &str, data: &Path) -> (String, String) {
    let work = data.join("script");
    std::fs::create_dir_all(work.join("shots")).expect("folder");
    let copy = work.join(script);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scripts")
            .join(script),
        &copy,
    )
    .expect("copy script");
    let output = Command::new(BIN)
        .args([
            "demo",
            "--headless",
            "--at",
            "2026-11-24T02:00:00+08:00",
            "--script",
        ])
        .arg(&copy)
        .arg("--data")
        .arg(data)
        .output()
        .expect("estation runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

/// The central service's database, as the demo names it on stdout.
fn central_db(stdout: &str) -> rusqlite::Connection {
    let path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("estation demo: central database "))
        .expect("database line");
    rusqlite::Connection::open(path).expect("db")
}

/// A card whose name differs from the register: the central service refuses the
/// submission (403 identity-mismatch). The resident must be told and handed the
/// truth: not "delivered", and nothing in the back office.
#[test]
fn a_refused_submission_is_shown_and_printed_as_refused() {
    let Some(_pcscd) = acquire_or_skip("a_refused_submission_is_shown_and_printed_as_refused")
    else {
        return;
    };
    let resident = &DEMO_RESIDENTS[0];
    let fixture = SocialSecurityFixture {
        card_number: resident.card_number.into(),
        id_number: resident.id_number.into(),
        name: "王小明".into(),
        gender_code: b'1',
        birth_date_bcd: Some([0x19, 0x85, 0x03, 0x12]),
        pin: None,
        pin_tries: 3,
        first_generation: false,
    };
    assert_ne!(fixture.name, resident.name);
    let _card = InsertedCard::insert(VirtualCardSpec::social_security(fixture)).expect("card in");
    let data = tempfile::tempdir().expect("temp dir");
    let (stdout, _) = run_card_script("submission-card.script", data.path());

    let db = central_db(&stdout);
    let submissions: i64 = db
        .query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(submissions, 0, "nothing reached the back office");
    let outbox = rusqlite::Connection::open(data.path().join("outbox.sqlite")).unwrap();
    let (state, key, problem): (String, String, String) = outbox
        .query_row(
            "SELECT state, idempotency_key, problem FROM outbox WHERE kind = 'submission'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("the submission's outbox row");
    assert_eq!(state, "rejected");
    assert_eq!(problem, "central-error-identity-mismatch");

    // The screen: the red "not accepted" banner, not the green "accepted" one.
    let shot = image::open(data.path().join("script/shots/receipt.png"))
        .unwrap()
        .to_rgb8();
    let count = |rgb: [u8; 3]| shot.pixels().filter(|p| p.0 == rgb).count();
    assert!(count([0xfd, 0xec, 0xea]) > 10_000, "no refusal banner");
    assert_eq!(count([0xe5, 0xf6, 0xec]), 0, "an 'accepted' banner");

    // The paper: exactly the refused receipt (reason, what to do, the kiosk's own
    // reference), pixel for pixel.
    let jobs: Vec<_> = std::fs::read_dir(data.path().join("printed"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "escpos"))
        .collect();
    assert_eq!(jobs.len(), 1);
    let printed = print::decode(&std::fs::read(&jobs[0]).unwrap(), print::WIDTH_80MM);
    let reference = reference_from_key(&key);
    let refused = expected_receipt(
        &reference,
        SubmissionOutcome::Refused {
            message_key: "central-error-identity-mismatch".into(),
        },
    );
    assert!(
        printed.pages[0] == refused,
        "the printed receipt is not the refusal"
    );
    let accepted = expected_receipt(
        &reference,
        SubmissionOutcome::Accepted {
            receipt_number: reference.clone(),
        },
    );
    assert!(printed.pages[0] != accepted);
}

const VOICE_PIN: &str = "123456";

/// The `spoken:` lines after `mark NAME`, up to the next mark.
fn spoken_after<'a>(stdout: &'a str, mark: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .skip_while(|l| *l != format!("mark {mark}"))
        .skip(1)
        .take_while(|l| !l.starts_with("mark "))
        .filter_map(|l| l.strip_prefix("spoken: "))
        .collect()
}

/// A resident who cannot see the screen gets a certificate alone: voice guidance
/// on with a key, the whole flow driven by keys (arrows, Enter, the number keys
/// for the card's PIN), and what voice guidance said checked step by step: each
/// screen, each focused element, "星号" for each PIN digit and never the digit,
/// the certificate's summary with its code spelled out, silence after the visit.
#[test]
fn a_certificate_with_keys_alone_and_every_step_spoken() {
    let Some(_pcscd) = acquire_or_skip("a_certificate_with_keys_alone_and_every_step_spoken")
    else {
        return;
    };
    let resident = &DEMO_RESIDENTS[0];
    let fixture = SocialSecurityFixture {
        card_number: resident.card_number.into(),
        id_number: resident.id_number.into(),
        name: resident.name.into(),
        gender_code: b'1',
        birth_date_bcd: Some([0x19, 0x85, 0x03, 0x12]),
        pin: Some(VOICE_PIN.into()),
        pin_tries: 3,
        first_generation: false,
    };
    let _card = InsertedCard::insert(VirtualCardSpec::social_security(fixture)).expect("card in");

    let data = tempfile::tempdir().expect("temp dir");
    let (stdout, stderr) = run_card_script("voice-keys.script", data.path());

    // F2 on the attract screen: voice on, and the language screen says itself.
    let language = spoken_after(&stdout, "language");
    assert_eq!(language.len(), 1, "{language:?}");
    assert!(language[0].contains("请选择语言"), "{}", language[0]);

    // The service list, then the first service as the focus reaches it.
    let services = spoken_after(&stdout, "services");
    assert!(
        services.iter().any(|s| s.contains("社保缴费证明")),
        "{services:?}"
    );

    // The PIN screen, then one "星号" per digit typed, never a digit.
    let pin = spoken_after(&stdout, "pin");
    assert!(pin.iter().any(|s| s.contains("密码")), "{pin:?}");
    let typed = spoken_after(&stdout, "pin-typed");
    assert_eq!(typed, vec!["星号"; 6], "{typed:?}");

    // The preview: what it is, for whom, and the verification code spelled out.
    let db = central_db(&stdout);
    let code: String = db
        .query_row(
            "SELECT verification_code FROM issued_certificates",
            [],
            |r| r.get(0),
        )
        .expect("one certificate");
    let preview = spoken_after(&stdout, "preview");
    let summary = preview
        .iter()
        .find(|s| s.contains("验证码"))
        .unwrap_or_else(|| panic!("no summary in {preview:?}"));
    assert!(summary.contains(resident.name), "{summary}");
    let first_group: String = code
        .split('-')
        .next()
        .expect("a group")
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        summary.contains(&first_group),
        "{summary} lacks {first_group}"
    );
    assert_eq!(spoken_after(&stdout, "print-focused").last(), Some(&"打印"));

    // The goodbye reminds of the card; after the visit voice is off again.
    let goodbye = spoken_after(&stdout, "goodbye");
    assert!(
        goodbye.iter().any(|s| s.contains("社会保障卡")),
        "{goodbye:?}"
    );
    assert!(spoken_after(&stdout, "after-visit").is_empty());

    // Nothing spoken holds the PIN.
    for line in stdout.lines().filter(|l| l.starts_with("spoken: ")) {
        assert!(
            !line.contains(VOICE_PIN) && !line.contains("12345"),
            "{line}"
        );
    }
    // No log line carries the spoken words (they can name the resident).
    assert!(!stderr.contains(resident.name), "{stderr}");

    // The focus ring is drawn: its yellow and black on the service card.
    let focus = image::open(data.path().join("script/shots/focus.png"))
        .expect("screenshot")
        .to_rgb8();
    let ring = focus.pixels().filter(|p| p.0 == [0xff, 0xcc, 0x00]).count();
    assert!(ring > 5_000, "focus ring pixels: {ring}");
}
