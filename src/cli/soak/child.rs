//! The kiosk killed and restarted: `estation demo --headless` runs generated
//! scripts as a child process on one data folder; it is killed (SIGKILL) at a
//! seeded point of a visit, after or before the resident was told anything, and
//! started again. What was acknowledged must reach the central service exactly
//! once; what was not must not appear.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context;
use serde::Serialize;

#[derive(Debug, Default, Serialize)]
pub struct KillReport {
    pub kills: u32,
    /// Receipts and ratings the killed kiosks had acknowledged.
    pub acknowledged_submissions: u64,
    pub acknowledged_ratings: u64,
    pub central_submissions: u64,
    pub central_ratings: u64,
    pub mismatches: Vec<String>,
}

/// Where in a visit the kiosk dies.
#[derive(Clone, Copy, Debug)]
enum KillPoint {
    /// Network down: the receipt said "stored, not yet sent"; the rating was given.
    AfterQueuedReceipt,
    /// Network up: the receipt said "accepted"; the rating was given.
    AfterAcceptedReceipt,
    /// In the middle of the address form: nothing was acknowledged.
    MidForm,
}

const FORM: &str = "tap start
tap language zh-CN
wait services
tap service address-change
card insert
wait submission-form 60
tap edit district
tap district 0
tap edit house
tap key 9
tap key 0
tap key-submit
tap edit room
tap key 5
tap key 0
tap key 1
tap key-submit
tap edit phone
tap key 1
tap key 3
tap key 8
tap key 0
tap key 0
tap key 1
tap key 3
tap key 8
tap key 0
tap key 0
tap key 0
tap key-submit
expect submission-form
";

fn script(point: KillPoint) -> String {
    let mut text = FORM.to_owned();
    match point {
        KillPoint::MidForm => {}
        KillPoint::AfterQueuedReceipt | KillPoint::AfterAcceptedReceipt => {
            text.push_str("tap review\nexpect submission-confirm\n");
            if matches!(point, KillPoint::AfterQueuedReceipt) {
                text.push_str("network down\n");
            }
            text.push_str(
                "tap submit\nwait submission-receipt 60\ntap print\nwait take-paper 60\ntap paper-taken\ntap rate good\nexpect goodbye\nsettle\n",
            );
        }
    }
    text.push_str("mark acknowledged\nhold 600\n");
    text
}

/// Runs `cycles` kill-and-restart cycles in `folder` with the `estation` binary.
pub fn kill_and_restart(
    binary: &Path,
    folder: &Path,
    cycles: u32,
    seed: u64,
) -> anyhow::Result<KillReport> {
    std::fs::create_dir_all(folder)?;
    let data = folder.join("data");
    let mut report = KillReport::default();
    let mut central_db: Option<PathBuf> = None;
    for cycle in 0..cycles {
        let point = match (u64::from(cycle) + seed) % 3 {
            0 => KillPoint::AfterQueuedReceipt,
            1 => KillPoint::AfterAcceptedReceipt,
            _ => KillPoint::MidForm,
        };
        let path = folder.join(format!("visit-{cycle}.script"));
        std::fs::write(&path, script(point))?;
        let mut child = demo(binary, &path, &data)
            .stdout(Stdio::piped())
            .spawn()
            .context("starting the kiosk")?;
        let stdout = child.stdout.take().context("the kiosk's stdout")?;
        let (lines, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        // The guard only bounds a hung child; the mark drives the kill.
        let mut marked = false;
        while let Ok(line) = seen.recv_timeout(Duration::from_secs(120)) {
            if let Some(db) = line.strip_prefix("estation demo: central database ") {
                central_db = Some(PathBuf::from(db));
            }
            if line == "mark acknowledged" {
                marked = true;
                break;
            }
        }
        child.kill().context("killing the kiosk")?;
        let _ = child.wait();
        if !marked {
            report.mismatches.push(format!(
                "kill cycle {cycle}: the kiosk never reached {point:?}"
            ));
            continue;
        }
        report.kills += 1;
        if !matches!(point, KillPoint::MidForm) {
            report.acknowledged_submissions += 1;
            report.acknowledged_ratings += 1;
        }
        // Restarted on the same folder: the outbox delivers what it holds.
        let path = folder.join(format!("restart-{cycle}.script"));
        std::fs::write(&path, "drain-outbox 60\nmark delivered\n")?;
        let output = demo(binary, &path, &data)
            .stdout(Stdio::piped())
            .output()
            .context("restarting the kiosk")?;
        if !output.status.success() {
            report.mismatches.push(format!(
                "kill cycle {cycle}: the restarted kiosk failed ({})",
                output.status
            ));
        }
    }
    let Some(db) = central_db else {
        anyhow::bail!("the kiosk never named its central database");
    };
    let db =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let count = |sql: &str| -> anyhow::Result<(u64, u64)> {
        Ok(db.query_row(sql, [], |row| Ok((row.get(0)?, row.get(1)?)))?)
    };
    let (submissions, distinct) =
        count("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM submissions")?;
    let (ratings, distinct_ratings) =
        count("SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM ratings")?;
    report.central_submissions = submissions;
    report.central_ratings = ratings;
    if submissions != report.acknowledged_submissions || distinct != submissions {
        report.mismatches.push(format!(
            "killed kiosks acknowledged {} submissions, the central service holds {submissions} ({distinct} distinct)",
            report.acknowledged_submissions
        ));
    }
    if ratings != report.acknowledged_ratings || distinct_ratings != ratings {
        report.mismatches.push(format!(
            "killed kiosks acknowledged {} ratings, the central service holds {ratings} ({distinct_ratings} distinct)",
            report.acknowledged_ratings
        ));
    }
    Ok(report)
}

fn demo(binary: &Path, script: &Path, data: &Path) -> Command {
    let mut command = Command::new(binary);
    command
        .args(["demo", "--headless", "--no-card-reader", "--script"])
        .arg(script)
        .arg("--data")
        .arg(data)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}
