//! Drives the soak: the real kiosk (controller, session, software-rendered
//! window) in this process, seeded visits through its window's own callback, a
//! manual clock moved so that a month passes, faults on schedule, samples of
//! what could leak, and the ledgers reconciled at the end.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use estation_drivers::card::{CardEvent, PcscIdentitySource};
use estation_drivers::print::emulator::Script as PrinterScript;
use estation_drivers::print::{Decoded, PrinterStatus};
use serde::Serialize;

use super::child::{KillReport, kill_and_restart};
use super::env::{Cards, SOAK_READER, World};
use super::ledger::{
    CentralLedger, JournalLedger, KioskLedger, PrinterLedger, newest_job, reconcile_central,
    reconcile_printer,
};
use super::link::LinkState;
use super::plan::{Ending, FaultKind, Flow, Planner, Visit};
use super::probe::{BOUNDS, Bounds, Probe, Sample, breaches};
use crate::central_client::outbox::Outbox;
use crate::central_client::{CentralClient, ClientConfig};
use crate::cli::run::HEARTBEAT_INTERVAL;
use crate::kiosk::backend::Backend;
use crate::kiosk::printer::JournaledPrinter;
use crate::kiosk::{Clock, Mailbox, ManualClock, Message};
use crate::ops::heartbeat::{HealthBoard, enqueue_heartbeat};
use crate::ops::retention::{RetentionPolicy, prune};
use crate::session::{Event, Screen, Timeouts};
use crate::ui_bridge::app::{App, AppOptions};
use crate::ui_bridge::headless::{HeadlessPlatform, HeadlessWindow};

#[derive(clap::Args, Debug)]
pub struct SoakArgs {
    /// How many resident visits to drive.
    #[arg(long, default_value_t = 300)]
    pub visits: u64,
    /// Seed of the visit plan and fault schedule: the same seed, the same run.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print the report as JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Keep the run's files (central database, outbox, journal) in this folder,
    /// which must be empty or absent; a temporary folder otherwise.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Kiosk time the visits are spread over, in days.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Times the kiosk is run as a child process, killed mid-visit and
    /// restarted on the same data folder (0: none).
    #[arg(long, default_value_t = 2)]
    pub kill_cycles: u32,
    /// Visits before the baseline sample that later samples are held to
    /// (default: a tenth of the run, at least 60).
    #[arg(long)]
    pub warmup: Option<u64>,
    /// Every this many visits one carries a fault; the kinds take turns.
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..))]
    pub fault_every: u64,
    /// The emulated printer's paper width in dots: 384 (58 mm) or 576 (80 mm).
    #[arg(long, default_value_t = 576)]
    pub paper_width: u32,
    /// Self-check of the reconciliation: lose one acknowledged submission from
    /// the central database before the ledgers are compared (the run must fail).
    #[arg(long, hide = true)]
    pub lose_a_submission: bool,
    /// Read the soak's own card instead of a virtual card through pcscd, even
    /// where pcscd and vpcd are installed (restarting pcscd disturbs other
    /// users of the machine's card readers).
    #[arg(long)]
    pub own_card: bool,
}

const GUARD: Duration = Duration::from_secs(60);
/// A slow central service: each new connection waits this long.
const SLOW_REPLY: Duration = Duration::from_millis(1500);

#[derive(Debug, Serialize)]
pub struct Report {
    pub seed: u64,
    pub visits: u64,
    pub days: u32,
    pub elapsed_s: f64,
    pub visits_per_s: f64,
    /// Mean wall time of a visit, by flow (or by fault for fault visits).
    pub mean_visit_ms: BTreeMap<&'static str, f64>,
    pub flows: BTreeMap<&'static str, u64>,
    pub locales: BTreeMap<&'static str, u64>,
    pub elderly: u64,
    /// Visits with voice guidance on (each must have spoken).
    pub voice: u64,
    pub walk_aways: u64,
    pub faults: BTreeMap<&'static str, u64>,
    pub skipped: Vec<String>,
    pub told: Told,
    pub central: CentralLedger,
    pub printer: PrinterLedger,
    pub journal: JournalLedger,
    pub kill_restart: Option<KillReport>,
    /// Where the card was read: `pcscd-vpcd` (a virtual card through pcscd)
    /// or `own` (the soak's own card source).
    pub card_reader: &'static str,
    /// Heartbeats due while one was still waiting in the outbox.
    pub heartbeats_coalesced: u64,
    pub pruned_outbox_rows: u64,
    pub pruned_journal_rows: u64,
    pub bounds: Bounds,
    pub baseline: Option<Sample>,
    pub samples: Vec<Sample>,
    pub rss_kb: u64,
    pub fds: u64,
    pub threads: u64,
    pub file_bytes: BTreeMap<&'static str, u64>,
    pub mismatches: Vec<String>,
}

