//! The thin bridge between the kiosk and its Slint window: a [`View`] (plain data)
//! goes in as properties, the window's one `action(verb, argument)` callback comes
//! back as an [`Input`]. No decisions are made here.

use std::rc::Rc;
use std::sync::Arc;

use slint::{
    ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, SharedString, VecModel,
};

use crate::i18n::{Locale, Translator};
use crate::session::{FormField, PeriodChoice, Score, Screen, UiAction};

slint::include_modules!();

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

/// Everything the window shows, already translated where the text comes from data.
#[derive(Clone, Debug)]
pub struct View {
    pub screen: Screen,
    pub locale: Locale,
    pub elderly: bool,
    pub demo: bool,
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
    pub rated: bool,
    pub error_key: String,
    pub countdown: Option<u64>,
    pub keypad_text: String,
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

/// A self-test check as the report screen lists it. Reasons and actions are for
/// technicians and come from the self-test in English.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckView {
    pub id: String,
    pub status: String,
    pub reason: String,
    pub action: String,
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
            demo: false,
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
            rated: false,
            error_key: "error-generic".into(),
            countdown: None,
            keypad_text: String::new(),
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

/// What a touch on the window means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Ui(UiAction),
    /// The demo-only "insert demo card" button.
    InsertDemoCard,
}

/// Maps the window's `action(verb, argument)` to an input; unknown verbs are ignored.
pub fn parse_action(verb: &str, argument: &str) -> Option<Input> {
    let action = match verb {
        "touch" => UiAction::Touch,
        "start" => UiAction::Start,
        "language" => UiAction::ChooseLanguage(argument.parse().ok()?),
        "locale" => UiAction::SwitchLanguage(argument.parse().ok()?),
        "elderly" => UiAction::ToggleElderly,
        "service" => UiAction::ChooseService(argument.to_owned()),
        "back" => UiAction::Back,
        "home" => UiAction::Home,
        "pin-digit" => UiAction::PinDigit(argument.parse().ok().filter(|d: &u8| *d <= 9)?),
        "pin-backspace" => UiAction::PinBackspace,
        "pin-submit" => UiAction::PinSubmit,
        "print" => UiAction::Print,
        "paper-taken" => UiAction::PaperTaken,
        "rate" => UiAction::Rate(match argument {
            "good" => Score::Good,
            "average" => Score::Average,
            "bad" => Score::Bad,
            _ => return None,
        }),
        "skip-rating" => UiAction::SkipRating,
        "reason" => UiAction::ToggleReason(argument.to_owned()),
        "send-rating" => UiAction::SendRating,
        "period" => UiAction::ChoosePeriod(PeriodChoice::from_id(argument)?),
        "key" => {
            let mut chars = argument.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_alphanumeric() => UiAction::Key(c),
                _ => return None,
            }
        }
        "key-backspace" => UiAction::KeyBackspace,
        "key-clear" => UiAction::KeyClear,
        "key-submit" => UiAction::KeySubmit,
        "progress-by-number" => UiAction::ProgressByNumber,
        "progress-by-card" => UiAction::ProgressByCard,
        "application" => UiAction::ChooseApplication(argument.to_owned()),
        "edit" => UiAction::EditField(FormField::from_id(argument)?),
        "district" => UiAction::ChooseDistrict(argument.parse().ok()?),
        "review" => UiAction::ReviewSubmission,
        "submit" => UiAction::Submit,
        "finish" => UiAction::Finish,
        "phone-link" => UiAction::ShowPhoneLink,
        "close-phone-link" => UiAction::ClosePhoneLink,
        "maintenance" => UiAction::EnterMaintenance,
        "run-selftest" => UiAction::RunSelfTest,
        "display-test" => UiAction::OpenDisplayTest,
        "display-result" => UiAction::DisplayChecked(argument == "pass"),
        "retry" => UiAction::Retry,
        "demo-card" => return Some(Input::InsertDemoCard),
        _ => return None,
    };
    Some(Input::Ui(action))
}

