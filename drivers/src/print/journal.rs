//! The print journal: a durable record (SQLite, WAL) of every job by its id (the
//! request's idempotency key), so a certificate is printed at most once, a crash in
//! the middle of a job is noticed after restart, and failures are kept for the
//! technician.

use super::PrintError;
use rusqlite::{Connection, OptionalExtension, params};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

/// Where a job stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Bytes are (or were, before a crash) on their way to the printer.
    Printing,
    /// The printer took every byte and reported no fault afterwards.
    Printed,
    /// The job stopped for a known reason; it may be tried again.
    Failed,
    /// The process died while printing. The paper may or may not have come out, so
    /// it is not reprinted until someone allows it.
    Interrupted,
    /// Every byte went out, then the printer stopped answering before it confirmed
    /// the job. The paper probably came out; it is not reprinted until the
    /// printer's status or a person says otherwise.
    Unknown,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Printing => "printing",
            JobState::Printed => "printed",
            JobState::Failed => "failed",
            JobState::Interrupted => "interrupted",
            JobState::Unknown => "unknown",
        }
    }

    fn parse(text: &str) -> Result<Self, PrintError> {
        match text {
            "printing" => Ok(JobState::Printing),
            "printed" => Ok(JobState::Printed),
            "failed" => Ok(JobState::Failed),
            "interrupted" => Ok(JobState::Interrupted),
            "unknown" => Ok(JobState::Unknown),
            other => Err(PrintError::Journal(format!("unknown job state {other:?}"))),
        }
    }
}

/// One job as recorded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRecord {
    pub job_id: String,
    /// What was printed ("certificate", "receipt", ...); never personal data.
    pub kind: String,
    pub state: JobState,
    pub attempts: u32,
    pub chunks_total: u64,
    pub chunks_sent: u64,
    pub bytes_sent: u64,
    /// The technician-facing reason of the last failure.
    pub error: Option<String>,
    /// The Fluent id of the last failure's resident-facing message.
    pub error_key: Option<String>,
    /// Unix seconds.
    pub updated_at: i64,
}

/// What [`PrintJournal::begin`] decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Begin {
    /// Go ahead: this is attempt number `attempt`.
    Proceed { attempt: u32 },
    /// Printed before: do not print again.
    AlreadyPrinted,
}

pub struct PrintJournal {
    connection: Mutex<Connection>,
}

