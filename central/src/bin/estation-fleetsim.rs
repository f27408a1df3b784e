//! Fleet simulator: N kiosks living a night against real `estation-central
//! serve` processes (one, or several replicas on one PostgreSQL database), on
//! loopback only, bounded in time, stopping by itself.
//!
//! Each simulated kiosk has its own id and token and, with jitter:
//! - a heartbeat every 30 s reporting the configuration version it runs;
//! - a configuration check every 60 s with `If-None-Match`; a new bundle is
//!   verified against the simulator's signing key and applied at once;
//! - resident sessions as a Poisson process (default 0.5 an hour per kiosk, a
//!   busy night: most kiosks see nobody after midnight): catalogue, identity
//!   lookup, certificate issue, a submission for 40 % of them, and a rating.
//!
//! Mid-run an administrator publishes a new bundle to every kiosk; the report
//! says when 50 %, 99 % and 100 % of kiosks had a heartbeat acknowledged that
//! reports it. Then per route: requests, errors, p50/p95/p99; and the database.
//!
//! `cargo build --release -p estation-central --features loadtest --bins`, then
//! `target/release/estation-fleetsim --kiosks 1000 --database postgres://...`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use clap::Parser;
use ed25519_dalek::{Signer, SigningKey, Verifier};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::store::sha256;
use estation_central::server::{self, Database, ServerOptions};
use estation_central::wire::*;
use rand::Rng;
use tokio::sync::Mutex;

#[derive(Parser, Clone)]
#[command(about = "Loopback fleet simulation of the reference central service")]
struct Args {
    /// Simulated kiosks.
    #[arg(long, default_value_t = 1000)]
    kiosks: usize,
    /// Length of the simulated night, in seconds (the run stops by itself).
    #[arg(long, default_value_t = 180)]
    seconds: u64,
    /// Seconds between a kiosk's heartbeats (each jittered by ±10 %).
    #[arg(long, default_value_t = 30.0)]
    heartbeat_secs: f64,
    /// Seconds between a kiosk's configuration checks (each jittered by ±10 %).
    #[arg(long, default_value_t = 60.0)]
    config_secs: f64,
    /// Resident sessions per kiosk per hour.
    #[arg(long, default_value_t = 0.5)]
    sessions_per_kiosk_hour: f64,
    /// When the new bundle is published, in seconds from the start.
    #[arg(long, default_value_t = 30)]
    publish_at: u64,
    /// The store: a PostgreSQL URL, or a SQLite file (default: a new file in a
    /// temporary folder).
    #[arg(long)]
    database: Option<String>,
    /// `estation-central serve` processes (more than one needs PostgreSQL).
    #[arg(long, default_value_t = 1)]
    replicas: usize,
    /// PostgreSQL connections per replica.
    #[arg(long, default_value_t = 16)]
    pool_size: usize,
    /// The `estation-central` binary (default: beside this one).
    #[arg(long)]
    server_binary: Option<PathBuf>,
}

/// Latencies per route, in microseconds, and errors.
#[derive(Default)]
struct Stats {
    routes: BTreeMap<&'static str, (Vec<u32>, u64)>,
}

impl Stats {
    fn record(&mut self, route: &'static str, elapsed: Duration, ok: bool) {
        let entry = self.routes.entry(route).or_default();
        entry
            .0
            .push(u32::try_from(elapsed.as_micros()).unwrap_or(u32::MAX));
        if !ok {
            entry.1 += 1;
        }
    }

    fn merge(&mut self, other: Stats) {
        for (route, (mut latencies, errors)) in other.routes {
            let entry = self.routes.entry(route).or_default();
            entry.0.append(&mut latencies);
            entry.1 += errors;
        }
    }
}

fn percentile(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64)).ceil() as usize;
    f64::from(sorted[rank.clamp(1, sorted.len()) - 1]) / 1000.0
}

struct Kiosk {
    id: String,
    token: String,
    base_url: String,
}

