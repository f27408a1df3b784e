//! Keyboard-wedge scanners on Linux: the scanner's own evdev device, grabbed with
//! `EVIOCGRAB` so that no other reader (the compositor, the UI toolkit, a console)
//! receives its keys, read as raw `input_event` records and decoded with
//! [`keyboard`](super::keyboard).
//!
//! The `evdev` crate opens the device, checks its keys and grabs it; the loop then
//! polls and reads the descriptor itself (`rustix`), so that the same code can be
//! driven by any descriptor carrying `input_event` records (the tests use a socket).

use super::keyboard::{INPUT_EVENT_SIZE, InputEventParser, KeyDecoder, KeyInput};
use super::monitor::{Chunk, ScanPort};
use super::{CodeFramer, ScanError, ScannedCode};
use evdev::KeyCode;
use evdev::raw_stream::RawDevice;
use rustix::event::{PollFd, PollFlags, Timespec};
use std::os::fd::AsFd;
use std::path::Path;
use std::time::Duration;

pub(super) struct HidPort {
    /// The grabbed device; dropping it closes the descriptor and ends the grab.
    source: Box<dyn AsFd + Send>,
    device: String,
    description: Option<String>,
    parser: InputEventParser,
    keys: KeyDecoder,
}

impl HidPort {
    pub(super) fn open(path: &Path) -> Result<Self, ScanError> {
        let device = path.display().to_string();
        let mut input = RawDevice::open(path).map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => ScanError::NotFound {
                device: device.clone(),
            },
            std::io::ErrorKind::PermissionDenied => ScanError::PermissionDenied {
                device: device.clone(),
            },
            _ => ScanError::NotAScanner {
                device: device.clone(),
                reason: format!("not an input device ({error})"),
            },
        })?;
        let types_codes = input.supported_keys().is_some_and(|keys| {
            (keys.contains(KeyCode::KEY_ENTER) || keys.contains(KeyCode::KEY_KPENTER))
                && (keys.contains(KeyCode::KEY_1) || keys.contains(KeyCode::KEY_KP1))
        });
        if !types_codes {
            return Err(ScanError::NotAScanner {
                device,
                reason: "it has no Enter and digit keys; use the scanner's ...-event-kbd device"
                    .to_owned(),
            });
        }
        input.grab().map_err(|error| match error.kind() {
            std::io::ErrorKind::ResourceBusy => ScanError::Busy {
                device: device.clone(),
            },
            _ => ScanError::Io {
                device: device.clone(),
                detail: format!("grab: {error}"),
            },
        })?;
        let description = input.name().map(str::to_owned);
        let mut port = Self::from_source(Box::new(input), device);
        port.description = description;
        port.drain();
        Ok(port)
    }

    /// A port over any descriptor carrying `input_event` records.
    pub(super) fn from_source(source: Box<dyn AsFd + Send>, device: String) -> Self {
        Self {
            source,
            device,
            description: None,
            parser: InputEventParser::new(),
            keys: KeyDecoder::new(),
        }
    }

    /// Throws away keys queued between the open and the grab: they belong to no
    /// code that can be framed.
    fn drain(&mut self) {
        let mut buffer = zeroize::Zeroizing::new([0u8; 64 * INPUT_EVENT_SIZE]);
        while matches!(self.read(&mut buffer[..], Duration::ZERO), Chunk::Data(_)) {}
        self.parser.clear();
    }

    fn closed(&self, detail: impl Into<String>) -> Chunk {
        Chunk::Closed(ScanError::Disconnected {
            device: self.device.clone(),
            detail: detail.into(),
        })
    }
}

impl ScanPort for HidPort {
    fn read(&mut self, buffer: &mut [u8], timeout: Duration) -> Chunk {
        let deadline = Timespec {
            tv_sec: timeout.as_secs().min(i64::MAX as u64) as i64,
            tv_nsec: i64::from(timeout.subsec_nanos()) as _,
        };
        let mut fds = [PollFd::new(&self.source, PollFlags::IN)];
        let revents = match rustix::event::poll(&mut fds, Some(&deadline)) {
            Ok(0) => return Chunk::Idle,
            Ok(_) => fds[0].revents(),
            Err(rustix::io::Errno::INTR) => return Chunk::Idle,
            Err(error) => return self.closed(format!("poll: {error}")),
        };
        if !revents.contains(PollFlags::IN) {
            // An unplugged evdev device reports ERR | HUP and reads fail with ENODEV.
            return self.closed(format!("poll: {revents:?}"));
        }
        // Whole records only, so a read never splits one on a real device.
        let usable = buffer.len() - buffer.len() % INPUT_EVENT_SIZE;
        match rustix::io::read(&self.source, &mut buffer[..usable]) {
            Ok(0) => self.closed("end of file"),
            Ok(n) => Chunk::Data(n),
            Err(rustix::io::Errno::AGAIN | rustix::io::Errno::INTR) => Chunk::Idle,
            Err(error) => self.closed(error.to_string()),
        }
    }

    fn feed(
        &mut self,
        bytes: &[u8],
        framer: &mut CodeFramer,
        on_outcome: &mut dyn FnMut(Result<ScannedCode, ScanError>),
    ) {
        let keys = &mut self.keys;
        self.parser.feed(bytes, &mut |event| {
            let outcome = match keys.feed(event) {
                Some(KeyInput::Byte(byte)) => framer.push(byte),
                Some(KeyInput::Unmapped) => framer.poison(),
                None => None,
            };
            if let Some(outcome) = outcome {
                on_outcome(outcome);
            }
        });
    }

    fn description(&self) -> Option<String> {
        self.description.clone()
    }
}
