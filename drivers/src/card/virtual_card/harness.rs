//! Starts (or finds) a real pcscd with the vpcd reader for tests, and serialises
//! every user of the vpcd reader across processes with a lock file, since
//! cargo-nextest runs each test in its own process and there is one pcscd per
//! machine.
//!
//! ```no_run
//! use estation_drivers::card::virtual_card::harness;
//! let Some(pcscd) = harness::acquire_or_skip("my_test") else { return };
//! // the vpcd reader is free for this test until `pcscd` is dropped
//! ```

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::VPCD_READER;

/// How long pcscd gets to come up (it scans drivers and opens the vpcd port).
const START_DEADLINE: Duration = Duration::from_secs(15);
/// Interval between readiness checks while pcscd starts.
const READY_CHECK: Duration = Duration::from_millis(20);
const PID_FILE: &str = "/run/pcscd/pcscd.pid";

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("pcscd is not installed (apt-get install pcscd vsmartcard-vpcd)")]
    NotInstalled,
    #[error("cannot take the vpcd lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start pcscd: {0}")]
    Start(std::io::Error),
    #[error("pcscd did not become ready with reader {VPCD_READER:?}: {0} (log: {log})", log = log_path().display())]
    NotReady(String),
}

/// Exclusive use of pcscd and the vpcd reader until dropped. Holds a PC/SC
/// context so a pcscd started with `--auto-exit` stays up meanwhile.
pub struct PcscdGuard {
    _lock: File,
    context: Option<pcsc::Context>,
    started: Option<Child>,
}

impl std::fmt::Debug for PcscdGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PcscdGuard").finish_non_exhaustive()
    }
}

/// Where the lock file lives (shared by every process on the machine).
pub fn lock_path() -> PathBuf {
    std::env::temp_dir().join("estation-vpcd.lock")
}

/// Where a pcscd started here writes its log.
pub fn log_path() -> PathBuf {
    std::env::temp_dir().join("estation-pcscd.log")
}

/// The pcscd binary: `$PCSCD` if set, else the Debian locations.
pub fn pcscd_binary() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("PCSCD") {
        return Some(PathBuf::from(path));
    }
    ["/usr/sbin/pcscd", "/usr/bin/pcscd", "/usr/local/sbin/pcscd"]
        .into_iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// Takes the vpcd lock and makes sure pcscd is running with the vpcd reader.
pub fn acquire() -> Result<PcscdGuard, HarnessError> {
    let binary = pcscd_binary().ok_or(HarnessError::NotInstalled)?;
    let path = lock_path();
    let lock = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .and_then(|file| file.lock().map(|()| file))
        .map_err(|source| HarnessError::Lock {
            path: path.clone(),
            source,
        })?;
    let mut guard = PcscdGuard {
        _lock: lock,
        context: None,
        started: None,
    };
    guard.ensure_running(&binary)?;
    guard.wait_reader_empty()?;
    Ok(guard)
}

/// [`acquire`], or `None` after a loud message when pcscd is not installed.
/// Any other failure panics: a broken setup must fail the test, not skip it. Under
/// `CI=true` a missing pcscd fails too: CI installs it, so a skip there would
/// hide a broken setup behind a passing test.
pub fn acquire_or_skip(test: &str) -> Option<PcscdGuard> {
    match acquire() {
        Ok(guard) => Some(guard),
        Err(HarnessError::NotInstalled) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("{test}: pcscd is not installed, and CI=true: scripts/setup.sh installs it")
        }
        Err(HarnessError::NotInstalled) => {
            eprintln!(
                "\n!!!!!!!! SKIPPED {test}: pcscd is not installed; \
                 install pcscd and vsmartcard-vpcd to run the PC/SC tests !!!!!!!!\n"
            );
            None
        }
        Err(e) => panic!("{test}: {e}"),
    }
}

impl PcscdGuard {
    /// Stops the running pcscd and starts a fresh one, as a restart under the
    /// kiosk would (used to test that monitors recover).
    pub fn restart(&mut self) -> Result<(), HarnessError> {
        self.stop();
        let binary = pcscd_binary().ok_or(HarnessError::NotInstalled)?;
        self.ensure_running(&binary)?;
        self.wait_reader_empty()
    }

