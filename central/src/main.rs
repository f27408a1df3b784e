//! `estation-central`: the reference central service for estation kiosks.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use estation_central::server::{self, ServerOptions};
use time::UtcOffset;

#[derive(Parser)]
#[command(version, about = "Reference central service for estation kiosks")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the kiosk API (creating and seeding the database on first use).
    Serve {
        /// SQLite database file.
        #[arg(long)]
        db: PathBuf,
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
    },
    /// Register a kiosk (or replace its token) and print the new token.
    KioskAdd {
        #[arg(long)]
        db: PathBuf,
        /// Kiosk id, e.g. "binjiang-01".
        #[arg(long)]
        id: String,
    },
    /// Register an administrator (or replace the token) and print the new token,
    /// for `estation admin publish` and the fleet page.
    AdminAdd {
        #[arg(long)]
        db: PathBuf,
        /// Administrator id, e.g. "ops-li".
        #[arg(long)]
        id: String,
    },
    /// Print the published public keys (JSON).
    Keys {
        #[arg(long)]
        db: PathBuf,
    },
    /// Print the OpenAPI document (YAML) of the kiosk API.
    Openapi,
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli.command))
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve {
            db,
            listen,
            utc_offset_hours,
            public_base_url,
        } => {
            let options = ServerOptions {
                listen,
                utc_offset: UtcOffset::from_hms(utc_offset_hours, 0, 0)?,
                public_base_url,
                ..ServerOptions::default()
            };
            let state = server::open_state(&db, &options).await?;
            let listener = tokio::net::TcpListener::bind(listen).await?;
            tracing::info!(address = %listener.local_addr()?, "estation-central listening");
            server::serve(listener, state, options.max_body_bytes, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await?;
        }
        Command::KioskAdd { db, id } => {
            let state = server::open_state(&db, &ServerOptions::default()).await?;
            println!("{}", state.register_kiosk(&id).await?);
        }
        Command::AdminAdd { db, id } => {
            let state = server::open_state(&db, &ServerOptions::default()).await?;
            println!("{}", state.register_admin(&id).await?);
        }
        Command::Keys { db } => {
            let state = server::open_state(&db, &ServerOptions::default()).await?;
            println!("{}", serde_json::to_string_pretty(&state.public_keys())?);
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
