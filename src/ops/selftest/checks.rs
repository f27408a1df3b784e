//! The individual checks. Each returns [`Check`]s and never panics.

use std::path::Path;

use estation_drivers::card::{CardError, PcscIdentitySource, ReaderInfo, list_readers};
use estation_drivers::print::layouts::TestPageInfo;
use estation_drivers::print::{PrintError, PrinterStatus, cli as print_cli};
use time::OffsetDateTime;

use super::model::{
    CardTest, CentralTest, Check, DisplayResult, PrinterTest, ScannerTest, Thresholds,
};
use crate::central_client::CentralError;
use crate::central_client::outbox::Outbox;
use crate::ops::bundle::BundleStore;
use crate::ops::bundle::format::rfc3339;
use crate::speech::{SpeechEngine, SpeechError};

// ---------------------------------------------------------------- code scanner

/// The code scanner: connected (with its name), absent, refused or lost.
pub(super) fn scanner(test: &ScannerTest) -> Check {
    use estation_drivers::scanner::{ScanEvent, Scanner};
    const ID: &str = "scanner";
    let status = match test {
        ScannerTest::Running(handle) => handle.status(),
        ScannerTest::Open { config, wait } => {
            let (sender, receiver) = std::sync::mpsc::channel();
            let thread = match Scanner::new(config.clone()).spawn(move |event| {
                if matches!(
                    event,
                    ScanEvent::Connected { .. } | ScanEvent::Unavailable(_)
                ) {
                    let _ = sender.send(());
                }
            }) {
                Ok(thread) => thread,
                Err(error) => {
                    return Check::fail(
                        ID,
                        "internal",
                        format!("the scanner thread could not start: {error}"),
                        "run the self-test again; report it if it repeats",
                    );
                }
            };
            // The first verdict (connected, or why not) ends the wait.
            let _ = receiver.recv_timeout(*wait);
            let status = thread.handle().status();
            let _ = thread.stop();
            status
        }
    };
    scanner_check(status)
}

fn scanner_check(status: estation_drivers::scanner::ScannerStatus) -> Check {
    use estation_drivers::scanner::{ScanError, ScannerStatus};
    const ID: &str = "scanner";
    match status {
        ScannerStatus::Connected {
            device,
            description,
        } => Check::pass(
            ID,
            match description {
                Some(name) if !name.is_empty() => format!("connected: {name} ({device})"),
                _ => format!("connected: {device}"),
            },
        ),
        ScannerStatus::Starting => Check::warn(
            ID,
            "starting",
            "the scanner has not answered yet",
            "run the self-test again in a few seconds",
        ),
        ScannerStatus::Stopped => Check::fail(
            ID,
            "stopped",
            "the scanner is not being read",
            "restart the kiosk (systemctl restart estation)",
        ),
        ScannerStatus::Unavailable(error) => {
            let (code, action) = match &error {
                ScanError::NotFound { .. } => (
                    "not-found",
                    "plug the scanner in, or correct [scanner] uri in /etc/estation/kiosk.toml (docs/scanner.md)",
                ),
                ScanError::PermissionDenied { .. } => (
                    "permission-denied",
                    "install the udev rule of docs/scanner.md so the kiosk's account may open the scanner",
                ),
                ScanError::Busy { .. } => (
                    "busy",
                    "another program holds the scanner; stop it (a second kiosk process, a desktop session)",
                ),
                ScanError::NotAScanner { .. } => (
                    "not-a-scanner",
                    "the configured device is no scanner: check [scanner] uri (docs/scanner.md)",
                ),
                ScanError::Unsupported(_) => (
                    "unsupported",
                    "keyboard-mode scanners are read on Linux only: switch the scanner to USB-CDC and use serial:",
                ),
                _ => (
                    "unavailable",
                    "check the scanner's cable; the kiosk reopens it on its own",
                ),
            };
            Check::fail(ID, code, error.to_string(), action)
        }
    }
}

// ---------------------------------------------------------------- card reader

