//! Reader and card events from `SCardGetStatusChange`.
//!
//! The monitor blocks in `SCardGetStatusChange` on every reader plus the PnP
//! notification pseudo-reader, so insertions, removals and readers coming and
//! going wake it up; nothing is polled. When pcscd goes away (restart, crash)
//! every known reader is reported removed and the monitor re-establishes its
//! context with a capped backoff, then reports the readers it finds again.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::Duration;

use super::identity::{CardError, CardEvent};

/// Longest single wait in `SCardGetStatusChange`. Events end a wait at once and
/// a cancel is repeated until it lands, so this is only a last-resort bound on
/// how late the monitor can notice a cancel.
const WAIT_SLICE: Duration = Duration::from_secs(5);
/// Interval at which a cancel is repeated until the monitor stops.
const CANCEL_RETRY: Duration = Duration::from_millis(20);
/// Backoff between attempts to reach pcscd while it is away.
const RECONNECT_MIN: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Shared {
    cancelled: AtomicBool,
    /// The context currently waiting, so a canceller can interrupt it.
    context: Mutex<Option<pcsc::Context>>,
    /// Wakes the reconnect backoff on cancel.
    wake: Condvar,
    wake_lock: Mutex<()>,
}

/// Stops a running [`CardMonitor`] from another thread. Cheap to clone.
#[derive(Clone)]
pub struct MonitorCanceller {
    shared: Arc<Shared>,
}

impl MonitorCanceller {
    /// Makes [`CardMonitor::run`] return `Ok(())` soon; idempotent and
    /// non-blocking.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        if self.interrupt_wait() {
            // pcsc-lite ignores a cancel that arrives before the wait has
            // started, so a helper repeats it until the monitor lets go of its
            // context (the monitor clears the slot when it stops watching).
            let shared = Arc::clone(&self.shared);
            let _ = std::thread::Builder::new()
                .name("card-monitor-cancel".into())
                .spawn(move || {
                    let canceller = MonitorCanceller { shared };
                    let deadline = std::time::Instant::now() + WAIT_SLICE;
                    while std::time::Instant::now() < deadline {
                        let guard = canceller
                            .shared
                            .wake_lock
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner);
                        let _ = canceller.shared.wake.wait_timeout(guard, CANCEL_RETRY);
                        if !canceller.interrupt_wait() {
                            break;
                        }
                    }
                });
        }
        let _guard = self
            .shared
            .wake_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.shared.wake.notify_all();
    }

    /// Cancels the monitor's pending wait; false once it holds no context.
    fn interrupt_wait(&self) -> bool {
        match self
            .shared
            .context
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            Some(context) => {
                let _ = context.cancel();
                true
            }
            None => false,
        }
    }
}

impl std::fmt::Debug for MonitorCanceller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MonitorCanceller")
            .field("cancelled", &self.shared.cancelled.load(Ordering::SeqCst))
            .finish()
    }
}

/// Watches every reader and reports [`CardEvent`]s until cancelled.
///
/// ```no_run
/// use estation_drivers::card::{CardMonitor, CardEvent};
/// let mut monitor = CardMonitor::new()?;
/// let canceller = monitor.canceller();
/// std::thread::spawn(move || {
///     // ... later, from anywhere:
///     canceller.cancel();
/// });
/// monitor.run(&mut |event| match event {
///     CardEvent::CardInserted { reader, .. } => println!("card in {reader}"),
///     other => println!("{other:?}"),
/// })?;
/// # Ok::<(), estation_drivers::card::CardError>(())
/// ```
pub struct CardMonitor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for CardMonitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CardMonitor").finish_non_exhaustive()
    }
}

/// What the monitor believes about one reader.
struct Tracked {
    state: pcsc::ReaderState,
    /// `Some(event count)` while a card is in the reader.
    card: Option<u32>,
}

impl CardMonitor {
    /// A monitor; it does not need pcscd to be running yet (it waits for it).
    pub fn new() -> Result<Self, CardError> {
        Ok(Self {
            shared: Arc::new(Shared::default()),
        })
    }

