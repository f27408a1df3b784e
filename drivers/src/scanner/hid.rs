//! Keyboard-wedge scanners on Linux: the scanner's own evdev device, grabbed with
//! `EVIOCGRAB` so that no other reader (the compositor, the UI toolkit, a console)
//! receives its keys, read as raw `input_event` records and decoded with
//! [`keyboard`](super::keyboard).
//!
//! The `evdev` crate opens the device, checks its keys and grabs it; the loop then
//! polls and reads the descriptor itself (`rustix`), so that the same code can be
//! driven by any descriptor carrying `input_event` records (the tests use a socket).

use super::framing::CodeFramer;
use super::keyboard::{INPUT_EVENT_SIZE, InputEventParser, KeyDecoder, KeyInput};
use super::port::{Chunk, ScanPort};
use super::types::{ScanError, ScannedCode};
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

/// The HID loop on real `input_event` byte streams, without a kernel input
/// device: a socket carries the records exactly as `read(2)` on an evdev node
/// returns them. (The grab itself needs uinput: drivers/tests/scanner_hid.rs.)
#[cfg(test)]
mod tests {
    use super::super::keyboard::us_key_for;
    use super::super::monitor::pump;
    use super::super::{ScanEvent, Suffix};
    use super::*;
    use std::io::Write;
    use std::os::unix::net::UnixStream;
    use std::sync::atomic::AtomicBool;
    use std::sync::mpsc;

    const EV_SYN: u16 = 0;
    const EV_KEY: u16 = 1;
    const EV_MSC: u16 = 4;
    const MSC_SCAN: u16 = 4;
    const KEY_LEFTSHIFT: u16 = 42;

    /// One record in the kernel's layout: timeval, type, code, value.
    fn record(type_: u16, code: u16, value: i32) -> Vec<u8> {
        let time_field = (INPUT_EVENT_SIZE - 8) / 2;
        let mut bytes = Vec::with_capacity(INPUT_EVENT_SIZE);
        bytes.extend_from_slice(&1_700_000_000i64.to_ne_bytes()[..time_field]);
        bytes.extend_from_slice(&250_000i64.to_ne_bytes()[..time_field]);
        bytes.extend_from_slice(&type_.to_ne_bytes());
        bytes.extend_from_slice(&code.to_ne_bytes());
        bytes.extend_from_slice(&value.to_ne_bytes());
        bytes
    }

    /// A key press or release as a USB keyboard reports it: scan code, key, report.
    fn key(code: u16, value: i32) -> Vec<u8> {
        [
            record(EV_MSC, MSC_SCAN, 0x70000 + i32::from(code)),
            record(EV_KEY, code, value),
            record(EV_SYN, 0, 0),
        ]
        .concat()
    }

    /// What a keyboard-wedge scanner sends to type `text` (`\r` is Enter).
    fn typed(text: &str) -> Vec<u8> {
        let mut bytes = Vec::new();
        for byte in text.bytes() {
            let (code, shift) = us_key_for(byte).unwrap();
            if shift {
                bytes.extend(key(KEY_LEFTSHIFT, 1));
            }
            bytes.extend(key(code.0, 1));
            bytes.extend(key(code.0, 0));
            if shift {
                bytes.extend(key(KEY_LEFTSHIFT, 0));
            }
        }
        bytes
    }

    fn port(stream: UnixStream) -> HidPort {
        HidPort::from_source(Box::new(stream), "test-stream".to_owned())
    }

    /// Sends `bytes`, closes the stream (as an unplug does) and runs the loop on
    /// it to the end.
    fn events_of(bytes: &[u8], max_len: usize) -> (Vec<ScanEvent>, Option<ScanError>) {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        let sender = std::thread::spawn({
            let bytes = bytes.to_vec();
            move || writer.write_all(&bytes).unwrap()
        });
        let mut events = Vec::new();
        let lost = pump(
            &mut port(reader),
            &mut CodeFramer::new(Suffix::Cr, max_len),
            Duration::from_secs(30),
            &AtomicBool::new(false),
            &mut |event| events.push(event),
        );
        sender.join().unwrap();
        (events, lost)
    }

