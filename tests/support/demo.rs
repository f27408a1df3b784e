//! The headless demo as the flow tests run it: a script from `tests/scripts/`, a
//! data folder of the test's own, and the tests' pinned time.

use std::path::{Path, PathBuf};

use estation_central::seed::DemoResident;
use estation_drivers::card::virtual_card::SocialSecurityFixture;
use std::process::{Command, Output};

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

/// Runs `tests/scripts/SCRIPT` in the headless demo with `DATA` as its data
/// folder and `extra` arguments, and fails the test, with both outputs and
/// pcscd's state, unless the script ran to its end.
pub fn run_script_in(script: &str, data: &Path, extra: &[&str]) -> Output {
    let copy = copy_script(script, data);
    let output = demo_command(&copy, data)
        .args(extra)
        .output()
        .expect("estation runs");
    assert!(
        output.status.success(),
        "{script} failed\nstdout:\n{}\nstderr:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
        estation_drivers::card::virtual_card::harness::diagnosis()
    );
    output
}

/// A script's run in a data folder of its own, kept for the test to inspect.
pub struct ScriptRun {
    pub data: tempfile::TempDir,
    pub output: Output,
}

impl ScriptRun {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
}

/// [`run_script_in`] a fresh temporary data folder.
pub fn run_script(script: &str, extra: &[&str]) -> ScriptRun {
    let data = tempfile::tempdir().expect("temp dir");
    let output = run_script_in(script, data.path(), extra);
    ScriptRun { data, output }
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
