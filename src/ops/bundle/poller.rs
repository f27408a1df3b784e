//! Background fetch of the signed configuration from the central service.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::store::{ApplyOutcome, BundleStore};
use crate::central_client::{CentralClient, ConfigFetch};

/// What the last poll found, for the maintenance screen and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollStatus {
    /// Completed polls (whatever their result).
    pub polls: u64,
    /// Version in force after the last poll.
    pub version: Option<u64>,
    /// Why the last bundle offered was refused, if it was (stable code and text).
    pub last_rejection: Option<(String, String)>,
    /// The version the refused bundle claims (unverified: it may be the forgery's).
    pub rejected_version: Option<u64>,
    /// The last network or service error, cleared by a successful poll.
    pub last_error: Option<String>,
}

/// Stops the poller; dropping it stops it too.
pub struct PollerHandle {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
    status: watch::Receiver<PollStatus>,
}

impl PollerHandle {
    pub fn status(&self) -> watch::Receiver<PollStatus> {
        self.status.clone()
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for PollerHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Polls `/v1/config` now and then every `interval`, with the ETag of the last
/// bundle seen (applied or refused, so a refused bundle is neither downloaded
/// nor logged again until it changes). A refused bundle is logged with its
/// reason and the kiosk keeps the one in force. Must be called inside a tokio
/// runtime.
pub fn spawn_config_poller(
    client: CentralClient,
    store: Arc<BundleStore>,
    interval: Duration,
) -> PollerHandle {
    let (stop, mut stopped) = oneshot::channel();
    let (status_tx, status) = watch::channel(PollStatus {
        version: store.current_version(),
        ..PollStatus::default()
    });
    let task = tokio::spawn(async move {
        let mut etag: Option<String> = None;
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stopped => break,
                _ = ticker.tick() => {}
            }
            let mut status = status_tx.borrow().clone();
            status.polls += 1;
            match client.config(etag.as_deref()).await {
                Ok(ConfigFetch::NotModified) => status.last_error = None,
                Ok(ConfigFetch::Fetched { etag: tag, config }) => {
                    status.last_error = None;
                    etag = tag;
                    let claimed = serde_json::from_str::<serde_json::Value>(&config.payload)
                        .ok()
                        .and_then(|payload| payload.get("version").and_then(|v| v.as_u64()));
                    let bytes = serde_json::to_vec(&config).unwrap_or_default();
                    let store = store.clone();
                    let result = tokio::task::spawn_blocking(move || store.apply(&bytes)).await;
                    match result {
                        Ok(Ok(ApplyOutcome::Applied { .. } | ApplyOutcome::Unchanged { .. })) => {
                            status.last_rejection = None;
                            status.rejected_version = None;
                        }
                        Ok(Err(error)) => {
                            tracing::warn!(
                                code = error.code(),
                                reason = %error,
                                "configuration bundle refused; keeping the one in force"
                            );
                            status.last_rejection =
                                Some((error.code().to_owned(), error.to_string()));
                            status.rejected_version = claimed;
                        }
                        Err(_) => status.last_error = Some("the apply task failed".into()),
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "configuration poll failed");
                    status.last_error = Some(error.to_string());
                }
            }
            status.version = store.current_version();
            status_tx.send_replace(status);
        }
    });
    PollerHandle {
        stop: Some(stop),
        task: Some(task),
        status,
    }
}
