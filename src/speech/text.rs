//! What each screen says: built from the same view model the screen shows, in the
//! resident's language, from Fluent messages written to be heard (`speech.ftl`):
//! no words that need sight, codes spelled one character at a time, PIN digits
//! never spoken. Pure: no engine, no window.

use fluent_bundle::FluentValue;

use crate::i18n::{Locale, Translator};
use crate::session::{DISTRICTS, DocKind, PeriodChoice, RATING_REASONS, Screen};
use crate::view::View;

/// The screen's speech as phrases, in order: what the screen is, what it holds
/// and asks, and how to answer.
pub fn screen_phrases(view: &View, tr: &Translator) -> Vec<String> {
    let mut say = Phrases {
        tr,
        locale: view.locale,
        out: Vec::new(),
    };
    let screen = view.screen;
    let key = match screen {
        // With a code scanner the identity screen offers the phone code too.
        Screen::InsertCard if view.scanner_ready => "speech-identify".to_owned(),
        Screen::Goodbye if view.identified_by_phone => "speech-goodbye-phone".to_owned(),
        _ => format!("speech-{}", screen.name()),
    };
    match screen {
        Screen::Keypad(field) => {
            let name = field.screen_name();
            say.key(&format!("{name}-title"));
            say.key(&format!("{name}-hint"));
        }
        _ => say.key(&key),
    }
    if view.degraded && matches!(screen, Screen::Attract | Screen::Services) {
        say.key("speech-degraded");
    }
    match screen {
        Screen::Services => services(view, &mut say),
        Screen::PinEntry => {
            say.pin(view.pin_length);
            if view.pin_wrong
                && let Some(tries) = view.pin_tries_left
            {
                say.with("pin-wrong", &[("tries", tries.into())]);
                say.key("pin-wrong-next");
            }
        }
        Screen::ChoosePeriod => {
            let items = PeriodChoice::ALL.map(|p| {
                let id = format!("period-{}", p.id());
                (say.with_hint(&id), view.period == p.id())
            });
            say.list(&items);
        }
        Screen::Keypad(field) => {
            say.entered(&view.keypad_text);
            let name = field.screen_name();
            if view.keypad_invalid {
                say.key(&format!("{name}-invalid"));
            } else if view.keypad_can_submit {
                say.key("speech-keypad-complete");
            }
        }
        Screen::ProgressChoice => {
            let by_identity = if view.scanner_ready {
                "by-identity"
            } else {
                "by-card"
            };
            let items = ["by-number", by_identity].map(|choice| {
                let id = format!("progress-choice-{choice}");
                (say.with_hint(&id), false)
            });
            say.list(&items);
        }
        Screen::ProgressList => {
            let items: Vec<_> = view
                .applications
                .iter()
                .map(|number| (spell(number, say.locale), false))
                .collect();
            say.list(&items);
        }
        Screen::SubmissionForm | Screen::SubmissionConfirm => form(view, &mut say),
        Screen::SubmissionDistrict => {
            let items: Vec<_> = DISTRICTS
                .iter()
                .map(|d| (say.street(d), view.form.district == *d))
                .collect();
            say.list(&items);
        }
        Screen::Preview(kind) => preview(view, kind, &mut say),
        Screen::OriginUnsupported => {
            say.key("origin-unsupported-action");
            let number = spell(&view.origin_application, say.locale);
            say.with("origin-unsupported-number", &[("number", number.into())]);
        }
        Screen::Printing => {
            say.with(
                "speech-printing-progress",
                &[("percent", view.print_percent.into())],
            );
        }
        Screen::RatingReasons => {
            let items: Vec<_> = RATING_REASONS
                .iter()
                .map(|r| {
                    let chosen = view.reasons.iter().any(|chosen| chosen == r);
                    (tr.text(say.locale, &format!("reason-{r}")), chosen)
                })
                .collect();
            say.list(&items);
        }
        Screen::Goodbye => {
            if view.rated {
                say.key("goodbye-rated");
            }
        }
        Screen::Error => {
            say.key(&view.error_key);
            say.key(&format!("{}.action", view.error_key));
            if !view.error_code.is_empty() {
                let code = spell(&view.error_code, say.locale);
                say.with("preview-code-certificate", &[("code", code.into())]);
            }
            if view.card_reminder && !view.error_code.is_empty() {
                say.key("goodbye-card-reminder");
            }
            say.help_phone(view);
        }
        Screen::MaintenanceLogin => {
            say.pin(view.pin_length);
            if !view.login_error_key.is_empty() {
                let tries = view.login_tries_left.unwrap_or(0);
                say.with(&view.login_error_key, &[("tries", tries.into())]);
            }
        }
        Screen::MaintenanceMenu => {
            let name = spell(&view.technician, say.locale);
            say.with("maintenance-hello", &[("name", name.into())]);
        }
        Screen::SelfTestReport => {
            let count = |status: &str| view.checks.iter().filter(|c| c.status == status).count();
            say.with(
                "speech-selftest-counts",
                &[
                    ("pass", count("pass").into()),
                    ("warn", count("warn").into()),
                    ("fail", count("fail").into()),
                ],
            );
        }
        Screen::Attract
        | Screen::Language
        | Screen::InsertCard
        | Screen::ReadingCard
        | Screen::Working(_)
        | Screen::PhoneLink
        | Screen::TakePaper
        | Screen::Rating
        | Screen::DisplayTest => {}
    }
    match screen {
        Screen::Keypad(field) if field.takes_letters() => say.key("speech-keypad-letters-how"),
        Screen::Keypad(_) => say.key("speech-keypad-how"),
        _ => say.key(&format!("{key}.how")),
    }
    say.out.retain(|phrase| !phrase.trim().is_empty());
    say.out
}