struct Shared {
    http: reqwest::Client,
    trust: ed25519_dalek::VerifyingKey,
    deadline: Instant,
    published: Mutex<Option<(u64, Instant)>>,
    args: Args,
}

fn jittered(rng: &mut impl Rng, secs: f64) -> Duration {
    Duration::from_secs_f64(secs * rng.gen_range(0.9..1.1))
}

fn exponential(rng: &mut impl Rng, rate_per_sec: f64) -> Duration {
    if rate_per_sec <= 0.0 {
        return Duration::from_secs(u64::MAX / 4);
    }
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    Duration::from_secs_f64(-u.ln() / rate_per_sec)
}

async fn timed(
    stats: &mut Stats,
    route: &'static str,
    request: reqwest::RequestBuilder,
) -> Option<reqwest::Response> {
    let started = Instant::now();
    let result = request.send().await;
    let ok = matches!(&result, Ok(r) if r.status().is_success() || r.status() == reqwest::StatusCode::NOT_MODIFIED);
    stats.record(route, started.elapsed(), ok);
    if !ok && let Ok(r) = &result {
        tracing::debug!(route, status = %r.status(), "request failed");
    }
    result.ok()
}

/// One kiosk's night. Answers its stats and when its heartbeat first reported
/// the published bundle.
async fn kiosk_night(shared: Arc<Shared>, kiosk: Kiosk, seed: u64) -> (Stats, Option<Instant>) {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut stats = Stats::default();
    let args = &shared.args;
    let auth = |b: reqwest::RequestBuilder| {
        b.header(KIOSK_ID_HEADER, &kiosk.id)
            .bearer_auth(&kiosk.token)
    };
    let url = |path: &str| format!("{}{path}", kiosk.base_url);
    // Kiosks booted at different times: phases spread over the intervals.
    let now = Instant::now();
    let mut next_heartbeat = now + Duration::from_secs_f64(rng.gen_range(0.0..args.heartbeat_secs));
    let mut next_config = now + Duration::from_secs_f64(rng.gen_range(0.0..args.config_secs));
    let session_rate = args.sessions_per_kiosk_hour / 3600.0;
    let mut next_session = now + exponential(&mut rng, session_rate);
    let mut etag: Option<String> = None;
    let mut running_version: Option<u64> = None;
    let mut reported_published: Option<Instant> = None;
    let mut sequence = 0u64;
    loop {
        let next = next_heartbeat.min(next_config).min(next_session);
        if next >= shared.deadline {
            break;
        }
        tokio::time::sleep_until(next.into()).await;
        sequence += 1;
        let key = format!("{}-{sequence}", kiosk.id);
        if next == next_heartbeat {
            next_heartbeat += jittered(&mut rng, args.heartbeat_secs);
            let beat = Heartbeat {
                sent_at: time::OffsetDateTime::now_utc(),
                app_version: "0.1.0".into(),
                config_version: running_version,
                outbox_backlog: 0,
                devices: vec![DeviceHealth {
                    device: "printer".into(),
                    status: DeviceStatus::Ok,
                    detail: None,
                }],
            };
            let response = timed(
                &mut stats,
                "POST /v1/heartbeats",
                auth(shared.http.post(url("/v1/heartbeats")))
                    .header(IDEMPOTENCY_KEY_HEADER, &key)
                    .json(&beat),
            )
            .await;
            if reported_published.is_none()
                && response.is_some_and(|r| r.status().is_success())
                && let Some((version, _)) = *shared.published.lock().await
                && running_version == Some(version)
            {
                reported_published = Some(Instant::now());
            }
        } else if next == next_config {
            next_config += jittered(&mut rng, args.config_secs);
            let mut request = auth(shared.http.get(url("/v1/config")));
            if let Some(tag) = &etag {
                request = request.header("if-none-match", tag);
            }
            if let Some(response) = timed(&mut stats, "GET /v1/config", request).await
                && response.status() == reqwest::StatusCode::OK
            {
                let tag = response
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                if let Ok(signed) = response.json::<SignedConfig>().await
                    && let Some(version) = apply(&shared, &signed)
                {
                    running_version = Some(version);
                    etag = tag;
                }
            }
        } else {
            next_session += exponential(&mut rng, session_rate);
            resident_session(&shared, &mut stats, &mut rng, &key, &auth, &url).await;
        }
    }
    (stats, reported_published)
}

