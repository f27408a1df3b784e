//! The kiosk controller: owns the resident [`Session`], turns its effects into work
//! on the [`Backend`] (off the UI thread) and the results back into events, and
//! derives the [`View`] the window shows.

pub mod backend;
pub mod documents;
pub mod printer;
pub mod receipt;

pub use receipt::{ReceiptLabels, receipt_document};

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;

use estation_central::wire;
use estation_drivers::card::CardEvent;
use time::OffsetDateTime;

use crate::i18n::{Locale, Translator};
use crate::kiosk::backend::Backend;
use crate::kiosk::documents::ReadyDocument;
use estation_drivers::scanner::ScanEvent;

use crate::session::{
    DocKind, Effect, Event, Fault, FlowKind, IdentifiedBy, KioskTraits, Millis, PeriodChoice,
    ProgressQuery, Screen, ServiceEntry, Session, SubmissionState, Timeouts, UiAction,
};
use crate::speech::{SpeechEngine, VoiceGuide};
use crate::view::{
    BrandingView, FormView, Input, ServiceGroupView, ServiceView, View, VoiceCommand,
};

/// Results of background work, delivered to the controller on the UI thread.
#[derive(Debug)]
pub enum Message {
    Session(Event),
    Catalogue(Result<wire::Catalogue, Fault>),
    Document(Result<Box<ReadyDocument>, Fault>),
    PhoneLink(Result<String, Fault>),
    SelfTest(Box<crate::ops::selftest::SelftestReport>),
    /// The central service or a device is failing (true) or back (false).
    Degraded(bool),
    /// A background task has posted everything it had to say.
    TaskDone,
}

/// A monotonic clock in milliseconds. Scripts and tests move a manual one.
pub trait Clock: Send + Sync {
    fn now(&self) -> Millis;
    fn wall(&self) -> OffsetDateTime;
}

pub struct SystemClock {
    start: Instant,
    offset: time::UtcOffset,
}

