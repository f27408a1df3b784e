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
