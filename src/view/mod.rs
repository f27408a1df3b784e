//! The view model: everything the window shows, as plain data the controller
//! derives ([`View`]), and everything a resident can ask of it ([`Input`]). It
//! knows nothing of Slint; the UI bridge turns it into window properties.

use std::sync::Arc;

use crate::i18n::Locale;
use crate::session::{Screen, UiAction};

/// One service button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub description: String,
    /// One or two characters shown in the service's badge.
    pub glyph: String,
    /// False: shown greyed as temporarily unavailable (offline).
    pub available: bool,
}

/// A category heading and its services.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceGroupView {
    pub title: String,
    pub services: Vec<ServiceView>,
}

/// The bundle's branding, in the resident's language; empty or `None`: the
/// built-in name and colours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BrandingView {
    pub station_name: String,
    pub help_phone: String,
    /// `#RRGGBB` as red, green, blue.
    pub accent: Option<[u8; 3]>,
}

impl BrandingView {
    /// Reads `#RRGGBB`; anything else is no colour (the bundle's schema check
    /// refuses it before it gets here).
    pub fn parse_colour(text: &str) -> Option<[u8; 3]> {
        let hex = text.strip_prefix('#')?;
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
        Some([byte(0)?, byte(2)?, byte(4)?])
    }
}

/// Everything the window shows, already translated where the text comes from data.
#[derive(Clone, Debug)]
pub struct View {
    pub screen: Screen,
    pub locale: Locale,
    pub elderly: bool,
    /// Voice guidance is on for this visit.
    pub voice: bool,
    /// The station as its configuration bundle names and colours it.
    pub branding: BrandingView,
    /// The screen offers a card control of its own (demonstrations).
    pub on_screen_card: bool,
    /// A code scanner is connected: identity screens offer the phone code.
    pub scanner_ready: bool,
    /// This visit's resident came with a phone code, not a card.
    pub identified_by_phone: bool,
    pub degraded: bool,
    pub time: String,
    pub date: String,
    pub service_groups: Vec<ServiceGroupView>,
    pub services_loading: bool,
    pub service_name: String,
    pub pin_length: usize,
    pub pin_tries_left: Option<u8>,
    pub pin_wrong: bool,
    pub print_percent: u8,
    /// The certificate as it will come out of the printer.
    pub preview: Option<Arc<image::GrayImage>>,
    pub verification_code: String,
    /// What the previewed document is and its first line, for the spoken summary.
    pub document: Option<DocumentFacts>,
    pub rated: bool,
    pub error_key: String,
    /// After a failed print: the issued document's verification code, to print
    /// or check it elsewhere (empty otherwise).
    pub error_code: String,
    /// After a failed print of a certificate: it can still go to the phone.
    pub error_can_phone: bool,
    /// The resident identified with a card that is still to be taken.
    pub card_reminder: bool,
    pub countdown: Option<u64>,
    pub keypad_text: String,
    /// "7 / 11": characters typed of the length the field needs; "" when the
    /// field has several lengths.
    pub keypad_count: String,
    pub keypad_letters: bool,
    pub keypad_invalid: bool,
    pub keypad_can_submit: bool,
    /// The chosen certificate period's id, empty when none.
    pub period: String,
    pub applications: Vec<String>,
    pub form: FormView,
    pub origin_application: String,
    pub origin_exporter: String,
    /// A receipt's submission: "accepted", "queued" (stored here, not yet sent)
    /// or "refused"; empty for other documents.
    pub receipt_state: String,
    /// Why a refused submission was refused (a message key with an `.action`).
    pub receipt_refusal_key: String,
    pub printed: bool,
    /// The link that opens the document on the resident's phone.
    pub phone_link: Option<String>,
    pub reasons: Vec<String>,
    pub technician: String,
    pub login_error_key: String,
    pub login_tries_left: Option<u8>,
    pub checks: Vec<CheckView>,
}

/// What a previewed document is (its title) and its first labelled line (on a
/// certificate, whose it is: "Name: ..."), so that it can be read out before
/// printing. Personal data: `Debug` shows neither.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DocumentFacts {
    pub title: String,
    pub first_label: String,
    pub first_value: String,
}

