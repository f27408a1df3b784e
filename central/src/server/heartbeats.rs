//! Heartbeats are coalesced: requests hand their heartbeat to one task per
//! process, which writes whatever has queued up as one transaction (one
//! multi-row insert on PostgreSQL) and then answers every request of the batch.
//! Under a quiet fleet a batch is one heartbeat and nothing waits; under 10,000
//! kiosks the store sees a few transactions a second instead of hundreds, and
//! no request takes a lock on a row another kiosk writes.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use super::error::{ApiError, StoreError};
use super::store::{HeartbeatRecord, Store, StoredHeartbeat};

/// Most heartbeats written in one transaction.
const MAX_BATCH: usize = 512;
/// Heartbeats waiting for the writer before senders wait too.
const QUEUE: usize = 8192;

type Job = (
    HeartbeatRecord,
    oneshot::Sender<Result<StoredHeartbeat, ()>>,
);

pub struct HeartbeatBatcher {
    queue: mpsc::Sender<Job>,
}

impl HeartbeatBatcher {
    /// Starts the writer task on the current tokio runtime; it ends when the
    /// batcher is dropped.
    pub fn spawn(store: Arc<dyn Store>) -> HeartbeatBatcher {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(store, jobs));
        HeartbeatBatcher { queue }
    }

    /// Records one heartbeat (or finds the first one with its key) once it is committed.
    pub async fn record(&self, heartbeat: HeartbeatRecord) -> Result<StoredHeartbeat, ApiError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send((heartbeat, answer))
            .await
            .map_err(|_| ApiError::internal())?;
        answered
            .await
            .map_err(|_| ApiError::internal())?
            .map_err(|()| ApiError::internal())
    }
}

async fn write_batches(store: Arc<dyn Store>, mut jobs: mpsc::Receiver<Job>) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let records: Vec<HeartbeatRecord> = batch.iter().map(|(h, _)| h.clone()).collect();
        match store.record_heartbeats(&records).await {
            Ok(stored) => {
                for ((_, answer), stored) in batch.drain(..).zip(stored) {
                    let _ = answer.send(Ok(stored));
                }
            }
            Err(error) => {
                let error: StoreError = error;
                tracing::error!(%error, heartbeats = batch.len(), "heartbeat batch failed");
                for (_, answer) in batch.drain(..) {
                    let _ = answer.send(Err(()));
                }
            }
        }
    }
}

/// How long heartbeats are kept by default: a month of history per kiosk.
pub const DEFAULT_RETENTION: std::time::Duration = std::time::Duration::from_secs(30 * 24 * 3600);
/// Rows deleted per statement, so pruning never holds a long lock.
const PRUNE_BATCH: i64 = 10_000;

/// Deletes heartbeats older than `retention` (a kiosk's newest always stays), a
/// batch at a time; answers how many went. 10,000 kiosks at one heartbeat every
/// 5 minutes write 2.9 million rows a day: without this the table only grows.
pub async fn prune_old_heartbeats(
    store: &dyn Store,
    now: time::OffsetDateTime,
    retention: std::time::Duration,
) -> Result<u64, StoreError> {
    let before = now - retention;
    let mut total = 0;
    loop {
        let deleted = store.prune_heartbeats(before, PRUNE_BATCH).await?;
        total += deleted;
        if deleted < PRUNE_BATCH as u64 {
            return Ok(total);
        }
    }
}
