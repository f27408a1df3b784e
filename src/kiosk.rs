//! The kiosk controller: owns the resident [`Session`], turns its effects into work
//! on the [`Backend`] (off the UI thread) and the results back into events, and
//! derives the [`View`] the window shows.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::time::Instant;

use estation_central::wire;
use estation_drivers::card::CardEvent;
use time::OffsetDateTime;
use zeroize::Zeroize;

use crate::backend::{Backend, IssuedDocument};
use crate::bridge::{Input, ServiceGroupView, ServiceView, View};
use crate::i18n::{Locale, Translator};
use crate::session::{Effect, Event, Fault, Millis, Screen, ServiceEntry, Session, Timeouts};

/// The reader name the demo card control uses.
pub const DEMO_READER: &str = "estation demo reader";

/// Results of background work, delivered to the controller on the UI thread.
#[derive(Debug)]
pub enum Message {
    Session(Event),
    Catalogue(Result<wire::Catalogue, Fault>),
    Certificate(Result<Box<IssuedDocument>, Fault>),
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
    issued: Option<Box<IssuedDocument>>,
    demo: bool,
    degraded: bool,
    /// Background tasks started and not yet finished.
    in_flight: usize,
}

/// Posts `TaskDone` when a background task ends, however it ends.
struct TaskGuard(Mailbox);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self.0.post(Message::TaskDone);
    }
}

impl Kiosk {
    pub fn new(
        backend: Arc<Backend>,
        runtime: tokio::runtime::Handle,
        mailbox: Mailbox,
        clock: Arc<dyn Clock>,
        translator: Arc<Translator>,
        timeouts: Timeouts,
        demo: bool,
    ) -> Self {
        let now = clock.now();
        Self {
            session: Session::new(timeouts, now),
            clock,
            backend,
            runtime,
            mailbox,
            translator,
            catalogue: None,
            issued: None,
            demo,
            degraded: false,
            in_flight: 0,
        }
    }