pub(super) fn card(test: &CardTest) -> Vec<Check> {
    const ID: &str = "card-reader";
    let readers = match list_readers() {
        Ok(readers) => readers,
        Err(CardError::ServiceUnavailable(detail)) => {
            return vec![Check::fail(
                ID,
                "pcsc-unavailable",
                format!("the PC/SC service does not answer ({detail})"),
                "start pcscd (systemctl start pcscd) and run the self-test again",
            )];
        }
        Err(error) => {
            return vec![Check::fail(
                ID,
                "pcsc-error",
                format!("listing card readers failed: {error}"),
                "restart pcscd; if it repeats, replace the reader",
            )];
        }
    };
    let chosen: Option<&ReaderInfo> = match &test.reader {
        Some(name) => readers.iter().find(|r| &r.name == name),
        None => readers.first(),
    };
    let Some(reader) = chosen else {
        let wanted = test.reader.as_deref().unwrap_or("any reader");
        return vec![Check::fail(
            ID,
            "no-reader",
            format!("no card reader connected ({wanted} not found)"),
            "check the reader's USB cable and power; replug it",
        )];
    };
    let state = if reader.card_mute {
        "a mute card"
    } else if reader.card_present {
        "a card"
    } else {
        "no card"
    };
    let mut checks = vec![Check::pass(
        ID,
        format!("reader {:?} connected, {state} inserted", reader.name),
    )];
    checks.push(card_read(reader, test.expect_card));
    checks
}

fn card_read(reader: &ReaderInfo, expect_card: bool) -> Check {
    const ID: &str = "card-read";
    if !reader.card_present {
        let reason = format!(
            "no card in reader {:?}, reading was not tested",
            reader.name
        );
        let action = "insert a service card or a test card and run the self-test again";
        return if expect_card {
            Check::fail(ID, "no-card", reason, action)
        } else {
            Check::warn(ID, "no-card", reason, action)
        };
    }
    if reader.card_mute {
        return Check::fail(
            ID,
            "mute-card",
            "the card does not answer (mute)",
            "try another card; if no card answers, clean or replace the reader",
        );
    }
    // The identity is dropped (and zeroized) at once: only the profile and the
    // exchange count are reported, never personal data.
    match PcscIdentitySource::new().read_identity_with_stats(&reader.name, None) {
        Ok((_identity, stats)) => Check::pass(
            ID,
            format!("read a {:?} card in {} APDUs", stats.profile, stats.apdus),
        ),
        Err(CardError::PinRequired { .. }) => Check::pass(
            ID,
            "the card answered and asks for its PIN; reading up to the PIN works",
        ),
        Err(CardError::UnknownCard(_)) => Check::warn(
            ID,
            "unknown-card",
            "the card answered but matches no known profile",
            "test with a social security card or a service card",
        ),
        Err(error) => Check::fail(
            ID,
            "read-failed",
            format!("reading the card failed: {error}"),
            "reinsert the card; if it fails with several cards, replace the reader",
        ),
    }
}

// ---------------------------------------------------------------- printer

fn printer_failure(id: &str, error: &PrintError) -> Check {
    let (code, action) = match error {
        PrintError::PaperOut | PrintError::PaperOutDuringJob { .. } => {
            ("paper-end", "load a new paper roll and close the cover")
        }
        PrintError::CoverOpen => ("cover-open", "close the printer cover"),
        PrintError::CutterError => ("cutter-error", "clear the paper jam at the cutter"),
        PrintError::PrinterError => (
            "printer-error",
            "power-cycle the printer; replace it if it repeats",
        ),
        PrintError::InvalidUri { .. } => (
            "bad-uri",
            "fix the printer URI in the kiosk's configuration",
        ),
        PrintError::Offline(_)
        | PrintError::StatusUnavailable(_)
        | PrintError::Timeout(_)
        | PrintError::Io(_)
        | PrintError::ConnectionLost { .. } => (
            "unreachable",
            "check the printer's power and cable (or network), then run the self-test again",
        ),
        _ => (
            "print-failed",
            "run the self-test again; report the reason if it repeats",
        ),
    };
    Check::fail(id, code, error.to_string(), action)
}