impl DocumentFacts {
    /// The facts of a printable document: its first title and first labelled row.
    pub fn of(document: &estation_drivers::print::Document) -> Self {
        use estation_drivers::print::Block;
        let mut facts = DocumentFacts::default();
        for block in &document.blocks {
            match block {
                Block::Title { text, .. } if facts.title.is_empty() => {
                    facts.title = text.clone();
                }
                Block::KeyValues { rows } if facts.first_label.is_empty() => {
                    if let Some(row) = rows.first() {
                        facts.first_label = row.label.clone();
                        facts.first_value = row.value.clone();
                    }
                }
                _ => {}
            }
        }
        facts
    }
}

impl std::fmt::Debug for DocumentFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DocumentFacts").finish_non_exhaustive()
    }
}

/// A self-test check as the report screen lists it. Reasons and actions are for
/// technicians and come from the self-test in English.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckView {
    pub id: String,
    pub status: String,
    /// Stable code; with `id`, it names the translated finding and action.
    pub code: String,
    /// The measured detail, in English as the fleet reads it.
    pub reason: String,
}

/// The address-change form as shown: values ready to display.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FormView {
    pub district: String,
    pub house: String,
    pub room: String,
    pub phone: String,
    pub complete: bool,
}

impl FormView {
    pub fn from_form(form: &crate::session::AddressChangeForm) -> Self {
        Self {
            district: form
                .district
                .and_then(|d| crate::session::DISTRICTS.get(d))
                .map(|d| (*d).to_owned())
                .unwrap_or_default(),
            house: form.house.clone(),
            room: form.room.clone(),
            phone: crate::session::KeypadField::Phone.masked(&form.phone),
            complete: form.is_complete(),
        }
    }
}

impl View {
    pub fn new(screen: Screen, locale: Locale) -> Self {
        Self {
            screen,
            locale,
            elderly: false,
            voice: false,
            branding: BrandingView::default(),
            on_screen_card: false,
            scanner_ready: false,
            identified_by_phone: false,
            degraded: false,
            time: String::new(),
            date: String::new(),
            service_groups: Vec::new(),
            services_loading: false,
            service_name: String::new(),
            pin_length: 0,
            pin_tries_left: None,
            pin_wrong: false,
            print_percent: 0,
            preview: None,
            verification_code: String::new(),
            document: None,
            rated: false,
            error_key: "error-generic".into(),
            error_code: String::new(),
            error_can_phone: false,
            card_reminder: false,
            countdown: None,
            keypad_text: String::new(),
            keypad_count: String::new(),
            keypad_letters: false,
            keypad_invalid: false,
            keypad_can_submit: false,
            period: String::new(),
            applications: Vec::new(),
            form: FormView::default(),
            origin_application: String::new(),
            origin_exporter: String::new(),
            receipt_state: String::new(),
            receipt_refusal_key: String::new(),
            printed: false,
            phone_link: None,
            reasons: Vec::new(),
            technician: String::new(),
            login_error_key: String::new(),
            login_tries_left: None,
            checks: Vec::new(),
        }
    }
}

/// What a touch or a key on the window means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Ui(UiAction),
    /// The on-screen card control (demonstrations): a card goes into the
    /// configured virtual reader.
    InsertOnScreenCard,
    /// A request to the voice guidance (when voice is on).
    Voice(VoiceCommand),
    /// Keyboard focus moved to the element with this label (spoken when voice
    /// is on).
    Focused(String),
}

/// What a resident may ask of the voice guidance.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VoiceCommand {
    Repeat,
    Slower,
    Faster,
    Louder,
    Softer,
}

impl VoiceCommand {
    pub fn from_id(id: &str) -> Option<VoiceCommand> {
        Some(match id {
            "repeat" => VoiceCommand::Repeat,
            "slower" => VoiceCommand::Slower,
            "faster" => VoiceCommand::Faster,
            "louder" => VoiceCommand::Louder,
            "softer" => VoiceCommand::Softer,
            _ => return None,
        })
    }
}
