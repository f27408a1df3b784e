//! `estation run --config FILE`: the production kiosk.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use estation_drivers::card::PcscIdentitySource;

use crate::backend::Backend;
use crate::central::{CentralClient, ClientConfig};
use crate::config::LocalConfig;
use crate::kiosk::SystemClock;
use crate::outbox::Outbox;
use crate::printer::JournaledPrinter;
use crate::runtime::{KioskSetup, run_windowed};
use crate::session::Timeouts;

pub fn run(config_path: &Path, offset: time::UtcOffset) -> anyhow::Result<ExitCode> {
    let config = LocalConfig::load(config_path)?;
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
    let outbox = Arc::new(Outbox::open(&config.data_dir.join("outbox.sqlite"))?);
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
    let backend = Arc::new(Backend {
        central,
        cards: Arc::new(PcscIdentitySource::new()),
        printer: Arc::new(printer),
        outbox,
        outbox_sender: Some(outbox_sender),
        network: None,
    });
    let setup = KioskSetup {
        backend,
        runtime: runtime.handle().clone(),
        timeouts: Timeouts::default(),
        demo: false,
        card_reader: true,
        width: config.display.width,
        height: config.display.height,
        fullscreen: config.display.fullscreen,
    };
    run_windowed(setup, Arc::new(SystemClock::new(offset)), false)?;
    Ok(ExitCode::SUCCESS)
}
