//! The scanner loop: open the device named by the URI, frame what it sends into
//! codes, report [`ScanEvent`]s, and reopen it whenever it is absent or lost.
//!
//! Reads wait at most [`READ_SLICE`] at a time, so a cancel is noticed within
//! that bound without any device-specific wake-up; data ends a wait at once, so
//! the slice adds nothing to the time a code takes to arrive. While the device is
//! away, the loop retries with a capped backoff and a cancel ends the wait at once.

use super::framing::CodeFramer;
use super::port::{Chunk, ScanPort};
use super::types::{ScanError, ScanEvent, ScannedCode, ScannerConfig};
use super::uri::ScannerUri;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};
use zeroize::{Zeroize, Zeroizing};

/// Longest single wait for input on an open device: how late a cancel can be
/// noticed while a scanner is connected.
const READ_SLICE: Duration = Duration::from_millis(100);
/// Backoff between attempts to open an absent or refused scanner: how soon a
/// plugged-in scanner is picked up.
const REOPEN_MIN: Duration = Duration::from_millis(100);
const REOPEN_MAX: Duration = Duration::from_secs(1);
/// Bytes read at once: 64 HID records, or a long burst from a serial scanner.
const READ_BUFFER: usize = 64 * 24;

/// Where a scanner stands, for a self-test or a status screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScannerStatus {
    /// Not run yet.
    Starting,
    Connected {
        device: String,
        description: Option<String>,
    },
    /// Absent, refused or lost; being retried.
    Unavailable(ScanError),
    /// Cancelled (or the thread ended).
    Stopped,
}

struct Shared {
    cancelled: AtomicBool,
    wake: Condvar,
    wake_lock: Mutex<()>,
    status: Mutex<ScannerStatus>,
}

impl Shared {
    fn set_status(&self, status: ScannerStatus) {
        *self.status.lock().unwrap_or_else(PoisonError::into_inner) = status;
    }
}

/// Cancels a [`Scanner`] and reads its status from any thread. Cheap to clone.
#[derive(Clone)]
pub struct ScannerHandle {
    shared: Arc<Shared>,
}

impl ScannerHandle {
    /// Makes [`Scanner::run`] return `Ok(())` soon (within 100 ms
    /// while a scanner is connected; at once otherwise). Idempotent, non-blocking.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::SeqCst);
        let _guard = self
            .shared
            .wake_lock
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        self.shared.wake.notify_all();
    }

    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// The latest connection state (it never holds a code).
    pub fn status(&self) -> ScannerStatus {
        self.shared
            .status
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

impl std::fmt::Debug for ScannerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScannerHandle")
            .field("cancelled", &self.is_cancelled())
            .field("status", &self.status())
            .finish()
    }
}

/// Reads codes from one scanner and reports [`ScanEvent`]s until cancelled.
///
/// ```no_run
/// use estation_drivers::scanner::{ScanEvent, Scanner, ScannerConfig};
/// let uri = "serial:/dev/ttyACM0?baud=9600".parse()?;
/// let scanner = Scanner::new(ScannerConfig::new(uri));
/// let (tx, codes) = std::sync::mpsc::channel();
/// let thread = scanner.spawn(move |event| {
///     let _ = tx.send(event);
/// })?;
/// for event in codes.iter() {
///     match event {
///         ScanEvent::Scanned(code) => { /* verify code.as_str(), then drop it */ break; }
///         ScanEvent::Rejected(why) => eprintln!("scan again: {why}"),
///         other => eprintln!("{other:?}"),
///     }
/// }
/// thread.stop()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Scanner {
    config: ScannerConfig,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("uri", &self.config.uri.to_string())
            .finish_non_exhaustive()
    }
}

impl Scanner {
    /// A scanner; the device need not be there yet (it is waited for).
    pub fn new(mut config: ScannerConfig) -> Self {
        config.max_code_len = config
            .max_code_len
            .clamp(1, ScannerConfig::MAX_CODE_LEN_LIMIT);
        config.inter_char_timeout = config.inter_char_timeout.max(Duration::from_millis(1));
        Self {
            config,
            shared: Arc::new(Shared {
                cancelled: AtomicBool::new(false),
                wake: Condvar::new(),
                wake_lock: Mutex::new(()),
                status: Mutex::new(ScannerStatus::Starting),
            }),
        }
    }

    pub fn config(&self) -> &ScannerConfig {
        &self.config
    }

