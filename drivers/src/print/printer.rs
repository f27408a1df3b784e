//! The printer API the kiosk calls (from a blocking task): status, and jobs that
//! go through the journal with status checks before, during and after.

use super::PrintError;
use super::document::Document;
use super::encode::{EncodeOptions, EncodedJob, encode};
use super::journal::{Begin, PrintJournal};
use super::layout::{WIDTH_80MM, render};
use super::status::{DLE_EOT, PrinterStatus, STATUS_REQUESTS, StatusWarning, is_dle_eot_reply};
use super::transport::{Link, PrinterUri, open};
use std::time::Duration;

/// How to reach and drive one printer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrinterConfig {
    pub uri: PrinterUri,
    /// Printable width in dots (384, 576 or 1728).
    pub width_dots: u32,
    pub encode: EncodeOptions,
    /// Connect, write and status-reply timeout.
    pub io_timeout: Duration,
    /// Connection attempts before giving up (with a short back-off between them).
    pub connect_attempts: u32,
    /// Status check every this many chunks during a job (0: only before and after).
    pub status_every_chunks: usize,
}

impl PrinterConfig {
    pub fn new(uri: PrinterUri) -> Self {
        Self {
            uri,
            width_dots: WIDTH_80MM,
            encode: EncodeOptions::default(),
            io_timeout: Duration::from_secs(3),
            connect_attempts: 3,
            status_every_chunks: 8,
        }
    }
}

/// How far a job got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub chunks_sent: usize,
    pub chunks_total: usize,
}

impl Progress {
    pub fn percent(&self) -> u8 {
        if self.chunks_total == 0 {
            return 100;
        }
        (self.chunks_sent.min(self.chunks_total) * 100 / self.chunks_total) as u8
    }
}

/// A job that did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrintOutcome {
    Printed {
        pages: usize,
        bytes_sent: usize,
        warnings: Vec<StatusWarning>,
    },
    /// The journal says this job id printed before; nothing was sent.
    AlreadyPrinted,
}

/// What a successful send reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SendReport {
    pub bytes_sent: usize,
    pub chunks_sent: usize,
    /// Status after the job (`None` for sinks that cannot answer).
    pub status_after: Option<PrinterStatus>,
}

#[derive(Clone, Debug)]
pub struct Printer {
    config: PrinterConfig,
}

/// Status replies are flaky on real printers (late bytes from an earlier request,
/// automatic status packets, a dropped byte): a check is retried this many times.
const STATUS_ATTEMPTS: u32 = 3;

impl Printer {
    pub fn new(config: PrinterConfig) -> Self {
        Self { config }
    }

    /// A printer at `uri` with default settings.
    pub fn from_uri(uri: &str) -> Result<Self, PrintError> {
        Ok(Self::new(PrinterConfig::new(uri.parse()?)))
    }

    pub fn config(&self) -> &PrinterConfig {
        &self.config
    }

    fn connect(&self) -> Result<Box<dyn Link>, PrintError> {
        let mut delay = Duration::from_millis(100);
        let mut last = PrintError::Offline("no connection attempt made".to_owned());
        for attempt in 0..self.config.connect_attempts.max(1) {
            if attempt > 0 {
                // Back off between reconnects: a printer that just rebooted needs a moment.
                std::thread::sleep(delay);
                delay *= 2;
            }
            match open(
                &self.config.uri,
                self.config.io_timeout,
                self.config.width_dots,
            ) {
                Ok(link) => return Ok(link),
                Err(error) => {
                    tracing::debug!(printer = %self.config.uri, attempt, %error, "printer connection failed");
                    last = error;
                }
            }
        }
        Err(last)
    }

    /// Asks the printer for its real-time status. Sinks that cannot answer (the
    /// file sink) report ready.
    pub fn status(&self) -> Result<PrinterStatus, PrintError> {
        let mut link = self.connect()?;
        self.query_status(link.as_mut())
    }

    fn query_status(&self, link: &mut dyn Link) -> Result<PrinterStatus, PrintError> {
        if !link.answers_status() {
            return Ok(PrinterStatus::READY);
        }
        let mut last = PrintError::StatusUnavailable("no reply".to_owned());
        for _ in 0..STATUS_ATTEMPTS {
            match self.query_status_once(link) {
                Ok(status) => return Ok(status),
                Err(error @ (PrintError::StatusUnavailable(_) | PrintError::Timeout(_))) => {
                    tracing::debug!(%error, "printer status reply was unusable; asking again");
                    last = error;
                }
                Err(error) => return Err(error),
            }
        }
        Err(last)
    }