impl std::fmt::Debug for PrintJournal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrintJournal")
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS print_jobs (
    job_id       TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    state        TEXT NOT NULL,
    attempts     INTEGER NOT NULL,
    chunks_total INTEGER NOT NULL DEFAULT 0,
    chunks_sent  INTEGER NOT NULL DEFAULT 0,
    bytes_sent   INTEGER NOT NULL DEFAULT 0,
    error        TEXT,
    error_key    TEXT,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

impl PrintJournal {
    /// Opens (or creates) the journal. Jobs left `printing` by a previous process
    /// are marked [`JobState::Interrupted`] straight away.
    pub fn open(path: &Path) -> Result<Self, PrintError> {
        let connection = Connection::open(path)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        // FULL: a job marked printed must survive a power cut right after.
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.busy_timeout(std::time::Duration::from_secs(5))?;
        Self::init(connection)
    }

    /// A journal that lives as long as the value (CLI test pages, tests).
    pub fn in_memory() -> Result<Self, PrintError> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(connection: Connection) -> Result<Self, PrintError> {
        connection.execute_batch(SCHEMA)?;
        let journal = Self {
            connection: Mutex::new(connection),
        };
        journal.recover_interrupted()?;
        Ok(journal)
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks jobs left `printing` as interrupted and returns their ids. Run at start
    /// (open does), before any job of this process begins.
    pub fn recover_interrupted(&self) -> Result<Vec<String>, PrintError> {
        let connection = self.connection();
        let mut statement =
            connection.prepare("SELECT job_id FROM print_jobs WHERE state = 'printing'")?;
        let ids = statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        connection.execute(
            "UPDATE print_jobs SET state = 'interrupted', error = 'the kiosk stopped during the job',
             error_key = 'print-error-needs-staff', updated_at = ?1 WHERE state = 'printing'",
            params![now()],
        )?;
        Ok(ids)
    }

    /// Claims `job_id` for printing. Printed jobs are not printed again; interrupted
    /// ones wait for [`PrintJournal::allow_reprint`].
    pub fn begin(
        &self,
        job_id: &str,
        kind: &str,
        chunks_total: usize,
    ) -> Result<Begin, PrintError> {
        let mut connection = self.connection();
        let transaction =
            connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let existing: Option<(String, u32)> = transaction
            .query_row(
                "SELECT state, attempts FROM print_jobs WHERE job_id = ?1",
                params![job_id],
                |row| Ok((row.get(0)?, row.get(1)?)),
            )
            .optional()?;
        let decision = match existing {
            None => {
                transaction.execute(
                    "INSERT INTO print_jobs (job_id, kind, state, attempts, chunks_total, created_at, updated_at)
                     VALUES (?1, ?2, 'printing', 1, ?3, ?4, ?4)",
                    params![job_id, kind, chunks_total as i64, now()],
                )?;
                Begin::Proceed { attempt: 1 }
            }
            Some((state, attempts)) => match JobState::parse(&state)? {
                JobState::Printed => Begin::AlreadyPrinted,
                JobState::Failed => {
                    transaction.execute(
                        "UPDATE print_jobs SET state = 'printing', attempts = attempts + 1, chunks_total = ?2,
                         chunks_sent = 0, bytes_sent = 0, updated_at = ?3 WHERE job_id = ?1",
                        params![job_id, chunks_total as i64, now()],
                    )?;
                    Begin::Proceed {
                        attempt: attempts + 1,
                    }
                }
                // Another attempt of this very job is under way, or one crashed.
                JobState::Printing | JobState::Interrupted => {
                    return Err(PrintError::Interrupted(job_id.to_owned()));
                }
                JobState::Unknown => {
                    return Err(PrintError::OutcomeUnknown {
                        job_id: job_id.to_owned(),
                        reason: "an earlier attempt was never confirmed".into(),
                    });
                }
            },
        };
        transaction.commit()?;
        Ok(decision)
    }

    /// Records how far a job got (called at status checks, not every band).
    pub fn progress(
        &self,
        job_id: &str,
        chunks_sent: usize,
        bytes_sent: usize,
    ) -> Result<(), PrintError> {
        self.connection().execute(
            "UPDATE print_jobs SET chunks_sent = ?2, bytes_sent = ?3, updated_at = ?4 WHERE job_id = ?1",
            params![job_id, chunks_sent as i64, bytes_sent as i64, now()],
        )?;
        Ok(())
    }

    pub fn mark_printed(
        &self,
        job_id: &str,
        chunks_sent: usize,
        bytes_sent: usize,
    ) -> Result<(), PrintError> {
        self.connection().execute(
            "UPDATE print_jobs SET state = 'printed', chunks_sent = ?2, bytes_sent = ?3, error = NULL,
             error_key = NULL, updated_at = ?4 WHERE job_id = ?1",
            params![job_id, chunks_sent as i64, bytes_sent as i64, now()],
        )?;
        Ok(())
    }

    pub fn mark_failed(
        &self,
        job_id: &str,
        error: &PrintError,
        chunks_sent: usize,
        bytes_sent: usize,
    ) -> Result<(), PrintError> {
        self.connection().execute(
            "UPDATE print_jobs SET state = 'failed', chunks_sent = ?2, bytes_sent = ?3, error = ?4,
             error_key = ?5, updated_at = ?6 WHERE job_id = ?1",
            params![
                job_id,
                chunks_sent as i64,
                bytes_sent as i64,
                error.to_string(),
                error.message_key(),
                now()
            ],
        )?;
        Ok(())
    }

    /// Every byte of the job went out but the printer never confirmed it: kept
    /// for the printer's status or a person to resolve, never reprinted silently.
    pub fn mark_unknown(
        &self,
        job_id: &str,
        error: &PrintError,
        chunks_sent: usize,
        bytes_sent: usize,
    ) -> Result<(), PrintError> {
        self.connection().execute(
            "UPDATE print_jobs SET state = 'unknown', chunks_sent = ?2, bytes_sent = ?3, error = ?4,
             error_key = 'print-error-outcome-unknown', updated_at = ?5 WHERE job_id = ?1",
            params![
                job_id,
                chunks_sent as i64,
                bytes_sent as i64,
                error.to_string(),
                now()
            ],
        )?;
        Ok(())
    }

    /// A person checked the paper and wants an interrupted (or unconfirmed) job
    /// printed again.
    pub fn allow_reprint(&self, job_id: &str) -> Result<bool, PrintError> {
        let changed = self.connection().execute(
            "UPDATE print_jobs SET state = 'failed', updated_at = ?2 WHERE job_id = ?1 AND state IN ('interrupted', 'unknown')",
            params![job_id, now()],
        )?;
        Ok(changed == 1)
    }

    /// Deletes settled jobs (printed, failed, unknown, interrupted) last touched
    /// before `before` (unix seconds): the retention rule that keeps the journal
    /// from growing. A job still `printing` is never deleted. Job ids are never
    /// reused, so a pruned id cannot be printed again by mistake. Returns how many
    /// rows went.
    pub fn prune(&self, before: i64) -> Result<usize, PrintError> {
        Ok(self.connection().execute(
            "DELETE FROM print_jobs WHERE state <> 'printing' AND updated_at < ?1",
            params![before],
        )?)
    }

    /// Copies the write-ahead log into the database and truncates it.
    pub fn checkpoint(&self) -> Result<(), PrintError> {
        self.connection()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub fn get(&self, job_id: &str) -> Result<Option<JobRecord>, PrintError> {
        let connection = self.connection();
        let row = connection
            .query_row(
                "SELECT job_id, kind, state, attempts, chunks_total, chunks_sent, bytes_sent, error, error_key,
                 updated_at FROM print_jobs WHERE job_id = ?1",
                params![job_id],
                |row| {
                    Ok((
                        row.get::<_, String>(0)?,
                        row.get::<_, String>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, u32>(3)?,
                        row.get::<_, i64>(4)?,
                        row.get::<_, i64>(5)?,
                        row.get::<_, i64>(6)?,
                        row.get::<_, Option<String>>(7)?,
                        row.get::<_, Option<String>>(8)?,
                        row.get::<_, i64>(9)?,
                    ))
                },
            )
            .optional()?;
        row.map(
            |(job_id, kind, state, attempts, total, sent, bytes, error, error_key, updated_at)| {
                Ok(JobRecord {
                    job_id,
                    kind,
                    state: JobState::parse(&state)?,
                    attempts,
                    chunks_total: total.max(0) as u64,
                    chunks_sent: sent.max(0) as u64,
                    bytes_sent: bytes.max(0) as u64,
                    error,
                    error_key,
                    updated_at,
                })
            },
        )
        .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_printed_job_is_not_printed_again() {
        let journal = PrintJournal::in_memory().unwrap();
        assert_eq!(
            journal.begin("job-1", "certificate", 10).unwrap(),
            Begin::Proceed { attempt: 1 }
        );
        journal.mark_printed("job-1", 10, 5000).unwrap();
        assert_eq!(
            journal.begin("job-1", "certificate", 10).unwrap(),
            Begin::AlreadyPrinted
        );
    }

    #[test]
    fn a_failed_job_may_be_retried_and_counts_attempts() {
        let journal = PrintJournal::in_memory().unwrap();
        journal.begin("job-2", "receipt", 4).unwrap();
        journal
            .mark_failed("job-2", &PrintError::PaperOut, 0, 0)
            .unwrap();
        let record = journal.get("job-2").unwrap().unwrap();
        assert_eq!(record.state, JobState::Failed);
        assert_eq!(record.error_key.as_deref(), Some("print-error-paper-out"));
        assert_eq!(
            journal.begin("job-2", "receipt", 4).unwrap(),
            Begin::Proceed { attempt: 2 }
        );
    }

    #[test]
    fn a_job_left_printing_is_interrupted_after_restart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.sqlite");
        {
            let journal = PrintJournal::open(&path).unwrap();
            journal.begin("job-3", "certificate", 8).unwrap();
            journal.progress("job-3", 3, 1200).unwrap();
        }
        let journal = PrintJournal::open(&path).unwrap();
        let record = journal.get("job-3").unwrap().unwrap();
        assert_eq!(record.state, JobState::Interrupted);
        assert_eq!(record.chunks_sent, 3);
        assert!(matches!(
            journal.begin("job-3", "certificate", 8),
            Err(PrintError::Interrupted(_))
        ));
        assert!(journal.allow_reprint("job-3").unwrap());
        assert_eq!(
            journal.begin("job-3", "certificate", 8).unwrap(),
            Begin::Proceed { attempt: 2 }
        );
    }
}
