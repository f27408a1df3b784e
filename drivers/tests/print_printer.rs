//! The printer API against a printer that talks back (the TCP emulator), the file
//! sink, and the journal after faults: paper out before and during a job, a dropped
//! connection, and a kiosk killed in the middle of a job.

use crate::support::paper::qr_payloads;
use estation_drivers::print::emulator::{Emulator, EmulatorEvent};
use estation_drivers::print::{
    EncodeOptions, JobState, PrintError, PrintJournal, PrintOutcome, Printer, PrinterConfig,
    PrinterStatus, Progress, StatusWarning, WIDTH_58MM, WIDTH_80MM, cli, encode, layouts, render,
    samples,
};
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn printer_for(emulator: &Emulator, width: u32) -> Printer {
    let mut config = PrinterConfig::new(emulator.uri().parse().unwrap());
    config.width_dots = width;
    config.io_timeout = Duration::from_secs(2);
    Printer::new(config)
}

fn no_progress() -> impl FnMut(Progress) {
    |_| {}
}

#[test]
fn status_reports_every_condition() {
    let emulator = Emulator::start(WIDTH_80MM).unwrap();
    let printer = printer_for(&emulator, WIDTH_80MM);
    assert_eq!(printer.status().unwrap(), PrinterStatus::READY);
    let conditions = [
        (
            PrinterStatus {
                paper_end: true,
                ..PrinterStatus::READY
            },
            "print-error-paper-out",
        ),
        (
            PrinterStatus {
                cover_open: true,
                ..PrinterStatus::READY
            },
            "print-error-cover-open",
        ),
        (
            PrinterStatus {
                cutter_error: true,
                ..PrinterStatus::READY
            },
            "print-error-jammed",
        ),
        (
            PrinterStatus {
                offline: true,
                ..PrinterStatus::READY
            },
            "print-error-offline",
        ),
    ];
    for (state, key) in conditions {
        emulator.set_status(state);
        let status = printer.status().unwrap();
        assert_eq!(status.paper_end, state.paper_end);
        assert_eq!(status.cover_open, state.cover_open);
        assert_eq!(status.cutter_error, state.cutter_error);
        assert_eq!(status.check_ready().unwrap_err().message_key(), key);
    }
    emulator.set_status(PrinterStatus {
        paper_near_end: true,
        ..PrinterStatus::READY
    });
    let status = printer.status().unwrap();
    assert!(status.check_ready().is_ok());
    assert_eq!(status.warnings(), vec![StatusWarning::PaperNearEnd]);
}

#[test]
fn flaky_status_replies_are_retried() {
    let emulator = Emulator::start(WIDTH_80MM).unwrap();
    let mut config = PrinterConfig::new(emulator.uri().parse().unwrap());
    config.io_timeout = Duration::from_millis(300);
    let printer = Printer::new(config);
    // One unanswered request, then junk before two replies: still a clean status.
    emulator.script(|script| {
        script.ignore_status_requests = 1;
        script.junk_before_status = 2;
        script.status.paper_end = true;
    });
    assert!(printer.status().unwrap().paper_end);
    // A printer that never answers is not assumed to be fine.
    emulator.script(|script| script.ignore_status_requests = usize::MAX);
    let error = printer.status().unwrap_err();
    assert!(matches!(error, PrintError::StatusUnavailable(_)), "{error}");
    assert_eq!(error.message_key(), "print-error-offline");
}

#[test]
fn an_unreachable_printer_is_offline() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let mut config = PrinterConfig::new(format!("tcp://127.0.0.1:{port}").parse().unwrap());
    config.connect_attempts = 2;
    let error = Printer::new(config).status().unwrap_err();
    assert!(matches!(error, PrintError::Offline(_)), "{error}");
}

