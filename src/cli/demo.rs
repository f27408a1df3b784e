//! `estation demo`: the whole kiosk with no configuration. An embedded reference
//! central service on loopback (SQLite in a fresh folder, seeded), a demo card the
//! screen can insert (and any real PC/SC reader that is present), and a file printer
//! that keeps each job's ESC/POS bytes and a PNG of the paper.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use estation_drivers::scanner::{Scanner, ScannerConfig, ScannerUri};

use crate::kiosk::{Clock, ManualClock, PinnedWallClock, SystemClock};
use crate::session::Timeouts;
use crate::ui_bridge::runtime::{FirstFrame, KioskSetup, WindowSize, run_headless, run_windowed};

#[derive(Args, Debug)]
pub struct DemoArgs {
    /// Run without a window (software rendering into memory); needs --script.
    #[arg(long, requires = "script")]
    pub headless: bool,
    /// A script of taps, waits and screenshots (see `estation::ui_bridge::script`).
    #[arg(long)]
    pub script: Option<PathBuf>,
    /// Keep the demo's data (database, outbox, printed jobs) in this folder instead
    /// of a fresh temporary one.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// A window of this width in pixels instead of the whole screen (with
    /// --height; headless runs default to a 1080x1920 portrait kiosk).
    #[arg(long, requires = "height")]
    pub width: Option<u32>,
    #[arg(long, requires = "width")]
    pub height: Option<u32>,
    /// Pin the wall clock of the kiosk and of the central service, e.g.
    /// 2026-11-24T02:00:00+08:00: opening hours, the time on screen and printed
    /// times follow it (timeouts still run in real time).
    #[arg(long)]
    pub at: Option<String>,
    /// Print to this printer URI instead of the data folder (tcp://, usb:, serial:, file:).
    #[arg(long)]
    pub printer: Option<String>,
    /// The printer's paper width in dots: 384 (58 mm), 576 (80 mm), 1728 (A4-wide).
    #[arg(long)]
    pub printer_width: Option<u32>,
    /// Use only the on-screen demo card, not the PC/SC readers of this machine.
    #[arg(long)]
    pub no_card_reader: bool,
    /// A code scanner to read phone identity codes with
    /// (`serial:/dev/ttyACM0`, `hid:/dev/input/by-id/…-event-kbd`; docs/scanner.md).
    #[arg(long)]
    pub scanner: Option<String>,
    /// Exit once the first frame is on screen (start-up benchmarks).
    #[arg(long, hide = true)]
    pub exit_after_first_frame: bool,
    /// Print `first-frame-ms N` once the first frame is on screen, and go on.
    #[arg(long, hide = true)]
    pub report_first_frame: bool,
    /// Fault injection for watchdog tests: block the UI thread for good this many
    /// seconds after start (the background runtime keeps running).
    #[arg(long, hide = true)]
    pub stall_ui_after: Option<u64>,
}

pub fn run(args: DemoArgs, offset: time::UtcOffset) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let (_temporary, data) = match &args.data {
        Some(folder) => {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating {}", folder.display()))?;
            (None, folder.clone())
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("estation-demo-")
                .tempdir()
                .context("creating the demo folder")?;
            let path = dir.path().to_path_buf();
            (Some(dir), path)
        }
    };
    let at = match &args.at {
        Some(text) => Some(
            time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
                .with_context(|| format!("--at {text:?} is not an RFC 3339 time"))?,
        ),
        None => None,
    };
    if let Some(width) = args.printer_width
        && ![384, 576, 1728].contains(&width)
    {
        anyhow::bail!("--printer-width must be 384, 576 or 1728");
    }
    let options = crate::cli::demo_env::DemoOptions {
        at,
        printer: args.printer.clone(),
        printer_width: args.printer_width,
        card_reader: !args.no_card_reader,
    };
    let environment = runtime
        .block_on(crate::cli::demo_env::DemoEnvironment::start(
            &data, &options,
        ))
        .context("starting the embedded central service")?;
    println!("estation demo: data in {}", data.display());
    println!(
        "estation demo: central service at {}",
        environment.central.base_url()
    );
    println!(
        "estation demo: central database {}",
        environment.central.db_path().display()
    );
    println!(
        "estation demo: printed jobs go to {}",
        environment.print_dir.display()
    );
    println!(
        "estation demo: phone identity codes at {}/m/id",
        environment.central.base_url()
    );
    let scanner = match &args.scanner {
        Some(text) => {
            let uri: ScannerUri = text
                .parse()
                .with_context(|| format!("--scanner {text:?}"))?;
            Some(uri)
        }
        None => None,
    };
    let new_scanner = || {
        scanner
            .clone()
            .map(|uri| Scanner::new(ScannerConfig::new(uri)))
    };

    let window = match (args.width, args.height) {
        (Some(width), Some(height)) => {
            if !(320..=8192).contains(&width) || !(320..=8192).contains(&height) {
                anyhow::bail!("--width and --height must be between 320 and 8192 pixels");
            }
            WindowSize::Fixed { width, height }
        }
        _ => WindowSize::FillOutput,
    };
    let backend = Arc::new(environment.backend(runtime.handle(), &options)?);
    let timeouts = Timeouts::default();
    if args.headless {
        let script_path = args
            .script
            .clone()
            .context("--headless needs --script FILE")?;
        let text = std::fs::read_to_string(&script_path)
            .with_context(|| format!("reading {}", script_path.display()))?;
        let commands = crate::ui_bridge::script::parse(&text)?;
        let start = at.unwrap_or_else(|| time::OffsetDateTime::now_utc().to_offset(offset));
        let clock = Arc::new(ManualClock::new(start));
        let setup = KioskSetup {
            backend,
            runtime: runtime.handle().clone(),
            timeouts,
            on_screen_card: Some(crate::cli::demo_env::DEMO_READER.to_owned()),
            card_reader: !args.no_card_reader,
            scanner: new_scanner(),
            speech: Some(Arc::new(crate::speech::EspeakEngine::new())),
            window,
            panel_width_mm: None,
        };
        let base = script_path.parent().map(PathBuf::from).unwrap_or_default();
        run_headless(setup, clock, &commands, &base, Some(&environment.network))?;
        println!("estation demo: script finished");
    } else {
        let setup = KioskSetup {
            backend,
            runtime: runtime.handle().clone(),
            timeouts,
            on_screen_card: Some(crate::cli::demo_env::DEMO_READER.to_owned()),
            card_reader: !args.no_card_reader,
            scanner: new_scanner(),
            speech: Some(Arc::new(crate::speech::EspeakEngine::new())),
            window,
            panel_width_mm: None,
        };
        if let Some(seconds) = args.stall_ui_after {
            slint::Timer::single_shot(Duration::from_secs(seconds), || {
                tracing::warn!("demo: the UI thread stalls now, on request");
                loop {
                    std::thread::park();
                }
            });
        }
        let clock: Arc<dyn Clock> = match at {
            Some(at) => Arc::new(PinnedWallClock::new(at)),
            None => Arc::new(SystemClock::new(offset)),
        };
        run_windowed(
            setup,
            clock,
            FirstFrame::from_flags(args.report_first_frame, args.exit_after_first_frame),
        )?;
    }
    if let Err(error) = runtime.block_on(environment.central.shutdown()) {
        tracing::warn!(%error, "the embedded central service did not stop cleanly");
    }
    runtime.shutdown_timeout(Duration::from_secs(2));
    Ok(ExitCode::SUCCESS)
}
