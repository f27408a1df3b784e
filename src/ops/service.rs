//! The service manager's side of a kiosk's life (systemd's `sd_notify` protocol):
//! `READY=1` once the first frame is on the panel, `STATUS=` lines a technician
//! reads in `systemctl status`, and `WATCHDOG=1` pings sent from the UI thread
//! while the background runtime is alive too, so that a frozen UI or a wedged
//! runtime is killed and restarted. Nothing is sent when `NOTIFY_SOCKET` is unset
//! (a developer's desktop, the tests), and never anything personal.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Talks to the service manager that started this process.
#[derive(Debug)]
pub struct ServiceManager {
    /// How long the manager waits for a ping before it kills the kiosk.
    watchdog_timeout: Option<Duration>,
    last_status: std::cell::RefCell<String>,
}

impl ServiceManager {
    /// The manager named by `NOTIFY_SOCKET`, if any, with its watchdog timeout
    /// (`WATCHDOG_USEC`, when `WATCHDOG_PID` is unset or this process).
    pub fn from_environment() -> Option<ServiceManager> {
        std::env::var_os("NOTIFY_SOCKET")?;
        Some(ServiceManager {
            watchdog_timeout: watchdog_timeout(),
            last_status: std::cell::RefCell::new(String::new()),
        })
    }

    /// The kiosk is serving: its first frame is on the panel.
    pub fn ready(&self) {
        send(&Message::Ready);
    }

    /// Sends `text` as the service's status line, once per change.
    pub fn status(&self, text: &str) {
        if *self.last_status.borrow() != text {
            send(&Message::Status(text));
            *self.last_status.borrow_mut() = text.to_owned();
        }
    }

    /// How often to ping: half the manager's timeout, so one late ping is not
    /// fatal. `None` when the manager runs no watchdog.
    pub fn ping_interval(&self) -> Option<Duration> {
        self.watchdog_timeout.map(|timeout| timeout / 2)
    }

    /// Pings the watchdog if the background runtime has shown signs of life
    /// within the watchdog's timeout; otherwise stays silent so that the manager
    /// restarts the kiosk.
    pub fn ping_if_alive(&self, runtime: &Liveness) {
        let timeout = self.watchdog_timeout.unwrap_or(Duration::from_secs(30));
        if runtime.since_last_beat() < timeout {
            send(&Message::Watchdog);
        } else {
            tracing::error!("the background runtime stopped answering; not pinging the watchdog");
        }
    }

    /// The kiosk is stopping on purpose.
    pub fn stopping(&self) {
        send(&Message::Stopping);
    }
}

/// When the background runtime last showed it can still run tasks.
#[derive(Clone, Debug)]
pub struct Liveness {
    started: Instant,
    last_beat_ms: Arc<AtomicU64>,
}

impl Liveness {
    /// Starts a task on `runtime` that beats every second.
    pub fn watch(runtime: &tokio::runtime::Handle) -> Liveness {
        let liveness = Liveness {
            started: Instant::now(),
            last_beat_ms: Arc::new(AtomicU64::new(0)),
        };
        let beating = liveness.clone();
        runtime.spawn(async move {
            let mut ticker = tokio::time::interval(Duration::from_secs(1));
            loop {
                ticker.tick().await;
                beating.beat();
            }
        });
        liveness
    }

    fn beat(&self) {
        let now = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_beat_ms.store(now, Ordering::Relaxed);
    }

    fn since_last_beat(&self) -> Duration {
        let now = self.started.elapsed();
        now.saturating_sub(Duration::from_millis(
            self.last_beat_ms.load(Ordering::Relaxed),
        ))
    }
}

enum Message<'a> {
    Ready,
    Status(&'a str),
    Watchdog,
    Stopping,
}

#[cfg(unix)]
fn send(message: &Message<'_>) {
    use sd_notify::NotifyState;
    let state = match message {
        Message::Ready => NotifyState::Ready,
        Message::Status(text) => NotifyState::Status(text),
        Message::Watchdog => NotifyState::Watchdog,
        Message::Stopping => NotifyState::Stopping,
    };
    if let Err(error) = sd_notify::notify(&[state]) {
        tracing::warn!(%error, "the service manager could not be told");
    }
}

#[cfg(not(unix))]
fn send(_message: &Message<'_>) {}

#[cfg(unix)]
fn watchdog_timeout() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}

#[cfg(not(unix))]
fn watchdog_timeout() -> Option<Duration> {
    None
}