impl SystemClock {
    /// `offset` is the kiosk's local time zone, read before any thread starts.
    pub fn new(offset: time::UtcOffset) -> Self {
        Self {
            start: Instant::now(),
            offset,
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        self.start.elapsed().as_millis() as Millis
    }
    fn wall(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc().to_offset(self.offset)
    }
}

/// A monotonic clock that runs in real time, with the wall clock held at one moment:
/// `estation demo --at` shows the same time on screen and on paper however long it
/// runs, so a real window can be compared with a headless rendering.
pub struct PinnedWallClock {
    start: Instant,
    wall: OffsetDateTime,
}

impl PinnedWallClock {
    pub fn new(wall: OffsetDateTime) -> Self {
        Self {
            start: Instant::now(),
            wall,
        }
    }
}

impl Clock for PinnedWallClock {
    fn now(&self) -> Millis {
        self.start.elapsed().as_millis() as Millis
    }
    fn wall(&self) -> OffsetDateTime {
        self.wall
    }
}

/// A clock that only moves when told to.
pub struct ManualClock {
    millis: AtomicU64,
    wall_start: OffsetDateTime,
}

impl ManualClock {
    pub fn new(wall_start: OffsetDateTime) -> Self {
        Self {
            millis: AtomicU64::new(0),
            wall_start,
        }
    }
    pub fn advance(&self, by: Millis) {
        self.millis.fetch_add(by, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Millis {
        self.millis.load(Ordering::SeqCst)
    }
    fn wall(&self) -> OffsetDateTime {
        self.wall_start + time::Duration::milliseconds(self.now() as i64)
    }
}

/// How results reach the controller: a channel plus a wake-up for the UI thread.
#[derive(Clone)]
pub struct Mailbox {
    sender: Sender<Message>,
    wake: Arc<dyn Fn() + Send + Sync>,
}

impl Mailbox {
    pub fn new(sender: Sender<Message>, wake: Arc<dyn Fn() + Send + Sync>) -> Self {
        Self { sender, wake }
    }
    pub fn post(&self, message: Message) {
        // A closed channel means the kiosk is shutting down: nothing left to tell.
        if self.sender.send(message).is_ok() {
            (self.wake)();
        }
    }
}

pub struct Kiosk {
    session: Session,
    clock: Arc<dyn Clock>,
    backend: Arc<Backend>,
    runtime: tokio::runtime::Handle,
    mailbox: Mailbox,
    translator: Arc<Translator>,
    catalogue: Option<wire::Catalogue>,
    document: Option<Box<ReadyDocument>>,
    phone_link: Option<String>,
    selftest: Option<Box<crate::ops::selftest::SelftestReport>>,
    /// The reader an on-screen card control inserts into, when the screen offers
    /// one (a training or demonstration kiosk); `None` on a real kiosk.
    on_screen_card: Option<String>,
    degraded: bool,
    /// The last catalogue load could not reach the central service.
    offline: bool,
    /// Since when the central service has been out of reach, for the service
    /// manager's status line.
    offline_since: Option<OffsetDateTime>,
    /// The last print's failure (a message key), until a print succeeds.
    printer_problem: Option<String>,
    /// Why the panel does not suit the layouts (touch targets too small on the
    /// glass), for the service manager's status line.
    panel_problem: Option<String>,
    /// The configuration bundle version whose timeouts are in force.
    applied_bundle: Option<u64>,
    /// Background tasks started and not yet finished.
    in_flight: usize,
    /// Codes the scanner has read since start, wanted or not (operators see
    /// how often residents use their phones; scripts wait on it).
    codes_scanned: u64,
    /// The engine voice guidance speaks with, when the kiosk has one.
    speech: Option<Arc<dyn SpeechEngine>>,
    /// Voice guidance while a visit has it on.
    voice: Option<VoiceGuide>,
    /// What voice guidance said and nobody has read yet (headless scripts).
    /// Emptied by the wipe: it can name the resident.
    spoken: Vec<String>,
}

/// Posts `TaskDone` when a background task ends, however it ends.
struct TaskGuard(Mailbox);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.post(Message::TaskDone);
    }
}

/// What a kiosk is made of.
pub struct KioskParts {
    pub backend: Arc<Backend>,
    pub runtime: tokio::runtime::Handle,
    pub mailbox: Mailbox,
    pub clock: Arc<dyn Clock>,
    pub translator: Arc<Translator>,
    pub timeouts: Timeouts,
    /// The reader an on-screen card control inserts into (demonstrations).
    pub on_screen_card: Option<String>,
    /// The engine voice guidance speaks with; `None`: no voice guidance.
    pub speech: Option<Arc<dyn SpeechEngine>>,
}

impl Kiosk {
    pub fn new(parts: KioskParts) -> Self {
        let KioskParts {
            backend,
            runtime,
            mailbox,
            clock,
            translator,
            timeouts,
            on_screen_card,
            speech,
        } = parts;
        let now = clock.now();
        let traits = KioskTraits {
            printer_width_dots: backend.printer.width_dots(),
        };
        Self {
            session: Session::with_traits(timeouts, traits, now),
            clock,
            backend,
            runtime,
            mailbox,
            translator,
            catalogue: None,
            document: None,
            phone_link: None,
            selftest: None,
            on_screen_card,
            degraded: false,
            offline: false,
            offline_since: None,
            printer_problem: None,
            panel_problem: None,
            applied_bundle: None,
            in_flight: 0,
            codes_scanned: 0,
            speech,
            voice: None,
            spoken: Vec::new(),
        }
    }

    pub fn screen(&self) -> Screen {
        self.session.screen()
    }

    pub fn codes_scanned(&self) -> u64 {
        self.codes_scanned
    }

    /// Voice guidance follows the window: called with every view presented.
    /// Voice on starts a guide; voice off (or the wipe) silences and drops it.
    pub fn follow_voice(&mut self, view: &View) {
        if !self.session.voice() {
            if let Some(mut guide) = self.voice.take() {
                guide.stop();
            }
            return;
        }
        if self.voice.is_none()
            && let Some(engine) = &self.speech
        {
            self.voice = Some(VoiceGuide::new(engine.clone(), self.session.elderly()));
        }
        if let Some(guide) = &mut self.voice {
            guide.show(view, &self.translator);
            self.spoken.extend(guide.take_spoken());
        }
    }

    /// What voice guidance said since the last call, oldest first.
    pub fn take_spoken(&mut self) -> Vec<String> {
        std::mem::take(&mut self.spoken)
    }

    /// Why voice guidance could not speak the last time it tried, if it could not.
    pub fn voice_problem(&self) -> Option<String> {
        self.voice
            .as_ref()
            .and_then(|g| g.last_error())
            .map(ToString::to_string)
    }

