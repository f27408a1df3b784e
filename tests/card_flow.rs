//! A resident flow with a card read through real pcscd: the vpcd virtual reader and
//! a virtual social security card (in this process) that asks for its PIN.

use std::path::Path;
use std::process::Command;

use estation_central::seed::DEMO_RESIDENTS;
use estation_drivers::card::virtual_card::harness::acquire_or_skip;
use estation_drivers::card::virtual_card::{InsertedCard, SocialSecurityFixture, VirtualCardSpec};

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
    let work = data.path().join("script");
    std::fs::create_dir_all(&work).expect("folder");
    let script = work.join("card-pin.script");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scripts/card-pin.script"),
        &script,
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
        .arg(&script)
        .arg("--data")
        .arg(data.path())
        .output()
        .expect("estation runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );

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
