//! The session's vocabulary: screens, events from devices and the window, effects
//! for the runtime, and the summaries of what the visit produced. Plain data.

use estation_drivers::card::{CardEvent, Identity, Pin};
use estation_drivers::scanner::{ScanEvent, ScannedCode};

use super::fault::Fault;
use super::form::{AddressChangeForm, FormField};
use super::keypad::KeypadField;
use crate::i18n::Locale;

/// Milliseconds on a monotonic clock chosen by the caller.
pub type Millis = u64;

/// Which kind of document a preview shows; decides its screen and its paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocKind {
    Certificate,
    OriginForm,
    Progress,
    Receipt,
}

/// Background work the resident waits for, each with its own words on screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Work {
    /// The central service checks the code scanned from the resident's phone.
    CheckingCode,
    Issuing,
    FetchingOriginForm,
    FetchingProgress,
    Submitting,
    CheckingTechnician,
    SelfTest,
}

/// Every screen a resident can see. The bridge shows exactly one at a time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Screen {
    Attract,
    Language,
    Services,
    InsertCard,
    PinEntry,
    ReadingCard,
    ChoosePeriod,
    Keypad(KeypadField),
    ProgressChoice,
    ProgressList,
    SubmissionForm,
    SubmissionDistrict,
    SubmissionConfirm,
    Working(Work),
    Preview(DocKind),
    OriginUnsupported,
    PhoneLink,
    Printing,
    TakePaper,
    Rating,
    RatingReasons,
    Goodbye,
    Error,
    /// Technicians only, behind a hidden gesture and a PIN.
    MaintenanceLogin,
    MaintenanceMenu,
    SelfTestReport,
    DisplayTest,
}

impl Screen {
    pub const ALL: [Screen; 40] = [
        Screen::Attract,
        Screen::Language,
        Screen::Services,
        Screen::InsertCard,
        Screen::PinEntry,
        Screen::ReadingCard,
        Screen::Working(Work::CheckingCode),
        Screen::ChoosePeriod,
        Screen::Keypad(KeypadField::ApplicationNumber),
        Screen::Keypad(KeypadField::ExporterCode),
        Screen::Keypad(KeypadField::HouseNumber),
        Screen::Keypad(KeypadField::RoomNumber),
        Screen::Keypad(KeypadField::Phone),
        Screen::ProgressChoice,
        Screen::ProgressList,
        Screen::SubmissionForm,
        Screen::SubmissionDistrict,
        Screen::SubmissionConfirm,
        Screen::Working(Work::Issuing),
        Screen::Working(Work::FetchingOriginForm),
        Screen::Working(Work::FetchingProgress),
        Screen::Working(Work::Submitting),
        Screen::Preview(DocKind::Certificate),
        Screen::Preview(DocKind::OriginForm),
        Screen::Preview(DocKind::Progress),
        Screen::Preview(DocKind::Receipt),
        Screen::OriginUnsupported,
        Screen::PhoneLink,
        Screen::Printing,
        Screen::TakePaper,
        Screen::Rating,
        Screen::RatingReasons,
        Screen::Goodbye,
        Screen::Error,
        Screen::MaintenanceLogin,
        Screen::Working(Work::CheckingTechnician),
        Screen::MaintenanceMenu,
        Screen::Working(Work::SelfTest),
        Screen::SelfTestReport,
        Screen::DisplayTest,
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
            Screen::ChoosePeriod => "choose-period",
            Screen::Keypad(field) => field.screen_name(),
            Screen::ProgressChoice => "progress-choice",
            Screen::ProgressList => "progress-list",
            Screen::SubmissionForm => "submission-form",
            Screen::SubmissionDistrict => "submission-district",
            Screen::SubmissionConfirm => "submission-confirm",
            Screen::Working(Work::CheckingCode) => "checking-code",
            Screen::Working(Work::Issuing) => "issuing",
            Screen::Working(Work::FetchingOriginForm) => "fetching-origin-form",
            Screen::Working(Work::FetchingProgress) => "fetching-progress",
            Screen::Working(Work::Submitting) => "submitting",
            Screen::Working(Work::CheckingTechnician) => "checking-technician",
            Screen::Working(Work::SelfTest) => "running-selftest",
            Screen::MaintenanceLogin => "maintenance-login",
            Screen::MaintenanceMenu => "maintenance-menu",
            Screen::SelfTestReport => "selftest-report",
            Screen::DisplayTest => "display-test",
            Screen::Preview(DocKind::Certificate) => "certificate-preview",
            Screen::Preview(DocKind::OriginForm) => "origin-form-preview",
            Screen::Preview(DocKind::Progress) => "progress-result",
            Screen::Preview(DocKind::Receipt) => "submission-receipt",
            Screen::OriginUnsupported => "origin-form-unsupported",
            Screen::PhoneLink => "phone-link",
            Screen::Printing => "printing",
            Screen::TakePaper => "take-paper",
            Screen::Rating => "rating",
            Screen::RatingReasons => "rating-reasons",
            Screen::Goodbye => "goodbye",
            Screen::Error => "error",
        }
    }

    pub fn from_name(name: &str) -> Option<Screen> {
        Screen::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Screens where the kiosk, not the resident, is working: the idle timeout waits.
    pub(super) fn is_busy(self) -> bool {
        matches!(
            self,
            Screen::ReadingCard | Screen::Working(_) | Screen::Printing
        )
    }

    /// Screens where the resident gives input; "back" returns to the one before.
    pub(super) fn is_step(self) -> bool {
        matches!(
            self,
            Screen::Language
                | Screen::Services
                | Screen::InsertCard
                | Screen::ChoosePeriod
                | Screen::Keypad(_)
                | Screen::ProgressChoice
                | Screen::ProgressList
                | Screen::SubmissionForm
                | Screen::SubmissionDistrict
                | Screen::SubmissionConfirm
        )
    }
}