    /// True when no background work is under way: the screen shows its final state.
    pub fn is_settled(&self) -> bool {
        self.in_flight == 0
    }

    pub fn session(&self) -> &Session {
        &self.session
    }

    pub fn backend(&self) -> &Arc<Backend> {
        &self.backend
    }

    pub fn runtime(&self) -> &tokio::runtime::Handle {
        &self.runtime
    }

    pub fn input(&mut self, input: Input) {
        match input {
            Input::Ui(action) => {
                // Which services are used, for the operators; no personal data.
                if let UiAction::ChooseService(id) = &action {
                    tracing::info!(service = %id, "service chosen");
                }
                self.event(Event::Ui(action))
            }
            Input::Voice(command) => {
                // A request to the voice is the resident being there.
                self.event(Event::Ui(UiAction::Touch));
                if let Some(guide) = &mut self.voice {
                    match command {
                        VoiceCommand::Repeat => guide.repeat(),
                        VoiceCommand::Slower => guide.slower(),
                        VoiceCommand::Faster => guide.faster(),
                        VoiceCommand::Louder => guide.louder(),
                        VoiceCommand::Softer => guide.softer(),
                    }
                    self.spoken.extend(guide.take_spoken());
                }
            }
            // Not activity on its own: the key that moved the focus was, and the
            // kiosk moves the focus too (to the idle warning's button).
            Input::Focused(label) => {
                if let Some(guide) = &mut self.voice {
                    guide.focused(&label, self.session.locale());
                    self.spoken.extend(guide.take_spoken());
                }
            }
            Input::InsertOnScreenCard => {
                if let Some(reader) = self.on_screen_card.clone() {
                    self.event(Event::Card(CardEvent::CardInserted {
                        reader,
                        atr: Vec::new(),
                    }))
                }
            }
        }
    }

    pub fn tick(&mut self) {
        self.apply_bundle();
        self.follow_connectivity();
        self.event(Event::Tick);
    }

    /// Deliveries failing in a row (heartbeats go out every few minutes even with
    /// nobody at the kiosk) or a catalogue that could not load mean the central
    /// service is out of reach.
    fn follow_connectivity(&mut self) {
        let outbox = *self.backend.outbox.status().borrow();
        let unreachable = self.offline || outbox.consecutive_failures > 0;
        match (unreachable, self.offline_since) {
            (true, None) => self.offline_since = Some(self.clock.wall()),
            (false, Some(_)) => self.offline_since = None,
            _ => {}
        }
    }

    /// The status line the service manager shows (`systemctl status`): "serving",
    /// or "degraded: " and what is wrong, in a technician's words. Never anything
    /// about the resident at the screen.
    /// Records what is wrong with the panel (see `panel_problem`).
    pub fn set_panel_problem(&mut self, problem: Option<String>) {
        self.panel_problem = problem;
    }

    pub fn service_status(&self) -> String {
        let mut problems = Vec::new();
        if let Some(since) = self.offline_since {
            problems.push(format!(
                "central service unreachable since {:02}:{:02}",
                since.hour(),
                since.minute()
            ));
        }
        if let Some(key) = &self.printer_problem {
            let what = match key.as_str() {
                "print-error-paper-out" => "paper out",
                "print-error-cover-open" => "cover open",
                "print-error-offline" => "not answering",
                "print-error-jammed" => "jammed or cutter fault",
                "print-error-needs-staff" | "print-error-outcome-unknown" => {
                    "a job waits for a technician"
                }
                _ => "last job failed",
            };
            problems.push(format!("printer {what}"));
        }
        if let Some(problem) = &self.panel_problem {
            problems.push(problem.clone());
        }
        let outbox = *self.backend.outbox.status().borrow();
        if outbox.sender_failures > 0 {
            problems.push("outbox sender failing on its database".into());
        } else if outbox.backlog > 0 && outbox.consecutive_failures > 0 {
            problems.push(match outbox.backlog {
                1 => "1 request waiting to be sent".to_owned(),
                n => format!("{n} requests waiting to be sent"),
            });
        }
        if outbox.rejected > 0 {
            problems.push(match outbox.rejected {
                1 => "1 request refused by the service".to_owned(),
                n => format!("{n} requests refused by the service"),
            });
        }
        if problems.is_empty() {
            "serving".into()
        } else {
            format!("degraded: {}", problems.join(", "))
        }
    }

