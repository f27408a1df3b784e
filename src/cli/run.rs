//! `estation run --config FILE`: the production kiosk.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use estation_drivers::card::PcscIdentitySource;
use estation_drivers::scanner::Scanner;

use std::sync::Mutex;
use std::time::Duration;

use crate::central_client::outbox::Outbox;
use crate::central_client::{CentralClient, ClientConfig};
use crate::cli::config::LocalConfig;
use crate::kiosk::SystemClock;
use crate::kiosk::backend::{Backend, PrintPort};
use crate::kiosk::printer::JournaledPrinter;
use crate::ops::bundle::{BundleStore, TrustAnchors, spawn_config_poller};
use crate::ops::heartbeat::{HealthBoard, follow_config_poller, spawn_board_heartbeat};

/// How often the kiosk asks for a newer signed bundle.
pub const CONFIG_POLL_INTERVAL: Duration = Duration::from_secs(300);
/// How often the kiosk reports its health (and at once after a bundle change).
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(300);
use crate::ops::maintenance::{Authenticator, LockoutPolicy, TechnicianPins};
use crate::ops::maintenance_port::MaintenancePort;
use crate::ops::selftest::{CardTest, CentralTest, PrinterTest, ScannerTest, SelftestContext};
use crate::session::Timeouts;
use crate::ui_bridge::runtime::{FirstFrame, KioskSetup, run_windowed};

/// The exit status for a configuration the kiosk cannot run with (`EX_CONFIG`):
/// the service unit does not restart on it, since a restart cannot mend a file.
pub const EXIT_CONFIG: u8 = 78;

/// Everything wrong with the configuration at `path`, each named once.
pub fn config_problems(path: &Path) -> Result<LocalConfig, Vec<String>> {
    // The loader's errors name the file already; the checks below add it.
    let config = LocalConfig::load(path).map_err(|error| vec![error.to_string()])?;
    let shown = path.display();
    let mut problems = Vec::new();
    if let Err(error) = config.token() {
        problems.push(format!(
            "{shown}: token_file: {error} (estation enroll writes it)"
        ));
    } else if config.token().is_ok_and(|t| t.is_empty()) {
        problems.push(format!(
            "{shown}: token_file: {} is empty",
            config.token_file.display()
        ));
    }
    if let Err(error) = TrustAnchors::from_files(&config.config_keys) {
        problems.push(format!("{shown}: config_keys: {error}"));
    }
    if let Err(error) = config
        .printer
        .parse::<estation_drivers::print::PrinterUri>()
    {
        problems.push(format!("{shown}: printer: {error}"));
    }
    if let Err(error) = std::fs::create_dir_all(&config.data_dir) {
        problems.push(format!(
            "{shown}: data_dir: {} cannot be created: {error}",
            config.data_dir.display()
        ));
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(problems)
    }
}