/// Connects the window's `Tr` global to the Fluent bundles.
pub fn install_translator(ui: &AppWindow, translator: Arc<Translator>) {
    let tr = ui.global::<Tr>();
    let weak = ui.as_weak();
    let bundles = translator.clone();
    tr.on_text(move |key, _revision| {
        let locale = current_locale(&weak);
        bundles.text(locale, &key).into()
    });
    let weak = ui.as_weak();
    tr.on_text_arg(move |key, name, value, _revision| {
        let locale = current_locale(&weak);
        translator
            .text_with(locale, &key, &[(name.as_str(), value.to_string().into())])
            .into()
    });
}

fn current_locale(weak: &slint::Weak<AppWindow>) -> Locale {
    weak.upgrade()
        .and_then(|ui| ui.global::<Tr>().get_locale().parse().ok())
        .unwrap_or_default()
}

/// Pushes a view into the window. Cheap when nothing changed: Slint only repaints
/// what a changed property touches.
pub fn present(ui: &AppWindow, view: &View) {
    let tr = ui.global::<Tr>();
    if tr.get_locale() != view.locale.tag() {
        tr.set_locale(view.locale.tag().into());
        tr.set_revision(tr.get_revision().wrapping_add(1));
    }
    ui.global::<Theme>().set_elderly(view.elderly);
    ui.set_elderly(view.elderly);
    ui.set_screen(view.screen.name().into());
    ui.set_demo(view.demo);
    ui.set_degraded(view.degraded);
    set_if_changed(ui.get_time(), &view.time, |s| ui.set_time(s));
    set_if_changed(ui.get_date(), &view.date, |s| ui.set_date(s));
    ui.set_service_groups(service_model(&view.service_groups));
    ui.set_services_loading(view.services_loading);
    ui.set_service_name(view.service_name.as_str().into());
    ui.set_pin_length(view.pin_length as i32);
    ui.set_pin_tries_left(view.pin_tries_left.map_or(-1, i32::from));
    ui.set_pin_wrong(view.pin_wrong);
    ui.set_print_percent(i32::from(view.print_percent));
    ui.set_verification_code(view.verification_code.as_str().into());
    ui.set_rated(view.rated);
    ui.set_error_key(view.error_key.as_str().into());
    ui.set_countdown(view.countdown.map_or(-1, |s| s.min(i32::MAX as u64) as i32));
    ui.set_preview_page(
        view.preview
            .as_deref()
            .map(gray_to_image)
            .unwrap_or_default(),
    );
    ui.set_keypad_text(view.keypad_text.as_str().into());
    ui.set_keypad_letters(view.keypad_letters);
    ui.set_keypad_invalid(view.keypad_invalid);
    ui.set_keypad_can_submit(view.keypad_can_submit);
    ui.set_period(view.period.as_str().into());
    ui.set_applications(string_model(&view.applications));
    ui.set_form_district(view.form.district.as_str().into());
    ui.set_form_house(view.form.house.as_str().into());
    ui.set_form_room(view.form.room.as_str().into());
    ui.set_form_phone(view.form.phone.as_str().into());
    ui.set_form_complete(view.form.complete);
    ui.set_districts(string_model(&crate::session::DISTRICTS.map(str::to_owned)));
    ui.set_origin_application(view.origin_application.as_str().into());
    ui.set_origin_exporter(view.origin_exporter.as_str().into());
    ui.set_receipt_state(view.receipt_state.as_str().into());
    ui.set_receipt_refusal_key(view.receipt_refusal_key.as_str().into());
    ui.set_printed(view.printed);
    ui.set_phone_qr(view.phone_link.as_deref().map(qr_image).unwrap_or_default());
    ui.set_phone_ready(view.phone_link.is_some());
    let reasons: Vec<ReasonOption> = crate::session::RATING_REASONS
        .iter()
        .map(|id| ReasonOption {
            id: (*id).into(),
            on: view.reasons.iter().any(|r| r == id),
        })
        .collect();
    ui.set_reasons(ModelRc::from(Rc::new(VecModel::from(reasons))));
    ui.set_technician(view.technician.as_str().into());
    ui.set_login_error_key(view.login_error_key.as_str().into());
    ui.set_login_tries_left(view.login_tries_left.map_or(-1, i32::from));
    let checks: Vec<CheckLine> = view
        .checks
        .iter()
        .map(|c| CheckLine {
            id: c.id.as_str().into(),
            status: c.status.as_str().into(),
            reason: c.reason.as_str().into(),
            action: c.action.as_str().into(),
        })
        .collect();
    ui.set_checks(ModelRc::from(Rc::new(VecModel::from(checks))));
}