    /// Keeps the last print's outcome for the status line and the heartbeat.
    fn note_print(&mut self, result: &Result<(), Fault>) {
        let problem = match result {
            Ok(()) => None,
            Err(fault) if fault.message_key.starts_with("print-error-") => {
                Some(fault.message_key.to_owned())
            }
            Err(_) => None,
        };
        if problem != self.printer_problem {
            if let Some(board) = self
                .backend
                .maintenance
                .as_ref()
                .and_then(|m| m.board.as_ref())
            {
                board.set_device(wire::DeviceHealth {
                    device: "printer".into(),
                    status: if problem.is_some() {
                        wire::DeviceStatus::Error
                    } else {
                        wire::DeviceStatus::Ok
                    },
                    detail: problem
                        .as_deref()
                        .map(|key| key.trim_start_matches("print-error-").to_owned()),
                });
            }
            self.printer_problem = problem;
        }
    }

    fn bundle(&self) -> Option<Arc<crate::ops::bundle::ConfigBundle>> {
        self.backend.bundle()
    }

    /// A newly applied configuration bundle changes the idle timeouts without a
    /// restart (opening hours apply at the next catalogue load).
    fn apply_bundle(&mut self) {
        let Some(bundle) = self.bundle() else {
            return;
        };
        if self.applied_bundle != Some(bundle.version) {
            self.applied_bundle = Some(bundle.version);
            self.session.set_timeouts(bundle.session_timeouts());
            tracing::info!(
                version = bundle.version,
                "configuration applied to the session"
            );
        }
    }

    /// The services to offer from `catalogue`: open now by the catalogue and by the
    /// configuration's hours, each marked available unless it needs the central
    /// service live while the kiosk is offline.
    fn offer(&self, catalogue: &wire::Catalogue) -> Vec<ServiceEntry> {
        let bundle = self.bundle();
        let now = self.clock.wall();
        let mut entries = supported_open_services(catalogue);
        entries.retain(|e| {
            bundle
                .as_ref()
                .is_none_or(|b| b.service_allowed_at(&e.id, now))
        });
        if self.offline {
            for entry in &mut entries {
                entry.available = catalogue
                    .services
                    .iter()
                    .find(|s| s.id == entry.id)
                    .is_some_and(|s| !s.kind.needs_live_central());
            }
        }
        entries
    }

    pub fn message(&mut self, message: Message) {
        match message {
            Message::Session(event) => {
                if let Event::PrintFinished(result) = &event {
                    self.note_print(result);
                }
                if let Event::Scanner(ScanEvent::Scanned(_)) = &event {
                    self.codes_scanned += 1;
                }
                self.event(event)
            }
            Message::Catalogue(result) => {
                let entries = match result {
                    Ok(catalogue) => {
                        self.degraded = false;
                        self.offline = false;
                        let entries = self.offer(&catalogue);
                        self.catalogue = Some(catalogue);
                        Ok(entries)
                    }
                    // Offline with a catalogue seen before: offer what works without
                    // the central service (submissions go through the outbox) and
                    // show the rest as temporarily unavailable.
                    Err(fault) if fault.message_key == "central-error-unreachable" => {
                        match self.catalogue.clone() {
                            Some(catalogue) => {
                                self.degraded = true;
                                self.offline = true;
                                Ok(self.offer(&catalogue))
                            }
                            None => Err(fault),
                        }
                    }
                    Err(fault) => Err(fault),
                };
                self.event(Event::CatalogueLoaded(entries));
            }
            Message::Document(result) => {
                let summary = result.map(|document| {
                    let summary = document.summary.clone();
                    self.document = Some(document);
                    summary
                });
                self.event(Event::DocumentReady(summary));
            }
            Message::SelfTest(report) => {
                self.selftest = Some(report);
                self.event(Event::SelfTestFinished);
            }
            Message::PhoneLink(result) => {
                let outcome = result.map(|url| {
                    self.phone_link = Some(url);
                });
                self.event(Event::PhoneLinkReady(outcome));
            }
            Message::Degraded(degraded) => self.degraded = degraded,
            Message::TaskDone => self.in_flight = self.in_flight.saturating_sub(1),
        }
    }