    /// Stops pcscd (whichever test process started it) and waits until it is
    /// gone. The pid file is not trusted: a pcscd that fails to start removes
    /// it on exit even when another instance owns it.
    pub fn stop(&mut self) {
        self.context = None;
        if let Some(mut child) = self.started.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        for pid in pcscd_pids() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
            let deadline = Instant::now() + START_DEADLINE;
            while process_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(READY_CHECK);
            }
        }
        // A pcscd that was killed outright leaves its files behind.
        let _ = std::fs::remove_file("/run/pcscd/pcscd.comm");
        let _ = std::fs::remove_file(PID_FILE);
    }

    /// Waits until pcscd has seen the previous holder's card leave the vpcd
    /// reader; pcscd notices a removal only at its next presence poll, and a
    /// test starting before that would meet a stale card.
    fn wait_reader_empty(&self) -> Result<(), HarnessError> {
        let Some(context) = &self.context else {
            return Ok(());
        };
        let reader = std::ffi::CString::new(VPCD_READER)
            .map_err(|e| HarnessError::NotReady(e.to_string()))?;
        let mut state = [pcsc::ReaderState::new(reader, pcsc::State::UNAWARE)];
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            match context.get_status_change(READY_CHECK * 25, &mut state) {
                Ok(()) | Err(pcsc::Error::Timeout) => {}
                Err(e) => return Err(HarnessError::NotReady(e.to_string())),
            }
            if !state[0].event_state().contains(pcsc::State::PRESENT) {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(HarnessError::NotReady(
                    "a card stays in the vpcd reader".into(),
                ));
            }
            state[0].sync_current_state();
        }
    }

    fn ensure_running(&mut self, binary: &Path) -> Result<(), HarnessError> {
        if let Some(context) = ready_context() {
            self.context = Some(context);
            return Ok(());
        }
        if pcscd_pids().is_empty() {
            let log = File::create(log_path()).map_err(HarnessError::Start)?;
            let log_err = log.try_clone().map_err(HarnessError::Start)?;
            let mut command = Command::new(binary);
            command.args(["--foreground", "--auto-exit"]);
            // ESTATION_PCSCD_DEBUG=1 makes pcscd log every APDU, for
            // troubleshooting a failing test.
            if std::env::var_os("ESTATION_PCSCD_DEBUG").is_some() {
                command.args(["--debug", "--apdu"]);
            }
            command.stdin(Stdio::null()).stdout(log).stderr(log_err);
            #[cfg(unix)]
            {
                use std::os::unix::process::CommandExt;
                // Its own process group: a Ctrl-C to the test run does not reach
                // it, and it exits by itself 60 s after its last client.
                command.process_group(0);
            }
            self.started = Some(command.spawn().map_err(HarnessError::Start)?);
        }
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            if let Some(context) = ready_context() {
                self.context = Some(context);
                return Ok(());
            }
            if let Some(child) = self.started.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(HarnessError::NotReady(format!(
                    "pcscd exited with {status}"
                )));
            }
            if Instant::now() > deadline {
                return Err(HarnessError::NotReady("timed out".into()));
            }
            std::thread::sleep(READY_CHECK);
        }
    }
}

impl Drop for PcscdGuard {
    fn drop(&mut self) {
        // A pcscd we started stays up for the next test (it auto-exits when
        // idle); dropping the Child handle does not kill it.
        self.started = None;
    }
}

/// A context, if pcscd answers and lists the vpcd reader.
fn ready_context() -> Option<pcsc::Context> {
    let context = pcsc::Context::establish(pcsc::Scope::System).ok()?;
    let readers = context.list_readers_owned().ok()?;
    readers
        .iter()
        .any(|r| r.to_bytes() == VPCD_READER.as_bytes())
        .then_some(context)
}

/// Live (not zombie) processes named pcscd.
fn pcscd_pids() -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "pcscd")
                && process_alive(*pid)
        })
        .collect()
}

/// True while the process exists and is not a zombie.
fn process_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z')),
        Err(_) => false,
    }
}

/// What a test that waited in vain for a virtual card should print: the pcscd
/// processes, the readers pcscd lists with the vpcd reader's state, and the end
/// of the log of a pcscd started here. Run the test with
/// `ESTATION_PCSCD_DEBUG=1` for every APDU in that log.
pub fn diagnosis() -> String {
    let pids = pcscd_pids();
    let readers = match pcsc::Context::establish(pcsc::Scope::System) {
        Err(e) => format!("no PC/SC context: {e}"),
        Ok(context) => match context.list_readers_owned() {
            Err(e) => format!("no reader list: {e}"),
            Ok(readers) => {
                let names: Vec<String> = readers
                    .iter()
                    .map(|r| r.to_string_lossy().into_owned())
                    .collect();
                let state = std::ffi::CString::new(VPCD_READER)
                    .ok()
                    .and_then(|reader| {
                        let mut states = [pcsc::ReaderState::new(reader, pcsc::State::UNAWARE)];
                        context
                            .get_status_change(Duration::ZERO, &mut states)
                            .ok()
                            .map(|()| format!("{:?}", states[0].event_state()))
                    })
                    .unwrap_or_else(|| "unknown".into());
                format!("readers {names:?}; {VPCD_READER:?} is {state}")
            }
        },
    };
    let log = std::fs::read_to_string(log_path())
        .map(|text| {
            let lines: Vec<&str> = text.lines().collect();
            lines[lines.len().saturating_sub(30)..].join("\n")
        })
        .unwrap_or_else(|e| format!("(no log: {e})"));
    format!(
        "pcscd pids {pids:?}; {readers}\nlast lines of {}:\n{log}",
        log_path().display()
    )
}
