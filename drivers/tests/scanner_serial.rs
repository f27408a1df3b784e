//! The serial scanner against a scanner on the far side of a pseudo-terminal (a
//! real tty: termios, exclusive open, hang-up on unplug). The scanner is reached
//! through a symbolic link, as through a udev `/dev/serial/by-id/...` link, so it
//! can be unplugged (link removed, pty closed) and plugged in again.

#![cfg(unix)]

use estation_drivers::scanner::{
    ScanError, ScanEvent, Scanner, ScannerConfig, ScannerStatus, ScannerThread,
};
use serialport::{SerialPort, TTYPort};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::Duration;

/// Longest wait for an event that must come; only a hang reaches it.
const HANG_GUARD: Duration = Duration::from_secs(30);

/// A scanner plugged in as a pty, its slave reachable through `link`.
struct PtyScanner {
    master: TTYPort,
    _slave: TTYPort,
    link: PathBuf,
}

impl PtyScanner {
    fn plug(link: &Path) -> Self {
        let (master, slave) = TTYPort::pair().unwrap();
        let staged = link.with_extension("new");
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(slave.name().unwrap(), &staged).unwrap();
        std::fs::rename(&staged, link).unwrap();
        Self {
            master,
            _slave: slave,
            link: link.to_owned(),
        }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.master.write_all(bytes).unwrap();
        self.master.flush().unwrap();
    }

    /// Pulls the cable: the link goes (as udev removes it) and the tty hangs up.
    fn unplug(self) {
        std::fs::remove_file(&self.link).unwrap();
        drop(self);
    }
}

/// What the tests compare: codes as text, everything else as is.
#[derive(Debug, PartialEq)]
enum Seen {
    Code(String),
    Rejected(ScanError),
    Other(String),
}

fn seen(event: ScanEvent) -> Seen {
    match event {
        ScanEvent::Scanned(code) => Seen::Code(code.as_str().to_owned()),
        ScanEvent::Rejected(why) => Seen::Rejected(why),
        other => Seen::Other(format!("{other:?}")),
    }
}

fn code(text: &str) -> Seen {
    Seen::Code(text.to_owned())
}

struct Running {
    thread: ScannerThread,
    events: Receiver<ScanEvent>,
}

impl Running {
    fn start(config: ScannerConfig) -> Self {
        let (tx, events) = channel();
        let thread = Scanner::new(config)
            .spawn(move |event| {
                let _ = tx.send(event);
            })
            .unwrap();
        Self { thread, events }
    }

    fn on(uri: &str) -> Self {
        Self::start(ScannerConfig::new(uri.parse().unwrap()))
    }

    fn next(&self) -> ScanEvent {
        self.events
            .recv_timeout(HANG_GUARD)
            .expect("the scanner reported nothing")
    }

    fn expect_connected(&self, device: &str) {
        match self.next() {
            ScanEvent::Connected {
                device: connected,
                description: None,
            } if connected == device => {}
            other => panic!("expected Connected({device}), got {other:?}"),
        }
    }

    /// Everything up to and including the code `sentinel`.
    fn until_code(&self, sentinel: &str) -> Vec<Seen> {
        let mut all = Vec::new();
        loop {
            let event = seen(self.next());
            let done = event == code(sentinel);
            all.push(event);
            if done {
                return all;
            }
        }
    }

    fn stop(self) {
        let handle = self.thread.handle();
        self.thread.stop().unwrap();
        assert_eq!(handle.status(), ScannerStatus::Stopped);
    }
}

fn link_in(directory: &tempfile::TempDir) -> PathBuf {
    directory.path().join("usb-scanner-if00")
}

