//! The HID keyboard-wedge scanner against a virtual USB scanner made with uinput:
//! a real evdev device, a real `EVIOCGRAB`, a real unplug (the device destroyed).
//! Where the machine has no `/dev/uinput` these tests skip loudly; the unit tests
//! in `scanner::hid` and `scanner::keyboard` cover the decoding and the read loop
//! on `input_event` byte streams without it.

#![cfg(target_os = "linux")]

use estation_drivers::scanner::keyboard::us_key_for;
use estation_drivers::scanner::{ScanError, ScanEvent, Scanner, ScannerConfig, ScannerThread};
use evdev::raw_stream::RawDevice;
use evdev::uinput::VirtualDevice;
use evdev::{AttributeSet, BusType, EventType, InputEvent, InputId, KeyCode};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const HANG_GUARD: Duration = Duration::from_secs(30);
const SCANNER_NAME: &str = "estation test scanner";

/// Whether uinput can be used here; says loudly why not.
fn uinput_or_skip(test: &str) -> bool {
    let uinput = Path::new("/dev/uinput");
    let reason = if !uinput.exists() {
        "/dev/uinput does not exist (no uinput in this kernel, or the module is not loaded: modprobe uinput)"
    } else if std::fs::OpenOptions::new()
        .write(true)
        .open(uinput)
        .is_err()
    {
        "/dev/uinput cannot be opened for writing (run as root or give access to /dev/uinput)"
    } else {
        return true;
    };
    eprintln!(
        "SKIPPED {test}: {reason}; the HID decoding and read loop are covered without it by the unit tests on input_event streams"
    );
    false
}

/// A virtual USB keyboard-wedge scanner, reachable through `link` as through a
/// udev `/dev/input/by-id/...-event-kbd` link.
struct VirtualScanner {
    device: VirtualDevice,
    node: PathBuf,
    link: PathBuf,
}

impl VirtualScanner {
    fn plug(link: &Path, keys: &AttributeSet<KeyCode>) -> Self {
        let mut device = VirtualDevice::builder()
            .unwrap()
            .name(SCANNER_NAME)
            .input_id(InputId::new(BusType::BUS_USB, 0x1eab, 0x1d06, 1))
            .with_keys(keys)
            .unwrap()
            .build()
            .unwrap();
        let deadline = Instant::now() + HANG_GUARD;
        let node = loop {
            let found = device
                .enumerate_dev_nodes_blocking()
                .unwrap()
                .filter_map(Result::ok)
                .find(|node| node.exists());
            if let Some(node) = found {
                break node;
            }
            assert!(
                Instant::now() < deadline,
                "the virtual scanner's /dev/input node never appeared"
            );
            std::thread::yield_now();
        };
        let staged = link.with_extension("new");
        let _ = std::fs::remove_file(&staged);
        std::os::unix::fs::symlink(&node, &staged).unwrap();
        std::fs::rename(&staged, link).unwrap();
        Self {
            device,
            node,
            link: link.to_owned(),
        }
    }

    fn keyboard(link: &Path) -> Self {
        let mut keys = AttributeSet::<KeyCode>::new();
        for code in 1..=127 {
            keys.insert(KeyCode::new(code));
        }
        Self::plug(link, &keys)
    }

    fn press(&mut self, key: KeyCode, value: i32) {
        self.device
            .emit(&[InputEvent::new(EventType::KEY.0, key.0, value)])
            .unwrap();
    }

    /// Types `text` as the scanner would (`\r` is Enter), one report per key
    /// change.
    fn type_text(&mut self, text: &str) {
        for byte in text.bytes() {
            let (key, shift) = us_key_for(byte).unwrap();
            if shift {
                self.press(KeyCode::KEY_LEFTSHIFT, 1);
            }
            self.press(key, 1);
            self.press(key, 0);
            if shift {
                self.press(KeyCode::KEY_LEFTSHIFT, 0);
            }
            wait_for_scanner_threads_to_sleep();
        }
    }

    fn unplug(self) {
        std::fs::remove_file(&self.link).unwrap();
        drop(self.device);
    }
}

/// Waits until every scanner thread of this process sleeps (in `poll`, or in its
/// reopen backoff), so every event queued so far has been read. The kernel keeps
/// 64 events per evdev reader and drops the whole queue (`SYN_DROPPED`) when it
/// overflows; a real scanner's keystroke rate (a USB report per millisecond at
/// most) leaves the reader time, a virtual one typing at memory speed on a busy
/// machine must give it that time.
fn wait_for_scanner_threads_to_sleep() {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let busy = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(Result::ok)
            .any(|task| {
                let path = task.path();
                std::fs::read_to_string(path.join("comm"))
                    .is_ok_and(|name| name.trim_end() == "code-scanner")
                    && std::fs::read_to_string(path.join("stat")).is_ok_and(|stat| {
                        // "pid (comm) S ...": the state follows the last ')'.
                        stat.rsplit_once(')')
                            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('S'))
                    })
            });
        if !busy {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the scanner thread never went back to waiting for input"
        );
        std::thread::yield_now();
    }
}

struct Running {
    thread: ScannerThread,
    events: Receiver<ScanEvent>,
}

impl Running {
    fn on(link: &Path) -> Self {
        let uri = format!("hid:{}", link.display()).parse().unwrap();
        let (tx, events) = channel();
        let thread = Scanner::new(ScannerConfig::new(uri))
            .spawn(move |event| {
                let _ = tx.send(event);
            })
            .unwrap();
        Self { thread, events }
    }

    fn next(&self) -> ScanEvent {
        self.events
            .recv_timeout(HANG_GUARD)
            .expect("the scanner reported nothing")
    }