fn status_check(status: &PrinterStatus) -> Check {
    const ID: &str = "printer";
    match status.check_ready() {
        Err(error) => printer_failure(ID, &error),
        Ok(()) if status.paper_near_end => Check::warn(
            ID,
            "paper-near-end",
            "the paper roll is nearly used up",
            "replace the paper roll soon",
        ),
        Ok(()) => Check::pass(ID, "printer ready: paper loaded, cover closed, no errors"),
    }
}

pub(super) fn printer(
    test: &PrinterTest,
    kiosk_id: &str,
    config_version: Option<u64>,
) -> Vec<Check> {
    let status = match print_cli::status(&test.uri) {
        Ok(status) => status,
        Err(error) => return vec![printer_failure("printer", &error)],
    };
    let mut checks = vec![status_check(&status)];
    if test.print_test_page {
        const ID: &str = "printer-test-page";
        if checks[0].status == super::Status::Fail {
            checks.push(Check::fail(
                ID,
                "not-ready",
                "the test page was not printed: the printer is not ready",
                "fix the printer first",
            ));
            return checks;
        }
        let info = TestPageInfo {
            title: "estation test page".into(),
            rows: vec![
                ("Kiosk".into(), kiosk_id.into()),
                (
                    "Software".into(),
                    format!("estation {}", env!("CARGO_PKG_VERSION")),
                ),
                (
                    "Configuration".into(),
                    config_version.map_or_else(|| "built-in".into(), |v| format!("v{v}")),
                ),
                ("Printer".into(), test.uri.clone()),
                ("Time (UTC)".into(), rfc3339(OffsetDateTime::now_utc())),
            ],
        };
        checks.push(
            match print_cli::print_test_page(&test.uri, test.width_dots, &info) {
                Ok(report) => match report.status_after {
                    Some(after) if after.check_ready().is_err() => {
                        let mut check = status_check(&after);
                        check.id = ID.into();
                        check
                    }
                    _ => Check::pass(ID, format!("test page sent ({} bytes)", report.bytes_sent)),
                },
                Err(error) => printer_failure(ID, &error),
            },
        );
    }
    checks
}

// ---------------------------------------------------------------- central, clock

fn tls_problem(error: &reqwest::Error) -> bool {
    let mut source: Option<&dyn std::error::Error> = Some(error);
    while let Some(e) = source {
        let text = e.to_string().to_ascii_lowercase();
        if text.contains("certificate") || text.contains("tls") || text.contains("handshake") {
            return true;
        }
        source = e.source();
    }
    false
}