#[test]
fn each_suffix_setting_frames_codes_from_the_wire() {
    /// Suffix setting, what the scanner writes, what the kiosk must see.
    type Case = (&'static str, Vec<&'static [u8]>, Vec<Seen>);
    let cases: [Case; 7] = [
        (
            "cr",
            vec![b"HZ-1\r", b"HZ-2\r"],
            vec![code("HZ-1"), code("HZ-2")],
        ),
        (
            "lf",
            vec![b"HZ-1\n", b"HZ-2\n"],
            vec![code("HZ-1"), code("HZ-2")],
        ),
        (
            "crlf",
            // The LF may come in a later read than its CR.
            vec![b"HZ-1\r\n", b"HZ-2\r", b"\n"],
            vec![code("HZ-1"), code("HZ-2")],
        ),
        (
            "any",
            vec![b"HZ-1\r", b"HZ-2\n", b"HZ-3\r\n", b"\n\n"],
            vec![code("HZ-1"), code("HZ-2"), code("HZ-3")],
        ),
        (
            // A kiosk set to CR with a scanner sending CR LF: the stray LF spoils
            // the next code, which shows the setting is wrong.
            "cr",
            vec![b"HZ-1\r\n", b"HZ-2\r"],
            vec![
                code("HZ-1"),
                Seen::Rejected(ScanError::Garbage { length: 5 }),
            ],
        ),
        (
            "crlf",
            vec![b"HZ\r1\r\n"],
            vec![Seen::Rejected(ScanError::Garbage { length: 4 })],
        ),
        ("tab", vec![b"HZ-1\t"], vec![code("HZ-1")]),
    ];
    for (suffix, writes, mut expected) in cases {
        let directory = tempfile::tempdir().unwrap();
        let link = link_in(&directory);
        let mut pty = PtyScanner::plug(&link);
        let scanner = Running::on(&format!("serial:{}?suffix={suffix}", link.display()));
        scanner.expect_connected(&link.display().to_string());
        for bytes in writes {
            pty.send(bytes);
        }
        let sentinel: &[u8] = match suffix {
            "cr" => b"END\r",
            "lf" => b"END\n",
            "tab" => b"END\t",
            _ => b"END\r\n",
        };
        pty.send(sentinel);
        expected.push(code("END"));
        assert_eq!(scanner.until_code("END"), expected, "suffix={suffix}");
        scanner.stop();
    }
}

#[test]
fn garbage_and_invalid_utf8_are_rejected_and_reading_goes_on() {
    let directory = tempfile::tempdir().unwrap();
    let link = link_in(&directory);
    let mut pty = PtyScanner::plug(&link);
    let scanner = Running::on(&format!("serial:{}?baud=115200", link.display()));
    scanner.expect_connected(&link.display().to_string());
    pty.send(b"AB\x00\x07CD\r");
    pty.send(b"\xff\xfe\xfd\r");
    pty.send(b"\xe7\xa4\r"); // a UTF-8 sequence cut short
    pty.send(b"\x1b[2J\r");
    pty.send("电子社保卡:HZ330100\r".as_bytes());
    pty.send(b"END\r");
    assert_eq!(
        scanner.until_code("END"),
        vec![
            Seen::Rejected(ScanError::Garbage { length: 6 }),
            Seen::Rejected(ScanError::InvalidUtf8 { length: 3 }),
            Seen::Rejected(ScanError::InvalidUtf8 { length: 2 }),
            Seen::Rejected(ScanError::Garbage { length: 4 }),
            code("电子社保卡:HZ330100"),
            code("END"),
        ]
    );
    scanner.stop();
}

#[test]
fn an_over_long_code_is_rejected_and_the_reader_resynchronises() {
    let directory = tempfile::tempdir().unwrap();
    let link = link_in(&directory);
    let mut pty = PtyScanner::plug(&link);
    let mut config = ScannerConfig::new(format!("serial:{}", link.display()).parse().unwrap());
    config.max_code_len = 32;
    let scanner = Running::start(config);
    scanner.expect_connected(&link.display().to_string());
    let exactly_max = "M".repeat(32);
    pty.send(format!("{exactly_max}\r").as_bytes());
    // Three times the bound, in several writes, then the suffix.
    for _ in 0..6 {
        pty.send(&[b'X'; 16]);
    }
    pty.send(b"\rEND\r");
    assert_eq!(
        scanner.until_code("END"),
        vec![
            code(&exactly_max),
            Seen::Rejected(ScanError::TooLong { limit: 32 }),
            code("END"),
        ]
    );
    scanner.stop();
}

