//! The headless demo as the flow tests run it: a script from `tests/scripts/`, a
//! data folder of the test's own, and the tests' pinned time.

use std::path::{Path, PathBuf};

use estation_central::seed::DemoResident;
use estation_drivers::card::virtual_card::SocialSecurityFixture;
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_estation");

/// 02:00 in Hangzhou: the kiosk is alone and every 24-hour service is open.
pub const AT: &str = "2026-11-24T02:00:00+08:00";

/// `estation demo --headless --at AT --script SCRIPT --data DATA`; the caller
/// adds what its flow needs (`--no-card-reader`, a scanner) and runs it.
pub fn demo_command(script: &Path, data: &Path) -> Command {
    let mut command = Command::new(BIN);
    command
        .args(["demo", "--headless", "--at", AT, "--script"])
        .arg(script)
        .arg("--data")
        .arg(data);
    command
}

/// Copies `tests/scripts/NAME` into `DATA/script/`, beside a `shots/` folder for
/// the screenshots it takes, and answers the copy's path.
pub fn copy_script(name: &str, data: &Path) -> PathBuf {
    let work = data.join("script");
    std::fs::create_dir_all(work.join("shots")).expect("script folder");
    let copy = work.join(name);
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/scripts")
            .join(name),
        &copy,
    )
    .expect("copy script");
    copy
}

/// A social security card of `resident` as the demo's central service knows
/// them, born 1985-03-12, with `pin` and three tries left.
pub fn resident_card(resident: &DemoResident, pin: Option<&str>) -> SocialSecurityFixture {
    SocialSecurityFixture {
        card_number: resident.card_number.into(),
        id_number: resident.id_number.into(),
        name: resident.name.into(),
        gender_code: b'1',
        birth_date_bcd: Some([0x19, 0x85, 0x03, 0x12]),
        pin: pin.map(str::to_owned),
        pin_tries: 3,
        first_generation: false,
    }
}
