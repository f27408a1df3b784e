//! The `estation` command: the kiosk itself, its demo mode, and technicians' tools.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};

use estation::cli;

#[derive(Parser)]
#[command(
    name = "estation",
    version,
    about = "24-hour government service e-station kiosk"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the kiosk with an embedded reference central service, a demo card and a
    /// file printer; no configuration needed.
    Demo(cli::demo::DemoArgs),
    /// Drive seeded resident visits through the headless kiosk for a month of
    /// kiosk time, with faults, and reconcile what residents were told with the
    /// central service, the printer and the print journal (docs/reliability.md).
    Soak(cli::soak::SoakArgs),
    /// Run the kiosk against a real central service, configured by a TOML file.
    Run {
        #[arg(long)]
        config: PathBuf,
        /// Check the configuration (the file, the token, the trust anchors, the
        /// printer address, the data folder) and exit: 0 when it is usable, 78 with
        /// every problem named otherwise.
        #[arg(long)]
        check_config: bool,
    },
    /// Render screens to PNG without a display.
    Screenshot(cli::screenshot::ScreenshotArgs),
    /// A screen's voice guidance: the text on stdout and, with --out, a WAV file.
    Speak(cli::speak::SpeakArgs),
    /// Card readers: list them, read a card.
    #[command(subcommand)]
    Card(cli::card::CardCommand),
    /// Printers: status, test page, render a document.
    #[command(subcommand)]
    Print(cli::print::PrintCommand),
    /// Device self-test: card reader, printer, central service, clock, disk,
    /// outbox; exits non-zero when a check fails.
    Selftest(cli::selftest::SelftestArgs),
    /// Join the fleet: exchange a one-time code from the central service for this
    /// kiosk's id, token and trusted keys, and fill in its configuration.
    Enroll(cli::enroll::EnrollArgs),
    /// Signed configuration: keys, signing, verification, publishing.
    #[command(subcommand)]
    Admin(cli::admin::AdminCommand),
}

fn main() -> ExitCode {
    let allocator_tuned = cli::memory::tune_allocator();
    // The local UTC offset must be read before any thread starts (see `time`'s docs).
    let offset = time::UtcOffset::current_local_offset().unwrap_or(time::UtcOffset::UTC);
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("ESTATION_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never into journald or a file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    if !allocator_tuned {
        tracing::warn!("the allocator refused its tuning; memory may creep");
    }
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => cli::demo::run(args, offset),
        Command::Soak(args) => cli::soak::run(args, offset),
        Command::Run {
            config,
            check_config: true,
        } => Ok(cli::run::check_config(&config)),
        Command::Run { config, .. } => cli::run::run(&config, offset)
            .with_context(|| format!("running with configuration {}", config.display())),
        Command::Screenshot(args) => cli::screenshot::run(args),
        Command::Speak(args) => cli::speak::run(args),
        Command::Card(command) => cli::card::run(command),
        Command::Print(command) => cli::print::run(command),
        Command::Selftest(args) => cli::selftest::run(args),
        Command::Admin(command) => cli::admin::run(command),
        Command::Enroll(args) => cli::enroll::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("estation: {}", explain(&error));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes on one line, each said once: many messages already
/// quote their cause ("reading kiosk.toml: No such file"), and printing the
/// chain as well would say it twice.
fn explain(error: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in error.chain() {
        let part = cause.to_string();
        if text.contains(&part) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&part);
    }
    text
}
