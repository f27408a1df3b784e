//! The headless demo as the flow tests run it: a script from `tests/scripts/`, a
//! data folder of the test's own, and the tests' pinned time.

use std::path::{Path, PathBuf};
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
