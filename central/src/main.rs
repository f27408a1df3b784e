//! `estation-central`: the reference central service for estation kiosks.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use estation_central::server::{self, Database, KeySource, PublicRateLimit, ServerOptions};
use time::UtcOffset;

#[derive(Parser)]
#[command(version, about = "Reference central service for estation kiosks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Which store: a SQLite file (`--db`) or a database URL (`--database`).
#[derive(Args, Clone)]
struct StoreArgs {
    /// SQLite database file.
    #[arg(
        long,
        conflicts_with = "database",
        required_unless_present = "database"
    )]
    db: Option<PathBuf>,
    /// Database URL: `postgres://user@host:5432/estation` for PostgreSQL, or
    /// `sqlite:PATH`. Keep a password out of the command line: set it in the
    /// environment (ESTATION_CENTRAL_DATABASE) instead.
    #[arg(long, env = "ESTATION_CENTRAL_DATABASE", hide_env_values = true)]
    database: Option<String>,
    /// Connections in the PostgreSQL pool (per process).
    #[arg(long, default_value_t = 16)]
    pool_size: usize,
}

impl StoreArgs {
    fn database(&self) -> Database {
        match (&self.db, &self.database) {
            (Some(path), _) => Database::Sqlite(path.clone()),
            (None, Some(url)) => Database::parse(url),
            (None, None) => Database::Sqlite(PathBuf::from("central.sqlite3")),
        }
    }
}

/// Where the signing keys are.
#[derive(Args, Clone)]
struct KeyArgs {
    /// Directory with `certificate.key` and `config.key` (PKCS#8 PEM, mode 0600;
    /// `estation-central keygen` creates them). Without it the keys are read from
    /// ESTATION_CENTRAL_CERTIFICATE_KEY and ESTATION_CENTRAL_CONFIG_KEY (PEM text).
    #[arg(long, env = "ESTATION_CENTRAL_KEY_DIR")]
    key_dir: Option<PathBuf>,
}

