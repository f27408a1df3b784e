//! The resident session: a pure state machine.
//!
//! Devices, the central service and the UI produce [`Event`]s; [`Session::handle`]
//! decides the next [`Screen`] and returns the [`Effect`]s the runtime must carry out.
//! Nothing here does I/O or reads a clock: the caller passes the time in, so every
//! transition, the idle timeout and the wipe are unit-testable without a window.

mod fault;
#[cfg(test)]
mod tests;

pub use fault::Fault;

use estation_drivers::card::{CardEvent, Identity, Pin};
use zeroize::Zeroizing;

use crate::i18n::Locale;

/// Milliseconds on a monotonic clock chosen by the caller.
pub type Millis = u64;

/// Every screen a resident can see. The bridge shows exactly one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Screen {
    Attract,
    Language,
    Services,
    InsertCard,
    PinEntry,
    ReadingCard,
    Issuing,
    Preview,
    Printing,
    TakePaper,
    Rating,
    Goodbye,
    Error,
}

impl Screen {
    pub const ALL: [Screen; 13] = [
        Screen::Attract,
        Screen::Language,
        Screen::Services,
        Screen::InsertCard,
        Screen::PinEntry,
        Screen::ReadingCard,
        Screen::Issuing,
        Screen::Preview,
        Screen::Printing,
        Screen::TakePaper,
        Screen::Rating,
        Screen::Goodbye,
        Screen::Error,
    ];

    /// The stable name used by `estation screenshot` and headless scripts.
    pub fn name(self) -> &'static str {
        match self {
            Screen::Attract => "attract",
            Screen::Language => "language",
            Screen::Services => "services",
            Screen::InsertCard => "insert-card",
            Screen::PinEntry => "pin-entry",
            Screen::ReadingCard => "reading-card",
            Screen::Issuing => "issuing",
            Screen::Preview => "certificate-preview",
            Screen::Printing => "printing",
            Screen::TakePaper => "take-paper",
            Screen::Rating => "rating",
            Screen::Goodbye => "goodbye",
            Screen::Error => "error",
        }
    }

    pub fn from_name(name: &str) -> Option<Screen> {
        Screen::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Screens where the kiosk, not the resident, is working: the idle timeout waits.
    fn is_busy(self) -> bool {
        matches!(
            self,
            Screen::ReadingCard | Screen::Issuing | Screen::Printing
        )
    }
}

/// A service as the session needs it: the catalogue entry, already filtered to what
/// this kiosk can do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    pub id: String,
    pub needs_card: bool,
}

/// The resident's verdict on a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Score {
    Good,
    Average,
    Bad,
}

/// What the resident did on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UiAction {
    /// Any touch: only resets the idle timer.
    Touch,
    Start,
    ChooseLanguage(Locale),
    SwitchLanguage(Locale),
    ToggleElderly,
    ChooseService(String),
    Back,
    Home,
    PinDigit(u8),
    PinBackspace,
    PinSubmit,
    Print,
    PaperTaken,
    Rate(Score),
    SkipRating,
    /// The resident read the error and wants to try again / go on.
    Retry,
}

/// Everything that can happen to a session.
#[derive(Debug)]
pub enum Event {
    Ui(UiAction),
    Card(CardEvent),
    IdentityRead(Result<Identity, Fault>),
    CatalogueLoaded(Result<Vec<ServiceEntry>, Fault>),
    CertificateIssued(Result<IssuedCertificate, Fault>),
    PrintProgress(u8),
    PrintFinished(Result<(), Fault>),
    /// Time passed; the runtime sends one at least every second.
    Tick,
}

/// A certificate the central service issued for this session. The runtime keeps the
/// full document; the session only needs to know which one it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedCertificate {
    pub certificate_id: String,
    pub verification_code: String,
}

/// Side effects the runtime carries out, in order, for the session.
#[derive(Debug)]
pub enum Effect {
    LoadCatalogue,
    ReadCard {
        reader: String,
        pin: Option<Pin>,
    },
    IssueCertificate {
        service_id: String,
        identity: Identity,
        locale: Locale,
    },
    /// Print the issued certificate; `job_id` makes the print happen at most once.
    Print {
        job_id: String,
    },
    SubmitRating {
        service_id: String,
        certificate_id: Option<String>,
        score: Score,
    },
    /// Personal data of the session must be dropped everywhere (documents, previews).
    Wipe,
}