fn string_model(items: &[String]) -> ModelRc<SharedString> {
    ModelRc::from(Rc::new(VecModel::from(
        items
            .iter()
            .map(|s| SharedString::from(s.as_str()))
            .collect::<Vec<_>>(),
    )))
}

/// A QR code of `text`, large enough to scan from a phone held at arm's length.
pub fn qr_image(text: &str) -> Image {
    let Ok(code) = qrcode::QrCode::new(text.as_bytes()) else {
        return Image::default();
    };
    let modules = code.width() as u32;
    let quiet = 4;
    let scale = 12;
    let size = (modules + 2 * quiet) * scale;
    let colors = code.to_colors();
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(size, size);
    let width = size as usize;
    for (i, pixel) in buffer.make_mut_slice().iter_mut().enumerate() {
        let (x, y) = ((i % width) as u32 / scale, (i / width) as u32 / scale);
        let dark = x >= quiet
            && y >= quiet
            && x < quiet + modules
            && y < quiet + modules
            && colors[((y - quiet) * modules + (x - quiet)) as usize] == qrcode::Color::Dark;
        let v = if dark { 0 } else { 255 };
        *pixel = Rgb8Pixel { r: v, g: v, b: v };
    }
    Image::from_rgb8(buffer)
}

fn set_if_changed(current: SharedString, new: &str, set: impl FnOnce(SharedString)) {
    if current != new {
        set(new.into());
    }
}

fn service_model(groups: &[ServiceGroupView]) -> ModelRc<ServiceGroup> {
    let groups: Vec<ServiceGroup> = groups
        .iter()
        .map(|g| ServiceGroup {
            title: g.title.as_str().into(),
            items: ModelRc::from(Rc::new(VecModel::from(
                g.services
                    .iter()
                    .map(|s| ServiceItem {
                        id: s.id.as_str().into(),
                        name: s.name.as_str().into(),
                        description: s.description.as_str().into(),
                        glyph: s.glyph.as_str().into(),
                        available: s.available,
                    })
                    .collect::<Vec<_>>(),
            ))),
        })
        .collect();
    ModelRc::from(Rc::new(VecModel::from(groups)))
}

/// The printed page as a Slint image (grey expanded to RGB).
pub fn gray_to_image(page: &image::GrayImage) -> Image {
    let mut buffer = SharedPixelBuffer::<Rgb8Pixel>::new(page.width(), page.height());
    for (dst, src) in buffer.make_mut_slice().iter_mut().zip(page.pixels()) {
        let v = src.0[0];
        *dst = Rgb8Pixel { r: v, g: v, b: v };
    }
    Image::from_rgb8(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_parse() {
        assert_eq!(parse_action("start", ""), Some(Input::Ui(UiAction::Start)));
        assert_eq!(
            parse_action("language", "en-US"),
            Some(Input::Ui(UiAction::ChooseLanguage(Locale::EnUs)))
        );
        assert_eq!(
            parse_action("pin-digit", "7"),
            Some(Input::Ui(UiAction::PinDigit(7)))
        );
        assert_eq!(parse_action("pin-digit", "12"), None);
        assert_eq!(parse_action("rate", "meh"), None);
        assert_eq!(parse_action("language", "xx"), None);
        assert_eq!(parse_action("demo-card", ""), Some(Input::InsertDemoCard));
        assert_eq!(parse_action("launch-missiles", ""), None);
    }
}