/// What a service is, as far as the session cares: which flow runs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowKind {
    Certificate,
    OriginForm,
    Progress,
    Submission,
}

/// A service as the session needs it: the catalogue entry, already filtered to what
/// this kiosk can do now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceEntry {
    pub id: String,
    pub kind: FlowKind,
    pub needs_card: bool,
    /// The resident chooses the period the certificate covers.
    pub chooses_period: bool,
    /// False while the kiosk is offline and the service needs the central service
    /// live: it is shown as temporarily unavailable and cannot be chosen.
    pub available: bool,
}

/// The periods a resident can choose for a contribution certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodChoice {
    Last12Months,
    Last24Months,
    ThisYear,
    LastYear,
}

impl PeriodChoice {
    pub const ALL: [PeriodChoice; 4] = [
        PeriodChoice::Last12Months,
        PeriodChoice::Last24Months,
        PeriodChoice::ThisYear,
        PeriodChoice::LastYear,
    ];

    pub fn id(self) -> &'static str {
        match self {
            PeriodChoice::Last12Months => "last-12-months",
            PeriodChoice::Last24Months => "last-24-months",
            PeriodChoice::ThisYear => "this-year",
            PeriodChoice::LastYear => "last-year",
        }
    }

    pub fn from_id(id: &str) -> Option<PeriodChoice> {
        PeriodChoice::ALL.into_iter().find(|p| p.id() == id)
    }
}

/// The resident's verdict on a service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Score {
    Good,
    Average,
    Bad,
}

/// Reasons a resident can add to an average or bad rating.
pub const RATING_REASONS: [&str; 5] = [
    "too-slow",
    "hard-to-use",
    "printer-problem",
    "card-problem",
    "information-wrong",
];

/// One of the resident's own applications, as listed after identifying by card.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationEntry {
    pub application_number: String,
}

/// A document fetched or issued for this visit; the runtime keeps its content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentSummary {
    /// The document as the central service knows it (ratings and phone links
    /// refer to it).
    pub document_id: String,
    /// The print job of this one request: a new request for the same document
    /// (another resident, another visit) prints again; a retry of this one
    /// (after paper out) prints at most once.
    pub print_job_id: String,
    pub kind: DocKind,
    pub verification_code: String,
    /// The paper width in dots this document needs at least.
    pub min_width_dots: u32,
    /// Receipts only: what became of the submission.
    pub submission: Option<SubmissionState>,
}

