//! Card-inserted to identity-ready latency through a real pcscd with the vpcd
//! virtual card, and APDUs per read.
//!
//! Run: `cargo bench -p estation-drivers --bench card_read` (pcscd and
//! vsmartcard-vpcd installed; the harness starts pcscd if needed). The
//! iteration count comes from `CARD_BENCH_ITERATIONS` (default 25).
//!
//! Three spans are measured per read:
//! - detect: card connected to vpcd → `CardInserted` from the monitor (mostly
//!   pcscd's presence polling of the vpcd driver, a property of the reader);
//! - read: `CardInserted` → identity ready (connect, profile selection, APDUs,
//!   reset), the part the kiosk controls;
//! - total: the two together.

use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use estation_drivers::card::virtual_card::{
    InsertedCard, ServiceCardFixture, SocialSecurityFixture, VPCD_READER, VirtualCardSpec, harness,
};
use estation_drivers::card::{CardEvent, CardMonitor, PcscIdentitySource, Pin};

const HANG_GUARD: Duration = Duration::from_secs(30);

struct Case {
    name: &'static str,
    spec: VirtualCardSpec,
    pin: Option<Pin>,
}

fn wait_for(events: &Receiver<CardEvent>, wanted: impl Fn(&CardEvent) -> bool) {
    loop {
        match events.recv_timeout(HANG_GUARD) {
            Ok(event) if wanted(&event) => return,
            Ok(_) => {}
            Err(e) => panic!("monitor event never came: {e}"),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn summary(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "  {label:<7} median {:>7.1} ms   p90 {:>7.1} ms   min {:>7.1} ms   max {:>7.1} ms",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.9).as_secs_f64() * 1e3,
        samples[0].as_secs_f64() * 1e3,
        samples[samples.len() - 1].as_secs_f64() * 1e3,
    );
}

fn main() {
    let Some(_pcscd) = harness::acquire_or_skip("card_read benchmark") else {
        return;
    };
    let iterations: usize = std::env::var("CARD_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
        .max(1);

    let mut monitor = CardMonitor::new().expect("monitor");
    let canceller = monitor.canceller();
    let (tx, events) = channel();
    let monitor_thread = std::thread::spawn(move || {
        let _ = monitor.run(&mut |event| {
            let _ = tx.send(event);
        });
    });
    wait_for(
        &events,
        |e| matches!(e, CardEvent::ReaderAdded { reader } if reader == VPCD_READER),
    );

    let cases = [
        Case {
            name: "social security card, no PIN",
            spec: VirtualCardSpec::social_security(SocialSecurityFixture::sample()),
            pin: None,
        },
        Case {
            name: "social security card, PIN on EF06",
            spec: VirtualCardSpec::social_security(SocialSecurityFixture {
                pin: Some("123456".into()),
                ..SocialSecurityFixture::sample()
            }),
            pin: Some(Pin::new("123456")),
        },
        Case {
            name: "service card, PIN",
            spec: VirtualCardSpec::service_card(ServiceCardFixture::sample()),
            pin: Some(Pin::new("2468")),
        },
    ];
    let source = PcscIdentitySource::new();
    println!("card_read: {iterations} reads per case through pcscd + vpcd");
    for case in cases {
        let (mut detect, mut read, mut total) = (Vec::new(), Vec::new(), Vec::new());
        let mut apdus = Vec::new();
        for _ in 0..iterations {
            let start = Instant::now();
            let card = InsertedCard::insert(case.spec.clone()).expect("insert into vpcd");
            wait_for(
                &events,
                |e| matches!(e, CardEvent::CardInserted { reader, .. } if reader == VPCD_READER),
            );
            let inserted = Instant::now();
            let (identity, stats) = source
                .read_identity_with_stats(VPCD_READER, case.pin.as_ref())
                .expect("read");
            let ready = Instant::now();
            assert!(!identity.name.is_empty());
            drop(identity);
            detect.push(inserted - start);
            read.push(ready - inserted);
            total.push(ready - start);
            apdus.push(stats.apdus);
            assert_eq!(
                card.remove(),
                stats.apdus,
                "card and reader disagree on APDUs"
            );
            wait_for(
                &events,
                |e| matches!(e, CardEvent::CardRemoved { reader } if reader == VPCD_READER),
            );
        }
        apdus.sort_unstable();
        println!(
            "{} (APDUs per read: {}..={})",
            case.name,
            apdus[0],
            apdus[apdus.len() - 1]
        );
        summary("detect", detect);
        summary("read", read);
        summary("total", total);
    }
    canceller.cancel();
    let _ = monitor_thread.join();
}
