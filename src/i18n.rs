//! Translations: Fluent bundles for the three kiosk languages, compiled into the
//! binary so a kiosk never shows a missing-file error to a resident.

use std::fmt;
use std::str::FromStr;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use unic_langid::LanguageIdentifier;

/// The languages a resident can choose.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Locale {
    #[default]
    ZhCn,
    ZhTw,
    EnUs,
}

impl Locale {
    pub const ALL: [Locale; 3] = [Locale::ZhCn, Locale::ZhTw, Locale::EnUs];

    /// The BCP 47 tag, also the folder name under `i18n/`.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::ZhCn => "zh-CN",
            Locale::ZhTw => "zh-TW",
            Locale::EnUs => "en-US",
        }
    }

    fn sources(self) -> &'static [(&'static str, &'static str)] {
        macro_rules! files {
            ($tag:literal) => {
                &[
                    (
                        concat!($tag, "/kiosk.ftl"),
                        include_str!(concat!("../i18n/", $tag, "/kiosk.ftl")),
                    ),
                    (
                        concat!($tag, "/errors.ftl"),
                        include_str!(concat!("../i18n/", $tag, "/errors.ftl")),
                    ),
                    (
                        concat!($tag, "/flows.ftl"),
                        include_str!(concat!("../i18n/", $tag, "/flows.ftl")),
                    ),
                    (
                        concat!($tag, "/maintenance.ftl"),
                        include_str!(concat!("../i18n/", $tag, "/maintenance.ftl")),
                    ),
                    (
                        concat!($tag, "/selftest.ftl"),
                        include_str!(concat!("../i18n/", $tag, "/selftest.ftl")),
                    ),
                    (
                        concat!($tag, "/speech.ftl"),
                        include_str!(concat!("../i18n/", $tag, "/speech.ftl")),
                    ),
                ]
            };
        }
        match self {
            Locale::ZhCn => files!("zh-CN"),
            Locale::ZhTw => files!("zh-TW"),
            Locale::EnUs => files!("en-US"),
        }
    }
}

impl fmt::Display for Locale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag())
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("unknown locale {0:?} (expected zh-CN, zh-TW or en-US)")]
pub struct UnknownLocale(pub String);