    /// Sends `DLE EOT 1..4` one at a time and reads one reply byte for each,
    /// skipping bytes that cannot be a reply. (Written here rather than with the
    /// escpos crate, whose request adds a parameter byte Epson does not define.)
    fn query_status_once(&self, link: &mut dyn Link) -> Result<PrinterStatus, PrintError> {
        link.discard_input();
        let mut status = PrinterStatus::default();
        for request in STATUS_REQUESTS {
            link.write_all(&[DLE_EOT[0], DLE_EOT[1], request])?;
            let mut skipped = 0;
            loop {
                match link.read_byte(self.config.io_timeout)? {
                    Some(byte) if is_dle_eot_reply(byte) => {
                        status.apply_dle_eot(request, byte)?;
                        break;
                    }
                    Some(_) if skipped < 8 => skipped += 1,
                    Some(byte) => {
                        return Err(PrintError::StatusUnavailable(format!(
                            "garbage instead of status ({byte:#04x})"
                        )));
                    }
                    None => {
                        return Err(PrintError::StatusUnavailable(format!(
                            "no reply to DLE EOT {request} within {:?}",
                            self.config.io_timeout
                        )));
                    }
                }
            }
        }
        Ok(status)
    }

    /// Sends an encoded job without the journal (test pages): status first (a
    /// printer that is not ready gets nothing), status during and after.
    pub fn send(
        &self,
        job_name: &str,
        job: &EncodedJob,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<SendReport, PrintError> {
        let mut link = self.connect()?;
        self.query_status(link.as_mut())?.check_ready()?;
        let mut sent = Sent::default();
        self.send_on(
            link.as_mut(),
            job_name,
            job,
            progress,
            &mut sent,
            &mut |_| Ok(()),
        )
    }

    fn send_on(
        &self,
        link: &mut dyn Link,
        job_name: &str,
        job: &EncodedJob,
        progress: &mut dyn FnMut(Progress),
        sent: &mut Sent,
        checkpoint: &mut dyn FnMut(&Sent) -> Result<(), PrintError>,
    ) -> Result<SendReport, PrintError> {
        let total = job.chunk_ends.len();
        let lost = |sent: &Sent, error: PrintError| match error {
            PrintError::Offline(reason) | PrintError::Io(reason) | PrintError::Timeout(reason) => {
                PrintError::ConnectionLost {
                    bands_sent: sent.chunks,
                    bands_total: total,
                    reason,
                }
            }
            other => other,
        };
        progress(Progress {
            chunks_sent: 0,
            chunks_total: total,
        });
        for chunk in job.chunks() {
            link.write_all(chunk).map_err(|error| lost(sent, error))?;
            sent.chunks += 1;
            sent.bytes += chunk.len();
            progress(Progress {
                chunks_sent: sent.chunks,
                chunks_total: total,
            });
            let every = self.config.status_every_chunks;
            if every > 0
                && sent.chunks.is_multiple_of(every)
                && sent.chunks < total
                && link.answers_status()
            {
                let status = self.query_status(link).map_err(|error| lost(sent, error))?;
                checkpoint(sent)?;
                self.check_mid_job(&status, sent.chunks, total)?;
            }
        }
        let status_after = if link.answers_status() {
            let status = self.query_status(link).map_err(|error| lost(sent, error))?;
            self.check_mid_job(&status, sent.chunks, total)?;
            Some(status)
        } else {
            None
        };
        link.finish(job_name)?;
        Ok(SendReport {
            bytes_sent: sent.bytes,
            chunks_sent: sent.chunks,
            status_after,
        })
    }

    /// Paper running out (or the cover opening) while a job prints means the paper
    /// in the tray is not the whole document.
    fn check_mid_job(
        &self,
        status: &PrinterStatus,
        sent: usize,
        total: usize,
    ) -> Result<(), PrintError> {
        match status.check_ready() {
            Ok(()) => Ok(()),
            Err(PrintError::PaperOut) => Err(PrintError::PaperOutDuringJob {
                bands_sent: sent,
                bands_total: total,
            }),
            Err(error) => Err(error),
        }
    }

    /// Prints `job` once per `job_id` through the journal: a job printed before is
    /// not sent again, a failure is recorded with its reason, and a crash in the
    /// middle leaves the job marked for a person to decide.
    pub fn print(
        &self,
        journal: &PrintJournal,
        job_id: &str,
        kind: &str,
        job: &EncodedJob,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<PrintOutcome, PrintError> {
        // Check the printer before claiming the job, so "paper out" leaves no trace
        // beyond a failed attempt and costs nothing to retry.
        let mut link = match self.connect() {
            Ok(link) => link,
            Err(error) => return self.fail_before_start(journal, job_id, kind, job, error),
        };
        let status_before = match self.query_status(link.as_mut()).and_then(|status| {
            status.check_ready()?;
            Ok(status)
        }) {
            Ok(status) => status,
            Err(error) => return self.fail_before_start(journal, job_id, kind, job, error),
        };
        match journal.begin(job_id, kind, job.chunk_ends.len())? {
            Begin::AlreadyPrinted => return Ok(PrintOutcome::AlreadyPrinted),
            Begin::Proceed { .. } => {}
        }
        tracing::info!(
            job_id,
            kind,
            chunks = job.chunk_ends.len(),
            bytes = job.bytes.len(),
            "print job started"
        );
        let mut sent = Sent::default();
        let mut checkpoint = |sent: &Sent| journal.progress(job_id, sent.chunks, sent.bytes);
        match self.send_on(
            link.as_mut(),
            job_id,
            job,
            progress,
            &mut sent,
            &mut checkpoint,
        ) {
            Ok(report) => {
                journal.mark_printed(job_id, report.chunks_sent, report.bytes_sent)?;
                tracing::info!(job_id, bytes = report.bytes_sent, "print job printed");
                let mut warnings = status_before.warnings();
                for warning in report
                    .status_after
                    .map(|status| status.warnings())
                    .unwrap_or_default()
                {
                    if !warnings.contains(&warning) {
                        warnings.push(warning);
                    }
                }
                Ok(PrintOutcome::Printed {
                    pages: job.pages,
                    bytes_sent: report.bytes_sent,
                    warnings,
                })
            }
            Err(error) if sent.chunks == job.chunk_ends.len() && lost_link(&error) => {
                self.settle_unconfirmed(journal, job_id, job, &sent, error)
            }
            Err(error) => {
                tracing::warn!(job_id, %error, "print job failed");
                journal.mark_failed(job_id, &error, sent.chunks, sent.bytes)?;
                Err(error)
            }
        }
    }

    /// Every byte went out and then the link failed before the printer confirmed
    /// the job. Reprinting would put a second copy in the tray, so the job is
    /// never simply failed: one fresh status query decides. A printer that is
    /// back and reports nothing wrong printed it; one that reports a fault or
    /// stays silent leaves the job unknown, for a person to resolve.
    fn settle_unconfirmed(
        &self,
        journal: &PrintJournal,
        job_id: &str,
        job: &EncodedJob,
        sent: &Sent,
        error: PrintError,
    ) -> Result<PrintOutcome, PrintError> {
        let status = self
            .connect()
            .and_then(|mut link| self.query_status(link.as_mut()));
        match status {
            Ok(status) if status.check_ready().is_ok() => {
                journal.mark_printed(job_id, sent.chunks, sent.bytes)?;
                tracing::warn!(job_id, %error, "print job confirmed by a status query after the link failed");
                Ok(PrintOutcome::Printed {
                    pages: job.pages,
                    bytes_sent: sent.bytes,
                    warnings: status.warnings(),
                })
            }
            other => {
                let reason = match other {
                    Ok(status) => format!(
                        "{error}; the printer then reported: {}",
                        status
                            .check_ready()
                            .err()
                            .map(|e| e.to_string())
                            .unwrap_or_default()
                    ),
                    Err(status_error) => format!("{error}; no status since: {status_error}"),
                };
                let unknown = PrintError::OutcomeUnknown {
                    job_id: job_id.to_owned(),
                    reason,
                };
                tracing::warn!(job_id, %unknown, "print job outcome unknown");
                journal.mark_unknown(job_id, &unknown, sent.chunks, sent.bytes)?;
                Err(unknown)
            }
        }
    }

    fn fail_before_start(
        &self,
        journal: &PrintJournal,
        job_id: &str,
        kind: &str,
        job: &EncodedJob,
        error: PrintError,
    ) -> Result<PrintOutcome, PrintError> {
        // Record the refusal unless the job already printed (then say so) or is
        // waiting for a person.
        match journal.begin(job_id, kind, job.chunk_ends.len())? {
            Begin::AlreadyPrinted => Ok(PrintOutcome::AlreadyPrinted),
            Begin::Proceed { .. } => {
                journal.mark_failed(job_id, &error, 0, 0)?;
                Err(error)
            }
        }
    }

    /// Renders, encodes and prints a document at this printer's width.
    pub fn print_document(
        &self,
        journal: &PrintJournal,
        job_id: &str,
        kind: &str,
        document: &Document,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<PrintOutcome, PrintError> {
        let rendered = render(document, self.config.width_dots)?;
        let job = encode(&rendered, &self.config.encode)?;
        self.print(journal, job_id, kind, &job, progress)
    }
}

/// The link to the printer broke (as opposed to the printer reporting a fault).
fn lost_link(error: &PrintError) -> bool {
    matches!(
        error,
        PrintError::ConnectionLost { .. }
            | PrintError::Offline(_)
            | PrintError::Io(_)
            | PrintError::Timeout(_)
            | PrintError::StatusUnavailable(_)
    )
}

#[derive(Default)]
struct Sent {
    chunks: usize,
    bytes: usize,
}