/// The screen's speech as one text.
pub fn screen_utterance(view: &View, tr: &Translator) -> String {
    screen_phrases(view, tr).join(" ")
}

/// What the idle warning says while it counts down, if it is showing.
pub fn idle_warning(view: &View, tr: &Translator) -> Option<String> {
    let seconds = view.countdown?;
    Some(format!(
        "{} {}",
        tr.text_with(view.locale, "speech-idle", &[("seconds", seconds.into())]),
        tr.text(view.locale, "speech-idle.how")
    ))
}

/// A code or number one character at a time, so that "2025" is heard as
/// "2 0 2 5", not "two thousand and twenty-five". Spaces and dashes in the code
/// become short pauses; `*` (a hidden character) is left as it is for the caller.
pub fn spell(code: &str, locale: Locale) -> String {
    // English letters need commas to be read as letter names ("A" alone is the
    // article); the Mandarin voice reads single letters and digits as names.
    let (between, group) = match locale {
        Locale::EnUs => (", ", "; "),
        Locale::ZhCn | Locale::ZhTw => (" ", "，"),
    };
    let mut out = String::new();
    let mut pending_pause = false;
    for c in code.chars() {
        if c.is_whitespace() || matches!(c, '-' | '_' | '/' | '.' | '·') {
            pending_pause = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            out.push_str(if pending_pause { group } else { between });
        }
        pending_pause = false;
        out.push(c.to_ascii_uppercase());
    }
    out
}

struct Phrases<'a> {
    tr: &'a Translator,
    locale: Locale,
    out: Vec<String>,
}