impl FromStr for Locale {
    type Err = UnknownLocale;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Locale::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownLocale(s.to_owned()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum I18nError {
    #[error("{file}: Fluent syntax errors: {errors}")]
    Syntax { file: &'static str, errors: String },
    #[error("{file}: message defined twice: {errors}")]
    Duplicate { file: &'static str, errors: String },
    #[error("bad language tag {0}")]
    Tag(String),
}

/// All bundles, loaded once at start-up.
pub struct Translator {
    bundles: Vec<(Locale, FluentBundle<FluentResource>)>,
}

impl Translator {
    pub fn new() -> Result<Self, I18nError> {
        let mut bundles = Vec::new();
        for locale in Locale::ALL {
            let lang: LanguageIdentifier = locale
                .tag()
                .parse()
                .map_err(|_| I18nError::Tag(locale.tag().to_owned()))?;
            let mut bundle = FluentBundle::new_concurrent(vec![lang]);
            // Isolation marks render as boxes in the kiosk's fonts and add nothing
            // for these left-to-right languages.
            bundle.set_use_isolating(false);
            for (file, source) in locale.sources() {
                let resource =
                    FluentResource::try_new((*source).to_owned()).map_err(|(_, errs)| {
                        I18nError::Syntax {
                            file,
                            errors: format!("{errs:?}"),
                        }
                    })?;
                bundle
                    .add_resource(resource)
                    .map_err(|errs| I18nError::Duplicate {
                        file,
                        errors: format!("{errs:?}"),
                    })?;
            }
            bundles.push((locale, bundle));
        }
        Ok(Self { bundles })
    }

    fn bundle(&self, locale: Locale) -> Option<&FluentBundle<FluentResource>> {
        self.bundles
            .iter()
            .find(|(l, _)| *l == locale)
            .map(|(_, b)| b)
    }

    /// Whether `key` (a message id, or `id.attribute`) exists in `locale`.
    pub fn has(&self, locale: Locale, key: &str) -> bool {
        let (id, attribute) = split_key(key);
        self.bundle(locale)
            .and_then(|b| b.get_message(id))
            .is_some_and(|m| match attribute {
                Some(a) => m.get_attribute(a).is_some(),
                None => m.value().is_some(),
            })
    }

    /// The text for `key` (`id` or `id.attribute`) in `locale`, falling back to the
    /// default language and then to the key itself, so a gap never blanks a screen.
    pub fn text(&self, locale: Locale, key: &str) -> String {
        self.format(locale, key, None)
    }

    pub fn text_with(&self, locale: Locale, key: &str, args: &[(&str, FluentValue<'_>)]) -> String {
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            fluent_args.set(*name, value.clone());
        }
        self.format(locale, key, Some(&fluent_args))
    }

    fn format(&self, locale: Locale, key: &str, args: Option<&FluentArgs<'_>>) -> String {
        for candidate in [locale, Locale::default()] {
            if let Some(text) = self.try_format(candidate, key, args) {
                return text;
            }
        }
        tracing::warn!(key, %locale, "missing translation");
        key.to_owned()
    }

    fn try_format(
        &self,
        locale: Locale,
        key: &str,
        args: Option<&FluentArgs<'_>>,
    ) -> Option<String> {
        let bundle = self.bundle(locale)?;
        let (id, attribute) = split_key(key);
        let message = bundle.get_message(id)?;
        let pattern = match attribute {
            Some(a) => message.get_attribute(a)?.value(),
            None => message.value()?,
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, args, &mut errors);
        if !errors.is_empty() {
            tracing::warn!(key, %locale, ?errors, "translation formatting errors");
        }
        Some(text.into_owned())
    }

    /// Every message id (and `id.attribute`) defined for `locale`, for completeness tests.
    pub fn keys(locale: Locale) -> Vec<String> {
        let mut keys = Vec::new();
        for (_, source) in locale.sources() {
            let Ok(resource) = FluentResource::try_new((*source).to_owned()) else {
                continue;
            };
            for entry in resource.entries() {
                if let fluent_syntax::ast::Entry::Message(message) = entry {
                    let id = message.id.name;
                    if message.value.is_some() {
                        keys.push(id.to_owned());
                    }
                    for attribute in &message.attributes {
                        keys.push(format!("{id}.{}", attribute.id.name));
                    }
                }
            }
        }
        keys.sort();
        keys
    }
}

fn split_key(key: &str) -> (&str, Option<&str>) {
    match key.split_once('.') {
        Some((id, attribute)) => (id, Some(attribute)),
        None => (key, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_tags_round_trip() {
        for locale in Locale::ALL {
            assert_eq!(locale.tag().parse::<Locale>(), Ok(locale));
        }
        assert!("fr-FR".parse::<Locale>().is_err());
    }

    #[test]
    fn every_locale_defines_the_same_keys() {
        let reference = Translator::keys(Locale::ZhCn);
        assert!(reference.len() > 50, "too few keys: {}", reference.len());
        for locale in [Locale::ZhTw, Locale::EnUs] {
            let keys = Translator::keys(locale);
            let missing: Vec<_> = reference.iter().filter(|k| !keys.contains(k)).collect();
            let extra: Vec<_> = keys.iter().filter(|k| !reference.contains(k)).collect();
            assert!(missing.is_empty(), "{locale} lacks {missing:?}");
            assert!(extra.is_empty(), "{locale} has keys zh-CN lacks: {extra:?}");
        }
    }

    /// The report screen composes `check-<id>-<code>` for every check it shows:
    /// each pair the self-test can report has its name, finding and (unless
    /// it passed) its action in every language.
    #[test]
    fn every_selftest_check_and_code_is_translated() {
        let tr = Translator::new().expect("bundles load");
        for locale in Locale::ALL {
            for (id, codes) in crate::ops::selftest::CHECK_CODES {
                assert!(
                    tr.has(locale, &format!("check-{id}")),
                    "{locale} check-{id}"
                );
                for code in *codes {
                    let key = format!("check-{id}-{code}");
                    assert!(tr.has(locale, &key), "{locale} lacks {key}");
                    let text = tr.text(locale, &key);
                    assert!(!text.contains("check-"), "{locale} {key}: {text}");
                    if *code != "ok" {
                        let action = format!("{key}.action");
                        assert!(tr.has(locale, &action), "{locale} lacks {action}");
                    }
                }
            }
        }
    }

    #[test]
    fn formats_arguments_and_attributes() {
        let tr = Translator::new().expect("bundles load");
        let text = tr.text_with(Locale::EnUs, "idle-countdown", &[("seconds", 12.into())]);
        assert!(text.contains("12"), "{text}");
        assert!(tr.has(Locale::EnUs, "card-error-removed.action"));
        assert_ne!(
            tr.text(Locale::ZhCn, "nav-home"),
            tr.text(Locale::EnUs, "nav-home")
        );
        assert_eq!(tr.text(Locale::EnUs, "no-such-key"), "no-such-key");
    }
}