    fn scanned(events: &[ScanEvent]) -> Vec<String> {
        events
            .iter()
            .filter_map(|event| match event {
                ScanEvent::Scanned(code) => Some(code.as_str().to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn typed_codes_are_read_with_shift_and_the_end_is_an_unplug() {
        let text = "HZ:rs/2f-0A9~{q}_\"|<>?";
        let (events, lost) = events_of(
            &[typed(&format!("{text}\r")), typed("second code\r")].concat(),
            256,
        );
        assert_eq!(
            scanned(&events),
            vec![text.to_owned(), "second code".to_owned()]
        );
        assert_eq!(events.len(), 2, "{events:?}");
        assert!(
            matches!(lost, Some(ScanError::Disconnected { device, .. }) if device == "test-stream")
        );
    }

    #[test]
    fn a_code_cut_by_the_unplug_is_reported_and_dropped() {
        let (events, lost) = events_of(&typed("ABC"), 256);
        assert_eq!(
            events,
            vec![ScanEvent::Rejected(ScanError::Interrupted { length: 3 })]
        );
        assert!(matches!(lost, Some(ScanError::Disconnected { .. })));
    }

    #[test]
    fn function_keys_and_dropped_events_spoil_only_their_code() {
        let stream = [
            typed("AB"),
            key(59, 1), // F1
            key(59, 0),
            typed("C\r"),
            typed("DE"),
            record(EV_SYN, 3, 0), // SYN_DROPPED
            key(33, 1),
            record(EV_SYN, 0, 0),
            typed("F\r"),
            typed("OK\r"),
        ]
        .concat();
        let (events, _) = events_of(&stream, 256);
        assert_eq!(
            events,
            vec![
                ScanEvent::Rejected(ScanError::Garbage { length: 4 }),
                ScanEvent::Rejected(ScanError::Garbage { length: 4 }),
                ScanEvent::Scanned(ScannedCode::new("OK".to_owned().into())),
            ]
        );
    }

    #[test]
    fn an_over_long_typed_code_is_rejected_and_the_next_one_reads() {
        let (events, _) = events_of(&typed(&format!("{}\rNEXT\r", "7".repeat(40))), 16);
        assert_eq!(
            events,
            vec![
                ScanEvent::Rejected(ScanError::TooLong { limit: 16 }),
                ScanEvent::Scanned(ScannedCode::new("NEXT".to_owned().into())),
            ]
        );
    }

    #[test]
    fn records_split_across_reads_still_decode() {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        let stream = typed("split-RECORDS\r");
        let sender = std::thread::spawn(move || {
            for piece in stream.chunks(7) {
                writer.write_all(piece).unwrap();
            }
        });
        let mut events = Vec::new();
        pump(
            &mut port(reader),
            &mut CodeFramer::new(Suffix::Cr, 256),
            Duration::from_secs(30),
            &AtomicBool::new(false),
            &mut |event| events.push(event),
        );
        sender.join().unwrap();
        assert_eq!(scanned(&events), vec!["split-RECORDS".to_owned()]);
    }

    #[test]
    fn a_partial_code_times_out_and_a_cancel_ends_the_loop() {
        let (mut writer, reader) = UnixStream::pair().unwrap();
        let cancelled = std::sync::Arc::new(AtomicBool::new(false));
        let (tx, events) = mpsc::channel();
        let reader_thread = std::thread::spawn({
            let cancelled = cancelled.clone();
            move || {
                pump(
                    &mut port(reader),
                    &mut CodeFramer::new(Suffix::Cr, 256),
                    Duration::from_millis(50),
                    &cancelled,
                    &mut |event| tx.send(event).unwrap(),
                )
            }
        });
        writer.write_all(&typed("PART")).unwrap();
        let first = events.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(
            first,
            ScanEvent::Rejected(ScanError::Incomplete { length: 4 })
        );
        writer.write_all(&typed("WHOLE\r")).unwrap();
        let second = events.recv_timeout(Duration::from_secs(30)).unwrap();
        assert_eq!(scanned(&[second]), vec!["WHOLE".to_owned()]);
        cancelled.store(true, std::sync::atomic::Ordering::SeqCst);
        assert!(
            reader_thread.join().unwrap().is_none(),
            "a cancel is not a loss"
        );
        drop(writer);
    }

    #[test]
    fn devices_that_are_not_scanners_are_refused() {
        let directory = tempfile::tempdir().unwrap();
        let missing = directory.path().join("usb-scanner-event-kbd");
        assert!(matches!(
            HidPort::open(&missing),
            Err(ScanError::NotFound { device }) if device == missing.display().to_string()
        ));
        let plain_file = directory.path().join("not-a-device");
        std::fs::write(&plain_file, b"hello").unwrap();
        assert!(matches!(
            HidPort::open(&plain_file),
            Err(ScanError::NotAScanner { .. })
        ));
        assert!(matches!(
            HidPort::open(Path::new("/dev/null")),
            Err(ScanError::NotAScanner { .. })
        ));
    }
}