/// Verifies a bundle as a kiosk does (the service's default bundles are signed
/// by the service's key, which this kiosk also trusts by its key id) and
/// answers its version.
fn apply(shared: &Shared, signed: &SignedConfig) -> Option<u64> {
    let bundle: ConfigBundle = serde_json::from_str(&signed.payload).ok()?;
    if signed.key_id == "fleetsim" {
        let bytes: [u8; 64] = base64::engine::general_purpose::STANDARD
            .decode(&signed.signature)
            .ok()?
            .try_into()
            .ok()?;
        shared
            .trust
            .verify(
                signed.payload.as_bytes(),
                &ed25519_dalek::Signature::from_bytes(&bytes),
            )
            .ok()?;
    }
    Some(bundle.version)
}

async fn resident_session(
    shared: &Shared,
    stats: &mut Stats,
    rng: &mut impl Rng,
    key: &str,
    auth: &impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    url: &impl Fn(&str) -> String,
) {
    let resident = &DEMO_RESIDENTS[rng.gen_range(0..3)];
    timed(
        stats,
        "GET /v1/catalogue",
        auth(shared.http.get(url("/v1/catalogue"))),
    )
    .await;
    timed(
        stats,
        "POST /v1/identity/lookup",
        auth(shared.http.post(url("/v1/identity/lookup"))).json(&IdentityLookupRequest {
            card_number: resident.card_number.into(),
            id_number: resident.id_number.into(),
        }),
    )
    .await;
    timed(
        stats,
        "POST /v1/certificates",
        auth(shared.http.post(url("/v1/certificates")))
            .header(IDEMPOTENCY_KEY_HEADER, format!("{key}-c"))
            .json(&IssueCertificateRequest {
                service_id: "household-proof".into(),
                card_number: resident.card_number.into(),
                id_number: resident.id_number.into(),
                name: resident.name.into(),
                locale: Locale::ZhCn,
                period: None,
            }),
    )
    .await;
    if rng.gen_bool(0.4) {
        timed(
            stats,
            "POST /v1/submissions",
            auth(shared.http.post(url("/v1/submissions")))
                .header(IDEMPOTENCY_KEY_HEADER, format!("{key}-s"))
                .json(&SubmissionRequest {
                    service_id: "address-change".into(),
                    card_number: resident.card_number.into(),
                    id_number: resident.id_number.into(),
                    name: resident.name.into(),
                    fields: [
                        (
                            "new_address".to_owned(),
                            "浙江省杭州市滨江区江南大道 1 号".to_owned(),
                        ),
                        ("phone".to_owned(), "13800000000".to_owned()),
                    ]
                    .into(),
                }),
        )
        .await;
    }
    timed(
        stats,
        "POST /v1/ratings",
        auth(shared.http.post(url("/v1/ratings")))
            .header(IDEMPOTENCY_KEY_HEADER, format!("{key}-r"))
            .json(&RatingRequest {
                service_id: "household-proof".into(),
                certificate_id: None,
                score: RatingScore::Good,
                reasons: vec![],
            }),
    )
    .await;
}

struct Servers(Vec<Child>);

impl Drop for Servers {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into journald or a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    let scratch = tempfile::tempdir()?;
    let database = match &args.database {
        Some(url) => Database::parse(url),
        None => Database::Sqlite(scratch.path().join("central.sqlite3")),
    };
    if args.replicas > 1 && !matches!(database, Database::Postgres(_)) {
        bail!("several replicas need a PostgreSQL database");
    }
    let database_url = match &database {
        Database::Sqlite(path) => format!("sqlite:{}", path.display()),
        Database::Postgres(url) => url.clone(),
    };
    let binary = match &args.server_binary {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .parent()
            .context("binary folder")?
            .join("estation-central"),
    };
    if !binary.is_file() {
        bail!(
            "{} not found: build it with `cargo build --release -p estation-central --features loadtest --bins`",
            binary.display()
        );
    }