pub(super) async fn central(test: &CentralTest, limits: &Thresholds) -> Vec<Check> {
    const ID: &str = "central";
    let not_checked = |why: &str| {
        Check::warn(
            "clock",
            "not-checked",
            format!("the clock was not compared: {why}"),
            "fix the central-service check first",
        )
    };
    let url = format!("{}/v1/keys", test.base_url.trim_end_matches('/'));
    let http = match reqwest::Client::builder()
        .connect_timeout(test.timeout)
        .timeout(test.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(http) => http,
        Err(error) => {
            return vec![
                Check::fail(
                    ID,
                    "client-error",
                    format!("cannot build an HTTP client: {error}"),
                    "report this fault",
                ),
                not_checked("no HTTP client"),
            ];
        }
    };
    let sent_at = OffsetDateTime::now_utc();
    let response = match http.get(&url).send().await {
        Ok(response) => response,
        Err(error) => {
            let (code, action) = if tls_problem(&error) {
                (
                    "tls-invalid",
                    "the service's TLS certificate is not trusted: check the kiosk's clock and the certificate",
                )
            } else if error.is_timeout() {
                (
                    "timeout",
                    "check the network link; the service did not answer in time",
                )
            } else {
                (
                    "unreachable",
                    "check the network cable, router and the central_url setting",
                )
            };
            return vec![
                Check::fail(
                    ID,
                    code,
                    format!(
                        "the central service at {} cannot be reached: {}",
                        test.base_url,
                        error.without_url()
                    ),
                    action,
                ),
                not_checked("the central service is unreachable"),
            ];
        }
    };
    let received_at = OffsetDateTime::now_utc();
    let server_date = response
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .map(OffsetDateTime::from);
    let server_date: Option<OffsetDateTime> = server_date;
    let status = response.status();
    let mut checks = Vec::new();
    let secure = test.base_url.starts_with("https://");
    let transport = if secure {
        "TLS certificate valid"
    } else {
        "plain HTTP on loopback, no TLS"
    };
    if !status.is_success() {
        checks.push(Check::fail(
            ID,
            "bad-status",
            format!("the central service answered HTTP {}", status.as_u16()),
            "the service is up but failing: tell the service centre",
        ));
    } else if let Some(client) = &test.client {
        // An authenticated call: a rotated or revoked token shows up here.
        match client.config(None).await {
            Ok(_) => checks.push(Check::pass(ID, format!("reachable, kiosk accepted, {transport}"))),
            Err(CentralError::Rejected(problem)) if problem.status == 401 => checks.push(Check::fail(
                ID,
                "kiosk-unauthorized",
                "the central service refuses this kiosk's token",
                "register the kiosk again (estation-central kiosk-add) and update its token file",
            )),
            // No bundle published is not a fault of the kiosk.
            Err(CentralError::Rejected(problem)) if problem.status == 404 => {
                checks.push(Check::pass(ID, format!("reachable, kiosk accepted, {transport}")))
            }
            Err(error) => checks.push(Check::warn(
                ID,
                "degraded",
                format!("reachable, but an authenticated call failed: {error}"),
                "run the self-test again; tell the service centre if it repeats",
            )),
        }
    } else {
        checks.push(Check::pass(ID, format!("reachable, {transport}")));
    }
    checks.push(match server_date {
        None => Check::warn(
            "clock",
            "no-date",
            "the central service sent no Date header",
            "compare the clock by hand",
        ),
        Some(server) => {
            let server: OffsetDateTime = server;
            // The server stamped its reply between our send and receive.
            let midpoint = sent_at + (received_at - sent_at) / 2_u32;
            let skew = (midpoint - server).whole_seconds();
            let reason = format!("kiosk clock is {skew:+} s from the central service's");
            if skew.abs() >= limits.clock_skew_fail_secs {
                Check::fail(
                    "clock",
                    "skew",
                    reason,
                    "set the clock (enable NTP); signatures and expiry checks depend on it",
                )
            } else if skew.abs() >= limits.clock_skew_warn_secs {
                Check::warn("clock", "skew", reason, "enable NTP time synchronisation")
            } else {
                Check::pass("clock", reason)
            }
        }
    });
    checks
}

// ---------------------------------------------------------------- disk, outbox, config, display

pub(super) fn disk(dir: &Path, limits: &Thresholds) -> Check {
    const ID: &str = "disk";
    match rustix::fs::statvfs(dir) {
        Ok(stats) => {
            let free = stats.f_bavail.saturating_mul(stats.f_frsize);
            let mib = free / (1024 * 1024);
            let reason = format!("{mib} MiB free for {}", dir.display());
            if free < limits.disk_fail_bytes {
                Check::fail(
                    ID,
                    "disk-full",
                    reason,
                    "free disk space: old logs, printed-job files",
                )
            } else if free < limits.disk_warn_bytes {
                Check::warn(ID, "disk-low", reason, "free disk space soon")
            } else {
                Check::pass(ID, reason)
            }
        }
        Err(error) => Check::fail(
            ID,
            "disk-error",
            format!("cannot read free space of {}: {error}", dir.display()),
            "check that the data directory exists and the disk is mounted",
        ),
    }
}

