//! A printer that talks back, for tests and demos: listens on 127.0.0.1, decodes
//! the ESC/POS stream as it arrives, answers `DLE EOT` and `GS r` status requests
//! from a scripted state, can run out of paper or drop the connection in the middle
//! of a job, and renders what it printed.

use super::decode::{Decoded, Decoder, StreamEvent};
use super::status::PrinterStatus;
use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// How the emulated printer behaves; tests change it while it runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Script {
    pub status: PrinterStatus,
    /// Run out of paper after printing this many raster bands (counted from now).
    pub paper_out_after_bands: Option<usize>,
    /// Drop the connection after this many raster bands (once).
    pub drop_after_bands: Option<usize>,
    /// Drop the connection after this many cuts (once): a printer that hangs up
    /// right after the last byte of a job, before any status request.
    pub drop_after_cuts: Option<usize>,
    /// Refuse new connections (a printer switched off, or its link down).
    pub refuse_connections: bool,
    /// After a scripted drop, refuse new connections too (the printer went away
    /// rather than just closing one connection).
    pub refuse_after_drop: bool,
    /// Status requests to leave unanswered (flaky printers), then answer again.
    pub ignore_status_requests: usize,
    /// Junk bytes sent before each of the next status replies.
    pub junk_before_status: usize,
    /// Stop answering status requests after this many more raster bands (a hung
    /// printer; the sender is left waiting).
    pub silent_after_bands: Option<usize>,
}

impl Default for Script {
    fn default() -> Self {
        Self {
            status: PrinterStatus::READY,
            paper_out_after_bands: None,
            drop_after_bands: None,
            drop_after_cuts: None,
            refuse_connections: false,
            refuse_after_drop: false,
            ignore_status_requests: 0,
            junk_before_status: 0,
            silent_after_bands: None,
        }
    }
}

/// What happened, in order, for tests that wait on the printer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmulatorEvent {
    Connected,
    /// A raster band arrived (running total for this emulator).
    Band(usize),
    StatusAnswered(u8),
    Cut(usize),
    /// The emulator hung up on purpose.
    Dropped,
    Disconnected,
}

struct Shared {
    script: Script,
    decoder: Decoder,
    bands: usize,
    cuts: usize,
    bytes: usize,
    connections: usize,
}