    pub fn handle(&self) -> ScannerHandle {
        ScannerHandle {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Runs the scanner on a thread of its own, calling `on_event` there.
    pub fn spawn(
        mut self,
        mut on_event: impl FnMut(ScanEvent) + Send + 'static,
    ) -> std::io::Result<ScannerThread> {
        let handle = self.handle();
        let thread = std::thread::Builder::new()
            .name("code-scanner".into())
            .spawn(move || self.run(&mut on_event))?;
        Ok(ScannerThread {
            handle,
            thread: Some(thread),
        })
    }

    /// Blocks, calling `on_event` for each event, until cancelled; returns
    /// `Ok(())` then. It survives the scanner being absent, unplugged and
    /// re-plugged. The only error is a scanner kind this system cannot read
    /// ([`ScanError::Unsupported`]: `hid:` off Linux), reported once.
    pub fn run(&mut self, on_event: &mut dyn FnMut(ScanEvent)) -> Result<(), ScanError> {
        let device = self.config.uri.device();
        let mut backoff = REOPEN_MIN;
        let mut last_problem: Option<ScanError> = None;
        let mut outcome = Ok(());
        while !self.cancelled() {
            let problem = match open(&self.config.uri) {
                Ok(mut port) => {
                    let description = port.description();
                    tracing::info!(device, ?description, "code scanner connected");
                    self.shared.set_status(ScannerStatus::Connected {
                        device: device.clone(),
                        description: description.clone(),
                    });
                    on_event(ScanEvent::Connected {
                        device: device.clone(),
                        description,
                    });
                    let mut framer =
                        CodeFramer::new(self.config.uri.suffix(), self.config.max_code_len);
                    match pump(
                        port.as_mut(),
                        &mut framer,
                        self.config.inter_char_timeout,
                        &self.shared.cancelled,
                        on_event,
                    ) {
                        None => break,
                        Some(lost) => {
                            tracing::warn!(error = %lost, "code scanner lost; reopening");
                            // Always reported: the scanner was connected until now.
                            last_problem = None;
                            backoff = REOPEN_MIN;
                            lost
                        }
                    }
                }
                Err(problem) => {
                    if let ScanError::Unsupported(_) = problem {
                        outcome = Err(problem.clone());
                    }
                    problem
                }
            };
            if last_problem.as_ref() != Some(&problem) {
                tracing::warn!(error = %problem, "code scanner unavailable");
                self.shared
                    .set_status(ScannerStatus::Unavailable(problem.clone()));
                on_event(ScanEvent::Unavailable(problem.clone()));
                last_problem = Some(problem);
            }
            if outcome.is_err() {
                break;
            }
            self.pause(backoff);
            backoff = (backoff * 2).min(REOPEN_MAX);
        }
        if outcome.is_ok() {
            self.shared.set_status(ScannerStatus::Stopped);
        }
        outcome
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
        let _ = self
            .shared
            .wake
            .wait_timeout_while(guard, duration, |_| !self.cancelled());
    }
}

/// A [`Scanner`] running on its own thread. Dropping it cancels the scanner and
/// waits for the thread.
pub struct ScannerThread {
    handle: ScannerHandle,
    thread: Option<std::thread::JoinHandle<Result<(), ScanError>>>,
}

impl std::fmt::Debug for ScannerThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScannerThread")
            .field("handle", &self.handle)
            .finish()
    }
}

impl ScannerThread {
    pub fn handle(&self) -> ScannerHandle {
        self.handle.clone()
    }

    /// Cancels the scanner and waits for its thread; returns what
    /// [`Scanner::run`] returned.
    pub fn stop(mut self) -> Result<(), ScanError> {
        self.join()
    }

    fn join(&mut self) -> Result<(), ScanError> {
        self.handle.cancel();
        match self.thread.take().map(std::thread::JoinHandle::join) {
            None => Ok(()),
            Some(Ok(outcome)) => outcome,
            Some(Err(_)) => {
                self.handle.shared.set_status(ScannerStatus::Stopped);
                Err(ScanError::Io {
                    device: String::new(),
                    detail: "the scanner thread panicked (in the event callback)".to_owned(),
                })
            }
        }
    }
}

impl Drop for ScannerThread {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

fn open(uri: &ScannerUri) -> Result<Box<dyn ScanPort>, ScanError> {
    match uri {
        ScannerUri::Serial { path, baud, .. } => {
            Ok(Box::new(super::serial::SerialPort::open(path, *baud)?))
        }
        #[cfg(target_os = "linux")]
        ScannerUri::Hid { path, .. } => Ok(Box::new(super::hid::HidPort::open(path)?)),
        #[cfg(not(target_os = "linux"))]
        ScannerUri::Hid { .. } => Err(ScanError::Unsupported(
            "hid: scanners are read through the Linux input subsystem; set the scanner to USB-CDC mode and use serial:".to_owned(),
        )),
    }
}

/// Reads from an open port until cancelled (`None`) or the device is lost
/// (`Some(why)`), framing codes and discarding a partial code once
/// `inter_char_timeout` passes without input.
pub(super) fn pump(
    port: &mut dyn ScanPort,
    framer: &mut CodeFramer,
    inter_char_timeout: Duration,
    cancelled: &AtomicBool,
    on_event: &mut dyn FnMut(ScanEvent),
) -> Option<ScanError> {
    let mut buffer = Zeroizing::new([0u8; READ_BUFFER]);
    let mut last_input = Instant::now();
    let mut deliver = |outcome: Result<ScannedCode, ScanError>| match outcome {
        Ok(code) => {
            tracing::debug!(bytes = code.len(), "code scanned");
            on_event(ScanEvent::Scanned(code));
        }
        Err(why) => {
            tracing::debug!(%why, "scan rejected");
            on_event(ScanEvent::Rejected(why));
        }
    };
    loop {
        if cancelled.load(Ordering::SeqCst) {
            return None;
        }
        let mut wait = READ_SLICE;
        if framer.has_partial() {
            let idle = last_input.elapsed();
            if idle >= inter_char_timeout {
                if let Some(why) = framer.expire() {
                    deliver(Err(why));
                }
                continue;
            }
            wait = wait.min(inter_char_timeout - idle);
        }
        match port.read(&mut buffer[..], wait) {
            Chunk::Data(n) => {
                last_input = Instant::now();
                port.feed(&buffer[..n], framer, &mut deliver);
                buffer[..n].zeroize();
            }
            Chunk::Idle => {}
            Chunk::Closed(why) => {
                if let Some(partial) = framer.interrupt() {
                    deliver(Err(partial));
                }
                return Some(why);
            }
        }
    }
}
