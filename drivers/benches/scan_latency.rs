//! Scan latency: time from the last byte of a code reaching the device to the
//! `Scanned` event in the kiosk's callback, median over many scans.
//!
//! Run: `cargo bench -p estation-drivers --bench scan_latency`. The iteration
//! count comes from `SCAN_BENCH_ITERATIONS` (default 500).
//!
//! - serial: a pseudo-terminal stands for the scanner; the code is written, then
//!   the clock starts and the CR is written (the last byte).
//! - hid: a virtual uinput keyboard-wedge scanner types the code; the clock
//!   starts before the Enter key is sent. Skipped where `/dev/uinput` is missing.

use std::io::Write;
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use estation_drivers::scanner::{ScanEvent, Scanner, ScannerConfig, ScannerThread};

const HANG_GUARD: Duration = Duration::from_secs(30);

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "  {label:<22} median {:>8.1} µs   p90 {:>8.1} µs   min {:>8.1} µs   max {:>8.1} µs",
        percentile(&samples, 0.5).as_secs_f64() * 1e6,
        percentile(&samples, 0.9).as_secs_f64() * 1e6,
        samples[0].as_secs_f64() * 1e6,
        samples[samples.len() - 1].as_secs_f64() * 1e6,
    );
}

/// A scanner whose callback stamps each code the moment it is delivered.
fn start(uri: &str) -> (ScannerThread, Receiver<(Instant, ScanEvent)>) {
    let (tx, events) = channel();
    let thread = Scanner::new(ScannerConfig::new(uri.parse().expect("uri")))
        .spawn(move |event| {
            let _ = tx.send((Instant::now(), event));
        })
        .expect("scanner thread");
    match events.recv_timeout(HANG_GUARD) {
        Ok((_, ScanEvent::Connected { .. })) => {}
        other => panic!("scanner did not connect: {other:?}"),
    }
    (thread, events)
}

fn delivered(events: &Receiver<(Instant, ScanEvent)>, expected: &str) -> Instant {
    match events.recv_timeout(HANG_GUARD) {
        Ok((at, ScanEvent::Scanned(code))) => {
            assert_eq!(code.as_str(), expected, "wrong code delivered");
            at
        }
        other => panic!("expected a code, got {other:?}"),
    }
}

/// A phone identity code of `length` bytes, different every scan.
fn code(length: usize, scan: usize) -> String {
    let mut text = format!("HZ330100:{scan:08}:");
    while text.len() < length {
        text.push(char::from(b'A' + (text.len() % 26) as u8));
    }
    text.truncate(length);
    text
}

fn serial(iterations: usize) {
    use serialport::{SerialPort, TTYPort};
    let (mut master, slave) = TTYPort::pair().expect("pty");
    let path = slave.name().expect("pty name");
    let (thread, events) = start(&format!("serial:{path}?baud=115200&suffix=cr"));
    println!("serial (pty, suffix CR): {iterations} scans");
    for length in [64, 512] {
        let mut samples = Vec::with_capacity(iterations);
        for scan in 0..iterations {
            let text = code(length, scan);
            master.write_all(text.as_bytes()).expect("write code");
            let start = Instant::now();
            master.write_all(b"\r").expect("write suffix");
            samples.push(delivered(&events, &text) - start);
        }
        summary(&format!("{length}-byte code"), samples);
    }
    thread.stop().expect("stop");
}

#[cfg(target_os = "linux")]
fn hid(iterations: usize) {
    use estation_drivers::scanner::keyboard::us_key_for;
    use evdev::uinput::VirtualDevice;
    use evdev::{AttributeSet, EventType, InputEvent, KeyCode};

    if !std::path::Path::new("/dev/uinput").exists() {
        println!("hid (uinput): SKIPPED, /dev/uinput does not exist on this machine");
        return;
    }
    let mut keys = AttributeSet::<KeyCode>::new();
    for code in 1..=127 {
        keys.insert(KeyCode::new(code));
    }
    let mut device = VirtualDevice::builder()
        .and_then(|builder| builder.name("estation bench scanner").with_keys(&keys))
        .and_then(|builder| builder.build())
        .expect("uinput device");
    let deadline = Instant::now() + HANG_GUARD;
    let node = loop {
        if let Some(node) = device
            .enumerate_dev_nodes_blocking()
            .expect("device nodes")
            .filter_map(Result::ok)
            .find(|node| node.exists())
        {
            break node;
        }
        assert!(Instant::now() < deadline, "no /dev/input node appeared");
        std::thread::yield_now();
    };
    let (thread, events) = start(&format!("hid:{}", node.display()));
    let mut press = |key: KeyCode, value: i32| {
        device
            .emit(&[InputEvent::new(EventType::KEY.0, key.0, value)])
            .expect("emit");
    };
    println!("hid (uinput keyboard wedge, Enter): {iterations} scans");
    let mut samples = Vec::with_capacity(iterations);
    for scan in 0..iterations {
        let text = code(64, scan);
        for byte in text.bytes() {
            let (key, shift) = us_key_for(byte).expect("typeable");
            if shift {
                press(KeyCode::KEY_LEFTSHIFT, 1);
            }
            press(key, 1);
            press(key, 0);
            if shift {
                press(KeyCode::KEY_LEFTSHIFT, 0);
            }
            // The kernel keeps 64 events per reader; let the scanner catch up as
            // a real scanner's keystroke rate would.
            wait_for_scanner_thread_to_sleep();
        }
        let start = Instant::now();
        press(KeyCode::KEY_ENTER, 1);
        samples.push(delivered(&events, &text) - start);
        press(KeyCode::KEY_ENTER, 0);
    }
    summary("64-byte code", samples);
    thread.stop().expect("stop");
}

/// Waits until the scanner thread sleeps in `poll` again: it has read every
/// event queued so far.
#[cfg(target_os = "linux")]
fn wait_for_scanner_thread_to_sleep() {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let busy = std::fs::read_dir("/proc/self/task")
            .expect("/proc/self/task")
            .filter_map(Result::ok)
            .any(|task| {
                let path = task.path();
                std::fs::read_to_string(path.join("comm"))
                    .is_ok_and(|name| name.trim_end() == "code-scanner")
                    && std::fs::read_to_string(path.join("stat")).is_ok_and(|stat| {
                        stat.rsplit_once(')')
                            .is_some_and(|(_, rest)| !rest.trim_start().starts_with('S'))
                    })
            });
        if !busy {
            return;
        }
        assert!(Instant::now() < deadline, "the scanner thread never slept");
        std::thread::yield_now();
    }
}

#[cfg(not(target_os = "linux"))]
fn hid(_iterations: usize) {
    println!("hid: SKIPPED, keyboard-wedge scanners are read on Linux only");
}

fn main() {
    let iterations: usize = std::env::var("SCAN_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500)
        .max(1);
    println!("scan_latency: last byte written → Scanned event delivered");
    serial(iterations);
    hid(iterations);
}