    pub fn screen(&self) -> Screen {
        self.session.screen()
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
            Input::Ui(action) => self.event(Event::Ui(action)),
            Input::InsertDemoCard if self.demo => {
                self.event(Event::Card(CardEvent::CardInserted {
                    reader: DEMO_READER.into(),
                    atr: Vec::new(),
                }))
            }
            Input::InsertDemoCard => {}
        }
    }

    pub fn tick(&mut self) {
        self.event(Event::Tick);
    }

    pub fn message(&mut self, message: Message) {
        match message {
            Message::Session(event) => self.event(event),
            Message::Catalogue(result) => {
                let entries = result.map(|catalogue| {
                    let entries = supported_open_services(&catalogue);
                    self.catalogue = Some(catalogue);
                    entries
                });
                if entries.is_ok() {
                    self.degraded = false;
                }
                self.event(Event::CatalogueLoaded(entries));
            }
            Message::Certificate(result) => {
                let summary = result.map(|issued| {
                    let summary = crate::session::IssuedCertificate {
                        certificate_id: issued.certificate.certificate_id.clone(),
                        verification_code: issued.certificate.verification_code.clone(),
                    };
                    self.issued = Some(issued);
                    summary
                });
                self.event(Event::CertificateIssued(summary));
            }
            Message::Degraded(degraded) => self.degraded = degraded,
            Message::TaskDone => self.in_flight = self.in_flight.saturating_sub(1),
        }
    }

    fn event(&mut self, event: Event) {
        let now = self.clock.now();
        let effects = self.session.handle(event, now);
        for effect in effects {
            self.run(effect);
        }
    }

    fn run(&mut self, effect: Effect) {
        let backend = self.backend.clone();
        let mailbox = self.mailbox.clone();
        let guard = || TaskGuard(self.mailbox.clone());
        match effect {
            Effect::LoadCatalogue => {
                let done = guard();
                self.in_flight += 1;
                self.runtime.spawn(async move {
                    let _done = done;
                    let result = backend.catalogue().await;
                    mailbox.post(Message::Degraded(result.is_err()));
                    mailbox.post(Message::Catalogue(result));
                });
            }
            Effect::ReadCard { reader, pin } => {
                let done = guard();
                self.in_flight += 1;
                self.runtime.spawn_blocking(move || {
                    let _done = done;
                    let result = backend.read_identity(&reader, pin.as_ref());
                    mailbox.post(Message::Session(Event::IdentityRead(result)));
                });
            }
            Effect::IssueCertificate {
                service_id,
                identity,
                locale,
            } => {
                let done = guard();
                self.in_flight += 1;
                self.runtime.spawn(async move {
                    let _done = done;
                    let result = backend
                        .issue_certificate(&service_id, &identity, locale)
                        .await;
                    drop(identity);
                    mailbox.post(Message::Certificate(result.map(Box::new)));
                });
            }
            Effect::Print { job_id } => {
                let Some(issued) = &self.issued else {
                    let fault = Fault::new("print-error-failed", "no issued certificate to print");
                    self.event(Event::PrintFinished(Err(fault)));
                    return;
                };
                let certificate = issued.certificate.clone();
                let done = guard();
                self.in_flight += 1;
                self.runtime.spawn_blocking(move || {
                    let _done = done;
                    let progress_mailbox = mailbox.clone();
                    let mut last = 0u8;
                    let result = backend.print_certificate(&job_id, &certificate, &mut |percent| {
                        if percent != last {
                            last = percent;
                            progress_mailbox.post(Message::Session(Event::PrintProgress(percent)));
                        }
                    });
                    let mut certificate = certificate;
                    scrub_certificate(&mut certificate);
                    mailbox.post(Message::Session(Event::PrintFinished(result)));
                });
            }
            Effect::SubmitRating {
                service_id,
                certificate_id,
                score,
            } => {
                let done = guard();
                self.in_flight += 1;
                self.runtime.spawn_blocking(move || {
                    let _done = done;
                    if let Err(fault) =
                        backend.submit_rating(&service_id, certificate_id.as_deref(), score)
                    {
                        // The resident already left the rating screen; the fault is
                        // for the technician's log.
                        tracing::error!(detail = %fault.detail, "rating could not be queued");
                    }
                });
            }
            Effect::Wipe => {
                if let Some(mut issued) = self.issued.take() {
                    scrub_certificate(&mut issued.certificate);
                }
            }
        }
    }

    /// What the window should show now.
    pub fn view(&self) -> View {
        let now = self.clock.now();
        let locale = self.session.locale();
        let mut view = View::new(self.session.screen(), locale);
        view.elderly = self.session.elderly();
        view.demo = self.demo;
        view.degraded = self.degraded;
        let wall = self.clock.wall();
        view.time = format!("{:02}:{:02}", wall.hour(), wall.minute());
        view.date = format_date(&self.translator, locale, wall);
        view.services_loading = self.session.services().is_none();
        if let (Some(catalogue), Some(entries)) = (&self.catalogue, self.session.services()) {
            view.service_groups = group_services(catalogue, entries, locale);
        }
        if let (Some(catalogue), Some(service)) = (&self.catalogue, self.session.service())
            && let Some(s) = catalogue.services.iter().find(|s| s.id == service.id)
        {
            view.service_name = s.name.get(locale.tag()).to_owned();
        }
        view.pin_length = self.session.pin_length();
        view.pin_tries_left = self.session.pin_tries_left();
        view.pin_wrong = self.session.pin_was_wrong();
        view.print_percent = self.session.print_progress();
        if let (Some(issued), Some(_)) = (&self.issued, self.session.certificate()) {
            view.preview = Some(issued.preview.clone());
            view.verification_code = issued.certificate.verification_code.clone();
        }
        view.rated = self.session.rated().is_some();
        if let Some(fault) = self.session.fault() {
            view.error_key = fault.message_key.to_owned();
        }
        view.countdown = self.session.idle_countdown(now);
        view
    }
}

/// The services this kiosk can offer now: open, and of a kind it has a flow for.
pub fn supported_open_services(catalogue: &wire::Catalogue) -> Vec<ServiceEntry> {
    catalogue
        .services
        .iter()
        .filter(|s| s.open_now && matches!(s.kind, wire::ServiceKind::Certificate))
        .map(|s| ServiceEntry {
            id: s.id.clone(),
            needs_card: s.needs_card,
        })
        .collect()
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
                    id: s.id.clone(),
                    glyph: name
                        .chars()
                        .next()
                        .map(|c| c.to_uppercase().collect())
                        .unwrap_or_default(),
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

/// Overwrites the personal data a certificate carries before it is dropped.
pub fn scrub_certificate(certificate: &mut wire::IssuedCertificate) {
    let document = &mut certificate.document;
    document.title.zeroize();
    if let Some(subtitle) = document.subtitle.as_mut() {
        subtitle.zeroize();
    }
    for field in &mut document.fields {
        field.label.zeroize();
        field.value.zeroize();
    }
    if let Some(table) = document.table.as_mut() {
        for row in &mut table.rows {
            for cell in row {
                cell.zeroize();
            }
        }
    }
    for note in &mut document.notes {
        note.zeroize();
    }
    document.qr_payload.zeroize();
    certificate.qr_payload.zeroize();
    certificate.signature.zeroize();
}