pub struct Emulator {
    address: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    events: Mutex<mpsc::Receiver<EmulatorEvent>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Emulator {
    /// Starts a printer `paper_width` dots wide on an ephemeral loopback port.
    pub fn start(paper_width: u32) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Mutex::new(Shared {
            script: Script::default(),
            decoder: Decoder::new(paper_width),
            bands: 0,
            cuts: 0,
            bytes: 0,
            connections: 0,
        }));
        let (events_tx, events_rx) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (shared, stop) = (shared.clone(), stop.clone());
            std::thread::Builder::new()
                .name("printer-emulator".to_owned())
                .spawn(move || accept_loop(listener, shared, events_tx, stop))?
        };
        Ok(Self {
            address,
            shared,
            events: Mutex::new(events_rx),
            stop,
            thread: Some(thread),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `tcp://127.0.0.1:PORT`, for a printer URI.
    pub fn uri(&self) -> String {
        format!("tcp://{}", self.address)
    }

    fn shared(&self) -> std::sync::MutexGuard<'_, Shared> {
        self.shared
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Changes the script (takes effect on the next byte received).
    pub fn script(&self, change: impl FnOnce(&mut Script)) {
        let mut shared = self.shared();
        change(&mut shared.script);
        let stopped = shared.script.status.paper_end || shared.script.status.cover_open;
        shared.decoder.set_stopped(stopped);
    }

    pub fn set_status(&self, status: PrinterStatus) {
        self.script(|script| script.status = status);
    }

    pub fn status(&self) -> PrinterStatus {
        self.shared().script.status
    }

    /// Everything printed since the last call (pages, text, QR payloads, cuts).
    pub fn take_output(&self) -> Decoded {
        self.shared().decoder.take()
    }

    pub fn bands_received(&self) -> usize {
        self.shared().bands
    }

    pub fn bytes_received(&self) -> usize {
        self.shared().bytes
    }

    pub fn connections(&self) -> usize {
        self.shared().connections
    }

    /// Waits for the next event (`None` after `timeout` or when the emulator stopped).
    pub fn next_event(&self, timeout: std::time::Duration) -> Option<EmulatorEvent> {
        let events = self
            .events
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        events.recv_timeout(timeout).ok()
    }

    /// Waits until `wanted` returns true for an event; `false` on timeout.
    pub fn wait_for(
        &self,
        timeout: std::time::Duration,
        mut wanted: impl FnMut(&EmulatorEvent) -> bool,
    ) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            match self.next_event(left) {
                Some(event) if wanted(&event) => return true,
                Some(_) => {}
                None => return false,
            }
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept call.
        let _ = TcpStream::connect(self.address);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn accept_loop(
    listener: TcpListener,
    shared: Arc<Mutex<Shared>>,
    events: mpsc::Sender<EmulatorEvent>,
    stop: Arc<AtomicBool>,
) {
    // One connection at a time, like a real printer's port 9100.
    for stream in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        let refuse = shared
            .lock()
            .map(|shared| shared.script.refuse_connections)
            .unwrap_or(false);
        if refuse {
            // Accepted by the kernel already: hang up before a byte is read.
            let _ = stream.shutdown(Shutdown::Both);
            continue;
        }
        let _ = events.send(EmulatorEvent::Connected);
        if let Ok(mut shared) = shared.lock() {
            shared.connections += 1;
        }
        serve(stream, &shared, &events, &stop);
    }
}

fn serve(
    mut stream: TcpStream,
    shared: &Mutex<Shared>,
    events: &mpsc::Sender<EmulatorEvent>,
    stop: &AtomicBool,
) {
    let _ = stream.set_nodelay(true);
    let mut buffer = [0u8; 8192];
    loop {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let n = match stream.read(&mut buffer) {
            Ok(0) | Err(_) => {
                let _ = events.send(EmulatorEvent::Disconnected);
                return;
            }
            Ok(n) => n,
        };
        let mut replies = Vec::new();
        let mut notes = Vec::new();
        let mut drop_now = false;
        {
            let mut guard = shared
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let state = &mut *guard;
            state.bytes += n;
            // Feed byte by byte so a scripted fault lands exactly after the band
            // that triggers it, even when later bytes arrived in the same read.
            for &byte in &buffer[..n] {
                for event in state.decoder.feed(&[byte]) {
                    match event {
                        StreamEvent::RealTimeStatus(request) => {
                            if state.script.silent_after_bands == Some(0) {
                                continue;
                            }
                            if state.script.ignore_status_requests > 0 {
                                state.script.ignore_status_requests -= 1;
                                continue;
                            }
                            if state.script.junk_before_status > 0 {
                                state.script.junk_before_status -= 1;
                                replies.push(0xFF);
                            }
                            replies.push(state.script.status.dle_eot_reply(request));
                            notes.push(EmulatorEvent::StatusAnswered(request));
                        }
                        StreamEvent::TransmitStatus(1) => {
                            replies.push(state.script.status.gs_r_paper_reply());
                            notes.push(EmulatorEvent::StatusAnswered(0x11));
                        }
                        StreamEvent::TransmitStatus(_) => replies.push(0),
                        StreamEvent::RasterBand => {
                            state.bands += 1;
                            notes.push(EmulatorEvent::Band(state.bands));
                            if let Some(left) = state.script.paper_out_after_bands.as_mut() {
                                *left = left.saturating_sub(1);
                                if *left == 0 {
                                    state.script.paper_out_after_bands = None;
                                    state.script.status.paper_end = true;
                                    state.decoder.set_stopped(true);
                                }
                            }
                            if let Some(left) = state.script.silent_after_bands.as_mut() {
                                *left = left.saturating_sub(1);
                            }
                            if let Some(left) = state.script.drop_after_bands.as_mut() {
                                *left = left.saturating_sub(1);
                                if *left == 0 {
                                    state.script.drop_after_bands = None;
                                    drop_now = true;
                                }
                            }
                        }
                        StreamEvent::Cut => {
                            state.cuts += 1;
                            notes.push(EmulatorEvent::Cut(state.cuts));
                            if let Some(left) = state.script.drop_after_cuts.as_mut() {
                                *left = left.saturating_sub(1);
                                if *left == 0 {
                                    state.script.drop_after_cuts = None;
                                    drop_now = true;
                                }
                            }
                        }
                    }
                }
                if drop_now {
                    if state.script.refuse_after_drop {
                        state.script.refuse_connections = true;
                    }
                    break;
                }
            }
        }
        if !replies.is_empty() && stream.write_all(&replies).is_err() {
            let _ = events.send(EmulatorEvent::Disconnected);
            return;
        }
        for note in notes {
            let _ = events.send(note);
        }
        if drop_now {
            let _ = stream.shutdown(Shutdown::Both);
            let _ = events.send(EmulatorEvent::Dropped);
            return;
        }
    }
}