#[derive(Debug, Default, Serialize)]
pub struct Told {
    pub receipts_accepted: u64,
    pub receipts_queued: u64,
    pub ratings: u64,
    pub certificates_printed: u64,
    pub jobs_printed: u64,
    pub print_failures: u64,
    /// Heartbeats queued in the outbox (each must reach the central service once).
    pub heartbeats: u64,
}

pub fn run(args: SoakArgs, offset: time::UtcOffset) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    if ![384, 576].contains(&args.paper_width) {
        anyhow::bail!("--paper-width must be 384 or 576");
    }
    let (_temporary, data) = match &args.data {
        Some(folder) => {
            std::fs::create_dir_all(folder)
                .with_context(|| format!("creating {}", folder.display()))?;
            if std::fs::read_dir(folder)?.next().is_some() {
                anyhow::bail!(
                    "{} is not empty: a soak run reconciles a fresh central database",
                    folder.display()
                );
            }
            (None, folder.clone())
        }
        None => {
            let dir = tempfile::Builder::new()
                .prefix("estation-soak-")
                .tempdir()
                .context("creating the soak folder")?;
            let path = dir.path().to_path_buf();
            (Some(dir), path)
        }
    };
    // Named now: a binary replaced on disk during a long run is still found.
    let binary = std::env::current_exe().context("finding the estation binary")?;
    let kiosk_dir = data.join("kiosk");
    std::fs::create_dir_all(&kiosk_dir)?;
    let (cards, own_card_because) = Cards::choose(args.own_card);
    let mut world = runtime.block_on(World::start(&data, args.paper_width, cards))?;

    let config = ClientConfig::new(&world.link.base_url(), world.kiosk_id(), world.token());
    let outbox = Arc::new(Outbox::open(&kiosk_dir.join("outbox.sqlite"))?);
    let sender = {
        let _guard = runtime.enter();
        outbox
            .clone()
            .spawn_sender(CentralClient::new(config.clone())?)
    };
    // The heartbeat runs on kiosk time (below), as often as a running kiosk's.
    let health = HealthBoard::new(None);
    let heartbeat_ms = u64::try_from(HEARTBEAT_INTERVAL.as_millis()).unwrap_or(u64::MAX);
    let mut next_heartbeat_ms = 0u64;
    let journal_path = kiosk_dir.join("print-journal.sqlite");
    let printer = Arc::new(JournaledPrinter::open(
        &world.printer.uri(),
        Some(args.paper_width),
        &journal_path,
    )?);
    let backend = Arc::new(Backend {
        central: CentralClient::new(config)?,
        cards: match &world.cards {
            Cards::Own(cards) => cards.clone(),
            Cards::Pcscd(_) => Arc::new(PcscIdentitySource::new()),
        },
        printer: printer.clone(),
        outbox: outbox.clone(),
        outbox_sender: Some(sender),
        maintenance: None,
    });
    let window = HeadlessPlatform::install(1080, 1920)?;
    let start = time::OffsetDateTime::now_utc().to_offset(offset);
    let clock = Arc::new(ManualClock::new(start));
    let (app, mailbox) = App::new(AppOptions {
        backend,
        runtime: runtime.handle().clone(),
        clock: clock.clone(),
        timeouts: Timeouts::default(),
        on_screen_card: (!world.cards.through_pcscd()).then(|| SOAK_READER.to_owned()),
        wake: Arc::new(|| {}),
        // Voice visits speak as a kiosk would (silently, without an audio device).
        speech: Some(Arc::new(crate::speech::EspeakEngine::new())),
    })?;
    {
        use slint::ComponentHandle as _;
        app.ui.show()?;
    }
    if let Cards::Pcscd(cards) = &mut world.cards {
        let mailbox = mailbox.clone();
        cards.watch(move |event| mailbox.post(Message::Session(Event::Card(event))))?;
    }
    let journal = rusqlite::Connection::open_with_flags(
        &journal_path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let probe = Probe::new(&kiosk_dir, &world.central_db);
    let mut driver = Driver {
        app: &app,
        window: &window,
        clock: &clock,
        mailbox: &mailbox,
        world: &mut world,
        runtime: &runtime,
        journal: &journal,
        told: KioskLedger::default(),
        printed: PrinterLedger::default(),
        journal_ledger: JournalLedger::default(),
    };

    let mut report = Report {
        seed: args.seed,
        visits: 0,
        days: args.days,
        elapsed_s: 0.0,
        visits_per_s: 0.0,
        mean_visit_ms: BTreeMap::new(),
        flows: BTreeMap::new(),
        locales: BTreeMap::new(),
        elderly: 0,
        voice: 0,
        walk_aways: 0,
        faults: BTreeMap::new(),
        skipped: Vec::new(),
        told: Told::default(),
        central: CentralLedger::default(),
        printer: PrinterLedger::default(),
        journal: JournalLedger::default(),
        kill_restart: None,
        card_reader: "own",
        heartbeats_coalesced: 0,
        pruned_outbox_rows: 0,
        pruned_journal_rows: 0,
        bounds: BOUNDS,
        baseline: None,
        samples: Vec::new(),
        rss_kb: 0,
        fds: 0,
        threads: 0,
        file_bytes: BTreeMap::new(),
        mismatches: Vec::new(),
    };
    // Without pcscd the card is the soak's own and pcscd cannot be restarted.
    let kinds: Vec<FaultKind> = FaultKind::ALL
        .into_iter()
        .filter(|kind| *kind != FaultKind::PcscdRestart || driver.world.cards.through_pcscd())
        .collect();
    if let Some(why) = &own_card_because {
        report.skipped.push(format!(
            "the card through pcscd and the pcscd restart: the soak reads its own card ({why}); \
             drivers/tests/card_pcscd_restart.rs covers a pcscd restart"
        ));
        eprintln!("estation soak: {}", report.skipped.join("; "));
    }
    report.card_reader = if driver.world.cards.through_pcscd() {
        "pcscd-vpcd"
    } else {
        "own"
    };

    // Kiosk time: the visits are spread evenly over `days`.
    let total_ms = u64::from(args.days) * 86_400_000;
    let gap_ms = total_ms / args.visits.max(1);
    let policy = RetentionPolicy::default();
    let sample_every = (args.visits / 20).max(10);
    let mut last_prune_day = 0u64;
    // The baseline comes after a tenth of the run at least: the blocking pool's
    // threads, the allocator's arenas and the glyph caches fill over the first
    // few hundred visits, and a baseline taken before that is not steady.
    let warmup = args
        .warmup
        .unwrap_or((args.visits / 10).max(60))
        .min(args.visits);
    let started = Instant::now();
    let mut planner = Planner::new(args.seed, args.fault_every, &kinds);
    let mut timing: BTreeMap<&'static str, (u64, f64)> = BTreeMap::new();
    for index in 0..args.visits {
        let visit = planner.next_visit(index);
        *report.flows.entry(flow_name(visit.flow)).or_default() += 1;
        *report.locales.entry(visit.locale).or_default() += 1;
        report.elderly += u64::from(visit.elderly);
        report.voice += u64::from(visit.voice);
        if matches!(
            visit.ending,
            Ending::WalkAwayBeforePrint | Ending::WalkAwayAtRating
        ) && visit.fault.is_none()
        {
            report.walk_aways += 1;
        }
        if let Some(fault) = visit.fault {
            *report.faults.entry(fault.name()).or_default() += 1;
        }
        let visit_started = Instant::now();
        let outcome = driver.visit(&visit);
        let kind = visit.fault.map_or(flow_name(visit.flow), FaultKind::name);
        let spent = visit_started.elapsed().as_secs_f64() * 1000.0;
        let entry = timing.entry(kind).or_insert((0u64, 0f64));
        entry.0 += 1;
        entry.1 += spent;
        if let Err(miss) = outcome {
            report.mismatches.push(format!(
                "visit {index} ({} {} {:?} fault {:?}): {miss}",
                visit.locale,
                flow_name(visit.flow),
                visit.ending,
                visit.fault.map(FaultKind::name)
            ));
            driver.recover()?;
        }
        report.visits += 1;
        // Time passes at the kiosk between residents.
        let elapsed = clock.now();
        if gap_ms > elapsed % gap_ms.max(1) {
            driver.advance(gap_ms - elapsed % gap_ms.max(1));
        }
        // Every HEARTBEAT_INTERVAL of kiosk time, a heartbeat through the outbox,
        // as the running kiosk's heartbeat task queues it. Several due at once
        // are one: the first waits in the outbox and the rest coalesce into it,
        // so the outbox is asked once.
        let now = clock.now();
        if now >= next_heartbeat_ms {
            let due = (now - next_heartbeat_ms) / heartbeat_ms.max(1) + 1;
            next_heartbeat_ms = next_heartbeat_ms.saturating_add(due.saturating_mul(heartbeat_ms));
            let queued = enqueue_heartbeat(&outbox, health.snapshot())?;
            driver.told.heartbeats += u64::from(queued);
            report.heartbeats_coalesced += due - u64::from(queued);
            outbox.nudge();
        }
        // Once a kiosk day: the retention rule, as the running kiosk applies it.
        let day = clock.now() / 86_400_000;
        if day > last_prune_day {
            last_prune_day = day;
            let now = clock.wall().unix_timestamp();
            let pruned = prune(&policy, &outbox, Some(printer.journal()), now)?;
            report.pruned_outbox_rows += pruned.outbox_rows as u64;
            report.pruned_journal_rows += pruned.journal_rows as u64;
        }
        let visits = index + 1;
        if visits == warmup {
            let baseline = probe.sample(visits);
            eprintln!("estation soak: {} (baseline)", baseline.summary());
            report.samples.push(baseline.clone());
            report.baseline = Some(baseline);
        } else if visits % sample_every == 0 || visits == args.visits {
            let sample = probe.sample(visits);
            // A long run reports as it goes: an operator watching it (or a run cut
            // short) still has the figures.
            eprintln!(
                "estation soak: {} ({:.2} visits/s)",
                sample.summary(),
                visits as f64 / started.elapsed().as_secs_f64().max(1e-9)
            );
            if let Some(baseline) = &report.baseline {
                report
                    .mismatches
                    .extend(breaches(&BOUNDS, baseline, &sample));
            }
            report.samples.push(sample);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    report.elapsed_s = elapsed;
    report.visits_per_s = report.visits as f64 / elapsed.max(1e-9);
    report.mean_visit_ms = timing
        .into_iter()
        .map(|(kind, (count, total))| (kind, (total / count.max(1) as f64).round()))
        .collect();

    // Everything acknowledged must now reach the central service.
    driver.heal()?;
    if !driver.drain_outbox(Duration::from_secs(120)) {
        report.mismatches.push(format!(
            "the outbox still holds {} entries after the run",
            outbox.status().borrow().backlog
        ));
    }
    if args.lose_a_submission {
        let db = rusqlite::Connection::open(&driver.world.central_db)?;
        db.busy_timeout(Duration::from_secs(5))?;
        db.execute(
            "DELETE FROM submissions WHERE rowid = (SELECT MIN(rowid) FROM submissions)",
            [],
        )?;
    }
    let told = std::mem::take(&mut driver.told);
    let printed = std::mem::take(&mut driver.printed);
    let journal_ledger = std::mem::take(&mut driver.journal_ledger);
    drop(driver);
    report.mismatches.extend(reconcile_printer(&told, &printed));
    match reconcile_central(&told, &world.central_db, &mut report.central) {
        Ok(found) => report.mismatches.extend(found),
        Err(error) => report
            .mismatches
            .push(format!("reading the central database: {error}")),
    }
    report.told = Told {
        receipts_accepted: told.accepted.len() as u64,
        receipts_queued: told.queued.len() as u64,
        ratings: told.ratings,
        certificates_printed: told.certificates_printed.len() as u64,
        jobs_printed: told.jobs_printed,
        print_failures: told.print_failures,
        heartbeats: told.heartbeats,
    };
    report.printer = printed;
    report.journal = journal_ledger;
    if journal_ledger_short(&report) {
        report.mismatches.push(format!(
            "{} print failures shown, {} failed jobs in the journal",
            report.told.print_failures, report.journal.failed
        ));
    }

    if args.kill_cycles > 0 {
        match kill_and_restart(&binary, &data.join("kill"), args.kill_cycles, args.seed) {
            Ok(kill) => {
                report.mismatches.extend(kill.mismatches.iter().cloned());
                *report.faults.entry("kiosk-killed").or_default() += u64::from(kill.kills);
                report.kill_restart = Some(kill);
            }
            Err(error) => report
                .mismatches
                .push(format!("kill and restart: {error:#}")),
        }
    }

    let last = probe.sample(report.visits);
    report.rss_kb = last.rss_kb;
    report.fds = last.fds;
    report.threads = last.threads;
    report.file_bytes = BTreeMap::from([
        ("outbox", last.outbox_bytes),
        ("outbox_wal", last.outbox_wal_bytes),
        ("journal", last.journal_bytes),
        ("journal_wal", last.journal_wal_bytes),
        ("central", last.central_bytes),
        ("central_wal", last.central_wal_bytes),
        ("log_files", last.log_files),
    ]);

    drop(app);
    if let Some(central) = world.central.take()
        && let Err(error) = runtime.block_on(central.shutdown())
    {
        tracing::warn!(%error, "the central service did not stop cleanly");
    }
    runtime.shutdown_timeout(Duration::from_secs(2));

    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    Ok(if report.mismatches.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn journal_ledger_short(report: &Report) -> bool {
    report.journal.failed < report.told.print_failures
}

fn print_report(report: &Report) {
    println!(
        "estation soak: {} visits over {} kiosk days, seed {}, {:.1} s ({:.1} visits/s)",
        report.visits, report.days, report.seed, report.elapsed_s, report.visits_per_s
    );
    println!("flows: {:?}", report.flows);
    println!("mean visit ms: {:?}", report.mean_visit_ms);
    println!(
        "locales: {:?}; elderly {}; voice {}; walk-aways {}",
        report.locales, report.elderly, report.voice, report.walk_aways
    );
    println!("faults: {:?}", report.faults);
    for skipped in &report.skipped {
        println!("skipped: {skipped}");
    }
    println!("told residents: {:?}", report.told);
    println!("central service: {:?}", report.central);
    println!("printer: {:?}", report.printer);
    println!("print journal: {:?}", report.journal);
    if let Some(kill) = &report.kill_restart {
        println!("kill and restart: {kill:?}");
    }
    println!(
        "pruned: {} outbox rows, {} journal rows",
        report.pruned_outbox_rows, report.pruned_journal_rows
    );
    println!(
        "process: rss {} kB, {} fds, {} threads; files {:?}",
        report.rss_kb, report.fds, report.threads, report.file_bytes
    );
    for sample in &report.samples {
        println!("sample: {sample:?}");
    }
    if report.mismatches.is_empty() {
        println!("ledgers agree; nothing grew beyond its bound");
    } else {
        println!("{} mismatches:", report.mismatches.len());
        for mismatch in &report.mismatches {
            println!("  {mismatch}");
        }
    }
}

pub fn flow_name(flow: Flow) -> &'static str {
    match flow {
        Flow::CertificateWithPeriod(_) => "certificate-with-period",
        Flow::HouseholdProof => "household-proof",
        Flow::OriginForm => "origin-form",
        Flow::ProgressByNumber => "progress-by-number",
        Flow::ProgressByCard => "progress-by-card",
        Flow::AddressChange => "address-change",
    }
}

/// What went wrong in a visit, in words for the ledger.
type Miss = String;

struct Driver<'a> {
    app: &'a App,
    window: &'a HeadlessWindow,
    clock: &'a ManualClock,
    mailbox: &'a Mailbox,
    world: &'a mut World,
    runtime: &'a tokio::runtime::Runtime,
    journal: &'a rusqlite::Connection,
    told: KioskLedger,
    printed: PrinterLedger,
    journal_ledger: JournalLedger,
}

impl Driver<'_> {
    fn tap(&self, verb: &str, argument: &str) {
        self.app.drain();
        self.app.ui.invoke_action(verb.into(), argument.into());
    }

    fn screen(&self) -> &'static str {
        self.app.drain();
        self.app.screen().name()
    }

    fn expect(&self, name: &str) -> Result<(), Miss> {
        let now = self.screen();
        if now == name {
            Ok(())
        } else {
            Err(format!(
                "expected screen {name}, the kiosk shows {now} ({})",
                self.app.kiosk().view().error_key
            ))
        }
    }

    fn wait(&self, name: &str) -> Result<(), Miss> {
        let screen = Screen::from_name(name).ok_or_else(|| format!("no screen {name}"))?;
        self.app
            .wait_for(screen, GUARD)
            .map_err(|error| format!("{error} (message {:?})", self.app.kiosk().view().error_key))
    }

    /// Handles results until the screen is one of `names`.
    fn wait_any(&self, names: &[&str]) -> Result<&'static str, Miss> {
        let deadline = Instant::now() + GUARD;
        loop {
            self.app
                .wait_settled(GUARD)
                .map_err(|error| error.to_string())?;
            let now = self.screen();
            if names.contains(&now) {
                return Ok(now);
            }
            if Instant::now() > deadline {
                return Err(format!("expected one of {names:?}, the kiosk shows {now}"));
            }
            // Not settled on a wanted screen: wait for the next message.
            self.app
                .serve_for(Duration::from_millis(20))
                .map_err(|error| error.to_string())?;
        }
    }

    fn advance(&self, ms: u64) {
        self.clock.advance(ms);
        self.window.advance(Duration::from_millis(ms));
        self.app.drain();
        self.app.tick();
    }

    fn error_is(&self, key: &str) -> Result<(), Miss> {
        self.wait("error")?;
        let shown = self.app.kiosk().view().error_key;
        if shown == key {
            Ok(())
        } else {
            Err(format!("the error screen says {shown:?}, expected {key:?}"))
        }
    }

    fn typed(&self, text: &str) {
        for c in text.chars() {
            self.tap("key", &c.to_string());
        }
    }

    /// The resident's card into the reader; `vanish_at_apdu` pulls it out
    /// again as it answers that command.
    fn insert_card_pulled_at(&mut self, vanish_at_apdu: Option<usize>) -> Result<(), Miss> {
        match &mut self.world.cards {
            Cards::Own(cards) => {
                if vanish_at_apdu.is_some() {
                    cards.pull_next();
                }
                self.tap("on-screen-card", "");
            }
            Cards::Pcscd(cards) => {
                cards
                    .insert(vanish_at_apdu)
                    .map_err(|error| format!("{error:#}"))?;
                self.app.drain();
            }
        }
        Ok(())
    }

    fn insert_card(&mut self) -> Result<(), Miss> {
        self.insert_card_pulled_at(None)
    }

    fn remove_card(&mut self) -> Result<(), Miss> {
        match &mut self.world.cards {
            Cards::Own(_) => {
                self.mailbox
                    .post(Message::Session(Event::Card(CardEvent::CardRemoved {
                        reader: SOAK_READER.to_owned(),
                    })))
            }
            Cards::Pcscd(cards) => cards.remove().map_err(|error| format!("{error:#}"))?,
        }
        self.app.drain();
        Ok(())
    }

    /// Back to attract from wherever a visit stopped.
    fn recover(&mut self) -> anyhow::Result<()> {
        self.heal()?;
        self.remove_card().map_err(anyhow::Error::msg)?;
        let _ = self.app.wait_settled(GUARD);
        if self.screen() == "error" {
            self.tap("home", "");
        }
        for _ in 0..20 {
            if self.screen() == "attract" {
                return Ok(());
            }
            self.advance(30_000);
            let _ = self.app.wait_settled(GUARD);
        }
        anyhow::bail!(
            "the kiosk did not return to attract (it shows {})",
            self.screen()
        )
    }

    /// Undoes every fault: link up, central running, printer ready, card in place.
    fn heal(&mut self) -> anyhow::Result<()> {
        self.world.link.set(LinkState::Up);
        self.runtime.block_on(self.world.start_central())?;
        self.world.printer.script(|s| *s = PrinterScript::default());
        self.app.kiosk().backend().outbox.nudge();
        Ok(())
    }

    fn drain_outbox(&self, guard: Duration) -> bool {
        let _ = self.app.wait_settled(GUARD);
        let outbox = self.app.kiosk().backend().outbox.clone();
        outbox.nudge();
        let mut status = outbox.status();
        self.runtime.block_on(async {
            tokio::time::timeout(guard, status.wait_for(|s| s.backlog == 0))
                .await
                .is_ok_and(|r| r.is_ok())
        })
    }

    /// Walks away: the idle warning counts down, then the kiosk forgets the
    /// resident and shows attract.
    fn walk_away(&self) -> Result<(), Miss> {
        let mut warned = false;
        for _ in 0..30 {
            if self.screen() == "attract" {
                return if warned {
                    Ok(())
                } else {
                    Err("the kiosk went back to attract without an idle warning".into())
                };
            }
            self.advance(10_000);
            warned |= self.app.kiosk().view().countdown.is_some();
        }
        Err(format!(
            "a walk-away did not end in attract (still on {})",
            self.screen()
        ))
    }

    fn visit(&mut self, visit: &Visit) -> Result<(), Miss> {
        self.expect("attract")?;
        if visit.fault == Some(FaultKind::CentralSlow) {
            self.world.link.set(LinkState::Slow(SLOW_REPLY));
        }
        // pcscd restarts while the kiosk waits for its next resident, who then
        // must be served as if nothing had happened.
        if visit.fault == Some(FaultKind::PcscdRestart)
            && let Cards::Pcscd(cards) = &mut self.world.cards
        {
            cards
                .restart_pcscd()
                .map_err(|error| format!("{error:#}"))?;
            self.app.drain();
        }
        let result = self.resident(visit);
        self.heal().map_err(|error| format!("{error:#}"))?;
        // The resident takes the card along, whatever happened.
        let removed = self.remove_card();
        result?;
        removed?;
        // The goodbye screen gives way to attract by itself.
        if self.screen() == "goodbye" {
            self.advance(Timeouts::default().goodbye + 1000);
        }
        self.expect("attract")
    }

    fn resident(&mut self, visit: &Visit) -> Result<(), Miss> {
        self.tap("start", "");
        self.expect("language")?;
        self.tap("language", visit.locale);
        self.wait("services")?;
        if visit.elderly {
            self.tap("elderly", "");
        }
        if visit.voice {
            self.tap("voice", "");
            // The services screen speaks (silently here: no audio device); what
            // was said is read and dropped, as a resident would hear it.
            if self.app.take_spoken().is_empty() {
                return Err("voice guidance said nothing on the services screen".into());
            }
        }
        match visit.flow {
            Flow::CertificateWithPeriod(period) => {
                self.tap("service", "si-payment-certificate");
                self.expect("choose-period")?;
                self.tap("period", period);
                self.expect("insert-card")?;
                if self.identify(visit)? {
                    return Ok(());
                }
                self.wait("certificate-preview")?;
            }
            Flow::HouseholdProof => {
                self.tap("service", "household-proof");
                self.expect("insert-card")?;
                if self.identify(visit)? {
                    return Ok(());
                }
                self.wait("certificate-preview")?;
            }
            Flow::OriginForm => {
                self.tap("service", "origin-certificate");
                self.expect("keypad-application-number")?;
                self.typed("CO2025330100001");
                self.tap("key-submit", "");
                self.expect("keypad-exporter-code")?;
                self.typed("3301960001");
                self.tap("key-submit", "");
                // The form is A4-wide: an 80 mm printer cannot print it, and the
                // kiosk says so and where to get it instead.
                if self.wait_any(&["origin-form-preview", "origin-form-unsupported"])?
                    == "origin-form-unsupported"
                {
                    if visit.ending == Ending::WalkAwayBeforePrint {
                        return self.walk_away();
                    }
                    self.tap("finish", "");
                    self.expect("rating")?;
                    return self.rating_tail(visit);
                }
            }
            Flow::ProgressByNumber => {
                self.tap("service", "application-progress");
                self.expect("progress-choice")?;
                self.tap("progress-by-number", "");
                self.expect("keypad-application-number")?;
                self.typed("SQ2025060100012");
                self.tap("key-submit", "");
                self.wait("progress-result")?;
            }
            Flow::ProgressByCard => {
                self.tap("service", "application-progress");
                self.expect("progress-choice")?;
                self.tap("progress-by-card", "");
                self.expect("insert-card")?;
                self.insert_card()?;
                if self.wait_any(&["progress-list", "progress-result"])? == "progress-list" {
                    let first = self
                        .app
                        .kiosk()
                        .view()
                        .applications
                        .first()
                        .cloned()
                        .ok_or("the progress list is empty")?;
                    self.tap("application", &first);
                    self.wait("progress-result")?;
                }
            }
            Flow::AddressChange => {
                self.tap("service", "address-change");
                self.insert_card()?;
                self.wait("submission-form")?;
                self.fill_form()?;
                self.tap("review", "");
                self.expect("submission-confirm")?;
                let expected = match visit.fault {
                    Some(FaultKind::NetworkCut) => {
                        self.world.link.set(LinkState::Down);
                        "queued"
                    }
                    Some(FaultKind::CentralRestart) => {
                        self.runtime
                            .block_on(self.world.stop_central())
                            .map_err(|error| format!("{error:#}"))?;
                        "queued"
                    }
                    _ => "accepted",
                };
                self.tap("submit", "");
                self.wait("submission-receipt")?;
                let view = self.app.kiosk().view();
                if view.receipt_state != expected {
                    return Err(format!(
                        "the receipt says {:?}, expected {expected:?}",
                        view.receipt_state
                    ));
                }
                match expected {
                    "accepted" => self.told.accepted.push(view.verification_code.clone()),
                    _ => self.told.queued.push(view.verification_code.clone()),
                }
                // The service comes back while the resident still reads the receipt.
                self.heal().map_err(|error| format!("{error:#}"))?;
            }
        }
        self.document_tail(visit)
    }

    /// Identification by card; `true` when the visit ended there (a fault).
    fn identify(&mut self, visit: &Visit) -> Result<bool, Miss> {
        match visit.fault {
            Some(FaultKind::CentralError500) => {
                self.world.link.set(LinkState::ServerError);
                self.insert_card()?;
                self.error_is("central-error-failed")?;
                self.tap("home", "");
                self.expect("attract")?;
                Ok(true)
            }
            Some(FaultKind::CardPulled) => {
                // The card leaves the reader as it answers its third command.
                self.insert_card_pulled_at(Some(3))?;
                self.remove_card()?;
                self.error_is("card-error-removed")?;
                self.tap("home", "");
                self.expect("attract")?;
                Ok(true)
            }
            _ => {
                self.insert_card()?;
                Ok(false)
            }
        }
    }

    fn fill_form(&self) -> Result<(), Miss> {
        self.tap("edit", "district");
        self.expect("submission-district")?;
        self.tap("district", "0");
        self.expect("submission-form")?;
        self.tap("edit", "house");
        self.typed("90");
        self.tap("key-submit", "");
        self.tap("edit", "room");
        self.typed("501");
        self.tap("key-submit", "");
        self.tap("edit", "phone");
        self.typed("13800138000");
        self.tap("key-submit", "");
        self.expect("submission-form")
    }

    fn document_tail(&mut self, visit: &Visit) -> Result<(), Miss> {
        let kind = self.screen();
        if visit.ending == Ending::WalkAwayBeforePrint {
            return self.walk_away();
        }
        let print_fault = match visit.fault {
            Some(FaultKind::PaperOutMidJob) => {
                self.world
                    .printer
                    .script(|s| s.paper_out_after_bands = Some(3));
                Some("print-error-paper-out")
            }
            Some(FaultKind::CoverOpen) => {
                self.world.printer.set_status(PrinterStatus {
                    cover_open: true,
                    ..PrinterStatus::READY
                });
                Some("print-error-cover-open")
            }
            _ => None,
        };
        let code = self.app.kiosk().view().verification_code;
        self.tap("print", "");
        if let Some(key) = print_fault {
            self.error_is(key)?;
            self.told.print_failures += 1;
            self.take_printer_output();
            self.check_journal(false)?;
            self.tap("home", "");
            return self.expect("attract");
        }
        self.wait("take-paper")?;
        self.told.jobs_printed += 1;
        if kind == "certificate-preview" {
            self.told.certificates_printed.push(code);
        }
        self.take_printer_output();
        self.check_journal(true)?;
        self.tap("paper-taken", "");
        self.expect("rating")?;
        self.rating_tail(visit)
    }

    fn rating_tail(&mut self, visit: &Visit) -> Result<(), Miss> {
        match visit.ending {
            Ending::WalkAwayAtRating => self.walk_away(),
            Ending::SkipRating | Ending::WalkAwayBeforePrint => {
                self.tap("skip-rating", "");
                self.expect("goodbye")
            }
            Ending::Rate(score) => {
                self.tap("rate", score);
                if self.screen() == "rating-reasons" {
                    self.tap("reason", "too-slow");
                    self.tap("send-rating", "");
                }
                // The rating is durable in the outbox before the kiosk settles.
                self.app
                    .wait_settled(GUARD)
                    .map_err(|error| error.to_string())?;
                self.expect("goodbye")?;
                self.told.ratings += 1;
                Ok(())
            }
        }
    }

    fn take_printer_output(&mut self) {
        let decoded: Decoded = self.world.printer.take_output();
        self.printed.pages += decoded.pages.len() as u64;
        self.printed.cuts += decoded.cuts as u64;
        self.printed.unknown_bytes += decoded.unknown_bytes as u64;
        self.printed.truncated_streams += u64::from(decoded.truncated);
        // The emulator's event queue is for tests that wait on it; empty it so
        // the soak's own bookkeeping does not grow.
        while self.world.printer.next_event(Duration::ZERO).is_some() {}
    }

    /// The job that just ended is the journal's newest, in the state the
    /// resident was shown.
    fn check_journal(&mut self, printed: bool) -> Result<(), Miss> {
        let newest = newest_job(self.journal).map_err(|error| error.to_string())?;
        let Some(super::ledger::JournalRow { state, error_key }) = newest else {
            return Err("the print journal is empty after a print".into());
        };
        self.journal_ledger.checked += 1;
        match (printed, state.as_str()) {
            (true, "printed") => {
                self.journal_ledger.printed += 1;
                Ok(())
            }
            (false, "failed" | "unknown") if error_key.is_some() => {
                self.journal_ledger.failed += 1;
                Ok(())
            }
            _ => Err(format!(
                "the journal's newest job is {state} ({error_key:?}), the resident was told {}",
                if printed { "printed" } else { "failed" }
            )),
        }
    }
}
