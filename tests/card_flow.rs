//! A resident flow with a card read through real pcscd: the vpcd virtual reader and
//! a virtual social security card (in this process) that asks for its PIN.

use std::path::Path;

use crate::support::demo::{resident_card, run_script, run_script_in};
use crate::support::receipt;

use estation::kiosk::backend::{SubmissionOutcome, reference_from_key};
use estation_central::seed::DEMO_RESIDENTS;
use estation_drivers::card::virtual_card::harness::acquire_or_skip;
use estation_drivers::card::virtual_card::{InsertedCard, SocialSecurityFixture, VirtualCardSpec};
use estation_drivers::print;
use receipt::expected_receipt;

#[test]
fn household_proof_with_a_pin_protected_card_through_pcscd() {
    let Some(_pcscd) = acquire_or_skip("household_proof_with_a_pin_protected_card_through_pcscd")
    else {
        return;
    };
    let resident = &DEMO_RESIDENTS[0];
    let fixture = resident_card(resident, Some("123456"));
    let card = InsertedCard::insert(VirtualCardSpec::social_security(fixture)).expect("card in");

    let run = run_script("card-pin.script", &[]);
    let (stdout, stderr) = (run.stdout(), run.stderr());

    // A right PIN resets the try counter on real cards, which the virtual card models.
    assert!(card.apdu_count() > 5, "the kiosk talked to the card");
    assert_eq!(card.pin_tries(), 3, "the right PIN resets the try counter");

    let db_path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("estation demo: central database "))
        .expect("database line");
    let db = rusqlite::Connection::open(db_path).expect("db");
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

fn run_card_script(script: &str, data: &Path) -> String {
    String::from_utf8_lossy(&run_script_in(script, data, &[]).stdout).into_owned()
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
        name: "王小明".into(),
        ..resident_card(resident, None)
    };
    assert_ne!(fixture.name, resident.name);
    let _card = InsertedCard::insert(VirtualCardSpec::social_security(fixture)).expect("card in");
    let data = tempfile::tempdir().expect("temp dir");
    let stdout = run_card_script("submission-card.script", data.path());

    let db_path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("estation demo: central database "))
        .expect("database line");
    let db = rusqlite::Connection::open(db_path).expect("db");
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
