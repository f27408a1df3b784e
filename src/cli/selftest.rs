//! `estation selftest [--json]`: the device self-test from a terminal.
//! Exits 0 when no check failed, 1 when one did (warnings do not count).

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use crate::central_client::outbox::Outbox;
use crate::central_client::{CentralClient, ClientConfig};
use crate::cli::config::LocalConfig;
use crate::ops::bundle::{BundleStore, TrustAnchors};
use crate::ops::selftest::{
    CardTest, CentralTest, DisplayResult, PrinterTest, ScannerTest, SelftestContext,
    SelftestReport, Status, run_selftest,
};
use crate::speech::{EspeakEngine, SpeechEngine};

#[derive(Args, Debug, Default)]
pub struct SelftestArgs {
    /// Print the report as JSON (stable field names, see docs/operations.md).
    #[arg(long)]
    pub json: bool,
    /// The kiosk's configuration file; the options below override it.
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub kiosk_id: Option<String>,
    /// Printer URI (`tcp://HOST:9100`, `usb:/dev/usb/lp0`, …).
    #[arg(long)]
    pub printer: Option<String>,
    #[arg(long, default_value_t = 576)]
    pub paper_width: u32,
    /// Print a test page (kiosk id, versions, time).
    #[arg(long)]
    pub test_page: bool,
    /// Base URL of the central service.
    #[arg(long)]
    pub central: Option<String>,
    /// The kiosk's token file, to check that the service accepts it.
    #[arg(long)]
    pub token_file: Option<PathBuf>,
    /// Card reader to test (default: the first one).
    #[arg(long)]
    pub reader: Option<String>,
    /// A card is inserted to test reading: fail when there is none.
    #[arg(long)]
    pub read_card: bool,
    /// This kiosk has no card reader: skip that check.
    #[arg(long)]
    pub no_card_reader: bool,
    /// The kiosk's data directory (disk space, outbox, configuration bundle).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Also check voice guidance: the speech engine, its voices and an audio output.
    #[arg(long)]
    pub voice: bool,
}

pub fn run(args: SelftestArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let report = {
        let _guard = runtime.enter();
        let ctx = context(&args)?;
        runtime.block_on(run_selftest(&ctx))
    };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(if report.failed() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn context(args: &SelftestArgs) -> anyhow::Result<SelftestContext> {
    let local = args.config.as_deref().map(LocalConfig::load).transpose()?;
    let kiosk_id = args
        .kiosk_id
        .clone()
        .or_else(|| local.as_ref().map(|c| c.kiosk_id.clone()))
        .unwrap_or_else(|| "unconfigured".into());
    let printer_uri = args
        .printer
        .clone()
        .or_else(|| local.as_ref().map(|c| c.printer.clone()));
    let central_url = args
        .central
        .clone()
        .or_else(|| local.as_ref().map(|c| c.central_url.clone()));
    let token = match (&args.token_file, &local) {
        (Some(path), _) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?
                .trim()
                .to_owned(),
        ),
        (None, Some(config)) => Some(config.token()?),
        (None, None) => None,
    };
    let data_dir = args
        .data
        .clone()
        .or_else(|| local.as_ref().map(|c| c.data_dir.clone()));
    let central = match central_url {
        Some(base_url) => Some(CentralTest {
            client: match token {
                Some(token) => Some(CentralClient::new(ClientConfig::new(
                    &base_url, &kiosk_id, &token,
                ))?),
                None => None,
            },
            base_url,
            timeout: Duration::from_secs(5),
        }),
        None => None,
    };
    let (outbox, bundle) = match &data_dir {
        Some(dir) => {
            let outbox_path = dir.join("outbox.sqlite");
            // Only look at an outbox that exists; a self-test creates nothing. Its
            // key is where the kiosk's configuration says.
            let outbox = if outbox_path.exists() {
                Some(Arc::new(match &local {
                    Some(config) => Outbox::open_with_key(&outbox_path, &config.outbox_key_path())?,
                    None => Outbox::open(&outbox_path)?,
                }))
            } else {
                None
            };
            let keys = local
                .as_ref()
                .map(|c| c.config_keys.clone())
                .unwrap_or_default();
            let bundle_dir = dir.join(crate::ops::bundle::store::BUNDLE_FOLDER);
            let bundle = if bundle_dir.exists() {
                Some(Arc::new(BundleStore::open(
                    &bundle_dir,
                    TrustAnchors::from_files(&keys)?,
                )?))
            } else {
                None
            };
            (outbox, bundle)
        }
        None => (None, None),
    };
    // The configured scanner is opened for the test (stop the kiosk first: it
    // holds the scanner exclusively, and the check would report it busy).
    let scanner = match local.as_ref().and_then(|c| c.scanner.as_ref()) {
        Some(section) => Some(ScannerTest::Open {
            config: section.scanner_config().map_err(|m| anyhow::anyhow!(m))?,
            wait: std::time::Duration::from_secs(3),
        }),
        None => None,
    };
    Ok(SelftestContext {
        kiosk_id,
        scanner,
        card: (!args.no_card_reader).then(|| CardTest {
            reader: args.reader.clone(),
            expect_card: args.read_card,
        }),
        printer: printer_uri.map(|uri| PrinterTest {
            uri,
            width_dots: args.paper_width,
            print_test_page: args.test_page,
        }),
        central,
        data_dir,
        outbox,
        bundle,
        display: DisplayResult::NotTested,
        voice: args
            .voice
            .then(|| Arc::new(EspeakEngine::new()) as Arc<dyn SpeechEngine>),
        ..SelftestContext::default()
    })
}

fn print_text(report: &SelftestReport) {
    let width = report.checks.iter().map(|c| c.id.len()).max().unwrap_or(8);
    for check in &report.checks {
        let label = match check.status {
            Status::Pass => "PASS",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
        };
        println!("{label}  {:width$}  {}", check.id, check.reason);
        if let Some(action) = &check.action {
            println!("      {:width$}  -> {action}", "");
        }
    }
    println!(
        "self-test of {}: {}",
        report.kiosk_id,
        match report.status {
            Status::Pass => "all checks passed",
            Status::Warn => "passed with warnings",
            Status::Fail => "FAILED",
        }
    );
}
