//! What the self-test is given (the devices to test, thresholds) and what it
//! reports: each check's status, code, reason and action, in the stable JSON
//! documented in docs/operations.md.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use estation_central::wire::{DeviceHealth, DeviceStatus};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::central_client::CentralClient;
use crate::central_client::outbox::Outbox;
use crate::ops::bundle::BundleStore;

/// Layout of the JSON report.
pub const REPORT_SCHEMA: u32 = 1;

/// Every check id and every code it can report. The report screen shows each
/// pair in the kiosk's language (`check-<id>` names the check,
/// `check-<id>-<code>` says what was found, its `.action` what to do, in
/// i18n/*/selftest.ftl); the reason and action in the JSON stay the English
/// detail the fleet reads. A test reads the checks' source to keep this whole.
pub const CHECK_CODES: &[(&str, &[&str])] = &[
    (
        "card-reader",
        &[
            "ok",
            "pcsc-unavailable",
            "pcsc-error",
            "no-reader",
            "not-configured",
        ],
    ),
    (
        "card-read",
        &[
            "ok",
            "no-card",
            "mute-card",
            "unknown-card",
            "read-failed",
            "not-configured",
        ],
    ),
    (
        "scanner",
        &[
            "ok",
            "starting",
            "stopped",
            "not-found",
            "permission-denied",
            "busy",
            "not-a-scanner",
            "unsupported",
            "unavailable",
            "internal",
            "not-configured",
        ],
    ),
    (
        "printer",
        &[
            "ok",
            "paper-near-end",
            "paper-end",
            "cover-open",
            "cutter-error",
            "printer-error",
            "bad-uri",
            "unreachable",
            "print-failed",
            "not-configured",
        ],
    ),
    (
        "printer-test-page",
        &[
            "ok",
            "not-ready",
            "paper-end",
            "cover-open",
            "cutter-error",
            "printer-error",
            "bad-uri",
            "unreachable",
            "print-failed",
        ],
    ),
    (
        "central",
        &[
            "ok",
            "client-error",
            "tls-invalid",
            "timeout",
            "unreachable",
            "bad-status",
            "kiosk-unauthorized",
            "degraded",
            "not-configured",
        ],
    ),
    (
        "clock",
        &["ok", "not-checked", "no-date", "skew", "not-configured"],
    ),
    (
        "disk",
        &[
            "ok",
            "disk-full",
            "disk-low",
            "disk-error",
            "not-configured",
        ],
    ),
    (
        "outbox",
        &[
            "ok",
            "sender-failing",
            "backlog",
            "rejected",
            "not-configured",
        ],
    ),
    ("config", &["ok", "no-bundle", "expired", "not-configured"]),
    (
        "display",
        &["ok", "not-tested", "display-fault", "not-configured"],
    ),
    (
        "voice",
        &[
            "ok",
            "no-engine",
            "no-voice",
            "engine-failed",
            "no-audio-device",
        ],
    ),
    ("devices", &["internal"]),
];

/// Outcome of one check; ordered from best to worst.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Warn,
    Fail,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// The heartbeat's device status for this outcome.
    pub fn device_status(self) -> DeviceStatus {
        match self {
            Status::Pass => DeviceStatus::Ok,
            Status::Warn => DeviceStatus::Warning,
            Status::Fail => DeviceStatus::Error,
        }
    }
}

/// One check's result.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// "card-reader", "card-read", "printer", "printer-test-page", "central",
    /// "clock", "disk", "outbox", "config", "display".
    pub id: String,
    pub status: Status,
    /// Short stable code, e.g. "ok", "paper-end", "no-reader", "unreachable".
    pub code: String,
    /// What was found, in one sentence.
    pub reason: String,
    /// What the technician should do; `null` when nothing.
    pub action: Option<String>,
}

impl Check {
    pub fn pass(id: &str, reason: impl Into<String>) -> Check {
        Check {
            id: id.into(),
            status: Status::Pass,
            code: "ok".into(),
            reason: reason.into(),
            action: None,
        }
    }

    pub fn warn(
        id: &str,
        code: &str,
        reason: impl Into<String>,
        action: impl Into<String>,
    ) -> Check {
        Check::not_passed(id, Status::Warn, code, reason, action)
    }

    pub fn fail(
        id: &str,
        code: &str,
        reason: impl Into<String>,
        action: impl Into<String>,
    ) -> Check {
        Check::not_passed(id, Status::Fail, code, reason, action)
    }

    fn not_passed(
        id: &str,
        status: Status,
        code: &str,
        reason: impl Into<String>,
        action: impl Into<String>,
    ) -> Check {
        Check {
            id: id.into(),
            status,
            code: code.into(),
            reason: reason.into(),
            action: Some(action.into()),
        }
    }
}

