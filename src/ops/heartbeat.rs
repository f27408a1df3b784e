//! The periodic heartbeat: device health, versions, the configuration version
//! in force, the outbox backlog and the last self-test, queued in the durable
//! outbox so it reaches the central service whenever the network allows.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use estation_central::wire::{DeviceHealth, DeviceStatus, Heartbeat};
use time::OffsetDateTime;
use tokio::sync::{Notify, oneshot, watch};
use tokio::task::JoinHandle;

use crate::central_client::outbox::{Outbox, OutboxError, OutboxKind, OutboxStatus};
use crate::ops::bundle::BundleStore;
use crate::ops::bundle::poller::PollStatus;
use crate::ops::selftest::SelftestReport;

/// The central service accepts at most this many device entries.
pub const MAX_DEVICES: usize = 64;

/// What the kiosk knows about itself when a heartbeat is due.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeartbeatSnapshot {
    pub config_version: Option<u64>,
    pub devices: Vec<DeviceHealth>,
}

#[derive(Default)]
struct BoardState {
    selftest: Option<SelftestReport>,
    live: BTreeMap<String, DeviceHealth>,
}

/// Collects health as it is learnt: the last self-test, and live states the
/// kiosk observes between tests (a print job that met paper end, a reader
/// unplugged). [`HealthBoard::snapshot`] is the usual heartbeat source.
#[derive(Default)]
pub struct HealthBoard {
    state: Mutex<BoardState>,
    bundle: Option<Arc<BundleStore>>,
    /// Asks the heartbeat task for a heartbeat now rather than at its next tick.
    urgent: Notify,
}

impl std::fmt::Debug for HealthBoard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HealthBoard").finish_non_exhaustive()
    }
}

impl HealthBoard {
    /// A board that reads the configuration version from `bundle`.
    pub fn new(bundle: Option<Arc<BundleStore>>) -> HealthBoard {
        HealthBoard {
            state: Mutex::default(),
            bundle,
            urgent: Notify::new(),
        }
    }

    /// Something the fleet should hear about soon happened (a bundle applied or
    /// refused): the heartbeat task sends one at once.
    pub fn heartbeat_soon(&self) {
        self.urgent.notify_one();
    }

    /// Waits for [`HealthBoard::heartbeat_soon`].
    pub async fn heartbeat_requested(&self) {
        self.urgent.notified().await;
    }

    fn lock(&self) -> MutexGuard<'_, BoardState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Keeps a self-test's result for the next heartbeat.
    pub fn set_selftest(&self, report: SelftestReport) {
        let mut state = self.lock();
        // The new test supersedes live device states learnt before it; a refused
        // bundle stays reported until the poller learns better.
        state.live.retain(|device, _| device == "config");
        state.selftest = Some(report);
    }

    pub fn last_selftest(&self) -> Option<SelftestReport> {
        self.lock().selftest.clone()
    }

    /// Records a device's live state; it overrides the self-test's entry for
    /// the same device until the next self-test.
    pub fn set_device(&self, health: DeviceHealth) {
        self.lock().live.insert(health.device.clone(), health);
    }

    pub fn snapshot(&self) -> HeartbeatSnapshot {
        let state = self.lock();
        let mut devices: BTreeMap<String, DeviceHealth> = state
            .selftest
            .iter()
            .flat_map(SelftestReport::device_health)
            .map(|d| (d.device.clone(), d))
            .collect();
        for (name, health) in &state.live {
            devices.insert(name.clone(), health.clone());
        }
        HeartbeatSnapshot {
            config_version: self
                .bundle
                .as_ref()
                .and_then(|b| b.current_version())
                .or_else(|| state.selftest.as_ref().and_then(|r| r.config_version)),
            devices: devices.into_values().take(MAX_DEVICES).collect(),
        }
    }
}

/// The heartbeat for `snapshot` with the outbox's state: its backlog, and an
/// `outbox` entry among the devices that names refused entries and a failing
/// sender, so the fleet page shows what only the kiosk's log knew.
pub fn build_heartbeat(
    snapshot: HeartbeatSnapshot,
    outbox: &OutboxStatus,
    now: OffsetDateTime,
) -> Heartbeat {
    let mut devices = snapshot.devices;
    devices.retain(|d| d.device != "outbox");
    devices.truncate(MAX_DEVICES - 1);
    let (status, detail) = if outbox.sender_failures > 0 {
        (DeviceStatus::Error, Some("sender-failing".to_owned()))
    } else if outbox.rejected > 0 {
        (
            DeviceStatus::Warning,
            Some(format!("rejected-{}", outbox.rejected)),
        )
    } else {
        (DeviceStatus::Ok, None)
    };
    devices.push(DeviceHealth {
        device: "outbox".into(),
        status,
        detail,
    });
    Heartbeat {
        sent_at: now,
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
        config_version: snapshot.config_version,
        outbox_backlog: u32::try_from(outbox.backlog).unwrap_or(u32::MAX),
        devices,
    }
}