/// `estation run --check-config`: names every problem once.
pub fn check_config(path: &Path) -> ExitCode {
    match config_problems(path) {
        Ok(config) => {
            println!(
                "{}: usable (kiosk {}, central service {})",
                path.display(),
                config.kiosk_id,
                config.central_url
            );
            ExitCode::SUCCESS
        }
        Err(problems) => {
            for problem in problems {
                eprintln!("{problem}");
            }
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

pub fn run(config_path: &Path, offset: time::UtcOffset) -> anyhow::Result<ExitCode> {
    let config = match config_problems(config_path) {
        Ok(config) => config,
        Err(problems) => {
            for problem in problems {
                eprintln!("estation: {problem}");
            }
            return Ok(ExitCode::from(EXIT_CONFIG));
        }
    };
    let token = config.token()?;
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating {}", config.data_dir.display()))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let client_config = ClientConfig::new(&config.central_url, &config.kiosk_id, &token);
    let central = CentralClient::new(client_config.clone())?;
    let outbox = Arc::new(Outbox::open_with_key(
        &config.data_dir.join("outbox.sqlite"),
        &config.outbox_key_path(),
    )?);
    let outbox_sender = {
        let _guard = runtime.enter();
        outbox
            .clone()
            .spawn_sender(CentralClient::new(client_config)?)
    };
    let printer = JournaledPrinter::open(
        &config.printer,
        None,
        &config.data_dir.join("print-journal.sqlite"),
    )?;
    // Signed configuration: the last good bundle on disk, kept fresh by the poller.
    let trust = TrustAnchors::from_files(&config.config_keys)?;
    let store = Arc::new(BundleStore::open(
        &config
            .data_dir
            .join(crate::ops::bundle::store::BUNDLE_FOLDER),
        trust,
    )?);
    let poller = {
        let _guard = runtime.enter();
        spawn_config_poller(
            CentralClient::new(ClientConfig::new(
                &config.central_url,
                &config.kiosk_id,
                &token,
            ))?,
            store.clone(),
            CONFIG_POLL_INTERVAL,
        )
    };
    let pins = store
        .current()
        .map(|bundle| TechnicianPins::from_bundle(&bundle))
        .unwrap_or_else(|| TechnicianPins::new(std::iter::empty::<(&str, &str)>()));
    let board = Arc::new(HealthBoard::new(Some(store.clone())));
    let heartbeat = {
        let _guard = runtime.enter();
        // A bundle applied or refused is heard by the fleet at once, not at the
        // next heartbeat (docs/operations.md, "How long a change takes").
        drop(follow_config_poller(board.clone(), poller.status()));
        spawn_board_heartbeat(outbox.clone(), HEARTBEAT_INTERVAL, board.clone())
    };
    let lockout_file = config.data_dir.join("technician-lockout.json");
    let policy = LockoutPolicy::default();
    let now_ms = i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX);
    let lockout = crate::ops::maintenance_port::load_lockout(&lockout_file, &policy, now_ms);
    let scanner = match &config.scanner {
        Some(section) => Some(Scanner::new(
            section.scanner_config().map_err(|m| anyhow::anyhow!(m))?,
        )),
        None => None,
    };
    let maintenance = Arc::new(MaintenancePort {
        authenticator: Mutex::new(Authenticator::with_state(pins, policy, lockout)),
        lockout_file: Some(lockout_file),
        service_cards: Some(PcscIdentitySource::new()),
        selftest: SelftestContext {
            kiosk_id: config.kiosk_id.clone(),
            card: Some(CardTest::default()),
            printer: Some(PrinterTest {
                uri: config.printer.clone(),
                width_dots: printer.width_dots(),
                print_test_page: true,
            }),
            central: Some(CentralTest {
                base_url: config.central_url.clone(),
                client: Some(CentralClient::new(ClientConfig::new(
                    &config.central_url,
                    &config.kiosk_id,
                    &token,
                ))?),
                timeout: Duration::from_secs(10),
            }),
            scanner: scanner
                .as_ref()
                .map(|scanner| ScannerTest::Running(scanner.handle())),
            data_dir: Some(config.data_dir.clone()),
            outbox: Some(outbox.clone()),
            bundle: Some(store.clone()),
            voice: Some(Arc::new(crate::speech::EspeakEngine::new())),
            ..SelftestContext::default()
        },
        board: Some(board),
    });
    // New technician PINs apply without a restart.
    {
        let maintenance = maintenance.clone();
        let mut changes = store.subscribe();
        runtime.spawn(async move {
            while changes.changed().await.is_ok() {
                let bundle = changes.borrow_and_update().clone();
                if let Some(bundle) = bundle {
                    maintenance
                        .authenticator
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .replace_pins(TechnicianPins::from_bundle(&bundle));
                }
            }
        });
    }
    let printer = Arc::new(printer);
    // Delivered outbox entries and old print jobs are pruned, and both WALs
    // truncated, every hour for as long as the kiosk runs.
    {
        let _guard = runtime.enter();
        drop(crate::ops::retention::spawn_retention(
            config.retention,
            outbox.clone(),
            Some(printer.clone()),
            crate::ops::retention::PRUNE_INTERVAL,
        ));
    }
    let backend = Arc::new(Backend {
        central,
        cards: Arc::new(PcscIdentitySource::new()),
        printer,
        outbox,
        outbox_sender: Some(outbox_sender),
        maintenance: Some(maintenance),
    });
    let setup = KioskSetup {
        backend,
        runtime: runtime.handle().clone(),
        timeouts: Timeouts::default(),
        on_screen_card: None,
        card_reader: true,
        scanner,
        speech: Some(Arc::new(crate::speech::EspeakEngine::new())),
        window: config.display.window_size(),
        panel_width_mm: config.display.width_mm,
    };
    run_windowed(
        setup,
        Arc::new(SystemClock::new(offset)),
        FirstFrame::Ignore,
    )?;
    drop((poller, heartbeat));
    Ok(ExitCode::SUCCESS)
}