    fn event(&mut self, event: Event) {
        let now = self.clock.now();
        let before = self.session.screen();
        let effects = self.session.handle(event, now);
        // What residents are told went wrong, for the operators (a fault's detail
        // never holds personal data).
        if self.session.screen() == Screen::Error
            && before != Screen::Error
            && let Some(fault) = self.session.fault()
        {
            tracing::info!(message = fault.message_key, detail = %fault.detail, "resident shown an error");
        }
        for effect in effects {
            self.run(effect);
        }
    }

    fn run(&mut self, effect: Effect) {
        let backend = self.backend.clone();
        let mailbox = self.mailbox.clone();
        self.in_flight += 1;
        let done = TaskGuard(self.mailbox.clone());
        match effect {
            Effect::LoadCatalogue => {
                self.runtime.spawn(async move {
                    let _done = done;
                    let result = backend.catalogue().await;
                    mailbox.post(Message::Degraded(result.is_err()));
                    mailbox.post(Message::Catalogue(result));
                });
            }
            Effect::ReadCard { reader, pin } => {
                self.runtime.spawn_blocking(move || {
                    let _done = done;
                    let result = backend.read_identity(&reader, pin.as_ref());
                    mailbox.post(Message::Session(Event::IdentityRead(result)));
                });
            }
            Effect::VerifyCode { code } => {
                self.runtime.spawn(async move {
                    let _done = done;
                    let result = backend.identify_by_code(code).await;
                    mailbox.post(Message::Session(Event::IdentityRead(result)));
                });
            }
            Effect::IssueCertificate {
                service_id,
                identity,
                period,
                locale,
            } => {
                let period = period.map(|p| period_range(p, self.clock.wall()));
                self.runtime.spawn(async move {
                    let _done = done;
                    let result = backend
                        .issue_certificate(&service_id, &identity, period, locale)
                        .await;
                    drop(identity);
                    mailbox.post(Message::Document(result.map(Box::new)));
                });
            }
            Effect::FetchOriginForm {
                application_number,
                exporter_code,
                ..
            } => {
                self.runtime.spawn(async move {
                    let _done = done;
                    let result = backend
                        .origin_form(&application_number, &exporter_code)
                        .await;
                    mailbox.post(Message::Document(result.map(Box::new)));
                });
            }
            Effect::FetchProgress { query, locale } => {
                self.runtime.spawn(async move {
                    let _done = done;
                    match query {
                        ProgressQuery::ByNumber(number) => {
                            let result = backend.progress_by_number(&number, locale).await;
                            mailbox.post(Message::Document(result.map(Box::new)));
                        }
                        ProgressQuery::ByCard(identity) => {
                            let result = backend.progress_by_card(&identity, locale).await;
                            drop(identity);
                            mailbox.post(Message::Session(Event::ApplicationsListed(result)));
                        }
                    }
                });
            }
            Effect::Submit {
                service_id,
                identity,
                form,
                locale,
            } => {
                let labels = ReceiptLabels::new(&self.translator, locale);
                let now = self.clock.wall();
                let offset = now.offset();
                self.runtime.spawn(async move {
                    let _done = done;
                    let submitted = backend
                        .submit(&service_id, &identity, &form, locale, now)
                        .await;
                    let result = match submitted {
                        Ok(submitted) => {
                            let (summary, document) =
                                receipt_document(&labels, &submitted, &form, offset);
                            backend.ready(summary, document, locale).await
                        }
                        Err(fault) => Err(fault),
                    };
                    drop(identity);
                    mailbox.post(Message::Document(result.map(Box::new)));
                });
            }
            Effect::RequestPhoneLink { document_id } => {
                self.phone_link = None;
                self.runtime.spawn(async move {
                    let _done = done;
                    let result = backend.phone_link(&document_id).await;
                    mailbox.post(Message::PhoneLink(result));
                });
            }
            Effect::Print { job_id, kind } => {
                let Some(document) = &self.document else {
                    drop(done);
                    let fault = Fault::new("print-error-failed", "no document to print");
                    self.event(Event::PrintFinished(Err(fault)));
                    return;
                };
                let mut to_print = document.document.clone();
                self.runtime.spawn_blocking(move || {
                    let _done = done;
                    let progress_mailbox = mailbox.clone();
                    let mut last = 0u8;
                    let result = backend.print(&job_id, kind, &to_print, &mut |percent| {
                        if percent != last {
                            last = percent;
                            progress_mailbox.post(Message::Session(Event::PrintProgress(percent)));
                        }
                    });
                    crate::kiosk::documents::scrub(&mut to_print);
                    mailbox.post(Message::Session(Event::PrintFinished(result)));
                });
            }
            Effect::SubmitRating {
                service_id,
                document_id,
                score,
                reasons,
            } => {
                self.runtime.spawn_blocking(move || {
                    let _done = done;
                    let result =
                        backend.submit_rating(&service_id, document_id.as_deref(), score, reasons);
                    if let Err(fault) = &result {
                        // The goodbye then says nothing of the rating; the fault is
                        // for the technician's log.
                        tracing::error!(detail = %fault.detail, "rating could not be queued");
                    }
                    mailbox.post(Message::Session(Event::RatingQueued(result)));
                });
            }
            Effect::Wipe => {
                drop(done);
                self.spoken.clear();
                self.document = None;
                self.phone_link = None;
                self.selftest = None;
            }
            Effect::CheckTechnician { reader, pin } => {
                // Wall-clock time: lockouts outlive this process.
                let now = i64::try_from(self.clock.wall().unix_timestamp_nanos() / 1_000_000)
                    .unwrap_or(i64::MAX);
                self.runtime.spawn_blocking(move || {
                    let _done = done;
                    let result = match &backend.maintenance {
                        Some(port) => port.check_technician(reader.as_deref(), &pin, now),
                        None => Err(Fault::new(
                            "maintenance-error-denied",
                            "maintenance is not configured on this kiosk",
                        )),
                    };
                    drop(pin);
                    mailbox.post(Message::Session(Event::TechnicianChecked(result)));
                });
            }
            Effect::RunSelfTest { display } => {
                self.runtime.spawn(async move {
                    let _done = done;
                    match &backend.maintenance {
                        Some(port) => {
                            let report = port.run_selftest(display).await;
                            mailbox.post(Message::SelfTest(Box::new(report)));
                        }
                        None => mailbox.post(Message::Session(Event::SelfTestFinished)),
                    }
                });
            }
        }
    }

