//! The session's core: the state of one visit and the steps every service shares
//! (language, catalogue, card identification and PIN, the keypad, the back stack,
//! the document tail, errors, the idle timeout, the wipe). Each service's own steps
//! are its flow module's, reached through [`flow::Cx`].

use estation_drivers::card::{CardEvent, Identity, Pin};
use estation_drivers::scanner::ScanEvent;
use zeroize::Zeroizing;

use super::fault::Fault;
use super::flow;
use super::form::AddressChangeForm;
use super::keypad::KeypadField;
use super::types::*;
use super::{certificate, origin, progress, submission};
use crate::i18n::Locale;

/// The flow of the service the resident chose.
#[derive(Debug, Default)]
enum Flow {
    #[default]
    None,
    Certificate(certificate::State),
    Origin(origin::State),
    Progress(progress::State),
    Submission(submission::State),
}

/// The state of one resident's visit, from the first touch back to attract.
pub struct Session {
    screen: Screen,
    history: Vec<Screen>,
    locale: Locale,
    elderly: bool,
    /// Voice guidance is on for this visit.
    voice: bool,
    /// The resident asked for more time on this screen.
    more_time: bool,
    timeouts: Timeouts,
    traits: KioskTraits,
    last_activity: Millis,
    entered_screen_at: Millis,
    services: Option<Vec<ServiceEntry>>,
    service: Option<ServiceEntry>,
    flow: Flow,
    reader: Option<String>,
    card_present: bool,
    /// A code scanner is connected: the identity screens offer the phone code.
    scanner_ready: bool,
    identity: Option<Identity>,
    identified_by: Option<IdentifiedBy>,
    pin_entry: Zeroizing<String>,
    pin_tries_left: Option<u8>,
    pin_was_wrong: bool,
    keypad: Zeroizing<String>,
    keypad_invalid: bool,
    document: Option<DocumentSummary>,
    applications: Vec<ApplicationEntry>,
    print_progress: u8,
    printed: bool,
    fault: Option<Fault>,
    /// Where "retry" on the error screen goes back to.
    resume: Screen,
    score: Option<Score>,
    reasons: Vec<String>,
    rated: bool,
    technician: Option<String>,
    /// The last login refusal (wrong PIN, locked out), shown on the login screen.
    login_fault: Option<Fault>,
    display_ok: Option<bool>,
}

impl Session {
    pub fn new(timeouts: Timeouts, now: Millis) -> Self {
        Self::with_traits(timeouts, KioskTraits::default(), now)
    }

    pub fn with_traits(timeouts: Timeouts, traits: KioskTraits, now: Millis) -> Self {
        Self {
            screen: Screen::Attract,
            history: Vec::new(),
            locale: Locale::default(),
            elderly: false,
            voice: false,
            more_time: false,
            timeouts,
            traits,
            last_activity: now,
            entered_screen_at: now,
            services: None,
            service: None,
            flow: Flow::None,
            reader: None,
            card_present: false,
            scanner_ready: false,
            identity: None,
            identified_by: None,
            pin_entry: Zeroizing::new(String::new()),
            pin_tries_left: None,
            pin_was_wrong: false,
            keypad: Zeroizing::new(String::new()),
            keypad_invalid: false,
            document: None,
            applications: Vec::new(),
            print_progress: 0,
            printed: false,
            fault: None,
            resume: Screen::Attract,
            score: None,
            reasons: Vec::new(),
            rated: false,
            technician: None,
            login_fault: None,
            display_ok: None,
        }
    }