impl Phrases<'_> {
    fn key(&mut self, key: &str) {
        let text = self.tr.text(self.locale, key);
        self.push(text);
    }

    fn with(&mut self, key: &str, args: &[(&str, FluentValue<'_>)]) {
        let text = self.tr.text_with(self.locale, key, args);
        self.push(text);
    }

    /// Adds a phrase as a sentence: on-screen texts often end without a full stop,
    /// and without one the voice runs into the next phrase without a pause.
    fn push(&mut self, mut text: String) {
        let ends_a_sentence = text
            .trim_end()
            .chars()
            .last()
            .is_none_or(|c| "。！？.!?：:；;…".contains(c));
        if !ends_a_sentence {
            text.push_str(match self.locale {
                Locale::EnUs => ".",
                Locale::ZhCn | Locale::ZhTw => "。",
            });
        }
        self.out.push(text);
    }

    /// Whether this locale's voice can read `text`: the English voice names every
    /// Chinese character "Chinese letter", so Chinese data is described instead.
    fn readable(&self, text: &str) -> bool {
        self.locale != Locale::EnUs || !text.chars().any(is_han)
    }

    /// How many PIN digits are in, each as "asterisk": never the digit.
    fn pin(&mut self, length: usize) {
        if length == 0 {
            self.key("speech-nothing-entered");
            return;
        }
        let star = self.tr.text(self.locale, "speech-pin-star");
        let stars = vec![star; length].join(match self.locale {
            Locale::EnUs => ", ",
            _ => " ",
        });
        self.with(
            "speech-pin-entered",
            &[("count", length.into()), ("stars", stars.into())],
        );
    }

    fn entered(&mut self, text: &str) {
        if text.trim().is_empty() {
            self.key("speech-nothing-entered");
        } else {
            let value = spell(text, self.locale);
            self.with("speech-entered", &[("value", value.into())]);
        }
    }

    /// A numbered list: "3 choices. 1: ... 2: ... (selected)".
    fn list(&mut self, items: &[(String, bool)]) {
        if items.is_empty() {
            return;
        }
        self.with("speech-list-count", &[("count", items.len().into())]);
        for (index, (name, selected)) in items.iter().enumerate() {
            let mut item = name.clone();
            if *selected {
                item = self.tr.text_with(
                    self.locale,
                    "speech-list-selected",
                    &[("item", item.into())],
                );
            }
            self.with(
                "speech-list-item",
                &[("number", (index + 1).into()), ("item", item.into())],
            );
        }
    }

    fn field(&mut self, label_key: &str, value: &str) {
        let label = self.tr.text(self.locale, label_key);
        if value.trim().is_empty() {
            self.with("speech-field-empty", &[("label", label.into())]);
        } else {
            self.with(
                "speech-field",
                &[("label", label.into()), ("value", value.to_owned().into())],
            );
        }
    }

    fn help_phone(&mut self, view: &View) {
        if !view.branding.help_phone.is_empty() {
            let phone = spell(&view.branding.help_phone, self.locale);
            self.with("help-phone-line", &[("phone", phone.into())]);
        }
    }
}

fn services(view: &View, say: &mut Phrases<'_>) {
    if view.services_loading {
        say.key("speech-services-loading");
        return;
    }
    let items: Vec<_> = view
        .service_groups
        .iter()
        .flat_map(|group| &group.services)
        .map(|service| {
            let name = if service.available {
                service.name.clone()
            } else {
                say.tr.text_with(
                    say.locale,
                    "speech-list-unavailable",
                    &[("item", service.name.clone().into())],
                )
            };
            (name, false)
        })
        .collect();
    if items.is_empty() {
        say.key("services-none-open");
    }
    say.list(&items);
}

fn form(view: &View, say: &mut Phrases<'_>) {
    let district = if view.form.district.is_empty() {
        String::new()
    } else {
        say.street(&view.form.district)
    };
    say.field("form-district", &district);
    say.field("form-house", &spell(&view.form.house, say.locale));
    say.field("form-room", &spell(&view.form.room, say.locale));
    say.field("form-phone", &spell(&view.form.phone, say.locale));
}

fn preview(view: &View, kind: DocKind, say: &mut Phrases<'_>) {
    let kind_name = match kind {
        DocKind::Certificate => "certificate",
        DocKind::OriginForm => "origin-form",
        DocKind::Progress => "progress",
        DocKind::Receipt => "receipt",
    };
    if kind == DocKind::Receipt && !view.receipt_state.is_empty() {
        say.key(&format!("receipt-banner-{}", view.receipt_state));
        if !view.receipt_refusal_key.is_empty() {
            say.key(&view.receipt_refusal_key);
            say.key(&format!("{}.action", view.receipt_refusal_key));
        }
    }
    if let Some(facts) = &view.document {
        let texts = [&facts.title, &facts.first_label, &facts.first_value];
        if !texts.iter().all(|t| say.readable(t)) {
            say.key("speech-document-in-chinese");
        } else {
            if !facts.title.is_empty() {
                say.with(
                    "speech-document-title",
                    &[("title", facts.title.clone().into())],
                );
            }
            if !facts.first_label.is_empty() && !facts.first_value.is_empty() {
                say.field_raw(&facts.first_label, &facts.first_value);
            }
        }
    }
    if !view.verification_code.is_empty() {
        let code = spell(&view.verification_code, say.locale);
        say.with(
            &format!("preview-code-{kind_name}"),
            &[("code", code.into())],
        );
    }
}

impl Phrases<'_> {
    /// A choice's name and its hint (`id` and `id.hint`), as one list item.
    fn with_hint(&self, id: &str) -> String {
        self.tr.text_with(
            self.locale,
            "speech-choice-with-hint",
            &[
                ("choice", self.tr.text(self.locale, id).into()),
                (
                    "hint",
                    self.tr.text(self.locale, &format!("{id}.hint")).into(),
                ),
            ],
        )
    }

    /// The text itself, or what it is when this locale's voice cannot read it.
    /// A street by its name in this locale (the official name otherwise).
    fn street(&self, official: &str) -> String {
        match crate::session::district_key(official) {
            Some(key) => self.tr.text(self.locale, key),
            None => self.readable_or_described(official),
        }
    }

    fn readable_or_described(&self, text: &str) -> String {
        if self.readable(text) {
            text.to_owned()
        } else {
            self.tr.text(self.locale, "speech-name-in-chinese")
        }
    }

    /// A label and a value that come from the document, already in its language.
    fn field_raw(&mut self, label: &str, value: &str) {
        self.with(
            "speech-field",
            &[
                ("label", label.to_owned().into()),
                ("value", value.to_owned().into()),
            ],
        );
    }
}