/// Where a submission stands when its receipt is shown and printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmissionState {
    /// The central service accepted it (the receipt carries its number).
    Accepted,
    /// Stored at the kiosk; it goes out when the network is back.
    Queued,
    /// The central service refused it; the message says why and what to do.
    Refused { message_key: String },
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
    /// Voice guidance on or off for this visit (on the attract screen: on, and
    /// the visit starts).
    ToggleVoice,
    /// "I need more time" on the idle warning: the idle timer starts again and
    /// this screen gets twice the usual time.
    MoreTime,
    ChooseService(String),
    Back,
    Home,
    PinDigit(u8),
    PinBackspace,
    PinSubmit,
    ChoosePeriod(PeriodChoice),
    /// A key of the on-screen keypad (digit or capital letter).
    Key(char),
    KeyBackspace,
    KeyClear,
    KeySubmit,
    ProgressByNumber,
    ProgressByCard,
    ChooseApplication(String),
    EditField(FormField),
    ChooseDistrict(usize),
    ReviewSubmission,
    Submit,
    Print,
    /// Finish without printing (progress results, receipts).
    Finish,
    ShowPhoneLink,
    ClosePhoneLink,
    PaperTaken,
    Rate(Score),
    ToggleReason(String),
    SendRating,
    SkipRating,
    /// The resident read the error and wants to try again / go on.
    Retry,
    /// The hidden gesture on the attract screen (technicians).
    EnterMaintenance,
    RunSelfTest,
    OpenDisplayTest,
    /// The technician's verdict on the display test.
    DisplayChecked(bool),
}

/// Everything that can happen to a session.
#[derive(Debug)]
pub enum Event {
    Ui(UiAction),
    Card(CardEvent),
    /// From the code scanner under which residents hold their phones.
    Scanner(ScanEvent),
    IdentityRead(Result<Identity, Fault>),
    CatalogueLoaded(Result<Vec<ServiceEntry>, Fault>),
    DocumentReady(Result<DocumentSummary, Fault>),
    ApplicationsListed(Result<Vec<ApplicationEntry>, Fault>),
    PhoneLinkReady(Result<(), Fault>),
    /// The rating is stored in the outbox (it goes out from there), or why not.
    RatingQueued(Result<(), Fault>),
    PrintProgress(u8),
    PrintFinished(Result<(), Fault>),
    /// The technician PIN was checked: the technician's name, or why not.
    TechnicianChecked(Result<String, Fault>),
    SelfTestFinished,
    /// Time passed; the runtime sends one at least every second.
    Tick,
}

/// How the resident proved who they are on this visit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdentifiedBy {
    Card,
    /// A code on the resident's phone, read by the scanner.
    PhoneCode,
}

/// How to look up application progress.
#[derive(Debug)]
pub enum ProgressQuery {
    ByNumber(String),
    ByCard(Identity),
}

/// Side effects the runtime carries out, in order, for the session.
#[derive(Debug)]
pub enum Effect {
    LoadCatalogue,
    ReadCard {
        reader: String,
        pin: Option<Pin>,
    },
    /// Ask the central service whom a scanned phone code identifies; the
    /// answer comes back as [`Event::IdentityRead`].
    VerifyCode {
        code: ScannedCode,
    },
    IssueCertificate {
        service_id: String,
        identity: Identity,
        period: Option<PeriodChoice>,
        locale: Locale,
    },
    FetchOriginForm {
        application_number: String,
        exporter_code: String,
        locale: Locale,
    },
    FetchProgress {
        query: ProgressQuery,
        locale: Locale,
    },
    Submit {
        service_id: String,
        identity: Identity,
        form: AddressChangeForm,
        locale: Locale,
    },
    RequestPhoneLink {
        document_id: String,
    },
    /// Print the current document; `job_id` makes the print happen at most once.
    Print {
        job_id: String,
        kind: DocKind,
    },
    SubmitRating {
        service_id: String,
        document_id: Option<String>,
        score: Score,
        reasons: Vec<String>,
    },
    /// Personal data of the session must be dropped everywhere (documents, previews).
    Wipe,
    /// Check a technician's PIN: on the service card in `reader` when one is in,
    /// and against the configuration's PIN hashes.
    CheckTechnician {
        reader: Option<String>,
        pin: Pin,
    },
    RunSelfTest {
        /// The display test's verdict, when the technician ran it this time.
        display: Option<bool>,
    },
}

/// Timeouts, in milliseconds. Elderly mode stretches the idle ones.
#[derive(Clone, Debug)]
pub struct Timeouts {
    pub idle: Millis,
    /// How long before the idle timeout the countdown becomes visible.
    pub idle_warning: Millis,
    /// Elderly and voice modes multiply the idle time by this.
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

/// What the kiosk is: things the flows must know to offer only what works here.
#[derive(Clone, Debug)]
pub struct KioskTraits {
    /// The printer's paper width in dots.
    pub printer_width_dots: u32,
}

impl Default for KioskTraits {
    fn default() -> Self {
        Self {
            printer_width_dots: 576,
        }
    }
}

pub const PIN_MAX_DIGITS: usize = 8;
pub(super) const PIN_MIN_DIGITS: usize = 4;