/// Timeouts, in milliseconds. Elderly mode stretches the idle ones.
#[derive(Clone, Debug)]
pub struct Timeouts {
    pub idle: Millis,
    /// How long before the idle timeout the countdown becomes visible.
    pub idle_warning: Millis,
    pub elderly_factor: u64,
    /// The goodbye screen returns to attract on its own after this.
    pub goodbye: Millis,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            idle: 60_000,
            idle_warning: 20_000,
            elderly_factor: 2,
            goodbye: 8_000,
        }
    }
}

pub const PIN_MAX_DIGITS: usize = 8;
const PIN_MIN_DIGITS: usize = 4;

/// The state of one resident's visit, from the first touch back to attract.
pub struct Session {
    screen: Screen,
    locale: Locale,
    elderly: bool,
    timeouts: Timeouts,
    last_activity: Millis,
    entered_screen_at: Millis,
    services: Option<Vec<ServiceEntry>>,
    service: Option<ServiceEntry>,
    reader: Option<String>,
    card_present: bool,
    identity: Option<Identity>,
    pin_entry: Zeroizing<String>,
    pin_tries_left: Option<u8>,
    pin_was_wrong: bool,
    certificate: Option<IssuedCertificate>,
    print_progress: u8,
    fault: Option<Fault>,
    /// Where "retry" on the error screen goes back to.
    resume: Screen,
    rated: Option<Score>,
}

impl Session {
    pub fn new(timeouts: Timeouts, now: Millis) -> Self {
        Self {
            screen: Screen::Attract,
            locale: Locale::default(),
            elderly: false,
            timeouts,
            last_activity: now,
            entered_screen_at: now,
            services: None,
            service: None,
            reader: None,
            card_present: false,
            identity: None,
            pin_entry: Zeroizing::new(String::new()),
            pin_tries_left: None,
            pin_was_wrong: false,
            certificate: None,
            print_progress: 0,
            fault: None,
            resume: Screen::Attract,
            rated: None,
        }
    }

    pub fn screen(&self) -> Screen {
        self.screen
    }
    pub fn locale(&self) -> Locale {
        self.locale
    }
    pub fn elderly(&self) -> bool {
        self.elderly
    }
    pub fn services(&self) -> Option<&[ServiceEntry]> {
        self.services.as_deref()
    }
    pub fn service(&self) -> Option<&ServiceEntry> {
        self.service.as_ref()
    }
    pub fn has_identity(&self) -> bool {
        self.identity.is_some()
    }
    pub fn certificate(&self) -> Option<&IssuedCertificate> {
        self.certificate.as_ref()
    }
    pub fn print_progress(&self) -> u8 {
        self.print_progress
    }
    pub fn fault(&self) -> Option<&Fault> {
        self.fault.as_ref()
    }
    pub fn pin_length(&self) -> usize {
        self.pin_entry.len()
    }
    pub fn pin_tries_left(&self) -> Option<u8> {
        self.pin_tries_left
    }
    pub fn pin_was_wrong(&self) -> bool {
        self.pin_was_wrong
    }
    pub fn rated(&self) -> Option<Score> {
        self.rated
    }
    pub fn card_present(&self) -> bool {
        self.card_present
    }

    fn idle_limit(&self) -> Millis {
        if self.elderly {
            self.timeouts.idle * self.timeouts.elderly_factor
        } else {
            self.timeouts.idle
        }
    }

    /// Seconds left before the idle timeout, when the countdown should be visible.
    pub fn idle_countdown(&self, now: Millis) -> Option<u64> {
        if self.screen == Screen::Attract || self.screen.is_busy() {
            return None;
        }
        let limit = self.idle_limit();
        let idle_for = now.saturating_sub(self.last_activity);
        let left = limit.saturating_sub(idle_for);
        (left <= self.timeouts.idle_warning).then(|| left.div_ceil(1000))
    }

    /// Feeds one event; returns what the runtime must do.
    pub fn handle(&mut self, event: Event, now: Millis) -> Vec<Effect> {
        let mut effects = Vec::new();
        match event {
            Event::Ui(action) => {
                self.last_activity = now;
                self.on_action(action, now, &mut effects);
            }
            Event::Card(card) => self.on_card(card, now, &mut effects),
            Event::IdentityRead(result) => self.on_identity(result, now, &mut effects),
            Event::CatalogueLoaded(result) => self.on_catalogue(result, now),
            Event::CertificateIssued(result) => self.on_certificate(result, now, &mut effects),
            Event::PrintProgress(percent) => {
                if self.screen == Screen::Printing {
                    self.print_progress = percent.min(100);
                }
            }
            Event::PrintFinished(result) => self.on_printed(result, now),
            Event::Tick => self.on_tick(now, &mut effects),
        }
        effects
    }

