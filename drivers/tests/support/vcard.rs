//! Shared helpers for the PC/SC tests: a card monitor on its own thread whose
//! events arrive on a channel, so tests wait for pcscd to notice a card instead
//! of sleeping.

#![allow(dead_code)]

use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use estation_drivers::card::virtual_card::{VPCD_READER, harness};
use estation_drivers::card::{CardEvent, CardMonitor, MonitorCanceller};

/// Guard against a hung test only; never a timing assertion.
pub const HANG_GUARD: Duration = Duration::from_secs(30);

pub struct MonitorThread {
    pub events: Receiver<CardEvent>,
    canceller: MonitorCanceller,
    thread: Option<JoinHandle<()>>,
}

impl MonitorThread {
    /// Starts a monitor and waits until it has seen the vpcd reader.
    pub fn start() -> Self {
        let mut monitor = CardMonitor::new().unwrap();
        let canceller = monitor.canceller();
        let (tx, events) = channel();
        let thread = std::thread::spawn(move || {
            monitor
                .run(&mut |event| {
                    let _ = tx.send(event);
                })
                .unwrap();
        });
        let this = Self {
            events,
            canceller,
            thread: Some(thread),
        };
        this.expect(|e| matches!(e, CardEvent::ReaderAdded { reader } if reader == VPCD_READER));
        this
    }

    /// Waits for the first event matching `wanted`, returning it; events before
    /// it are returned too, in order, for tests that check sequences.
    pub fn expect(&self, wanted: impl Fn(&CardEvent) -> bool) -> (CardEvent, Vec<CardEvent>) {
        let mut before = Vec::new();
        loop {
            match self.events.recv_timeout(HANG_GUARD) {
                Ok(event) if wanted(&event) => return (event, before),
                Ok(event) => before.push(event),
                Err(RecvTimeoutError::Timeout) => {
                    panic!(
                        "expected event never came; saw {before:?}\n{}",
                        harness::diagnosis()
                    )
                }
                Err(RecvTimeoutError::Disconnected) => panic!("monitor stopped; saw {before:?}"),
            }
        }
    }

    pub fn expect_inserted(&self) -> Vec<u8> {
        match self.expect(
            |e| matches!(e, CardEvent::CardInserted { reader, .. } if reader == VPCD_READER),
        ) {
            (CardEvent::CardInserted { atr, .. }, _) => atr,
            _ => unreachable!(),
        }
    }

    pub fn expect_removed(&self) {
        self.expect(|e| matches!(e, CardEvent::CardRemoved { reader } if reader == VPCD_READER));
    }

    /// Cancels the monitor and waits for its thread to finish.
    pub fn stop(mut self) {
        self.canceller.cancel();
        if let Some(thread) = self.thread.take() {
            thread.join().unwrap();
        }
    }
}

impl Drop for MonitorThread {
    fn drop(&mut self) {
        self.canceller.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