    // The fleet and an administrator, straight into the store.
    let key_dir = scratch.path().join("keys");
    server::keys::generate(&key_dir)?;
    let options = ServerOptions {
        database: Some(database_url.clone()),
        pool_size: 2,
        ..ServerOptions::default()
    };
    let store = server::open_store(&database, &options).await?;
    let now = time::OffsetDateTime::now_utc();
    let kiosks: Vec<(String, String)> = (0..args.kiosks)
        .map(|i| (format!("sim-{i:05}"), server::new_token()))
        .collect();
    let hashed: Vec<(String, [u8; 32])> = kiosks
        .iter()
        .map(|(id, token)| (id.clone(), sha256(token.as_bytes())))
        .collect();
    for chunk in hashed.chunks(2000) {
        store.register_kiosks(chunk, now).await?;
    }
    let admin_token = server::state::register_admin(&*store, "fleetsim", now).await?;
    drop(store);

    // The service.
    let mut servers = Servers(Vec::new());
    let mut bases = Vec::new();
    for _ in 0..args.replicas {
        let port = free_port()?;
        let mut command = Command::new(&binary);
        command
            .arg("serve")
            .args(["--database", &database_url])
            .arg("--key-dir")
            .arg(&key_dir)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--pool-size", &args.pool_size.to_string()])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null());
        servers.0.push(command.spawn()?);
        bases.push(format!("http://127.0.0.1:{port}"));
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    for base in &bases {
        let ready_by = Instant::now() + Duration::from_secs(60);
        while http.get(format!("{base}/v1/keys")).send().await.is_err() {
            if Instant::now() > ready_by {
                bail!("{base} did not start");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    let signer = SigningKey::generate(&mut rand::rngs::OsRng);
    let start = Instant::now();
    let shared = Arc::new(Shared {
        http: http.clone(),
        trust: signer.verifying_key(),

        deadline: start + Duration::from_secs(args.seconds),
        published: Mutex::new(None),
        args: args.clone(),
    });
    let mut tasks = Vec::with_capacity(args.kiosks);
    for (i, (id, token)) in kiosks.into_iter().enumerate() {
        let kiosk = Kiosk {
            id,
            token,
            base_url: bases[i % bases.len()].clone(),
        };
        tasks.push(tokio::spawn(kiosk_night(shared.clone(), kiosk, i as u64)));
    }

    // Mid-run: a new bundle for every kiosk, through the first replica.
    tokio::time::sleep_until((start + Duration::from_secs(args.publish_at)).into()).await;
    let version =
        1000 + u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp() % 1_000_000)?;
    let payload = serde_json::to_string(&ConfigBundle {
        version,
        issued_at: time::OffsetDateTime::now_utc(),
        expires_at: time::OffsetDateTime::now_utc() + time::Duration::days(30),
        station_name: LocalizedText::new("模拟站点", "模擬站點", "Simulated station"),
        locales: Locale::ALL.to_vec(),
        default_locale: Locale::ZhCn,
        idle_timeout_secs: 120,
        disabled_services: vec![],
        technician_pin_hashes: vec![],
        settings: Default::default(),
    })?;
    let signature = base64::engine::general_purpose::STANDARD
        .encode(signer.sign(payload.as_bytes()).to_bytes());
    let published = http
        .post(format!("{}/v1/admin/bundles", bases[0]))
        .basic_auth("fleetsim", Some(&admin_token))
        .json(&PublishBundleRequest {
            allow_no_kiosk: false,
            selector: "sim-*".into(),
            bundle: SignedConfig {
                payload,
                signature,
                key_id: "fleetsim".into(),
            },
        })
        .send()
        .await?;
    if !published.status().is_success() {
        bail!("publishing failed: {}", published.status());
    }
    let published_at = Instant::now();
    *shared.published.lock().await = Some((version, published_at));

    let mut stats = Stats::default();
    let mut applied = Vec::new();
    for task in tasks {
        let (kiosk_stats, reported) = task.await?;
        stats.merge(kiosk_stats);
        if let Some(at) = reported {
            applied.push(at.saturating_duration_since(published_at).as_secs_f64());
        }
    }
    let elapsed = start.elapsed().as_secs_f64();

    // Report.
    println!(
        "fleet: {} kiosks, {} replica(s), {}, {:.0} s, sessions {}/kiosk/hour",
        args.kiosks,
        args.replicas,
        match &database {
            Database::Sqlite(_) => "SQLite".to_owned(),
            Database::Postgres(_) => format!("PostgreSQL (pool {} per replica)", args.pool_size),
        },
        elapsed,
        args.sessions_per_kiosk_hour
    );
    println!("| Route | Requests | Errors | p50 ms | p95 ms | p99 ms |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let mut total = 0usize;
    let mut errors = 0u64;
    for (route, (mut latencies, route_errors)) in stats.routes {
        latencies.sort_unstable();
        total += latencies.len();
        errors += route_errors;
        println!(
            "| {route} | {} | {route_errors} | {:.1} | {:.1} | {:.1} |",
            latencies.len(),
            percentile(&latencies, 50.0),
            percentile(&latencies, 95.0),
            percentile(&latencies, 99.0)
        );
    }
    println!(
        "total: {total} requests, {errors} errors, {:.0} requests/s",
        total as f64 / elapsed
    );
    applied.sort_by(f64::total_cmp);
    let at_share = |share: f64| -> String {
        let needed = ((share * args.kiosks as f64).ceil() as usize).max(1);
        applied
            .get(needed - 1)
            .map_or_else(|| "not reached".to_owned(), |s| format!("{s:.1} s"))
    };
    println!(
        "rollout of v{version}: {}/{} kiosks reported it; 50 % after {}, 99 % after {}, 100 % after {} (poll interval {} s)",
        applied.len(),
        args.kiosks,
        at_share(0.5),
        at_share(0.99),
        at_share(1.0),
        args.config_secs
    );
    report_database(&database).await?;
    drop(servers);
    Ok(())
}

/// Size and rows of the store after the run (and, for PostgreSQL, the
/// transactions it committed).
async fn report_database(database: &Database) -> anyhow::Result<()> {
    match database {
        Database::Sqlite(path) => {
            let conn = rusqlite::Connection::open(path)?;
            let count = |table: &str| -> rusqlite::Result<i64> {
                conn.query_row(
                    match table {
                        "heartbeats" => "SELECT COUNT(*) FROM heartbeats",
                        "submissions" => "SELECT COUNT(*) FROM submissions",
                        _ => "SELECT COUNT(*) FROM issued_certificates",
                    },
                    [],
                    |r| r.get(0),
                )
            };
            let size = std::fs::metadata(path)?.len()
                + std::fs::metadata(format!("{}-wal", path.display()))
                    .map(|m| m.len())
                    .unwrap_or(0);
            println!(
                "database: SQLite, {:.1} MB, {} heartbeats, {} certificates, {} submissions",
                size as f64 / 1e6,
                count("heartbeats")?,
                count("certificates")?,
                count("submissions")?
            );
        }
        Database::Postgres(url) => {
            let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            let row = client
                .query_one(
                    "SELECT pg_database_size(current_database()),
                            (SELECT COUNT(*) FROM heartbeats),
                            (SELECT COUNT(*) FROM issued_certificates),
                            (SELECT COUNT(*) FROM submissions),
                            (SELECT xact_commit FROM pg_stat_database
                             WHERE datname = current_database())",
                    &[],
                )
                .await?;
            println!(
                "database: PostgreSQL, {:.1} MB, {} heartbeats, {} certificates, {} submissions, {} transactions committed",
                row.get::<_, i64>(0) as f64 / 1e6,
                row.get::<_, i64>(1),
                row.get::<_, i64>(2),
                row.get::<_, i64>(3),
                row.get::<_, i64>(4)
            );
        }
    }
    Ok(())
}