#[test]
fn a_partial_code_is_discarded_after_the_inter_character_timeout() {
    let directory = tempfile::tempdir().unwrap();
    let link = link_in(&directory);
    let mut pty = PtyScanner::plug(&link);
    let mut config = ScannerConfig::new(format!("serial:{}", link.display()).parse().unwrap());
    config.inter_char_timeout = Duration::from_millis(100);
    let scanner = Running::start(config);
    scanner.expect_connected(&link.display().to_string());
    pty.send(b"PART");
    assert_eq!(
        seen(scanner.next()),
        Seen::Rejected(ScanError::Incomplete { length: 4 })
    );
    // The discarded bytes do not prefix the next code.
    pty.send(b"END\r");
    assert_eq!(scanner.until_code("END"), vec![code("END")]);
    scanner.stop();
}

#[test]
fn unplugged_mid_code_then_plugged_in_again() {
    let directory = tempfile::tempdir().unwrap();
    let link = link_in(&directory);
    let device = link.display().to_string();
    let mut pty = PtyScanner::plug(&link);
    let scanner = Running::on(&format!("serial:{device}"));
    scanner.expect_connected(&device);
    // One write: when FIRST is delivered, the partial ABC has been read too.
    pty.send(b"FIRST\rABC");
    assert_eq!(scanner.until_code("FIRST"), vec![code("FIRST")]);
    pty.unplug();
    assert_eq!(
        seen(scanner.next()),
        Seen::Rejected(ScanError::Interrupted { length: 3 })
    );
    match scanner.next() {
        ScanEvent::Unavailable(ScanError::Disconnected { device: lost, .. }) if lost == device => {}
        other => panic!("expected Unavailable(Disconnected), got {other:?}"),
    }
    match scanner.next() {
        ScanEvent::Unavailable(ScanError::NotFound { device: missing }) if missing == device => {}
        other => panic!("expected Unavailable(NotFound), got {other:?}"),
    }
    let mut pty = PtyScanner::plug(&link);
    scanner.expect_connected(&device);
    pty.send(b"AFTER\r");
    assert_eq!(scanner.until_code("AFTER"), vec![code("AFTER")]);
    scanner.stop();
}

#[test]
fn a_scanner_plugged_in_later_is_picked_up() {
    let directory = tempfile::tempdir().unwrap();
    let link = link_in(&directory);
    let device = link.display().to_string();
    let scanner = Running::on(&format!("serial:{device}?suffix=cr"));
    let missing = ScanError::NotFound {
        device: device.clone(),
    };
    assert_eq!(scanner.next(), ScanEvent::Unavailable(missing.clone()));
    assert_eq!(
        scanner.thread.handle().status(),
        ScannerStatus::Unavailable(missing)
    );
    let mut pty = PtyScanner::plug(&link);
    scanner.expect_connected(&device);
    assert_eq!(
        scanner.thread.handle().status(),
        ScannerStatus::Connected {
            device: device.clone(),
            description: None
        }
    );
    pty.send(b"LATE\r");
    assert_eq!(scanner.until_code("LATE"), vec![code("LATE")]);
    scanner.stop();
}

#[test]
fn a_port_held_by_another_program_is_busy_and_not_shared() {
    let directory = tempfile::tempdir().unwrap();
    let link = link_in(&directory);
    let device = link.display().to_string();
    let mut pty = PtyScanner::plug(&link);
    let first = Running::on(&format!("serial:{device}"));
    first.expect_connected(&device);
    let second = Running::on(&format!("serial:{device}"));
    assert_eq!(
        second.next(),
        ScanEvent::Unavailable(ScanError::Busy {
            device: device.clone()
        })
    );
    pty.send(b"ONE\r");
    assert_eq!(first.until_code("ONE"), vec![code("ONE")]);
    second.stop();
    first.stop();
}

#[test]
fn an_unsupported_device_path_is_reported_not_panicked() {
    let directory = tempfile::tempdir().unwrap();
    let not_a_tty = directory.path().join("plain-file");
    std::fs::write(&not_a_tty, b"").unwrap();
    let scanner = Running::on(&format!("serial:{}", not_a_tty.display()));
    match scanner.next() {
        ScanEvent::Unavailable(ScanError::Io { device, .. }) => {
            assert_eq!(device, not_a_tty.display().to_string())
        }
        other => panic!("expected Unavailable(Io), got {other:?}"),
    }
    scanner.stop();
}