    /// What the window should show now.
    pub fn view(&self) -> View {
        let now = self.clock.now();
        let session = &self.session;
        let locale = session.locale();
        let mut view = View::new(session.screen(), locale);
        view.elderly = session.elderly();
        view.voice = session.voice();
        if let Some(bundle) = self.bundle() {
            view.branding = BrandingView {
                station_name: bundle.station_name.get(locale.tag()).to_owned(),
                help_phone: bundle.branding.help_phone.clone().unwrap_or_default(),
                accent: bundle
                    .branding
                    .accent_colour
                    .as_deref()
                    .and_then(BrandingView::parse_colour),
            };
        }
        view.on_screen_card = self.on_screen_card.is_some();
        view.scanner_ready = session.scanner_ready();
        view.identified_by_phone = session.identified_by() == Some(IdentifiedBy::PhoneCode);
        view.degraded = self.degraded;
        let wall = self.clock.wall();
        view.time = format!("{:02}:{:02}", wall.hour(), wall.minute());
        view.date = format_date(&self.translator, locale, wall);
        view.services_loading = session.services().is_none();
        if let (Some(catalogue), Some(entries)) = (&self.catalogue, session.services()) {
            view.service_groups = group_services(catalogue, entries, locale);
        }
        if let (Some(catalogue), Some(service)) = (&self.catalogue, session.service())
            && let Some(s) = catalogue.services.iter().find(|s| s.id == service.id)
        {
            view.service_name = s.name.get(locale.tag()).to_owned();
        }
        view.pin_length = session.pin_length();
        view.pin_tries_left = session.pin_tries_left();
        view.pin_wrong = session.pin_was_wrong();
        if let Screen::Keypad(field) = session.screen() {
            view.keypad_letters = field.takes_letters();
            view.keypad_text = field.masked(session.keypad_text());
            view.keypad_count = keypad_count(field, session.keypad_text());
            view.keypad_can_submit = field.is_valid(session.keypad_text());
        }
        view.keypad_invalid = session.keypad_invalid();
        view.period = session
            .period()
            .map(|p| p.id().to_owned())
            .unwrap_or_default();
        view.applications = session
            .applications()
            .iter()
            .map(|a| a.application_number.clone())
            .collect();
        if let Some(form) = session.form() {
            view.form = FormView::from_form(form);
        }
        if let Some((number, code)) = session.origin_inputs() {
            view.origin_application = number.to_owned();
            view.origin_exporter = code.to_owned();
        }
        view.print_percent = session.print_progress();
        if let (Some(document), Some(summary)) = (&self.document, session.document()) {
            view.preview = Some(document.preview.clone());
            view.verification_code = summary.verification_code.clone();
            view.document = Some(crate::view::DocumentFacts::of(&document.document));
            if let Some(state) = &summary.submission {
                let (name, refusal) = match state {
                    SubmissionState::Accepted => ("accepted", ""),
                    SubmissionState::Queued => ("queued", ""),
                    SubmissionState::Refused { message_key } => ("refused", message_key.as_str()),
                };
                view.receipt_state = name.to_owned();
                view.receipt_refusal_key = refusal.to_owned();
            }
        }
        view.printed = session.printed();
        view.phone_link = self.phone_link.clone();
        view.rated = session.rated();
        view.reasons = session.reasons().to_vec();
        if let Some(fault) = session.fault() {
            view.error_key = fault.message_key.to_owned();
            if fault.message_key.starts_with("print-error")
                && let Some(document) = session.document()
            {
                view.error_code = document.verification_code.clone();
                view.error_can_phone = document.kind == DocKind::Certificate;
            }
        }
        view.card_reminder = session.identified_by() == Some(IdentifiedBy::Card);
        view.countdown = session.idle_countdown(now);
        view.technician = session.technician().unwrap_or_default().to_owned();
        if let Some(fault) = session.login_fault() {
            view.login_error_key = fault.message_key.to_owned();
            view.login_tries_left = fault.tries_left;
        }
        if let Some(report) = &self.selftest {
            view.checks = checks_view(report);
        }
        view
    }
}

/// One line per self-test check, for the report screen.
pub fn checks_view(report: &crate::ops::selftest::SelftestReport) -> Vec<crate::view::CheckView> {
    report
        .checks
        .iter()
        .map(|check| crate::view::CheckView {
            id: check.id.clone(),
            status: match check.status {
                crate::ops::selftest::Status::Pass => "pass",
                crate::ops::selftest::Status::Warn => "warn",
                crate::ops::selftest::Status::Fail => "fail",
            }
            .into(),
            code: check.code.clone(),
            reason: check.reason.clone(),
        })
        .collect()
}

/// The period a choice covers, as `YYYY-MM` months, relative to `today`.
/// "7 / 11" for a field of one length; "" otherwise.
pub fn keypad_count(field: crate::session::KeypadField, typed: &str) -> String {
    field
        .needed()
        .map(|needed| format!("{} / {needed}", typed.chars().count()))
        .unwrap_or_default()
}

pub fn period_range(choice: PeriodChoice, today: OffsetDateTime) -> wire::Period {
    let (year, month) = (today.year(), i32::from(u8::from(today.month())));
    // Months are counted as year * 12 + (month - 1).
    let this = year * 12 + month - 1;
    let (from, to) = match choice {
        PeriodChoice::Last12Months => (this - 12, this - 1),
        PeriodChoice::Last24Months => (this - 24, this - 1),
        PeriodChoice::ThisYear => (year * 12, this),
        PeriodChoice::LastYear => ((year - 1) * 12, (year - 1) * 12 + 11),
    };
    let show = |m: i32| format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1);
    wire::Period {
        from: show(from),
        to: show(to),
    }
}