impl KeyArgs {
    fn source(&self) -> KeySource {
        if let Some(path) = &self.key_dir {
            return KeySource::Dir {
                path: path.clone(),
                create: false,
            };
        }
        match (
            std::env::var("ESTATION_CENTRAL_CERTIFICATE_KEY"),
            std::env::var("ESTATION_CENTRAL_CONFIG_KEY"),
        ) {
            (Ok(certificate), Ok(config)) => KeySource::Pem {
                certificate,
                config,
            },
            _ => KeySource::Unset,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the kiosk API (creating, migrating and seeding the database on first use).
    Serve {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Offset of the service centre's time zone, in hours from UTC.
        #[arg(long, default_value_t = 8, allow_hyphen_values = true)]
        utc_offset_hours: i8,
        /// Origin of the links residents open on their phones, e.g.
        /// "https://estation.example.gov.cn" (default: http://<listen address>).
        #[arg(long)]
        public_base_url: Option<String>,
        /// Requests per minute one client address may make to the public routes.
        #[arg(long, default_value_t = PublicRateLimit::default().per_minute)]
        public_rate_per_minute: u32,
        /// Requests one client address may make at once to the public routes.
        #[arg(long, default_value_t = PublicRateLimit::default().burst)]
        public_rate_burst: u32,
        /// Days of heartbeat history kept (each kiosk's newest is always kept);
        /// pruned hourly by every replica (the deletes are idempotent).
        #[arg(long, default_value_t = 30)]
        heartbeat_retention_days: u64,
        /// Serve the reference "show my code" phone page at /m/id, which issues
        /// phone identity codes to residents who give their card and ID numbers
        /// (pilots and demonstrations; a province's own app issues real codes).
        #[arg(long)]
        identity_code_page: bool,
    },
    /// Register a kiosk (or replace its token) and print the new token.
    KioskAdd {
        #[command(flatten)]
        store: StoreArgs,
        /// Kiosk id, e.g. "binjiang-01".
        #[arg(long)]
        id: String,
        /// Write the token to this file (created 0600, never overwritten)
        /// instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Create a one-time code with which a new kiosk enrolls itself
    /// (`estation enroll --central URL --code CODE`); prints the code.
    EnrollCode {
        #[command(flatten)]
        store: StoreArgs,
        /// The id the kiosk will have, e.g. "binjiang-03".
        #[arg(long)]
        kiosk: String,
        /// How long the code works: e.g. "24h", "90m", "7d" (1 minute to 30 days).
        #[arg(long, default_value = "24h", value_parser = parse_ttl)]
        ttl: u64,
        /// A public key (`estation admin keygen`'s PREFIX.pub) whose signed
        /// bundles the kiosk will accept; repeatable. Without one the kiosk runs
        /// on its built-in defaults and refuses every bundle.
        #[arg(long = "config-key")]
        config_keys: Vec<PathBuf>,
        /// Who asks, for the record.
        #[arg(long, default_value = "command-line")]
        by: String,
    },
    /// Register an administrator (or replace the token) and print the new token,
    /// for `estation admin publish` and the fleet page.
    AdminAdd {
        #[command(flatten)]
        store: StoreArgs,
        /// Administrator id, e.g. "ops-li".
        #[arg(long)]
        id: String,
        /// Write the token to this file (created 0600, never overwritten)
        /// instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print the published public keys (JSON). With a SQLite store of an earlier
    /// version, also moves its signing keys into the key directory.
    Keys {
        #[command(flatten)]
        store: StoreArgs,
        #[command(flatten)]
        keys: KeyArgs,
    },
    /// Create the signing keys a key directory lacks (0600) and print the public keys.
    Keygen {
        /// Directory for `certificate.key` and `config.key` (created 0700).
        #[arg(long)]
        key_dir: PathBuf,
    },
    /// Apply the database migrations (serve also does it on start) and seed an
    /// empty database.
    Migrate {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Copy every row of a SQLite database into an empty PostgreSQL database.
    MigrateStore {
        /// The SQLite database file.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL URL (its schema is created if needed; it must hold no data).
        #[arg(long, env = "ESTATION_CENTRAL_DATABASE", hide_env_values = true)]
        to: String,
    },
    /// Print the OpenAPI document (YAML) of the kiosk API.
    Openapi,
}

fn main() -> std::process::ExitCode {
    match run_cli() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            // Each cause once: many messages already quote theirs.
            let mut text = String::new();
            for cause in error.chain() {
                let part = cause.to_string();
                if !text.contains(&part) {
                    if !text.is_empty() {
                        text.push_str(": ");
                    }
                    text.push_str(&part);
                }
            }
            eprintln!("estation-central: {text}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run_cli() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into journald or a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli.command))
}

/// Prints a new token, or writes it to a file only its owner can read.
fn hand_out_token(token: &str, out: Option<&std::path::Path>) -> anyhow::Result<()> {
    let Some(path) = out else {
        println!("{token}");
        return Ok(());
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| {
        format!(
            "creating {} (an existing file is not overwritten)",
            path.display()
        )
    })?;
    use std::io::Write as _;
    writeln!(file, "{token}")
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("token written to {} (mode 0600)", path.display());
    Ok(())
}

/// "24h", "90m", "7d", "3600s" or plain seconds.
fn parse_ttl(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(at) => text.split_at(at),
        None => (text, "s"),
    };
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?}: a number and a unit, e.g. 24h"))?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("{text:?}: the unit is s, m, h or d")),
    };
    number
        .checked_mul(unit)
        .ok_or_else(|| format!("{text:?} is too long"))
}

fn options(store: &StoreArgs) -> ServerOptions {
    ServerOptions {
        database: Some(match store.database() {
            Database::Sqlite(path) => format!("sqlite:{}", path.display()),
            Database::Postgres(url) => url,
        }),
        pool_size: store.pool_size,
        ..ServerOptions::default()
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            store,
            keys,
            listen,
            utc_offset_hours,
            public_base_url,
            public_rate_per_minute,
            public_rate_burst,
            heartbeat_retention_days,
            identity_code_page,
        } => {
            let options = ServerOptions {
                listen,
                utc_offset: UtcOffset::from_hms(utc_offset_hours, 0, 0)?,
                public_base_url,
                keys: keys.source(),
                public_rate_limit: PublicRateLimit {
                    per_minute: public_rate_per_minute,
                    burst: public_rate_burst,
                },
                identity_code_page,
                ..options(&store)
            };
            let state = server::open_state(&store.database(), &options).await?;
            let retention =
                std::time::Duration::from_secs(heartbeat_retention_days.max(1) * 86_400);
            let pruning = state.store().clone();
            tokio::spawn(async move {
                let mut hourly = tokio::time::interval(std::time::Duration::from_secs(3600));
                loop {
                    hourly.tick().await;
                    match server::heartbeats::prune_old_heartbeats(
                        &*pruning,
                        time::OffsetDateTime::now_utc(),
                        retention,
                    )
                    .await
                    {
                        Ok(0) => {}
                        Ok(deleted) => tracing::info!(deleted, "old heartbeats pruned"),
                        Err(error) => tracing::warn!(%error, "pruning heartbeats failed"),
                    }
                    let now = time::OffsetDateTime::now_utc();
                    match server::identity_code::prune_identity_code_uses(&*pruning, now).await {
                        Ok(0) => {}
                        Ok(deleted) => tracing::info!(deleted, "spent identity codes forgotten"),
                        Err(error) => tracing::warn!(%error, "pruning identity codes failed"),
                    }
                }
            });
            let listener = tokio::net::TcpListener::bind(listen).await?;
            tracing::info!(
                address = %listener.local_addr()?,
                store = %state.store().describe(),
                "estation-central listening"
            );
            server::serve(listener, state, options.max_body_bytes, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        }
        Command::KioskAdd { store, id, out } => {
            let opened = server::open_store(&store.database(), &options(&store)).await?;
            let token = server::state::register_kiosk_with_token(
                &*opened,
                &id,
                server::new_token(),
                time::OffsetDateTime::now_utc(),
            )
            .await?;
            hand_out_token(&token, out.as_deref())?;
        }
        Command::EnrollCode {
            store,
            kiosk,
            ttl,
            config_keys,
            by,
        } => {
            let mut keys = Vec::new();
            for path in &config_keys {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {}", path.display()))?;
                keys.extend(
                    server::enroll::public_keys_from_pem(&text)
                        .map_err(anyhow::Error::msg)
                        .with_context(|| path.display().to_string())?,
                );
            }
            let opened = server::open_store(&store.database(), &options(&store)).await?;
            let code = server::enroll::issue_enrollment_code(
                &*opened,
                &by,
                &estation_central::wire::EnrollmentCodeRequest {
                    kiosk_id: kiosk,
                    ttl_secs: ttl,
                    config_keys: keys,
                },
                time::OffsetDateTime::now_utc(),
            )
            .await?;
            println!("{}", code.code);
            eprintln!(
                "kiosk {}: the code works once, until {}",
                code.kiosk_id,
                code.expires_at
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default()
            );
        }
        Command::AdminAdd { store, id, out } => {
            let opened = server::open_store(&store.database(), &options(&store)).await?;
            let token =
                server::state::register_admin(&*opened, &id, time::OffsetDateTime::now_utc())
                    .await?;
            hand_out_token(&token, out.as_deref())?;
        }
        Command::Keys { store, keys } => {
            let options = ServerOptions {
                keys: keys.source(),
                ..options(&store)
            };
            let state = server::open_state(&store.database(), &options).await?;
            println!("{}", serde_json::to_string_pretty(&state.public_keys())?);
        }
        Command::Keygen { key_dir } => {
            for created in server::keys::generate(&key_dir)? {
                eprintln!("created {}", created.display());
            }
            let (keys, _) = server::keys::load(
                &KeySource::Dir {
                    path: key_dir,
                    create: false,
                },
                &[],
            )?;
            let public = estation_central::wire::PublicKeys {
                certificate: server::public_key_info(&keys.certificate.verifying_key()),
                config: server::public_key_info(&keys.config.verifying_key()),
            };
            println!("{}", serde_json::to_string_pretty(&public)?);
        }
        Command::Migrate { store } => {
            let opened = server::open_store(&store.database(), &options(&store)).await?;
            eprintln!("{}: schema up to date", opened.describe());
        }
        Command::MigrateStore { from, to } => {
            let copied = server::store::transfer::sqlite_to_postgres(&from, &to)
                .await
                .with_context(|| format!("copying {} to PostgreSQL", from.display()))?;
            for (table, rows) in copied {
                println!("{table}\t{rows}");
            }
        }
        Command::Openapi => {
            print!(
                "{}",
                server::openapi::openapi_yaml().map_err(anyhow::Error::msg)?
            );
        }
    }
    Ok(())
}
