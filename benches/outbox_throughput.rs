//! Outbox throughput on the kiosk side: durable enqueues per second (one fsync
//! each, as the resident waits for it), and deliveries per second draining the
//! backlog to the reference server on loopback.
//!
//! `cargo bench --bench outbox_throughput` (prints figures; no assertions on time).

use std::sync::Arc;
use std::time::{Duration, Instant};

use estation::central_client::outbox::{Outbox, OutboxKind, SenderPolicy};
use estation::central_client::{CentralClient, ClientConfig, RetryPolicy};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::EmbeddedCentral;
use estation_central::wire::SubmissionRequest;

const ENTRIES: usize = 1000;

fn submission(i: usize) -> SubmissionRequest {
    let r = &DEMO_RESIDENTS[i % DEMO_RESIDENTS.len()];
    SubmissionRequest {
        service_id: "address-change".into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        fields: [
            ("new_address".to_owned(), format!("测试路 {i} 号")),
            ("phone".to_owned(), "13800000000".to_owned()),
        ]
        .into(),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let runtime = tokio::runtime::Runtime::new()?;
    let central = runtime.block_on(EmbeddedCentral::start(&dir.path().join("central")))?;
    let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.sqlite"))?);

    let started = Instant::now();
    for i in 0..ENTRIES {
        outbox.enqueue(
            OutboxKind::Submission,
            &format!("bench-{i}"),
            &submission(i),
        )?;
    }
    let enqueue = started.elapsed();

    let client = CentralClient::new(ClientConfig {
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        },
        ..ClientConfig::new(
            central.base_url(),
            central.kiosk_id(),
            central.kiosk_token(),
        )
    })?;
    let mut status = outbox.status();
    let started = Instant::now();
    runtime.block_on(async {
        let sender = outbox
            .clone()
            .spawn_sender_with(client, SenderPolicy::default());
        let drained = status.wait_for(|s| s.backlog == 0).await.map(|_| ());
        let _ = sender.stop().await;
        drained
    })?;
    let drain = started.elapsed();
    println!(
        "outbox: {ENTRIES} durable enqueues in {:.2}s ({:.0}/s); drained to loopback central in {:.2}s ({:.0}/s)",
        enqueue.as_secs_f64(),
        ENTRIES as f64 / enqueue.as_secs_f64(),
        drain.as_secs_f64(),
        ENTRIES as f64 / drain.as_secs_f64(),
    );
    runtime.block_on(central.shutdown())?;
    Ok(())
}