    fn expect_connected(&self, link: &Path) {
        match self.next() {
            ScanEvent::Connected {
                device,
                description,
            } => {
                assert_eq!(device, link.display().to_string());
                assert_eq!(description.as_deref(), Some(SCANNER_NAME));
            }
            other => panic!("expected Connected, got {other:?}"),
        }
    }

    fn expect_code(&self, text: &str) {
        match self.next() {
            ScanEvent::Scanned(code) => assert_eq!(code.as_str(), text),
            other => panic!("expected the code {text:?}, got {other:?}"),
        }
    }
}

/// Whether another reader of the device (standing for the compositor or the UI)
/// has input waiting.
fn has_input(reader: &RawDevice) -> bool {
    let mut fds = [rustix::event::PollFd::new(
        reader,
        rustix::event::PollFlags::IN,
    )];
    rustix::event::poll(&mut fds, Some(&rustix::event::Timespec::default())).unwrap() > 0
}

#[test]
fn a_grabbed_scanner_types_only_into_the_scanner() {
    if !uinput_or_skip("a_grabbed_scanner_types_only_into_the_scanner") {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let link = directory.path().join("usb-test-scanner-event-kbd");
    let mut virtual_scanner = VirtualScanner::keyboard(&link);
    // Opened before the scanner, as the desktop opens every keyboard.
    let mut ui = RawDevice::open(&virtual_scanner.node).unwrap();
    let scanner = Running::on(&link);
    scanner.expect_connected(&link);
    virtual_scanner.type_text("HZ-330100:Ab{7}\r");
    scanner.expect_code("HZ-330100:Ab{7}");
    // The kernel hands each event to all readers at once, so had the grab let any
    // through they would be waiting by now.
    assert!(!has_input(&ui), "the scanner's keys reached another reader");
    scanner.thread.stop().unwrap();
    // Without the grab the same keys do reach the other reader: the check above
    // can fail.
    virtual_scanner.type_text("x");
    let deadline = Instant::now() + HANG_GUARD;
    while !has_input(&ui) {
        assert!(Instant::now() < deadline, "ungrabbed keys never arrived");
        std::thread::yield_now();
    }
    let keys: Vec<u16> = ui
        .fetch_events()
        .unwrap()
        .filter(|event| event.event_type() == EventType::KEY)
        .map(|event| event.code())
        .collect();
    assert_eq!(keys, vec![KeyCode::KEY_X.0, KeyCode::KEY_X.0]);
}

#[test]
fn an_unplugged_scanner_is_reported_and_picked_up_again() {
    if !uinput_or_skip("an_unplugged_scanner_is_reported_and_picked_up_again") {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let link = directory.path().join("usb-test-scanner-event-kbd");
    let device = link.display().to_string();
    let mut virtual_scanner = VirtualScanner::keyboard(&link);
    let scanner = Running::on(&link);
    scanner.expect_connected(&link);
    virtual_scanner.type_text("BEFORE\rABC");
    scanner.expect_code("BEFORE");
    virtual_scanner.unplug();
    // Events still queued when a device goes are dropped by the kernel, so the
    // partial ABC may or may not have been read before the unplug.
    let mut event = scanner.next();
    if let ScanEvent::Rejected(why) = &event {
        assert!(
            matches!(why, ScanError::Interrupted { length } if (1..=3).contains(length)),
            "{why:?}"
        );
        event = scanner.next();
    }
    assert!(
        matches!(&event, ScanEvent::Unavailable(ScanError::Disconnected { device: lost, .. }) if *lost == device),
        "{event:?}"
    );
    assert_eq!(
        scanner.next(),
        ScanEvent::Unavailable(ScanError::NotFound {
            device: device.clone()
        })
    );
    let mut virtual_scanner = VirtualScanner::keyboard(&link);
    scanner.expect_connected(&link);
    virtual_scanner.type_text("AFTER\r");
    scanner.expect_code("AFTER");
    scanner.thread.stop().unwrap();
}

#[test]
fn a_scanner_grabbed_elsewhere_is_busy_until_released() {
    if !uinput_or_skip("a_scanner_grabbed_elsewhere_is_busy_until_released") {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let link = directory.path().join("usb-test-scanner-event-kbd");
    let mut virtual_scanner = VirtualScanner::keyboard(&link);
    let mut other = RawDevice::open(&virtual_scanner.node).unwrap();
    other.grab().unwrap();
    let scanner = Running::on(&link);
    assert_eq!(
        scanner.next(),
        ScanEvent::Unavailable(ScanError::Busy {
            device: link.display().to_string()
        })
    );
    drop(other);
    scanner.expect_connected(&link);
    virtual_scanner.type_text("FREE\r");
    scanner.expect_code("FREE");
    scanner.thread.stop().unwrap();
}

#[test]
fn an_input_device_without_keys_is_not_taken_for_a_scanner() {
    if !uinput_or_skip("an_input_device_without_keys_is_not_taken_for_a_scanner") {
        return;
    }
    let directory = tempfile::tempdir().unwrap();
    let link = directory.path().join("usb-test-mouse-event-mouse");
    let mut buttons = AttributeSet::<KeyCode>::new();
    buttons.insert(KeyCode::BTN_LEFT);
    buttons.insert(KeyCode::BTN_RIGHT);
    let _mouse = VirtualScanner::plug(&link, &buttons);
    let scanner = Running::on(&link);
    assert!(
        matches!(
            scanner.next(),
            ScanEvent::Unavailable(ScanError::NotAScanner { .. })
        ),
        "a mouse was accepted as a scanner"
    );
    scanner.thread.stop().unwrap();
}