#[test]
fn a_certificate_prints_once_and_reads_back() {
    let emulator = Emulator::start(WIDTH_80MM).unwrap();
    let printer = printer_for(&emulator, WIDTH_80MM);
    let journal = PrintJournal::in_memory().unwrap();
    let content = samples::social_insurance();
    let document = layouts::certificate(&content);
    let mut seen = Vec::new();
    let outcome = printer
        .print_document(
            &journal,
            "req-001",
            "certificate",
            &document,
            &mut |progress: Progress| seen.push(progress),
        )
        .unwrap();
    let PrintOutcome::Printed {
        pages,
        bytes_sent,
        warnings,
    } = outcome
    else {
        panic!("{outcome:?}")
    };
    assert_eq!((pages, warnings), (1, vec![]));
    assert_eq!(seen.last().map(Progress::percent), Some(100));
    assert!(
        seen.windows(2)
            .all(|pair| pair[0].chunks_sent <= pair[1].chunks_sent)
    );

    let printed = emulator.take_output();
    assert_eq!(
        emulator.bytes_received(),
        bytes_sent + 3 * printed.status_requests.len(),
        "job bytes and status requests"
    );
    assert!(
        printed.status_requests.len() >= 8,
        "status checked before and after the job"
    );
    assert_eq!(printed.cuts, 1);
    assert_eq!(printed.pages.len(), 1);
    assert_eq!(
        qr_payloads(&printed.pages[0]),
        vec![content.qr_payload.clone()]
    );
    assert_eq!(
        printed.pages[0],
        render(&document, WIDTH_80MM).unwrap().pages[0]
            .raster
            .to_gray_image()
    );
    let record = journal.get("req-001").unwrap().unwrap();
    assert_eq!(record.state, JobState::Printed);
    assert_eq!(record.bytes_sent as usize, bytes_sent);

    // The same request again (a retry after a lost reply): nothing is printed.
    let bands = emulator.bands_received();
    let again = printer
        .print_document(
            &journal,
            "req-001",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap();
    assert_eq!(again, PrintOutcome::AlreadyPrinted);
    assert_eq!(emulator.bands_received(), bands);
}

#[test]
fn paper_out_before_a_job_sends_nothing_and_can_be_retried() {
    let emulator = Emulator::start(WIDTH_58MM).unwrap();
    let printer = printer_for(&emulator, WIDTH_58MM);
    let journal = PrintJournal::in_memory().unwrap();
    let document = layouts::submission_receipt(&samples::submission_receipt());
    emulator.set_status(PrinterStatus {
        paper_end: true,
        ..PrinterStatus::READY
    });
    let error = printer
        .print_document(
            &journal,
            "req-002",
            "receipt",
            &document,
            &mut no_progress(),
        )
        .unwrap_err();
    assert!(matches!(error, PrintError::PaperOut), "{error}");
    assert_eq!(error.message_key(), "print-error-paper-out");
    assert_eq!(emulator.bands_received(), 0);
    let record = journal.get("req-002").unwrap().unwrap();
    assert_eq!((record.state, record.bytes_sent), (JobState::Failed, 0));
    assert_eq!(record.error_key.as_deref(), Some("print-error-paper-out"));

    emulator.set_status(PrinterStatus::READY);
    let outcome = printer
        .print_document(
            &journal,
            "req-002",
            "receipt",
            &document,
            &mut no_progress(),
        )
        .unwrap();
    assert!(matches!(outcome, PrintOutcome::Printed { .. }));
    assert_eq!(journal.get("req-002").unwrap().unwrap().attempts, 2);
}

#[test]
fn paper_out_in_the_middle_fails_the_job() {
    let emulator = Emulator::start(WIDTH_58MM).unwrap();
    let mut printer_config = printer_for(&emulator, WIDTH_58MM).config().clone();
    printer_config.status_every_chunks = 2;
    printer_config.encode = EncodeOptions {
        max_band_bytes: 1024,
        ..EncodeOptions::default()
    };
    let printer = Printer::new(printer_config);
    let journal = PrintJournal::in_memory().unwrap();
    let document = layouts::certificate(&samples::social_insurance());
    emulator.script(|script| script.paper_out_after_bands = Some(3));
    let error = printer
        .print_document(
            &journal,
            "req-003",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap_err();
    let PrintError::PaperOutDuringJob {
        bands_sent,
        bands_total,
    } = error
    else {
        panic!("{error}")
    };
    assert!(bands_sent < bands_total);
    let record = journal.get("req-003").unwrap().unwrap();
    assert_eq!(record.state, JobState::Failed);
    assert_eq!(record.error_key.as_deref(), Some("print-error-paper-out"));
    // What came out is a torn strip, not the certificate.
    let printed = emulator.take_output();
    assert_eq!(printed.cuts, 0);
    assert!(qr_payloads(&printed.pages[0]).is_empty());
}

#[test]
fn a_dropped_connection_fails_the_job_and_a_retry_reconnects() {
    let emulator = Emulator::start(WIDTH_80MM).unwrap();
    let printer = printer_for(&emulator, WIDTH_80MM);
    let journal = PrintJournal::in_memory().unwrap();
    let content = samples::household_registration();
    let document = layouts::certificate(&content);
    emulator.script(|script| script.drop_after_bands = Some(2));
    let error = printer
        .print_document(
            &journal,
            "req-004",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap_err();
    assert!(
        matches!(error, PrintError::ConnectionLost { .. }),
        "{error}"
    );
    assert_eq!(
        journal.get("req-004").unwrap().unwrap().state,
        JobState::Failed
    );
    assert!(emulator.wait_for(WAIT, |event| *event == EmulatorEvent::Dropped));
    emulator.take_output();

    let outcome = printer
        .print_document(
            &journal,
            "req-004",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap();
    assert!(matches!(outcome, PrintOutcome::Printed { .. }));
    let printed = emulator.take_output();
    assert_eq!(
        qr_payloads(printed.pages.last().unwrap()),
        vec![content.qr_payload]
    );
}

/// A printer that hangs up right after the last byte of a job, before the kiosk's
/// status request: the job went out whole, so it must not be reprinted. A status
/// query on a fresh connection confirms it.
#[test]
fn a_printer_that_hangs_up_after_the_last_byte_prints_the_job_once() {
    let emulator = Emulator::start(WIDTH_80MM).unwrap();
    let printer = printer_for(&emulator, WIDTH_80MM);
    let journal = PrintJournal::in_memory().unwrap();
    let content = samples::household_registration();
    let document = layouts::certificate(&content);
    emulator.script(|script| script.drop_after_cuts = Some(1));
    let outcome = printer
        .print_document(
            &journal,
            "req-010",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap();
    assert!(
        matches!(outcome, PrintOutcome::Printed { .. }),
        "{outcome:?}"
    );
    assert!(emulator.wait_for(WAIT, |event| *event == EmulatorEvent::Dropped));
    assert_eq!(
        journal.get("req-010").unwrap().unwrap().state,
        JobState::Printed
    );

    // The resident presses Print again: nothing more comes out.
    let again = printer
        .print_document(
            &journal,
            "req-010",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap();
    assert_eq!(again, PrintOutcome::AlreadyPrinted);
    let printed = emulator.take_output();
    assert_eq!(printed.cuts, 1, "one certificate, not two");
    assert_eq!(printed.pages.len(), 1);
    assert_eq!(qr_payloads(&printed.pages[0]), vec![content.qr_payload]);
}

/// The same printer, gone for good after hanging up: nobody can say whether the
/// paper came out, so the job is "unknown" and never reprinted silently, even once
/// the printer is back; a person's decision releases it.
#[test]
fn a_job_whose_bytes_all_went_out_unconfirmed_is_never_reprinted_silently() {
    let emulator = Emulator::start(WIDTH_80MM).unwrap();
    let printer = printer_for(&emulator, WIDTH_80MM);
    let journal = PrintJournal::in_memory().unwrap();
    let content = samples::household_registration();
    let document = layouts::certificate(&content);
    emulator.script(|script| {
        script.drop_after_cuts = Some(1);
        script.refuse_after_drop = true;
    });
    let error = printer
        .print_document(
            &journal,
            "req-011",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap_err();
    assert!(
        matches!(error, PrintError::OutcomeUnknown { .. }),
        "{error}"
    );
    assert_eq!(error.message_key(), "print-error-outcome-unknown");
    let record = journal.get("req-011").unwrap().unwrap();
    assert_eq!(record.state, JobState::Unknown);
    assert_eq!(record.chunks_sent, record.chunks_total);

    // The printer comes back; the resident presses Print again: nothing is sent.
    emulator.script(|script| script.refuse_connections = false);
    let bands = emulator.bands_received();
    let again = printer
        .print_document(
            &journal,
            "req-011",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap_err();
    assert!(
        matches!(again, PrintError::OutcomeUnknown { .. }),
        "{again}"
    );
    assert_eq!(
        emulator.bands_received(),
        bands,
        "not a byte of a second copy"
    );
    assert_eq!(emulator.take_output().cuts, 1);

    // A technician found the tray empty and allows it.
    assert!(journal.allow_reprint("req-011").unwrap());
    let outcome = printer
        .print_document(
            &journal,
            "req-011",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap();
    assert!(matches!(outcome, PrintOutcome::Printed { .. }));
    assert_eq!(emulator.take_output().cuts, 1);
}

#[test]
fn test_page_refuses_with_the_cover_open_and_prints_when_closed() {
    let emulator = Emulator::start(WIDTH_80MM).unwrap();
    emulator.set_status(PrinterStatus {
        cover_open: true,
        ..PrinterStatus::READY
    });
    let info = samples::test_page_info();
    let error = cli::print_test_page(&emulator.uri(), WIDTH_80MM, &info).unwrap_err();
    assert!(matches!(error, PrintError::CoverOpen), "{error}");
    assert_eq!(emulator.bands_received(), 0);

    emulator.set_status(PrinterStatus::READY);
    let report = cli::print_test_page(&emulator.uri(), WIDTH_80MM, &info).unwrap();
    assert_eq!(report.status_after, Some(PrinterStatus::READY));
    let printed = emulator.take_output();
    assert_eq!(
        qr_payloads(&printed.pages[0]),
        vec!["ESTATION TEST PAGE 0123456789".to_owned()]
    );
    assert_eq!(cli::status(&emulator.uri()).unwrap(), PrinterStatus::READY);
}

#[test]
fn the_file_sink_writes_bytes_and_a_preview_decoded_from_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = PrinterConfig::new(format!("file:{}", dir.path().display()).parse().unwrap());
    config.width_dots = WIDTH_58MM;
    let printer = Printer::new(config);
    let journal = PrintJournal::in_memory().unwrap();
    let content = samples::household_registration();
    let document = layouts::certificate(&content);
    let outcome = printer
        .print_document(
            &journal,
            "req/005",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap();
    assert!(matches!(outcome, PrintOutcome::Printed { .. }));
    let bytes = std::fs::read(dir.path().join("req_005.escpos")).unwrap();
    let expected = encode(
        &render(&document, WIDTH_58MM).unwrap(),
        &EncodeOptions::default(),
    )
    .unwrap();
    assert_eq!(bytes, expected.bytes);
    let preview = image::open(dir.path().join("req_005.png"))
        .unwrap()
        .to_luma8();
    assert_eq!(
        preview,
        render(&document, WIDTH_58MM).unwrap().paper_image()
    );
    assert_eq!(qr_payloads(&preview), vec![content.qr_payload]);
}

/// Runs only as the child of `a_kiosk_killed_mid_job_never_prints_twice`.
#[test]
#[ignore = "run as a child process by a_kiosk_killed_mid_job_never_prints_twice"]
fn child_prints_until_killed() {
    let uri = std::env::var("PRINT_CHILD_URI").expect("run by the parent test");
    let journal_path = std::env::var("PRINT_CHILD_JOURNAL").expect("run by the parent test");
    let mut config = PrinterConfig::new(uri.parse().unwrap());
    config.width_dots = WIDTH_58MM;
    config.status_every_chunks = 2;
    config.io_timeout = Duration::from_secs(60);
    config.encode = EncodeOptions {
        max_band_bytes: 1024,
        ..EncodeOptions::default()
    };
    let journal = PrintJournal::open(journal_path.as_ref()).unwrap();
    let document = layouts::certificate(&samples::social_insurance());
    let _ = Printer::new(config).print_document(
        &journal,
        "req-killed",
        "certificate",
        &document,
        &mut no_progress(),
    );
}

#[test]
fn a_kiosk_killed_mid_job_never_prints_twice() {
    let emulator = Emulator::start(WIDTH_58MM).unwrap();
    // The printer goes quiet after 3 bands, so the child is surely mid-job when killed.
    emulator.script(|script| script.silent_after_bands = Some(3));
    let dir = tempfile::tempdir().unwrap();
    let journal_path = dir.path().join("journal.sqlite");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "--ignored",
            &child_test_name("child_prints_until_killed"),
            "--nocapture",
            "--test-threads=1",
        ])
        .env("PRINT_CHILD_URI", emulator.uri())
        .env("PRINT_CHILD_JOURNAL", &journal_path)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        emulator.wait_for(WAIT, |event| matches!(event, EmulatorEvent::Band(3))),
        "the child started printing"
    );
    child.kill().unwrap();
    child.wait().unwrap();

    // The restarted kiosk finds the job interrupted and does not print it again.
    let journal = PrintJournal::open(&journal_path).unwrap();
    let record = journal.get("req-killed").unwrap().unwrap();
    assert_eq!(record.state, JobState::Interrupted);
    assert_eq!(record.error_key.as_deref(), Some("print-error-needs-staff"));
    emulator.script(|script| script.silent_after_bands = None);
    let bands = emulator.bands_received();
    let printer = printer_for(&emulator, WIDTH_58MM);
    let document = layouts::certificate(&samples::social_insurance());
    let error = printer
        .print_document(
            &journal,
            "req-killed",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap_err();
    assert!(matches!(error, PrintError::Interrupted(_)), "{error}");
    assert_eq!(emulator.bands_received(), bands);

    // Staff checked the tray and allow a reprint.
    assert!(journal.allow_reprint("req-killed").unwrap());
    let outcome = printer
        .print_document(
            &journal,
            "req-killed",
            "certificate",
            &document,
            &mut no_progress(),
        )
        .unwrap();
    assert!(matches!(outcome, PrintOutcome::Printed { .. }));
}

/// Each test page a technician prints to a file printer is kept, and each
/// decodes to a whole page.
#[test]
fn test_pages_to_a_file_printer_do_not_overwrite_each_other() {
    let dir = tempfile::tempdir().unwrap();
    let uri = format!("file:{}", dir.path().display());
    let info = estation_drivers::print::samples::test_page_info();
    for _ in 0..2 {
        estation_drivers::print::cli::print_test_page(&uri, 576, &info).unwrap();
    }
    let mut jobs: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "escpos"))
        .collect();
    jobs.sort();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    for job in jobs {
        let decoded = estation_drivers::print::decode(&std::fs::read(&job).unwrap(), 576);
        assert_eq!(decoded.cuts, 1, "{}", job.display());
        assert!(!decoded.truncated && decoded.raster_bands > 0);
    }
}

/// The full name of test `name` of this module in the test binary, for running
/// it alone in a child process (`--exact`).
fn child_test_name(name: &str) -> String {
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, module)| module);
    format!("{module}::{name}")
}