/// Han characters (CJK ideographs and their punctuation and full-width forms).
fn is_han(c: char) -> bool {
    matches!(c, '\u{2E80}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}' | '\u{FF00}'..='\u{FFEF}' | '\u{20000}'..='\u{3134F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spells_codes_one_character_at_a_time_with_pauses_between_groups() {
        assert_eq!(spell("8K3F-2Q7M", Locale::ZhCn), "8 K 3 F，2 Q 7 M");
        assert_eq!(spell("sq2025", Locale::ZhTw), "S Q 2 0 2 5");
        assert_eq!(spell("138 0013", Locale::EnUs), "1, 3, 8; 0, 0, 1, 3");
        assert_eq!(spell(" -AB- ", Locale::EnUs), "A, B");
        assert_eq!(spell("", Locale::ZhCn), "");
    }

    #[test]
    fn the_pin_is_asterisks_whatever_its_length() {
        let tr = Translator::new().expect("bundles load");
        for locale in Locale::ALL {
            let star = tr.text(locale, "speech-pin-star");
            for length in 0..=8 {
                let mut view = View::new(Screen::PinEntry, locale);
                view.pin_length = length;
                let text = screen_utterance(&view, &tr);
                let expected = length + count_in_instructions(&tr, locale, &star);
                assert_eq!(text.matches(star.as_str()).count(), expected, "{text}");
            }
        }
    }

    /// How often the screen's fixed sentences name the asterisk themselves.
    fn count_in_instructions(tr: &Translator, locale: Locale, star: &str) -> usize {
        let fixed = format!(
            "{} {}",
            tr.text(locale, "speech-pin-entry"),
            tr.text(locale, "speech-pin-entry.how")
        );
        fixed.matches(star).count()
    }

    #[test]
    fn sentences_end_with_a_stop_so_the_voice_pauses() {
        let tr = Translator::new().expect("bundles load");
        let mut view = View::new(Screen::Error, Locale::ZhCn);
        view.error_key = "print-error-paper-out".into();
        for phrase in screen_phrases(&view, &tr) {
            assert!(phrase.ends_with('。') || phrase.ends_with('？'), "{phrase}");
        }
    }

    #[test]
    fn english_speech_describes_chinese_data_instead_of_reading_it() {
        let tr = Translator::new().expect("bundles load");
        let mut view = View::new(Screen::SubmissionConfirm, Locale::EnUs);
        // A street of the list has an English name.
        view.form.district = DISTRICTS[0].to_owned();
        let text = screen_utterance(&view, &tr);
        assert!(!text.chars().any(is_han), "{text}");
        assert!(text.contains("Wensan Road, Xihu District"), "{text}");
        // Chinese data without one is described, not read out in Chinese.
        view.form.district = "某区 某路".to_owned();
        let text = screen_utterance(&view, &tr);
        assert!(!text.chars().any(is_han), "{text}");
        assert!(text.contains(&tr.text(Locale::EnUs, "speech-name-in-chinese")));
        view.form.district = DISTRICTS[0].to_owned();
        view.locale = Locale::ZhCn;
        assert!(screen_utterance(&view, &tr).contains(DISTRICTS[0]));
    }
}