    pub fn canceller(&self) -> MonitorCanceller {
        MonitorCanceller {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Blocks, calling `on_event` for each change, until cancelled. Readers and
    /// cards present at start are reported as added and inserted. Returns
    /// `Ok(())` once cancelled; it survives pcscd restarts on its own.
    pub fn run(&mut self, on_event: &mut dyn FnMut(CardEvent)) -> Result<(), CardError> {
        let mut backoff = RECONNECT_MIN;
        while !self.cancelled() {
            let context = match pcsc::Context::establish(pcsc::Scope::System) {
                Ok(context) => context,
                Err(error) => {
                    tracing::debug!(%error, "PC/SC service not reachable; retrying");
                    self.pause(backoff);
                    backoff = (backoff * 2).min(RECONNECT_MAX);
                    continue;
                }
            };
            backoff = RECONNECT_MIN;
            {
                let mut slot = self
                    .shared
                    .context
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                if self.cancelled() {
                    break;
                }
                *slot = Some(context.clone());
            }
            let mut readers = BTreeMap::new();
            let outcome = self.watch(&context, &mut readers, on_event);
            *self
                .shared
                .context
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = None;
            // Whatever ended the watch, the kiosk must not believe in cards or
            // readers it can no longer see.
            for (name, tracked) in std::mem::take(&mut readers) {
                if tracked.card.is_some() {
                    on_event(CardEvent::CardRemoved {
                        reader: name.clone(),
                    });
                }
                on_event(CardEvent::ReaderRemoved { reader: name });
            }
            if let Err(error) = outcome {
                tracing::warn!(%error, "PC/SC service lost; reconnecting");
                self.pause(RECONNECT_MIN);
            }
        }
        Ok(())
    }

    fn cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Waits for `duration` or until cancelled.
    fn pause(&self, duration: Duration) {
        let guard = self
            .shared
            .wake_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.cancelled() {
            return;
        }
        let _ = self
            .shared
            .wake
            .wait_timeout_while(guard, duration, |_| !self.cancelled());
    }

    /// Watches until cancelled (`Ok`) or the service is lost (`Err`).
    fn watch(
        &self,
        context: &pcsc::Context,
        readers: &mut BTreeMap<String, Tracked>,
        on_event: &mut dyn FnMut(CardEvent),
    ) -> Result<(), pcsc::Error> {
        // pcsc-lite reports the PnP pseudo-reader only when readers come or go,
        // so starting from UNAWARE does not wake the first wait.
        let mut pnp = pcsc::ReaderState::new(pcsc::PNP_NOTIFICATION(), pcsc::State::UNAWARE);
        refresh_readers(context, readers, on_event)?;
        loop {
            if self.cancelled() {
                return Ok(());
            }
            let mut states: Vec<pcsc::ReaderState> = Vec::with_capacity(readers.len() + 1);
            states.push(pcsc::ReaderState::new(
                pcsc::PNP_NOTIFICATION(),
                pnp.current_state(),
            ));
            for tracked in readers.values() {
                states.push(pcsc::ReaderState::new(
                    tracked.state.name().to_owned(),
                    tracked.state.current_state(),
                ));
            }
            match context.get_status_change(WAIT_SLICE, &mut states) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => continue,
                Err(pcsc::Error::Cancelled) if self.cancelled() => return Ok(()),
                Err(pcsc::Error::Cancelled) => continue,
                Err(pcsc::Error::UnknownReader) => {
                    refresh_readers(context, readers, on_event)?;
                    continue;
                }
                Err(e) => return Err(e),
            }
            let mut states = states.into_iter();
            let mut rescan = false;
            if let Some(mut pnp_now) = states.next() {
                if pnp_now.event_state().contains(pcsc::State::CHANGED) {
                    rescan = true;
                }
                pnp_now.sync_current_state();
                pnp = pnp_now;
            }
            for mut state in states {
                let name = state.name().to_string_lossy().into_owned();
                let event = state.event_state();
                if event.intersects(pcsc::State::UNKNOWN | pcsc::State::IGNORE) {
                    rescan = true;
                    continue;
                }
                let Some(tracked) = readers.get_mut(&name) else {
                    continue;
                };
                if event.contains(pcsc::State::CHANGED) {
                    update_card(&name, &state, tracked, on_event);
                    state.sync_current_state();
                    tracked.state = state;
                }
            }
            if rescan {
                refresh_readers(context, readers, on_event)?;
            }
        }
    }
}

/// Reports the card change a reader state shows, if any.
fn update_card(
    name: &str,
    state: &pcsc::ReaderState,
    tracked: &mut Tracked,
    on_event: &mut dyn FnMut(CardEvent),
) {
    let event = state.event_state();
    let now = event
        .contains(pcsc::State::PRESENT)
        .then(|| state.event_count());
    match (tracked.card, now) {
        (None, Some(_)) => on_event(CardEvent::CardInserted {
            reader: name.to_owned(),
            atr: state.atr().to_vec(),
        }),
        (Some(_), None) => on_event(CardEvent::CardRemoved {
            reader: name.to_owned(),
        }),
        // The count moved by two or more while the card is still present: it was
        // swapped between two waits.
        (Some(before), Some(after)) if after.wrapping_sub(before) >= 2 => {
            on_event(CardEvent::CardRemoved {
                reader: name.to_owned(),
            });
            on_event(CardEvent::CardInserted {
                reader: name.to_owned(),
                atr: state.atr().to_vec(),
            });
        }
        _ => {}
    }
    tracked.card = now;
}

/// Brings the reader list in line with pcscd's, reporting added and removed readers.
fn refresh_readers(
    context: &pcsc::Context,
    readers: &mut BTreeMap<String, Tracked>,
    on_event: &mut dyn FnMut(CardEvent),
) -> Result<(), pcsc::Error> {
    let names: Vec<CString> = match context.list_readers_owned() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => Vec::new(),
        Err(e) => return Err(e),
    };
    let current: Vec<String> = names
        .iter()
        .map(|n| n.to_string_lossy().into_owned())
        .collect();
    let gone: Vec<String> = readers
        .keys()
        .filter(|name| !current.contains(name))
        .cloned()
        .collect();
    for name in gone {
        if let Some(tracked) = readers.remove(&name)
            && tracked.card.is_some()
        {
            on_event(CardEvent::CardRemoved {
                reader: name.clone(),
            });
        }
        on_event(CardEvent::ReaderRemoved { reader: name });
    }
    let mut added = Vec::new();
    for (name, c_name) in current.iter().zip(names) {
        if !readers.contains_key(name) {
            added.push((
                name.clone(),
                pcsc::ReaderState::new(c_name, pcsc::State::UNAWARE),
            ));
        }
    }
    if added.is_empty() {
        return Ok(());
    }
    let mut states: Vec<pcsc::ReaderState> = added
        .iter()
        .map(|(_, s)| pcsc::ReaderState::new(s.name().to_owned(), pcsc::State::UNAWARE))
        .collect();
    // A reader pcscd is still bringing up can make even a zero-timeout query
    // time out; its card state then arrives with the next wait instead.
    let known = match context.get_status_change(Duration::ZERO, &mut states) {
        Ok(()) => true,
        Err(pcsc::Error::Timeout) => false,
        Err(e) => return Err(e),
    };
    for mut state in states {
        let name = state.name().to_string_lossy().into_owned();
        on_event(CardEvent::ReaderAdded {
            reader: name.clone(),
        });
        let mut tracked = Tracked {
            state: pcsc::ReaderState::new(state.name().to_owned(), pcsc::State::UNAWARE),
            card: None,
        };
        if known {
            update_card(&name, &state, &mut tracked, on_event);
            state.sync_current_state();
            tracked.state = state;
        }
        readers.insert(name, tracked);
    }
    Ok(())
}