/// The services this kiosk can offer now: open, and of a kind it has a flow for.
pub fn supported_open_services(catalogue: &wire::Catalogue) -> Vec<ServiceEntry> {
    catalogue
        .services
        .iter()
        .filter(|s| s.open_now)
        .map(|s| ServiceEntry {
            id: s.id.clone(),
            kind: match s.kind {
                wire::ServiceKind::Certificate => FlowKind::Certificate,
                wire::ServiceKind::OriginCertificate => FlowKind::OriginForm,
                wire::ServiceKind::Progress => FlowKind::Progress,
                wire::ServiceKind::Submission => FlowKind::Submission,
            },
            needs_card: s.needs_card,
            // Contribution histories are the certificates with a period to choose.
            chooses_period: s.id == "si-payment-certificate",
            available: true,
        })
        .collect()
}

/// Gives every listed service its badge letter: the first letter of one of its
/// words that no service before it has ("C" for "Certificate of origin" after
/// "Change of address" would be two Cs, so it gets "O"), else its first letter.
fn assign_glyphs(groups: &mut [ServiceGroupView]) {
    let mut used: Vec<String> = Vec::new();
    for service in groups.iter_mut().flat_map(|g| g.services.iter_mut()) {
        let initials: Vec<String> = service
            .name
            .split_whitespace()
            .filter_map(|word| word.chars().next())
            .filter(|c| c.is_alphanumeric())
            .map(|c| c.to_uppercase().collect())
            .collect();
        let first = service
            .name
            .chars()
            .next()
            .map(|c| c.to_uppercase().collect::<String>())
            .unwrap_or_default();
        let glyph = initials
            .into_iter()
            .find(|g| !used.contains(g))
            .unwrap_or(first);
        used.push(glyph.clone());
        service.glyph = glyph;
    }
}

