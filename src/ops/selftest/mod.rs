//! Device self-test: card reader, printer, central service, clock, disk,
//! outbox, configuration, the display result the UI passes in and, on a kiosk
//! that speaks, the speech engine and audio output.
//!
//! Each check ends `pass`, `warn` or `fail` with a reason and, unless it
//! passed, an action for the technician. The report serialises to the stable
//! JSON documented in docs/operations.md (`estation selftest --json`); the
//! heartbeat carries the last one to the central service.

mod checks;
mod model;

pub use model::{
    CHECK_CODES, CardTest, CentralTest, Check, DisplayResult, PrinterTest, REPORT_SCHEMA,
    ScannerTest, SelftestContext, SelftestReport, Status, Thresholds,
};

use time::OffsetDateTime;

/// Every check a kiosk needs, in report order, and what to do when the kiosk is
/// not set up for it: a fresh kiosk's report names every step still to take.
const EXPECTED: [(&str, Status, &str); 10] = [
    (
        "card-reader",
        Status::Warn,
        "this kiosk is set up without a card reader; connect one and run the self-test without --no-card-reader",
    ),
    (
        "card-read",
        Status::Warn,
        "reading a card was not tested: connect a reader, insert a card and run the self-test again",
    ),
    (
        "scanner",
        Status::Warn,
        "residents can identify only by card; if this kiosk has a code scanner, set [scanner] uri in /etc/estation/kiosk.toml (docs/scanner.md)",
    ),
    (
        "printer",
        Status::Fail,
        "set `printer` in /etc/estation/kiosk.toml (docs/deployment.md) or pass --printer",
    ),
    (
        "central",
        Status::Fail,
        "enroll the kiosk: estation enroll --central URL --code CODE",
    ),
    (
        "clock",
        Status::Warn,
        "the clock is compared with the central service's: enroll the kiosk first",
    ),
    (
        "disk",
        Status::Fail,
        "set `data_dir` in /etc/estation/kiosk.toml or pass --data",
    ),
    (
        "outbox",
        Status::Warn,
        "the outbox appears once the kiosk has run (estation run); nothing is waiting",
    ),
    (
        "config",
        Status::Warn,
        "the kiosk fetches its signed configuration after enrollment; publish a bundle for it",
    ),
    (
        "display",
        Status::Warn,
        "run the display test from maintenance mode on the kiosk's screen",
    ),
];

/// Adds a `not-configured` check for every expected check the context could not
/// run, so that nothing silently disappears from the report.
fn add_missing_checks(all: &mut Vec<Check>, ctx: &SelftestContext) {
    for (id, status, action) in EXPECTED {
        if all.iter().any(|c| c.id == id) {
            continue;
        }
        let reason = match id {
            "card-read" if ctx.card.is_some() => {
                "not tested: the card reader check did not get that far".to_owned()
            }
            _ => format!("{id}: not configured on this kiosk"),
        };
        let check = match status {
            Status::Fail => Check::fail(id, "not-configured", reason, action),
            _ => Check::warn(id, "not-configured", reason, action),
        };
        all.push(check);
    }
    // Report order: the expected checks first, in their order, then any others.
    let position = |id: &str| {
        EXPECTED
            .iter()
            .position(|(e, _, _)| *e == id)
            .unwrap_or(usize::MAX)
    };
    all.sort_by_key(|c| position(&c.id));
}

/// Runs every check of `ctx`. Device I/O runs on the blocking pool; the
/// network checks run alongside. Never panics, whatever the devices answer.
pub async fn run_selftest(ctx: &SelftestContext) -> SelftestReport {
    let started_at = OffsetDateTime::now_utc();
    let config_version = ctx.bundle.as_ref().and_then(|b| b.current_version());
    let devices = {
        let card = ctx.card.clone();
        let scanner = ctx.scanner.clone();
        let printer = ctx.printer.clone();
        let kiosk_id = ctx.kiosk_id.clone();
        let voice = ctx.voice.clone();
        async move {
            tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                if let Some(engine) = &voice {
                    out.push(checks::voice(engine.as_ref()));
                }
                if let Some(card) = &card {
                    out.extend(checks::card(card));
                }
                if let Some(printer) = &printer {
                    out.extend(checks::printer(printer, &kiosk_id, config_version));
                }
                if let Some(scanner) = &scanner {
                    out.push(checks::scanner(scanner));
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
    add_missing_checks(&mut all, ctx);
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

#[cfg(test)]
mod tests {
    use super::CHECK_CODES;

    /// Every kebab-case word the checks write is a check id or a code listed in
    /// CHECK_CODES, so that a new code cannot reach the report screen without
    /// its translations (which the i18n tests require for every listed pair).
    #[test]
    fn every_code_the_checks_can_report_is_listed() {
        // Words in the checks' source that are not ids or codes.
        const OTHER_WORDS: [&str; 4] = ["tls", "handshake", "certificate", "built-in"];
        let listed: std::collections::BTreeSet<&str> = CHECK_CODES
            .iter()
            .flat_map(|(id, codes)| std::iter::once(*id).chain(codes.iter().copied()))
            .collect();
        for source in [include_str!("checks.rs"), include_str!("mod.rs")] {
            // Only the code before this test module.
            let code = source.split("#[cfg(test)]").next().unwrap_or(source);
            for literal in code.split('"').skip(1).step_by(2) {
                let kebab = !literal.is_empty()
                    && literal.split('-').all(|part| {
                        !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase())
                    });
                if kebab && !OTHER_WORDS.contains(&literal) {
                    assert!(
                        listed.contains(literal),
                        "{literal:?} is reported by a check but not in CHECK_CODES"
                    );
                }
            }
        }
        // And each pair is unique.
        for (id, codes) in CHECK_CODES {
            let unique: std::collections::BTreeSet<_> = codes.iter().collect();
            assert_eq!(unique.len(), codes.len(), "{id} lists a code twice");
        }
    }
}