/// Queues one heartbeat unless one is already waiting in the outbox (a kiosk
/// offline for a week would otherwise come back with thousands of them).
/// Returns whether one was queued.
pub fn enqueue_heartbeat(
    outbox: &Outbox,
    snapshot: HeartbeatSnapshot,
) -> Result<bool, OutboxError> {
    let pending = outbox.pending()?;
    if pending.iter().any(|e| e.kind == OutboxKind::Heartbeat) {
        return Ok(false);
    }
    let mut status = *outbox.status().borrow();
    status.backlog = pending.len();
    let heartbeat = build_heartbeat(snapshot, &status, OffsetDateTime::now_utc());
    outbox.enqueue_heartbeat(&heartbeat)?;
    Ok(true)
}

/// Stops the heartbeat task; dropping it stops the task too.
pub struct HeartbeatHandle {
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl HeartbeatHandle {
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for HeartbeatHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Queues a heartbeat at once and then every `interval`, built from
/// `snapshot_fn` (typically `move || board.snapshot()`). Must be called inside
/// a tokio runtime; the outbox's sender delivers them.
pub fn spawn_heartbeat<F>(
    outbox: Arc<Outbox>,
    interval: Duration,
    snapshot_fn: F,
) -> HeartbeatHandle
where
    F: Fn() -> HeartbeatSnapshot + Send + Sync + 'static,
{
    spawn_heartbeat_with(outbox, interval, None, snapshot_fn)
}

/// [`spawn_heartbeat`], plus a heartbeat whenever `board` asks for one
/// ([`HealthBoard::heartbeat_soon`]).
pub fn spawn_board_heartbeat(
    outbox: Arc<Outbox>,
    interval: Duration,
    board: Arc<HealthBoard>,
) -> HeartbeatHandle {
    let source = board.clone();
    spawn_heartbeat_with(outbox, interval, Some(board), move || source.snapshot())
}

fn spawn_heartbeat_with<F>(
    outbox: Arc<Outbox>,
    interval: Duration,
    board: Option<Arc<HealthBoard>>,
    snapshot_fn: F,
) -> HeartbeatHandle
where
    F: Fn() -> HeartbeatSnapshot + Send + Sync + 'static,
{
    let (stop, mut stopped) = oneshot::channel();
    let snapshot_fn = Arc::new(snapshot_fn);
    let task = tokio::spawn(async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let requested = async {
                match &board {
                    Some(board) => board.heartbeat_requested().await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = &mut stopped => break,
                _ = ticker.tick() => {}
                () = requested => {}
            }
            let outbox = outbox.clone();
            let snapshot_fn = snapshot_fn.clone();
            let result =
                tokio::task::spawn_blocking(move || enqueue_heartbeat(&outbox, snapshot_fn()))
                    .await;
            match result {
                Ok(Ok(queued)) => tracing::debug!(queued, "heartbeat due"),
                Ok(Err(error)) => tracing::warn!(%error, "heartbeat could not be queued"),
                // The runtime is shutting down under it: the kiosk is stopping.
                Err(error) if error.is_cancelled() => break,
                Err(error) => tracing::warn!(%error, "heartbeat task failed"),
            }
        }
    });
    HeartbeatHandle {
        stop: Some(stop),
        task: Some(task),
    }
}

/// The `config` entry of the heartbeat for what the poller found: an error
/// naming the refused bundle while the kiosk keeps the one in force.
pub fn config_health(status: &PollStatus, now: OffsetDateTime) -> DeviceHealth {
    match &status.last_rejection {
        Some((code, _)) => DeviceHealth {
            device: "config".into(),
            status: DeviceStatus::Error,
            detail: Some(format!(
                "refused {}: {code} at {}; running {}",
                status
                    .rejected_version
                    .map_or_else(|| "a bundle".to_owned(), |v| format!("v{v}")),
                now.format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                status
                    .version
                    .map_or_else(|| "built-in defaults".to_owned(), |v| format!("v{v}")),
            )),
        },
        None => DeviceHealth {
            device: "config".into(),
            status: DeviceStatus::Ok,
            detail: status.version.map(|v| format!("v{v}")),
        },
    }
}

/// Follows the configuration poller: whenever the bundle in force changes or
/// one is refused, the board's `config` entry says so and a heartbeat goes at
/// once, so the fleet page hears in seconds, not at the next interval.
pub fn follow_config_poller(
    board: Arc<HealthBoard>,
    mut status: watch::Receiver<PollStatus>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut seen = {
            let s = status.borrow_and_update();
            (s.version, s.last_rejection.clone(), s.rejected_version)
        };
        while status.changed().await.is_ok() {
            let current = status.borrow_and_update().clone();
            let key = (
                current.version,
                current.last_rejection.clone(),
                current.rejected_version,
            );
            if key == seen {
                continue;
            }
            seen = key;
            board.set_device(config_health(&current, OffsetDateTime::now_utc()));
            board.heartbeat_soon();
        }
    })
}