/// Groups the offered services under their categories, in catalogue order.
pub fn group_services(
    catalogue: &wire::Catalogue,
    entries: &[ServiceEntry],
    locale: Locale,
) -> Vec<ServiceGroupView> {
    let mut groups = Vec::new();
    for category in &catalogue.categories {
        let services: Vec<ServiceView> = catalogue
            .services
            .iter()
            .filter(|s| s.category == category.id && entries.iter().any(|e| e.id == s.id))
            .map(|s| {
                let name = s.name.get(locale.tag()).to_owned();
                ServiceView {
                    available: entries.iter().any(|e| e.id == s.id && e.available),
                    id: s.id.clone(),
                    glyph: String::new(),
                    description: s.description.get(locale.tag()).to_owned(),
                    name,
                }
            })
            .collect();
        if !services.is_empty() {
            groups.push(ServiceGroupView {
                title: category.name.get(locale.tag()).to_owned(),
                services,
            });
        }
    }
    assign_glyphs(&mut groups);
    groups
}

/// "2026年11月24日 星期二" / "Tuesday, November 24, 2026", from Fluent patterns.
pub fn format_date(translator: &Translator, locale: Locale, at: OffsetDateTime) -> String {
    let weekday = translator.text(
        locale,
        &format!("weekday-{}", at.weekday().number_from_monday()),
    );
    let month = translator.text(locale, &format!("month-{}", u8::from(at.month())));
    translator.text_with(
        locale,
        "date-long",
        &[
            ("year", i64::from(at.year()).into()),
            ("month", i64::from(u8::from(at.month())).into()),
            ("month-name", month.into()),
            ("day", i64::from(at.day()).into()),
            ("weekday", weekday.into()),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(name: &str) -> ServiceView {
        ServiceView {
            id: name.to_owned(),
            name: name.to_owned(),
            description: String::new(),
            glyph: String::new(),
            available: true,
        }
    }

    /// The attract screen names four kinds of service (`attract-services`):
    /// the demo catalogue that screenshots and reviews use offers each of them
    /// open around the clock, so nothing advertised is missing from the list.
    #[test]
    fn the_demo_catalogue_offers_every_kind_the_attract_screen_names() {
        let catalogue = wire::Catalogue {
            categories: estation_central::seed::categories(),
            services: estation_central::seed::services(),
        };
        let open = supported_open_services(&catalogue);
        for kind in [
            FlowKind::Certificate,
            FlowKind::OriginForm,
            FlowKind::Progress,
            FlowKind::Submission,
        ] {
            assert!(
                open.iter().any(|entry| entry.kind == kind),
                "no open {kind:?} service"
            );
        }
    }

    #[test]
    fn every_service_badge_differs_where_its_words_allow() {
        let mut groups = vec![
            ServiceGroupView {
                title: "a".into(),
                services: vec![service("Change of address"), service("Household proof")],
            },
            ServiceGroupView {
                title: "b".into(),
                services: vec![service("Certificate of origin"), service("社保缴费证明")],
            },
        ];
        assign_glyphs(&mut groups);
        let glyphs: Vec<&str> = groups
            .iter()
            .flat_map(|g| &g.services)
            .map(|s| s.glyph.as_str())
            .collect();
        assert_eq!(glyphs, ["C", "H", "O", "社"]);
    }
}
