//! The serial and USB-class transports against a printer on the far side of a
//! pseudo-terminal (a real tty: termios, blocking reads, timeouts).

#![cfg(unix)]

use crate::support::paper::qr_payloads;
use estation_drivers::print::{
    Decoder, JobState, PrintJournal, PrintOutcome, Printer, PrinterConfig, PrinterStatus, Progress,
    StreamEvent, WIDTH_58MM, layouts, samples,
};
use serialport::{SerialPort, TTYPort};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

/// A printer answering on the master side of a pty: decodes what it receives,
/// answers `DLE EOT` from `status`, and sends the decoded paper at each cut.
struct PtyPrinter {
    slave_path: String,
    pages: mpsc::Receiver<image::GrayImage>,
    stop: Arc<AtomicBool>,
    status_requests: Arc<AtomicUsize>,
    _slave: TTYPort,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl PtyPrinter {
    fn start(status: PrinterStatus) -> Self {
        let (mut master, slave) = TTYPort::pair().unwrap();
        let slave_path = slave.name().unwrap();
        master.set_timeout(Duration::from_millis(50)).unwrap();
        let (pages_tx, pages) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let status_requests = Arc::new(AtomicUsize::new(0));
        let thread = {
            let stop = stop.clone();
            let status_requests = status_requests.clone();
            std::thread::spawn(move || {
                let mut decoder = Decoder::new(WIDTH_58MM);
                let mut buffer = [0u8; 4096];
                while !stop.load(Ordering::SeqCst) {
                    let n = match master.read(&mut buffer) {
                        Ok(n) => n,
                        Err(error) if error.kind() == std::io::ErrorKind::TimedOut => continue,
                        Err(_) => return,
                    };
                    for event in decoder.feed(&buffer[..n]) {
                        match event {
                            StreamEvent::RealTimeStatus(request) => {
                                status_requests.fetch_add(1, Ordering::SeqCst);
                                let _ = master.write_all(&[status.dle_eot_reply(request)]);
                            }
                            StreamEvent::Cut => {
                                let decoded = decoder.take();
                                if let Some(page) = decoded.pages.into_iter().last() {
                                    let _ = pages_tx.send(page);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            })
        };
        Self {
            slave_path,
            pages,
            stop,
            status_requests,
            _slave: slave,
            thread: Some(thread),
        }
    }
}

impl Drop for PtyPrinter {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn print_through(uri: String, pty: &PtyPrinter) {
    let mut config = PrinterConfig::new(uri.parse().unwrap());
    config.width_dots = WIDTH_58MM;
    let printer = Printer::new(config);
    assert_eq!(printer.status().unwrap(), PrinterStatus::READY);
    assert_eq!(printer.status().unwrap(), PrinterStatus::READY);
    // Four requests per check: no reply was lost to an earlier link and retried.
    assert_eq!(pty.status_requests.load(Ordering::SeqCst), 8);
    let journal = PrintJournal::in_memory().unwrap();
    let content = samples::household_registration();
    let outcome = printer
        .print_document(
            &journal,
            "req-tty",
            "certificate",
            &layouts::certificate(&content),
            &mut |_: Progress| {},
        )
        .unwrap();
    assert!(
        matches!(outcome, PrintOutcome::Printed { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        journal.get("req-tty").unwrap().unwrap().state,
        JobState::Printed
    );
    let page = pty.pages.recv_timeout(Duration::from_secs(20)).unwrap();
    assert_eq!(qr_payloads(&page), vec![content.qr_payload]);
}

#[test]
fn serial_transport_prints_and_reads_status() {
    let pty = PtyPrinter::start(PrinterStatus::READY);
    print_through(format!("serial:{}?baud=115200", pty.slave_path), &pty);
}

#[test]
fn usb_class_device_transport_prints_and_reads_status() {
    let pty = PtyPrinter::start(PrinterStatus::READY);
    print_through(format!("usb:{}", pty.slave_path), &pty);
}

#[test]
fn serial_paper_out_is_reported_before_sending() {
    let pty = PtyPrinter::start(PrinterStatus {
        paper_end: true,
        ..PrinterStatus::READY
    });
    let printer = Printer::from_uri(&format!("serial:{}", pty.slave_path)).unwrap();
    assert!(printer.status().unwrap().paper_end);
}
