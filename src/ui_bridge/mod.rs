//! The thin bridge between the kiosk and its Slint window: a [`View`] (plain data)
//! goes in as properties, the window's one `action(verb, argument)` callback comes
//! back as an [`Input`]. No decisions are made here.

pub mod app;
pub mod headless;
pub mod keys;
pub mod panel;
pub mod runtime;
pub mod screens;
pub mod script;

use std::rc::Rc;
use std::sync::{Arc, Weak};

use slint::{
    ComponentHandle, Image, ModelRc, Rgb8Pixel, SharedPixelBuffer, SharedString, VecModel,
};

use crate::i18n::{Locale, Translator};
use crate::session::{FormField, PeriodChoice, Score, UiAction};
use crate::view::{Input, ServiceGroupView, View, VoiceCommand};

slint::include_modules!();

/// Maps the window's `action(verb, argument)` to an input; unknown verbs are ignored.
pub fn parse_action(verb: &str, argument: &str) -> Option<Input> {
    let action = match verb {
        "touch" => UiAction::Touch,
        "start" => UiAction::Start,
        "language" => UiAction::ChooseLanguage(argument.parse().ok()?),
        "locale" => UiAction::SwitchLanguage(argument.parse().ok()?),
        "elderly" => UiAction::ToggleElderly,
        "voice" => UiAction::ToggleVoice,
        "more-time" => UiAction::MoreTime,
        "speech" => return VoiceCommand::from_id(argument).map(Input::Voice),
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
        "on-screen-card" => return Some(Input::InsertOnScreenCard),
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
    let theme = ui.global::<Theme>();
    theme.set_elderly(view.elderly);
    theme.set_has_brand_accent(view.branding.accent.is_some());
    if let Some([r, g, b]) = view.branding.accent {
        theme.set_brand_accent(slint::Color::from_rgb_u8(r, g, b));
    }
    let brand = ui.global::<Brand>();
    set_if_changed(brand.get_station_name(), &view.branding.station_name, |s| {
        brand.set_station_name(s)
    });
    set_if_changed(brand.get_help_phone(), &view.branding.help_phone, |s| {
        brand.set_help_phone(s)
    });
    ui.set_elderly(view.elderly);
    ui.set_voice(view.voice);
    let new_screen = ui.get_screen() != view.screen.name();
    if new_screen {
        // A new visit of the service list starts on its first page.
        ui.set_services_page(0);
    }
    ui.set_screen(view.screen.name().into());
    if new_screen {
        // The element that had the focus is gone: keys start again from the top
        // of the new screen.
        ui.invoke_focus_keys();
    }
    ui.set_on_screen_card(view.on_screen_card);
    ui.set_scanner_ready(view.scanner_ready);
    ui.set_identified_by_phone(view.identified_by_phone);
    ui.set_degraded(view.degraded);
    set_if_changed(ui.get_time(), &view.time, |s| ui.set_time(s));
    set_if_changed(ui.get_date(), &view.date, |s| ui.set_date(s));
    // Lists are replaced only when their rows change: a new model rebuilds the
    // list's elements (work for nothing, and the keyboard focus on one is lost).
    set_model_if_changed(
        ui.get_service_items(),
        service_items(&view.service_groups),
        |m| ui.set_service_items(m),
    );
    ui.set_services_loading(view.services_loading);
    ui.set_service_name(view.service_name.as_str().into());
    ui.set_pin_length(view.pin_length as i32);
    ui.set_pin_tries_left(view.pin_tries_left.map_or(-1, i32::from));
    ui.set_pin_wrong(view.pin_wrong);
    ui.set_print_percent(i32::from(view.print_percent));
    ui.set_verification_code(view.verification_code.as_str().into());
    ui.set_rated(view.rated);
    ui.set_error_key(view.error_key.as_str().into());
    ui.set_error_code(view.error_code.as_str().into());
    ui.set_error_can_phone(view.error_can_phone);
    ui.set_card_reminder(view.card_reminder);
    ui.set_countdown(view.countdown.map_or(-1, |s| s.min(i32::MAX as u64) as i32));
    PRESENTED.with(|presented| {
        let mut presented = presented.borrow_mut();
        let same_preview = match (&view.preview, presented.preview.upgrade()) {
            (Some(new), Some(old)) => Arc::ptr_eq(new, &old),
            (None, None) => true,
            _ => false,
        };
        if !same_preview {
            ui.set_preview_page(
                view.preview
                    .as_deref()
                    .map(gray_to_image)
                    .unwrap_or_default(),
            );
            presented.preview = view.preview.as_ref().map_or_else(Weak::new, Arc::downgrade);
        }
        if presented.phone_link != view.phone_link {
            presented.phone_link = view.phone_link.clone();
        }
    });
    ui.set_keypad_text(view.keypad_text.as_str().into());
    ui.set_keypad_count(view.keypad_count.as_str().into());
    ui.set_keypad_letters(view.keypad_letters);
    ui.set_keypad_invalid(view.keypad_invalid);
    ui.set_keypad_can_submit(view.keypad_can_submit);
    ui.set_period(view.period.as_str().into());
    set_model_if_changed(ui.get_applications(), strings(&view.applications), |m| {
        ui.set_applications(m)
    });
    // Streets are submitted by their official name and shown in the locale's.
    let street = |official: &str| -> SharedString {
        match crate::session::district_key(official) {
            Some(key) => tr.invoke_text(key.into(), tr.get_revision()),
            None => official.into(),
        }
    };
    ui.set_form_district(street(&view.form.district));
    ui.set_form_house(view.form.house.as_str().into());
    ui.set_form_room(view.form.room.as_str().into());
    ui.set_form_phone(view.form.phone.as_str().into());
    ui.set_form_complete(view.form.complete);
    set_model_if_changed(
        ui.get_districts(),
        crate::session::DISTRICTS
            .iter()
            .map(|official| street(official))
            .collect::<Vec<_>>(),
        |m| ui.set_districts(m),
    );
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
    set_model_if_changed(ui.get_reasons(), reasons, |m| ui.set_reasons(m));
    ui.set_technician(view.technician.as_str().into());
    ui.set_login_error_key(view.login_error_key.as_str().into());
    ui.set_login_tries_left(view.login_tries_left.map_or(-1, i32::from));
    let checks: Vec<CheckLine> = view
        .checks
        .iter()
        .map(|c| CheckLine {
            id: c.id.as_str().into(),
            status: c.status.as_str().into(),
            code: c.code.as_str().into(),
            detail: c.reason.as_str().into(),
        })
        .collect();
    set_model_if_changed(ui.get_checks(), checks, |m| ui.set_checks(m));
}

/// What was last handed to the window that is costly to make again (images).
#[derive(Default)]
struct Presented {
    preview: Weak<image::GrayImage>,
    phone_link: Option<String>,
}

thread_local! {
    static PRESENTED: std::cell::RefCell<Presented> = std::cell::RefCell::new(Presented::default());
}

fn strings(items: &[String]) -> Vec<SharedString> {
    items
        .iter()
        .map(|s| SharedString::from(s.as_str()))
        .collect()
}

/// Sets a list property to `rows` unless it holds exactly these rows already.
fn set_model_if_changed<T: Clone + PartialEq + 'static>(
    current: ModelRc<T>,
    rows: Vec<T>,
    set: impl FnOnce(ModelRc<T>),
) {
    use slint::Model;
    let same = current.row_count() == rows.len()
        && rows
            .iter()
            .enumerate()
            .all(|(i, row)| current.row_data(i).as_ref() == Some(row));
    if !same {
        set(ModelRc::from(Rc::new(VecModel::from(rows))));
    }
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

/// "next" or "previous" page of the service list; the screen shows its last
/// page when asked past it.
pub fn turn_services_page(ui: &AppWindow, direction: &str) {
    let page = ui.get_services_page();
    ui.set_services_page(match direction {
        "next" => page.saturating_add(1),
        "previous" => page.saturating_sub(1).max(0),
        _ => page,
    });
}

/// Every service of every group, in order, each with its group's title.
fn service_items(groups: &[ServiceGroupView]) -> Vec<ServiceItem> {
    groups
        .iter()
        .flat_map(|g| {
            g.services.iter().map(|s| ServiceItem {
                id: s.id.as_str().into(),
                name: s.name.as_str().into(),
                description: s.description.as_str().into(),
                glyph: s.glyph.as_str().into(),
                available: s.available,
                group: g.title.as_str().into(),
            })
        })
        .collect()
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
        assert_eq!(
            parse_action("on-screen-card", ""),
            Some(Input::InsertOnScreenCard)
        );
        assert_eq!(parse_action("launch-missiles", ""), None);
    }
}