/// The whole self-test.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelftestReport {
    /// Layout version of this JSON ([`REPORT_SCHEMA`]).
    pub schema: u32,
    pub kiosk_id: String,
    pub app_version: String,
    /// Configuration bundle in force, if any.
    pub config_version: Option<u64>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub finished_at: OffsetDateTime,
    /// The worst status among the checks.
    pub status: Status,
    pub checks: Vec<Check>,
}

impl SelftestReport {
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// True when any check failed (`estation selftest` then exits non-zero).
    pub fn failed(&self) -> bool {
        self.status == Status::Fail
    }

    /// The checks as heartbeat device entries, plus a `selftest` entry whose
    /// detail is when the test ran.
    pub fn device_health(&self) -> Vec<DeviceHealth> {
        let mut devices: Vec<DeviceHealth> = self
            .checks
            .iter()
            .map(|c| DeviceHealth {
                device: c.id.clone(),
                status: c.status.device_status(),
                detail: Some(c.code.clone()),
            })
            .collect();
        devices.push(DeviceHealth {
            device: "selftest".into(),
            status: self.status.device_status(),
            detail: Some(crate::ops::bundle::format::rfc3339(self.finished_at)),
        });
        devices
    }
}

/// The display test, which only the UI can run (touch grid, colour bars).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum DisplayResult {
    /// Not run (the CLI, or the technician skipped it): a warning.
    #[default]
    NotTested,
    Passed,
    /// The technician saw a fault; `what` says which (e.g. "dead touch cells").
    Failed {
        what: String,
    },
}

/// The card reader part of the self-test.
#[derive(Clone, Debug, Default)]
pub struct CardTest {
    /// Reader to test; the first one PC/SC lists when `None`.
    pub reader: Option<String>,
    /// The technician inserted a card to test reading: without one the
    /// `card-read` check fails (otherwise it only warns).
    pub expect_card: bool,
}

/// The printer part.
#[derive(Clone, Debug)]
pub struct PrinterTest {
    /// Printer URI (`tcp://…`, `usb:…`, `serial:…`, `file:…`).
    pub uri: String,
    pub width_dots: u32,
    /// Print a test page with the kiosk id, versions and time.
    pub print_test_page: bool,
}

/// The central-service part.
#[derive(Clone, Debug)]
pub struct CentralTest {
    pub base_url: String,
    /// The kiosk's client, to check that its credentials are accepted.
    pub client: Option<CentralClient>,
    pub timeout: Duration,
}

/// Limits that turn measurements into warnings and failures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    pub clock_skew_warn_secs: i64,
    pub clock_skew_fail_secs: i64,
    pub disk_warn_bytes: u64,
    pub disk_fail_bytes: u64,
    pub outbox_warn_backlog: usize,
    pub outbox_fail_backlog: usize,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            clock_skew_warn_secs: 30,
            clock_skew_fail_secs: 300,
            disk_warn_bytes: 1024 * 1024 * 1024,
            disk_fail_bytes: 200 * 1024 * 1024,
            outbox_warn_backlog: 50,
            outbox_fail_backlog: 1000,
        }
    }
}

/// The code scanner part of the self-test.
#[derive(Clone, Debug)]
pub enum ScannerTest {
    /// The running kiosk's scanner: its state is read, the device is not
    /// opened again (the kiosk holds it exclusively).
    Running(estation_drivers::scanner::ScannerHandle),
    /// Open the configured scanner for the test (the command line), waiting at
    /// most `wait` for it to come up.
    Open {
        config: estation_drivers::scanner::ScannerConfig,
        wait: Duration,
    },
}

/// What to test. A device left `None` is not part of this kiosk's setup and
/// its check is left out of the report.
#[derive(Clone, Debug, Default)]
pub struct SelftestContext {
    pub kiosk_id: String,
    pub card: Option<CardTest>,
    pub printer: Option<PrinterTest>,
    pub central: Option<CentralTest>,
    /// `None`: the kiosk has no code scanner (reported as such, not as a fault).
    pub scanner: Option<ScannerTest>,
    /// Where the kiosk keeps its data (free space is checked there).
    pub data_dir: Option<PathBuf>,
    pub outbox: Option<Arc<Outbox>>,
    pub bundle: Option<Arc<BundleStore>>,
    pub display: DisplayResult,
    /// The speech engine of voice guidance, when the kiosk speaks: its check
    /// warns (the kiosk works without voice) when the engine, a voice or the
    /// audio output is missing.
    pub voice: Option<Arc<dyn crate::speech::SpeechEngine>>,
    pub thresholds: Thresholds,
}