    fn go(&mut self, screen: Screen, now: Millis) {
        self.screen = screen;
        self.entered_screen_at = now;
        // The resident needs the full idle time on every new screen, including one
        // reached by the kiosk finishing its work.
        self.last_activity = now;
    }

    fn fail(&mut self, fault: Fault, resume: Screen, now: Millis) {
        self.fault = Some(fault);
        self.resume = resume;
        self.go(Screen::Error, now);
    }

    fn on_action(&mut self, action: UiAction, now: Millis, effects: &mut Vec<Effect>) {
        use UiAction as A;
        match (self.screen, action) {
            (_, A::Touch) => {}
            (_, A::SwitchLanguage(locale)) => self.locale = locale,
            (_, A::ToggleElderly) => self.elderly = !self.elderly,
            (Screen::Attract, A::Start) => self.go(Screen::Language, now),
            (Screen::Attract, _) => {}
            (_, A::Home) => self.end(now, effects),
            (Screen::Language, A::ChooseLanguage(locale)) => {
                self.locale = locale;
                self.open_services(now, effects);
            }
            (Screen::Language, A::Back) => self.end(now, effects),
            (Screen::Services, A::ChooseService(id)) => self.choose_service(&id, now, effects),
            (Screen::Services, A::Back) => self.go(Screen::Language, now),
            (Screen::InsertCard, A::Back) => self.open_services(now, effects),
            (Screen::PinEntry, A::PinDigit(digit))
                if digit <= 9 && self.pin_entry.len() < PIN_MAX_DIGITS =>
            {
                self.pin_entry.push(char::from(b'0' + digit));
            }
            (Screen::PinEntry, A::PinBackspace) => {
                self.pin_entry.pop();
            }
            (Screen::PinEntry, A::PinSubmit) if self.pin_entry.len() >= PIN_MIN_DIGITS => {
                if let Some(reader) = self.reader.clone() {
                    let pin = Pin::new(self.pin_entry.as_str());
                    self.pin_entry.clear();
                    self.go(Screen::ReadingCard, now);
                    effects.push(Effect::ReadCard {
                        reader,
                        pin: Some(pin),
                    });
                }
            }
            (Screen::PinEntry, A::Back) => {
                self.pin_entry.clear();
                self.go(Screen::InsertCard, now);
            }
            (Screen::Preview, A::Print) => {
                if let Some(cert) = &self.certificate {
                    effects.push(Effect::Print {
                        job_id: cert.certificate_id.clone(),
                    });
                    self.print_progress = 0;
                    self.go(Screen::Printing, now);
                }
            }
            (Screen::Preview, A::Back) => self.open_services(now, effects),
            (Screen::TakePaper, A::PaperTaken) => self.go(Screen::Rating, now),
            (Screen::Rating, A::Rate(score)) => {
                if let Some(service) = &self.service {
                    effects.push(Effect::SubmitRating {
                        service_id: service.id.clone(),
                        certificate_id: self.certificate.as_ref().map(|c| c.certificate_id.clone()),
                        score,
                    });
                }
                self.rated = Some(score);
                self.go(Screen::Goodbye, now);
            }
            (Screen::Rating, A::SkipRating) => self.go(Screen::Goodbye, now),
            (Screen::Goodbye, A::Start | A::Retry) => self.end(now, effects),
            (Screen::Error, A::Retry) => self.retry(now, effects),
            (Screen::Error, A::Back) => self.open_services(now, effects),
            _ => {}
        }
    }

    fn open_services(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        self.service = None;
        self.certificate = None;
        self.go(Screen::Services, now);
        // Opening hours change while the kiosk waits: refresh on every visit.
        effects.push(Effect::LoadCatalogue);
    }

    fn choose_service(&mut self, id: &str, now: Millis, effects: &mut Vec<Effect>) {
        let Some(entry) = self
            .services
            .as_ref()
            .and_then(|list| list.iter().find(|s| s.id == id))
            .cloned()
        else {
            return;
        };
        let needs_card = entry.needs_card;
        self.service = Some(entry);
        if !needs_card {
            return;
        }
        self.go(Screen::InsertCard, now);
        // A card already in the reader counts as inserted now.
        if self.card_present
            && let Some(reader) = self.reader.clone()
        {
            self.go(Screen::ReadingCard, now);
            effects.push(Effect::ReadCard { reader, pin: None });
        }
    }

