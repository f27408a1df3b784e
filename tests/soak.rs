//! The soak in short: over a hundred seeded visits through every resident
//! flow, every locale, normal and elderly mode, walk-aways, and every kind of
//! fault (pcscd restarted under the kiosk, whose card is a virtual card in
//! pcscd's vpcd reader), with the kiosk killed and restarted; the ledgers must
//! agree. The long
//! run is a documented command (docs/reliability.md).

use std::process::Command;

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_estation");

fn soak(args: &[&str]) -> (std::process::ExitStatus, Value, String) {
    let output = Command::new(BIN)
        .arg("soak")
        .args(args)
        .arg("--json")
        .env("ESTATION_LOG", "warn")
        .output()
        .expect("estation runs");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!("the report is not JSON ({e})\nstdout:\n{stdout}\nstderr:\n{stderr}")
    });
    (output.status, report, stderr)
}

fn count(report: &Value, path: &[&str]) -> u64 {
    let mut value = report;
    for key in path {
        value = &value[key];
    }
    value
        .as_u64()
        .unwrap_or_else(|| panic!("{path:?} is not a count in the report"))
}

#[test]
fn a_short_soak_loses_nothing_repeats_nothing_and_grows_nothing() {
    let (status, report, stderr) = soak(&[
        "--visits",
        "200",
        "--seed",
        "14",
        "--fault-every",
        "8",
        "--paper-width",
        "384",
        "--kill-cycles",
        "3",
        "--warmup",
        "40",
    ]);
    let mismatches = report["mismatches"].as_array().expect("mismatches");
    assert!(
        mismatches.is_empty() && status.success(),
        "the ledgers disagree ({status}): {mismatches:#?}\nstderr tail:\n{}",
        stderr.lines().rev().take(20).collect::<Vec<_>>().join("\n")
    );
    assert_eq!(count(&report, &["visits"]), 200);

    // The card goes through pcscd wherever it is installed (CI installs it),
    // and then pcscd is restarted under the kiosk too.
    let through_pcscd = report["card_reader"] == "pcscd-vpcd";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        assert!(
            through_pcscd,
            "CI=true but the soak read its own card: {}",
            report["skipped"]
        );
    }
    if through_pcscd {
        assert!(
            count(&report, &["faults", "pcscd-restart"]) >= 1,
            "no pcscd restart in {}",
            report["faults"]
        );
    } else {
        assert_eq!(report["card_reader"], "own", "{}", report["card_reader"]);
        eprintln!(
            "!!!!!!!! the soak read its own card, not one through pcscd: {} !!!!!!!!",
            report["skipped"]
        );
    }

    // Every kind of fault struck at least once, the kiosk's death included.
    for kind in [
        "network-cut",
        "central-500",
        "central-slow",
        "central-restart",
        "paper-out-mid-job",
        "cover-open",
        "card-pulled",
        "kiosk-killed",
    ] {
        assert!(
            count(&report, &["faults", kind]) >= 1,
            "no {kind} fault in {}",
            report["faults"]
        );
    }
    // Every flow, every locale, elderly mode and walk-aways came up.
    for flow in [
        "certificate-with-period",
        "household-proof",
        "origin-form",
        "progress-by-number",
        "progress-by-card",
        "address-change",
    ] {
        assert!(count(&report, &["flows", flow]) >= 1, "no {flow} visit");
    }
    for locale in ["zh-CN", "zh-TW", "en-US"] {
        assert!(
            count(&report, &["locales", locale]) >= 1,
            "no {locale} visit"
        );
    }
    assert!(count(&report, &["elderly"]) >= 1);
    assert!(count(&report, &["voice"]) >= 1);
    assert!(count(&report, &["walk_aways"]) >= 1);

    // The three ledgers, as the report states them.
    let receipts = count(&report, &["told", "receipts_accepted"])
        + count(&report, &["told", "receipts_queued"]);
    assert!(count(&report, &["told", "receipts_queued"]) >= 2);
    assert_eq!(count(&report, &["central", "submissions"]), receipts);
    assert_eq!(
        count(&report, &["central", "ratings"]),
        count(&report, &["told", "ratings"])
    );
    assert_eq!(
        count(&report, &["printer", "cuts"]),
        count(&report, &["told", "jobs_printed"])
    );
    assert_eq!(
        count(&report, &["journal", "failed"]),
        count(&report, &["told", "print_failures"])
    );
    // Heartbeats follow kiosk time (one every five minutes of it, coalesced
    // while one still waits), and each queued one reached the service once.
    assert!(count(&report, &["told", "heartbeats"]) >= 100);
    assert!(count(&report, &["heartbeats_coalesced"]) >= 1);
    assert_eq!(
        count(&report, &["central", "heartbeats"]),
        count(&report, &["told", "heartbeats"])
    );
    assert!(count(&report, &["told", "print_failures"]) >= 2);
    assert!(count(&report, &["told", "certificates_printed"]) >= 1);
    let kill = &report["kill_restart"];
    assert_eq!(
        count(kill, &["central_submissions"]),
        count(kill, &["acknowledged_submissions"])
    );
    assert_eq!(
        count(kill, &["central_ratings"]),
        count(kill, &["acknowledged_ratings"])
    );

    // The samples are there and the kiosk keeps no log files.
    for key in ["rss_kb", "fds", "threads"] {
        assert!(count(&report, &[key]) > 0, "no {key} sample");
    }
    for file in ["outbox", "outbox_wal", "journal", "journal_wal", "central"] {
        count(&report, &["file_bytes", file]);
    }
    assert_eq!(count(&report, &["file_bytes", "log_files"]), 0);
    assert!(report["samples"].as_array().is_some_and(|s| s.len() >= 3));
}

#[test]
fn a_lost_submission_fails_the_soak() {
    let (status, report, _) = soak(&[
        "--visits",
        "12",
        "--seed",
        "2",
        "--fault-every",
        "100",
        "--paper-width",
        "384",
        "--kill-cycles",
        "0",
        "--warmup",
        "6",
        "--lose-a-submission",
    ]);
    assert!(!status.success(), "a lost submission went unnoticed");
    let mismatches = report["mismatches"].to_string();
    assert!(
        mismatches.contains("rows in the central service, 1 expected"),
        "{mismatches}"
    );
}
