//! Retention: a kiosk nobody restarts must not keep every delivered outbox entry
//! and every print job forever. Delivered (and rejected) outbox rows and settled
//! print-journal rows older than the configured number of days are deleted, and
//! both SQLite write-ahead logs are checkpointed and truncated, on a timer.

use std::sync::Arc;
use std::time::Duration;

use estation_drivers::print::{PrintError, PrintJournal};

use crate::central_client::outbox::{Outbox, OutboxError};

/// How long settled rows are kept, in days (`[retention]` in kiosk.toml).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionPolicy {
    /// Delivered outbox entries: the receipts the central service gave.
    pub outbox_delivered_days: u32,
    /// Rejected outbox entries (kept longer: a technician may need to look).
    pub outbox_rejected_days: u32,
    /// Settled print jobs (printed, failed, unknown, interrupted).
    pub print_journal_days: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            outbox_delivered_days: 7,
            outbox_rejected_days: 30,
            print_journal_days: 30,
        }
    }
}

/// How often the running kiosk prunes.
pub const PRUNE_INTERVAL: Duration = Duration::from_secs(3600);

#[derive(Debug, thiserror::Error)]
pub enum RetentionError {
    #[error("pruning the outbox: {0}")]
    Outbox(#[from] OutboxError),
    #[error("pruning the print journal: {0}")]
    Journal(#[from] PrintError),
}

/// What one prune removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub outbox_rows: usize,
    pub journal_rows: usize,
}

const DAY: i64 = 86_400;

/// Prunes both stores as of `now` (unix seconds) and checkpoints their WALs.
pub fn prune(
    policy: &RetentionPolicy,
    outbox: &Outbox,
    journal: Option<&PrintJournal>,
    now: i64,
) -> Result<Pruned, RetentionError> {
    let outbox_rows = outbox.prune(
        now - i64::from(policy.outbox_delivered_days) * DAY,
        now - i64::from(policy.outbox_rejected_days) * DAY,
    )?;
    outbox.checkpoint()?;
    let mut journal_rows = 0;
    if let Some(journal) = journal {
        journal_rows = journal.prune(now - i64::from(policy.print_journal_days) * DAY)?;
        journal.checkpoint()?;
    }
    Ok(Pruned {
        outbox_rows,
        journal_rows,
    })
}

/// Something that holds a print journal (the kiosk's journaled printer).
pub trait HasJournal: Send + Sync + 'static {
    fn journal(&self) -> &PrintJournal;
}

impl HasJournal for crate::kiosk::printer::JournaledPrinter {
    fn journal(&self) -> &PrintJournal {
        crate::kiosk::printer::JournaledPrinter::journal(self)
    }
}

/// Prunes at once and then every `interval` on the current tokio runtime, off
/// the async threads (SQLite is blocking). Runs for as long as the runtime.
pub fn spawn_retention(
    policy: RetentionPolicy,
    outbox: Arc<Outbox>,
    journal: Option<Arc<dyn HasJournal>>,
    interval: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            let (outbox, journal) = (outbox.clone(), journal.clone());
            let done = tokio::task::spawn_blocking(move || {
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                prune(
                    &policy,
                    &outbox,
                    journal.as_deref().map(|j| j.journal()),
                    now,
                )
            })
            .await;
            match done {
                Ok(Ok(pruned)) => tracing::info!(
                    outbox_rows = pruned.outbox_rows,
                    journal_rows = pruned.journal_rows,
                    "retention: pruned settled rows"
                ),
                Ok(Err(error)) => tracing::warn!(%error, "retention: pruning failed"),
                Err(error) => tracing::warn!(%error, "retention: the pruning task failed"),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prunes_old_settled_jobs_and_keeps_recent_ones() {
        let dir = tempfile::tempdir().expect("temp dir");
        let outbox = Outbox::open(&dir.path().join("outbox.sqlite")).expect("outbox");
        let journal = PrintJournal::open(&dir.path().join("journal.sqlite")).expect("journal");
        let policy = RetentionPolicy::default();
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        // Nothing is old yet.
        let pruned = prune(&policy, &outbox, Some(&journal), now).expect("prune");
        assert_eq!(pruned, Pruned::default());
        // Seen from 31 days later, a settled job is past the journal's 30 days.
        journal
            .begin("certificate-1", "certificate", 1)
            .expect("begin");
        journal
            .mark_failed("certificate-1", &PrintError::PaperOut, 0, 0)
            .expect("failed");
        let later = now + 31 * DAY;
        let pruned = prune(&policy, &outbox, Some(&journal), later).expect("prune");
        assert_eq!(pruned.journal_rows, 1);
        assert!(journal.get("certificate-1").expect("get").is_none());
    }
}
