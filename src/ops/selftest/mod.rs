//! Device self-test: card reader, printer, central service, clock, disk,
//! outbox, configuration, and the display result the UI passes in.
//!
//! Each check ends `pass`, `warn` or `fail` with a reason and, unless it
//! passed, an action for the technician. The report serialises to the stable
//! JSON documented in docs/operations.md (`estation selftest --json`); the
//! heartbeat carries the last one to the central service.

mod checks;
mod model;

pub use model::{
    CardTest, CentralTest, Check, DisplayResult, PrinterTest, REPORT_SCHEMA, SelftestContext,
    SelftestReport, Status, Thresholds,
};

use time::OffsetDateTime;

/// Runs every check of `ctx`. Device I/O runs on the blocking pool; the
/// network checks run alongside. Never panics, whatever the devices answer.
pub async fn run_selftest(ctx: &SelftestContext) -> SelftestReport {
    let started_at = OffsetDateTime::now_utc();
    let config_version = ctx.bundle.as_ref().and_then(|b| b.current_version());
    let devices = {
        let card = ctx.card.clone();
        let printer = ctx.printer.clone();
        let kiosk_id = ctx.kiosk_id.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                if let Some(card) = &card {
                    out.extend(checks::card(card));
                }
                if let Some(printer) = &printer {
                    out.extend(checks::printer(printer, &kiosk_id, config_version));
                }
                out
            })
            .await
            .unwrap_or_else(|_| {
                vec![Check::fail(
                    "devices",
                    "internal",
                    "the device checks stopped unexpectedly",
                    "run the self-test again; report it if it repeats",
                )]
            })
        }
    };
    let network = async {
        match &ctx.central {
            Some(central) => checks::central(central, &ctx.thresholds).await,
            None => Vec::new(),
        }
    };
    let (device_checks, network_checks) = tokio::join!(devices, network);
    let mut all = device_checks;
    all.extend(network_checks);
    if let Some(dir) = &ctx.data_dir {
        all.push(checks::disk(dir, &ctx.thresholds));
    }
    if let Some(outbox) = &ctx.outbox {
        all.push(checks::outbox(outbox, &ctx.thresholds));
    }
    if let Some(store) = &ctx.bundle {
        all.push(checks::config(store, OffsetDateTime::now_utc()));
    }
    all.push(checks::display(&ctx.display));
    let status = all.iter().map(|c| c.status).max().unwrap_or(Status::Pass);
    SelftestReport {
        schema: REPORT_SCHEMA,
        kiosk_id: ctx.kiosk_id.clone(),
        app_version: env!("CARGO_PKG_VERSION").to_owned(),
        config_version,
        started_at,
        finished_at: OffsetDateTime::now_utc(),
        status,
        checks: all,
    }
}
