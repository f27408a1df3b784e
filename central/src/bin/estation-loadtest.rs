//! Load test of the reference central service, on loopback only: N simulated
//! kiosks, each with its own token, send heartbeats and submissions (each with
//! an idempotency key) as fast as the server answers. Bounded in requests and
//! in time. Prints requests per second and latency percentiles, and checks the
//! database holds exactly the submissions that were acknowledged.
//!
//! `cargo run -p estation-central --features loadtest --bin estation-loadtest -- --kiosks 100`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use clap::Parser;
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::EmbeddedCentral;
use estation_central::wire::{
    DeviceHealth, DeviceStatus, Heartbeat, IDEMPOTENCY_KEY_HEADER, KIOSK_ID_HEADER,
    SubmissionRequest,
};

#[derive(Parser)]
#[command(about = "Loopback load test of the reference central service")]
struct Args {
    /// Simulated kiosks, each a concurrent client with its own token.
    #[arg(long, default_value_t = 100)]
    kiosks: usize,
    /// Requests per kiosk, alternating heartbeat and submission.
    #[arg(long, default_value_t = 20)]
    requests_per_kiosk: usize,
    /// Stop sending after this many seconds, whatever is left.
    #[arg(long, default_value_t = 120)]
    max_seconds: u64,
    /// Directory for the server's database (a fresh one under the system
    /// temporary directory by default, removed afterwards).
    #[arg(long)]
    dir: Option<PathBuf>,
}

struct KioskResult {
    latencies: Vec<Duration>,
    submissions_acknowledged: usize,
    failures: usize,
}

fn submission(kiosk: usize, i: usize) -> SubmissionRequest {
    let r = &DEMO_RESIDENTS[(kiosk + i) % DEMO_RESIDENTS.len()];
    SubmissionRequest {
        service_id: "address-change".into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        fields: [
            (
                "new_address".to_owned(),
                format!("测试路 {kiosk} 号 {i} 室"),
            ),
            ("phone".to_owned(), "13800000000".to_owned()),
        ]
        .into(),
    }
}

async fn run_kiosk(
    http: reqwest::Client,
    base_url: String,
    kiosk: usize,
    token: String,
    requests: usize,
    deadline: Instant,
) -> KioskResult {
    let kiosk_id = format!("load-{kiosk:04}");
    let mut result = KioskResult {
        latencies: Vec::with_capacity(requests),
        submissions_acknowledged: 0,
        failures: 0,
    };
    for i in 0..requests {
        if Instant::now() >= deadline {
            break;
        }
        let key = format!("{kiosk_id}-{i}");
        let is_submission = i % 2 == 1;
        let request = if is_submission {
            http.post(format!("{base_url}/v1/submissions"))
                .json(&submission(kiosk, i))
        } else {
            http.post(format!("{base_url}/v1/heartbeats"))
                .json(&Heartbeat {
                    sent_at: time::OffsetDateTime::now_utc(),
                    app_version: "loadtest".into(),
                    config_version: Some(1),
                    outbox_backlog: 0,
                    devices: vec![DeviceHealth {
                        device: "printer".into(),
                        status: DeviceStatus::Ok,
                        detail: None,
                    }],
                })
        };
        let started = Instant::now();
        let outcome = request
            .header(KIOSK_ID_HEADER, &kiosk_id)
            .header(IDEMPOTENCY_KEY_HEADER, &key)
            .bearer_auth(&token)
            .send()
            .await;
        let ok = match outcome {
            Ok(response) => response.status().is_success() && response.bytes().await.is_ok(),
            Err(_) => false,
        };
        result.latencies.push(started.elapsed());
        if ok {
            result.submissions_acknowledged += usize::from(is_submission);
        } else {
            result.failures += 1;
        }
    }
    result
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let (dir, remove_after) = match args.dir {
        Some(dir) => (dir, false),
        None => (
            std::env::temp_dir().join(format!("estation-loadtest-{}", std::process::id())),
            true,
        ),
    };
    let central = EmbeddedCentral::start(&dir).await?;
    let mut tokens = Vec::with_capacity(args.kiosks);
    for kiosk in 0..args.kiosks {
        tokens.push(central.register_kiosk(&format!("load-{kiosk:04}")).await?);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.kiosks)
        .build()?;
    let base_url = central.base_url().to_owned();
    let deadline = Instant::now() + Duration::from_secs(args.max_seconds);
    let started = Instant::now();
    let tasks: Vec<_> = tokens
        .into_iter()
        .enumerate()
        .map(|(kiosk, token)| {
            tokio::spawn(run_kiosk(
                http.clone(),
                base_url.clone(),
                kiosk,
                token,
                args.requests_per_kiosk,
                deadline,
            ))
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut acknowledged, mut failures) = (0usize, 0usize);
    for task in tasks {
        let result = task.await?;
        latencies.extend(result.latencies);
        acknowledged += result.submissions_acknowledged;
        failures += result.failures;
    }
    let elapsed = started.elapsed();
    latencies.sort_unstable();

    let db_path = central.db_path().to_owned();
    let stored: i64 = tokio::task::spawn_blocking(move || -> anyhow::Result<i64> {
        let conn = rusqlite::Connection::open(db_path)?;
        Ok(conn.query_row("SELECT COUNT(*) FROM submissions", [], |r| r.get(0))?)
    })
    .await??;
    central.shutdown().await?;
    if remove_after {
        let _ = std::fs::remove_dir_all(&dir);
    }

    let requests = latencies.len();
    println!(
        "kiosks={} requests={} failures={} elapsed={:.2}s rps={:.0} p50={:.1}ms p99={:.1}ms max={:.1}ms submissions_acknowledged={} submissions_stored={}",
        args.kiosks,
        requests,
        failures,
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        acknowledged,
        stored,
    );
    anyhow::ensure!(
        stored as usize >= acknowledged,
        "an acknowledged submission is missing from the database"
    );
    Ok(())
}