pub(super) fn outbox(outbox: &Outbox, limits: &Thresholds) -> Check {
    const ID: &str = "outbox";
    let status = *outbox.status().borrow();
    let reason = format!(
        "{} waiting, {} refused by the service, {} failed deliveries in a row",
        status.backlog, status.rejected, status.consecutive_failures
    );
    if status.sender_failures > 0 {
        Check::fail(
            ID,
            "sender-failing",
            format!(
                "{reason}; the sender failed {} times in a row on its database and is restarting",
                status.sender_failures
            ),
            "check the disk and the data directory; nothing is sent until the sender recovers",
        )
    } else if status.backlog >= limits.outbox_fail_backlog {
        Check::fail(
            ID,
            "backlog",
            reason,
            "restore the network link: residents' requests are piling up",
        )
    } else if status.backlog >= limits.outbox_warn_backlog || status.waiting_for_network() {
        Check::warn(
            ID,
            "backlog",
            reason,
            "check the network link; entries are sent once it is back",
        )
    } else if status.rejected > 0 {
        Check::warn(
            ID,
            "rejected",
            reason,
            "tell the service centre: refused entries need a look",
        )
    } else {
        Check::pass(ID, reason)
    }
}

pub(super) fn config(store: &BundleStore, now: OffsetDateTime) -> Check {
    const ID: &str = "config";
    match store.current() {
        None => Check::warn(
            ID,
            "no-bundle",
            "no signed configuration installed; running on built-in defaults",
            "publish a configuration bundle for this kiosk",
        ),
        Some(bundle) if bundle.is_expired_at(now) => Check::warn(
            ID,
            "expired",
            format!(
                "configuration v{} expired at {}",
                bundle.version,
                rfc3339(bundle.expires_at)
            ),
            "publish a newer configuration bundle",
        ),
        Some(bundle) => Check::pass(
            ID,
            format!(
                "configuration v{} in force until {}",
                bundle.version,
                rfc3339(bundle.expires_at)
            ),
        ),
    }
}

pub(super) fn display(result: &DisplayResult) -> Check {
    const ID: &str = "display";
    match result {
        DisplayResult::NotTested => Check::warn(
            ID,
            "not-tested",
            "touch grid and colour bars were not tested",
            "run the display test from maintenance mode on the kiosk",
        ),
        DisplayResult::Passed => Check::pass(ID, "touch grid and colour bars passed"),
        DisplayResult::Failed { what } => Check::fail(
            ID,
            "display-fault",
            format!("display test failed: {what}"),
            "replace or recalibrate the touchscreen",
        ),
    }
}

// ---------------------------------------------------------------- voice

pub(super) fn voice(engine: &dyn SpeechEngine) -> Check {
    const ID: &str = "voice";
    let status = match engine.status() {
        Ok(status) => status,
        Err(error) => {
            let (code, action) = match &error {
                SpeechError::EngineMissing { .. } => (
                    "no-engine",
                    "install the espeak-ng package (scripts/setup.sh does); voice guidance is silent until then",
                ),
                SpeechError::VoiceMissing { .. } => (
                    "no-voice",
                    "install espeak-ng-data with its Mandarin and English voices",
                ),
                _ => (
                    "engine-failed",
                    "run `estation speak --screen attract --out /tmp/voice.wav` to see the engine's error",
                ),
            };
            return Check::warn(ID, code, error.to_string(), action);
        }
    };
    let voices = status
        .voices
        .iter()
        .map(|(locale, voice)| format!("{locale} {voice}"))
        .collect::<Vec<_>>()
        .join(", ");
    match status.audio_output {
        Ok(output) => Check::pass(
            ID,
            format!("{} ({voices}), plays on {output}", status.engine),
        ),
        Err(why) => Check::warn(
            ID,
            "no-audio-device",
            format!("{} ({voices}) works, but {why}", status.engine),
            "connect speakers (an ALSA playback device, or a PulseAudio or PipeWire server) and run the self-test again; until then voice guidance is silent",
        ),
    }
}