    fn on_card(&mut self, event: CardEvent, now: Millis, effects: &mut Vec<Effect>) {
        match event {
            CardEvent::CardInserted { reader, .. } => {
                self.card_present = true;
                self.reader = Some(reader.clone());
                if self.screen == Screen::InsertCard {
                    self.last_activity = now;
                    self.go(Screen::ReadingCard, now);
                    effects.push(Effect::ReadCard { reader, pin: None });
                }
            }
            CardEvent::CardRemoved { reader } | CardEvent::ReaderRemoved { reader } => {
                if self.reader.as_deref() != Some(reader.as_str()) {
                    return;
                }
                self.card_present = false;
                // The card's data leaves with the card.
                self.identity = None;
                self.pin_entry.clear();
                if matches!(self.screen, Screen::ReadingCard | Screen::PinEntry) {
                    self.fail(
                        Fault::new(
                            "card-error-removed",
                            "card removed before the read finished",
                        ),
                        Screen::InsertCard,
                        now,
                    );
                }
            }
            CardEvent::ReaderAdded { .. } => {}
        }
    }

    fn on_identity(
        &mut self,
        result: Result<Identity, Fault>,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        if self.screen != Screen::ReadingCard {
            // A late answer for a session that moved on: drop it (and its data).
            return;
        }
        match result {
            Ok(identity) => {
                self.pin_tries_left = None;
                self.pin_was_wrong = false;
                let Some(service) = &self.service else {
                    return;
                };
                effects.push(Effect::IssueCertificate {
                    service_id: service.id.clone(),
                    identity: identity.clone(),
                    locale: self.locale,
                });
                self.identity = Some(identity);
                self.go(Screen::Issuing, now);
            }
            Err(fault) if fault.pin_prompt => {
                self.pin_tries_left = fault.tries_left;
                self.pin_was_wrong = fault.message_key == "card-error-wrong-pin";
                self.pin_entry.clear();
                self.go(Screen::PinEntry, now);
            }
            Err(fault) => self.fail(fault, Screen::InsertCard, now),
        }
    }

    fn on_catalogue(&mut self, result: Result<Vec<ServiceEntry>, Fault>, now: Millis) {
        if self.screen != Screen::Services {
            return;
        }
        match result {
            Ok(list) => self.services = Some(list),
            Err(fault) => self.fail(fault, Screen::Services, now),
        }
    }

    fn on_certificate(
        &mut self,
        result: Result<IssuedCertificate, Fault>,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        if self.screen != Screen::Issuing {
            return;
        }
        match result {
            Ok(cert) => {
                self.certificate = Some(cert);
                self.go(Screen::Preview, now);
            }
            Err(fault) => {
                // Without a certificate the identity has no further use here.
                self.identity = None;
                effects.push(Effect::Wipe);
                self.fail(fault, Screen::Services, now);
            }
        }
    }

    fn on_printed(&mut self, result: Result<(), Fault>, now: Millis) {
        if self.screen != Screen::Printing {
            return;
        }
        match result {
            Ok(()) => {
                self.print_progress = 100;
                self.go(Screen::TakePaper, now);
            }
            Err(fault) => self.fail(fault, Screen::Preview, now),
        }
    }

    fn retry(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        self.fault = None;
        match self.resume {
            Screen::Services => self.open_services(now, effects),
            Screen::InsertCard if self.service.is_some() => {
                self.go(Screen::InsertCard, now);
                if self.card_present
                    && let Some(reader) = self.reader.clone()
                {
                    self.go(Screen::ReadingCard, now);
                    effects.push(Effect::ReadCard { reader, pin: None });
                }
            }
            Screen::Preview if self.certificate.is_some() => self.go(Screen::Preview, now),
            _ => self.end(now, effects),
        }
    }

    fn on_tick(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        match self.screen {
            Screen::Attract => {}
            Screen::Goodbye
                if now.saturating_sub(self.entered_screen_at) >= self.timeouts.goodbye =>
            {
                self.end(now, effects)
            }
            screen if screen.is_busy() => {}
            _ => {
                if now.saturating_sub(self.last_activity) >= self.idle_limit() {
                    self.end(now, effects);
                }
            }
        }
    }

    /// Ends the visit: every piece of personal data is dropped (zeroized on drop) and
    /// the kiosk returns to attract in the default language.
    fn end(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        self.identity = None;
        self.pin_entry.clear();
        self.pin_tries_left = None;
        self.pin_was_wrong = false;
        self.certificate = None;
        self.service = None;
        self.fault = None;
        self.rated = None;
        self.print_progress = 0;
        self.elderly = false;
        self.locale = Locale::default();
        self.go(Screen::Attract, now);
        effects.push(Effect::Wipe);
    }
}