    pub fn technician(&self) -> Option<&str> {
        self.technician.as_deref()
    }
    pub fn login_fault(&self) -> Option<&Fault> {
        self.login_fault.as_ref()
    }
    pub fn display_ok(&self) -> Option<bool> {
        self.display_ok
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
    pub fn voice(&self) -> bool {
        self.voice
    }
    pub fn traits(&self) -> &KioskTraits {
        &self.traits
    }
    pub fn set_traits(&mut self, traits: KioskTraits) {
        self.traits = traits;
    }
    pub fn set_timeouts(&mut self, timeouts: Timeouts) {
        self.timeouts = timeouts;
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
    pub fn document(&self) -> Option<&DocumentSummary> {
        self.document.as_ref()
    }
    pub fn print_progress(&self) -> u8 {
        self.print_progress
    }
    pub fn printed(&self) -> bool {
        self.printed
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
    /// What the keypad shows (not secret: application numbers and the like).
    pub fn keypad_text(&self) -> &str {
        &self.keypad
    }
    pub fn keypad_invalid(&self) -> bool {
        self.keypad_invalid
    }
    pub fn rated(&self) -> bool {
        self.rated
    }
    pub fn score(&self) -> Option<Score> {
        self.score
    }
    pub fn reasons(&self) -> &[String] {
        &self.reasons
    }
    pub fn card_present(&self) -> bool {
        self.card_present
    }
    /// Whether the identity screens offer "scan the code on your phone".
    pub fn scanner_ready(&self) -> bool {
        self.scanner_ready
    }
    pub fn identified_by(&self) -> Option<IdentifiedBy> {
        self.identified_by
    }
    pub fn applications(&self) -> &[ApplicationEntry] {
        &self.applications
    }
    pub fn period(&self) -> Option<PeriodChoice> {
        match &self.flow {
            Flow::Certificate(state) => state.period,
            _ => None,
        }
    }
    /// The submission form being filled in, if any.
    pub fn form(&self) -> Option<&AddressChangeForm> {
        match &self.flow {
            Flow::Submission(state) => Some(&state.form),
            _ => None,
        }
    }
    /// The origin-form inputs typed so far (application number, exporter code).
    pub fn origin_inputs(&self) -> Option<(&str, &str)> {
        match &self.flow {
            Flow::Origin(state) => Some((&state.application_number, &state.exporter_code)),
            _ => None,
        }
    }

    /// Elderly and voice modes get the configured longer time (reading large
    /// type, listening to a screen take longer); asking for more time doubles
    /// it on the current screen.
    fn idle_limit(&self) -> Millis {
        let assisted = if self.elderly || self.voice {
            self.timeouts.elderly_factor.max(1)
        } else {
            1
        };
        let more = if self.more_time { 2 } else { 1 };
        self.timeouts.idle.saturating_mul(assisted * more)
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
            Event::Scanner(scan) => self.on_scan(scan, now, &mut effects),
            Event::IdentityRead(result) => self.on_identity(result, now, &mut effects),
            Event::CatalogueLoaded(result) => self.on_catalogue(result, now),
            Event::DocumentReady(result) => self.on_document(result, now, &mut effects),
            Event::ApplicationsListed(result) => {
                if self.screen == Screen::Working(Work::FetchingProgress) {
                    self.with_flow(now, &mut effects, |flow, cx| {
                        if let Flow::Progress(state) = flow {
                            progress::on_list(state, result, cx);
                        }
                    });
                }
            }
            Event::PhoneLinkReady(result) => {
                if self.screen == Screen::PhoneLink
                    && let Err(fault) = result
                {
                    let resume = self.document_screen();
                    self.fail(fault, resume, now);
                }
            }
            Event::RatingQueued(result) => {
                if self.screen == Screen::Goodbye && result.is_ok() {
                    self.rated = true;
                }
            }
            Event::PrintProgress(percent) => {
                if self.screen == Screen::Printing {
                    self.print_progress = percent.min(100);
                }
            }
            Event::PrintFinished(result) => self.on_printed(result, now),
            Event::TechnicianChecked(result) => {
                if self.screen == Screen::Working(Work::CheckingTechnician) {
                    match result {
                        Ok(name) => {
                            self.technician = Some(name);
                            self.login_fault = None;
                            self.go(Screen::MaintenanceMenu, now);
                        }
                        Err(fault) => {
                            self.login_fault = Some(fault);
                            self.go(Screen::MaintenanceLogin, now);
                        }
                    }
                }
            }
            Event::SelfTestFinished => {
                if self.screen == Screen::Working(Work::SelfTest) {
                    self.go(Screen::SelfTestReport, now);
                }
            }
            Event::Tick => self.on_tick(now, &mut effects),
        }
        effects
    }

    fn go(&mut self, screen: Screen, now: Millis) {
        if self.screen.is_step() && screen != self.screen && !self.history.contains(&self.screen) {
            self.history.push(self.screen);
        }
        if let Some(at) = self.history.iter().position(|s| *s == screen) {
            // Returning to a step forgets the steps after it.
            self.history.truncate(at);
        }
        if screen != self.screen {
            self.more_time = false;
        }
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

    /// Runs `f` with the current flow taken out, so it can use the rest of the
    /// session through a [`Cx`] without borrowing conflicts.
    fn with_flow(
        &mut self,
        now: Millis,
        effects: &mut Vec<Effect>,
        f: impl FnOnce(&mut Flow, &mut dyn flow::Cx),
    ) {
        let mut flow = std::mem::take(&mut self.flow);
        {
            let mut cx = FlowCx {
                session: self,
                now,
                effects,
            };
            f(&mut flow, &mut cx);
        }
        // A flow that ended the visit (Cx::end) left `Flow::None` in place.
        if !matches!(self.screen, Screen::Attract) {
            self.flow = flow;
        }
    }

    fn on_action(&mut self, action: UiAction, now: Millis, effects: &mut Vec<Effect>) {
        use UiAction as A;
        match (self.screen, action) {
            (_, A::Touch) => {}
            (_, A::SwitchLanguage(locale)) => self.locale = locale,
            (_, A::ToggleElderly) => self.elderly = !self.elderly,
            (_, A::MoreTime) => self.more_time = true,
            (Screen::Attract, A::ToggleVoice) => {
                self.voice = true;
                self.go(Screen::Language, now);
            }
            (_, A::ToggleVoice) => self.voice = !self.voice,
            (Screen::Attract, A::Start) => self.go(Screen::Language, now),
            // A language chosen on the attract screen: straight to the services.
            (Screen::Attract, A::ChooseLanguage(locale)) => {
                self.locale = locale;
                self.open_services(now, effects);
            }
            (Screen::Attract, A::EnterMaintenance) => {
                self.pin_entry.clear();
                self.login_fault = None;
                self.go(Screen::MaintenanceLogin, now);
            }
            (Screen::Attract, _) => {}
            (_, A::Home) => self.end(now, effects),
            (Screen::Language, A::ChooseLanguage(locale)) => {
                self.locale = locale;
                self.open_services(now, effects);
            }
            (Screen::Services, A::ChooseService(id)) => self.choose_service(&id, now, effects),
            (Screen::PinEntry | Screen::MaintenanceLogin, A::PinDigit(digit))
                if digit <= 9 && self.pin_entry.len() < PIN_MAX_DIGITS =>
            {
                self.pin_entry.push(char::from(b'0' + digit));
            }
            (Screen::PinEntry | Screen::MaintenanceLogin, A::PinBackspace) => {
                self.pin_entry.pop();
            }
            (Screen::MaintenanceLogin, A::PinSubmit) if self.pin_entry.len() >= PIN_MIN_DIGITS => {
                let pin = Pin::new(self.pin_entry.as_str());
                self.pin_entry.clear();
                let reader = self.card_present.then(|| self.reader.clone()).flatten();
                effects.push(Effect::CheckTechnician { reader, pin });
                self.go(Screen::Working(Work::CheckingTechnician), now);
            }
            (Screen::MaintenanceLogin, A::Back) => self.end(now, effects),
            (Screen::MaintenanceMenu | Screen::SelfTestReport, A::RunSelfTest) => {
                effects.push(Effect::RunSelfTest {
                    display: self.display_ok,
                });
                self.go(Screen::Working(Work::SelfTest), now);
            }
            (Screen::MaintenanceMenu, A::OpenDisplayTest) => self.go(Screen::DisplayTest, now),
            (Screen::DisplayTest, A::DisplayChecked(ok)) => {
                self.display_ok = Some(ok);
                self.go(Screen::MaintenanceMenu, now);
            }
            (Screen::DisplayTest | Screen::SelfTestReport, A::Back) => {
                self.go(Screen::MaintenanceMenu, now)
            }
            (Screen::MaintenanceMenu, A::Back) => self.end(now, effects),
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
            (Screen::Keypad(field), action @ (A::Key(_) | A::KeyBackspace | A::KeyClear)) => {
                self.keypad_invalid = false;
                match action {
                    A::Key(key) => {
                        let key = key.to_ascii_uppercase();
                        if field.accepts(key) && self.keypad.chars().count() < field.max_len() {
                            self.keypad.push(key);
                        }
                    }
                    A::KeyBackspace => {
                        self.keypad.pop();
                    }
                    _ => self.keypad.clear(),
                }
            }
            (Screen::Keypad(field), A::KeySubmit) => {
                if !field.is_valid(&self.keypad) {
                    self.keypad_invalid = true;
                    return;
                }
                let value = std::mem::take(&mut *self.keypad);
                self.with_flow(now, effects, |flow, cx| match flow {
                    Flow::Origin(state) => origin::on_keypad(state, field, value, cx),
                    Flow::Progress(state) => progress::on_keypad(state, field, value, cx),
                    Flow::Submission(state) => submission::on_keypad(state, field, value, cx),
                    Flow::Certificate(_) | Flow::None => {}
                });
            }
            (Screen::Preview(_), A::Print) => self.print(now, effects),
            (Screen::Preview(_), A::Finish) => self.go(Screen::Rating, now),
            (Screen::Preview(DocKind::Certificate), A::ShowPhoneLink) => {
                if let Some(document) = &self.document {
                    effects.push(Effect::RequestPhoneLink {
                        document_id: document.document_id.clone(),
                    });
                    self.go(Screen::PhoneLink, now);
                }
            }
            // The paper did not come out: the certificate can still go to the phone.
            (Screen::Error, A::ShowPhoneLink)
                if self.resume == Screen::Preview(DocKind::Certificate) =>
            {
                if let Some(document) = &self.document {
                    effects.push(Effect::RequestPhoneLink {
                        document_id: document.document_id.clone(),
                    });
                    self.fault = None;
                    self.go(Screen::PhoneLink, now);
                }
            }
            (Screen::PhoneLink, A::ClosePhoneLink | A::Back) => {
                let back = self.document_screen();
                self.go(back, now);
            }
            (Screen::OriginUnsupported, A::Finish) => self.go(Screen::Rating, now),
            (Screen::TakePaper, A::PaperTaken) => self.go(Screen::Rating, now),
            (Screen::Rating, A::Rate(score)) => {
                self.score = Some(score);
                if score == Score::Good {
                    self.send_rating(now, effects);
                } else {
                    self.go(Screen::RatingReasons, now);
                }
            }
            (Screen::RatingReasons, A::ToggleReason(reason)) => {
                if let Some(at) = self.reasons.iter().position(|r| *r == reason) {
                    self.reasons.remove(at);
                } else if RATING_REASONS.contains(&reason.as_str()) {
                    self.reasons.push(reason);
                }
            }
            (Screen::RatingReasons, A::SendRating) => self.send_rating(now, effects),
            (Screen::RatingReasons, A::Back) => {
                self.reasons.clear();
                self.go(Screen::Rating, now);
            }
            (Screen::Rating, A::SkipRating) => self.go(Screen::Goodbye, now),
            (Screen::Goodbye, A::Start | A::Retry) => self.end(now, effects),
            (Screen::Error, A::Retry) => self.retry(now, effects),
            (Screen::Error, A::Back) => self.open_services(now, effects),
            (_, A::Back) => self.back(now, effects),
            (_, action) => {
                self.with_flow(now, effects, |flow, cx| match flow {
                    Flow::Certificate(state) => certificate::on_action(state, action, cx),
                    Flow::Origin(_) => {}
                    Flow::Progress(state) => progress::on_action(state, action, cx),
                    Flow::Submission(state) => submission::on_action(state, action, cx),
                    Flow::None => {}
                });
            }
        }
    }

    fn back(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        match self.screen {
            Screen::Language => self.end(now, effects),
            // After a document, "back" means choosing another service.
            Screen::Preview(_) | Screen::OriginUnsupported => self.open_services(now, effects),
            _ => match self.history.pop() {
                Some(Screen::Services) | None => self.open_services(now, effects),
                Some(Screen::Language) => self.go(Screen::Language, now),
                Some(previous) => {
                    if matches!(previous, Screen::Keypad(_)) {
                        self.keypad.clear();
                    }
                    self.screen = previous;
                    self.entered_screen_at = now;
                }
            },
        }
    }

    fn open_services(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        self.service = None;
        self.flow = Flow::None;
        if self.document.take().is_some() {
            effects.push(Effect::Wipe);
        }
        self.keypad.clear();
        self.history.clear();
        self.history.push(Screen::Language);
        self.screen = Screen::Services;
        self.entered_screen_at = now;
        self.last_activity = now;
        // Opening hours change while the kiosk waits: refresh on every visit.
        effects.push(Effect::LoadCatalogue);
    }

    fn choose_service(&mut self, id: &str, now: Millis, effects: &mut Vec<Effect>) {
        let Some(entry) = self
            .services
            .as_ref()
            .and_then(|list| list.iter().find(|s| s.id == id && s.available))
            .cloned()
        else {
            return;
        };
        self.flow = match entry.kind {
            FlowKind::Certificate => Flow::Certificate(certificate::State::default()),
            FlowKind::OriginForm => Flow::Origin(origin::State::default()),
            FlowKind::Progress => Flow::Progress(progress::State::default()),
            FlowKind::Submission => Flow::Submission(submission::State::default()),
        };
        self.service = Some(entry);
        self.with_flow(now, effects, |flow, cx| match flow {
            Flow::Certificate(state) => certificate::start(state, cx),
            Flow::Origin(state) => origin::start(state, cx),
            Flow::Progress(state) => progress::start(state, cx),
            Flow::Submission(state) => submission::start(state, cx),
            Flow::None => {}
        });
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
                // The card's data leaves with the card (an identity from a phone
                // code has nothing to do with a card taken out).
                if self.identified_by != Some(IdentifiedBy::PhoneCode) {
                    self.identity = None;
                    self.identified_by = None;
                }
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

    /// The scanner's news. A code counts only while a flow asks for identity:
    /// anywhere else (a PIN or number being typed, a document on screen) it is
    /// dropped here, zeroized, and reaches no field.
    fn on_scan(&mut self, event: ScanEvent, now: Millis, effects: &mut Vec<Effect>) {
        let asks_identity = self.screen == Screen::InsertCard && self.service.is_some();
        match event {
            ScanEvent::Connected { .. } => self.scanner_ready = true,
            ScanEvent::Unavailable(_) => self.scanner_ready = false,
            ScanEvent::Scanned(code) if asks_identity => {
                self.last_activity = now;
                self.go(Screen::Working(Work::CheckingCode), now);
                effects.push(Effect::VerifyCode { code });
            }
            ScanEvent::Rejected(error) if asks_identity => {
                self.last_activity = now;
                self.fail(
                    Fault::new(error.message_key(), error.to_string()),
                    Screen::InsertCard,
                    now,
                );
            }
            ScanEvent::Scanned(_) | ScanEvent::Rejected(_) => {}
        }
    }

    fn on_identity(
        &mut self,
        result: Result<Identity, Fault>,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        let source = match self.screen {
            Screen::ReadingCard => IdentifiedBy::Card,
            Screen::Working(Work::CheckingCode) => IdentifiedBy::PhoneCode,
            // A late answer for a session that moved on: drop it (and its data).
            _ => return,
        };
        match result {
            Ok(identity) => {
                self.identified_by = Some(source);
                self.pin_tries_left = None;
                self.pin_was_wrong = false;
                // The card steps are done: "back" from here skips them.
                self.history
                    .retain(|s| !matches!(s, Screen::InsertCard | Screen::PinEntry));
                self.identity = Some(identity);
                self.with_flow(now, effects, |flow, cx| match flow {
                    Flow::Certificate(state) => certificate::on_identity(state, cx),
                    Flow::Progress(state) => progress::on_identity(state, cx),
                    Flow::Submission(state) => submission::on_identity(state, cx),
                    Flow::Origin(_) | Flow::None => {}
                });
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

    fn on_document(
        &mut self,
        result: Result<DocumentSummary, Fault>,
        now: Millis,
        effects: &mut Vec<Effect>,
    ) {
        let Screen::Working(work) = self.screen else {
            return;
        };
        match result {
            Ok(document) => {
                let kind = document.kind;
                let fits = document.min_width_dots <= self.traits.printer_width_dots;
                self.document = Some(document);
                self.printed = false;
                self.history.clear();
                self.history.push(Screen::Services);
                if kind == DocKind::OriginForm && !fits {
                    self.screen = Screen::OriginUnsupported;
                } else {
                    self.screen = Screen::Preview(kind);
                }
                self.entered_screen_at = now;
                self.last_activity = now;
            }
            Err(fault) => {
                let resume = match &self.flow {
                    Flow::Origin(_) => Screen::Keypad(KeypadField::ApplicationNumber),
                    Flow::Progress(state) => progress::resume_after_failure(state),
                    Flow::Submission(_) => Screen::SubmissionConfirm,
                    _ => Screen::Services,
                };
                if work == Work::Issuing {
                    // Without a certificate the identity has no further use here.
                    self.identity = None;
                    effects.push(Effect::Wipe);
                }
                self.fail(fault, resume, now);
            }
        }
    }

    fn document_screen(&self) -> Screen {
        self.document
            .as_ref()
            .map_or(Screen::Services, |d| Screen::Preview(d.kind))
    }

    fn print(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        let Some(document) = &self.document else {
            return;
        };
        if document.min_width_dots > self.traits.printer_width_dots {
            self.go(Screen::OriginUnsupported, now);
            return;
        }
        effects.push(Effect::Print {
            job_id: document.print_job_id.clone(),
            kind: document.kind,
        });
        self.print_progress = 0;
        self.go(Screen::Printing, now);
    }

    fn on_printed(&mut self, result: Result<(), Fault>, now: Millis) {
        if self.screen != Screen::Printing {
            return;
        }
        match result {
            Ok(()) => {
                self.print_progress = 100;
                self.printed = true;
                self.go(Screen::TakePaper, now);
            }
            Err(fault) => {
                let resume = self.document_screen();
                self.fail(fault, resume, now);
            }
        }
    }

    fn send_rating(&mut self, now: Millis, effects: &mut Vec<Effect>) {
        if let (Some(service), Some(score)) = (&self.service, self.score) {
            effects.push(Effect::SubmitRating {
                service_id: service.id.clone(),
                document_id: self.document.as_ref().map(|d| d.document_id.clone()),
                score,
                reasons: std::mem::take(&mut self.reasons),
            });
            // "Received" is said once the rating is stored (RatingQueued), not
            // before: a kiosk that stops now must not have thanked for nothing.
            self.rated = false;
        }
        self.go(Screen::Goodbye, now);
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
            Screen::Preview(_) if self.document.is_some() => {
                let screen = self.document_screen();
                self.go(screen, now);
            }
            screen if screen.is_step() && self.service.is_some() => self.go(screen, now),
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
        self.identified_by = None;
        self.flow = Flow::None;
        self.pin_entry.clear();
        self.pin_tries_left = None;
        self.pin_was_wrong = false;
        self.keypad.clear();
        self.keypad_invalid = false;
        self.document = None;
        self.applications.clear();
        self.service = None;
        self.fault = None;
        self.score = None;
        self.reasons.clear();
        self.rated = false;
        self.printed = false;
        self.print_progress = 0;
        self.elderly = false;
        self.voice = false;
        self.more_time = false;
        self.locale = Locale::default();
        self.technician = None;
        self.login_fault = None;
        self.display_ok = None;
        self.history.clear();
        self.screen = Screen::Attract;
        self.entered_screen_at = now;
        self.last_activity = now;
        effects.push(Effect::Wipe);
    }
}

/// The session as its flows see it: move between screens, ask for the card or the
/// keypad, start background work, report a failure.
struct FlowCx<'a> {
    session: &'a mut Session,
    now: Millis,
    effects: &'a mut Vec<Effect>,
}

impl flow::Cx for FlowCx<'_> {
    fn screen(&self) -> Screen {
        self.session.screen
    }

    fn go(&mut self, screen: Screen) {
        self.session.go(screen, self.now);
    }

    fn effect(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    fn locale(&self) -> Locale {
        self.session.locale
    }

    fn service_id(&self) -> Option<String> {
        self.session.service.as_ref().map(|s| s.id.clone())
    }

    fn chooses_period(&self) -> bool {
        self.session
            .service
            .as_ref()
            .is_some_and(|s| s.chooses_period)
    }

    fn identity(&self) -> Option<Identity> {
        self.session.identity.clone()
    }

    fn identify(&mut self) {
        self.go(Screen::InsertCard);
        if self.session.card_present
            && let Some(reader) = self.session.reader.clone()
        {
            self.go(Screen::ReadingCard);
            self.effect(Effect::ReadCard { reader, pin: None });
        }
    }

    fn ask(&mut self, field: KeypadField, value: &str) {
        self.session.keypad = Zeroizing::new(value.to_owned());
        self.session.keypad_invalid = false;
        self.go(Screen::Keypad(field));
    }

    fn work(&mut self, work: Work) {
        self.go(Screen::Working(work));
    }

    fn set_applications(&mut self, applications: Vec<ApplicationEntry>) {
        self.session.applications = applications;
    }

    fn has_application(&self, number: &str) -> bool {
        self.session
            .applications
            .iter()
            .any(|a| a.application_number == number)
    }

    fn fail(&mut self, fault: Fault, resume: Screen) {
        self.session.fail(fault, resume, self.now);
    }
}
