//! Every message key the UI or the code uses exists in every locale, and every error
//! message tells the resident what to do next (`.action`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use estation::i18n::{Locale, Translator};

fn files(dir: &Path, extension: &str, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, extension, out);
        } else if path.extension().is_some_and(|e| e == extension) {
            out.push(path);
        }
    }
}

/// The string literal that starts right after each occurrence of `marker`. A
/// literal that is only the start of a key (`"preview-title-" + kind`) is left out:
/// [`composed_keys`] lists what such expressions produce.
fn literals_after(text: &str, marker: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        rest = &rest[at + marker.len()..];
        if let Some(end) = rest.find('"') {
            let composed = rest[end + 1..].trim_start().starts_with('+');
            if !composed {
                found.push(rest[..end].to_owned());
            }
        }
    }
    found
}

/// Keys the UI builds from a prefix and a value.
fn composed_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for kind in ["certificate", "origin-form", "progress", "receipt"] {
        for prefix in ["preview-title-", "preview-hint-", "preview-code-"] {
            keys.push(format!("{prefix}{kind}"));
        }
    }
    for reason in estation::session::RATING_REASONS {
        keys.push(format!("reason-{reason}"));
    }
    for period in estation::session::PeriodChoice::ALL {
        keys.push(format!("period-{}", period.id()));
        keys.push(format!("period-{}.hint", period.id()));
    }
    for status in ["pass", "warn", "fail"] {
        keys.push(format!("selftest-{status}"));
    }
    for error in ["denied", "locked", "card"] {
        keys.push(format!("maintenance-error-{error}"));
    }
    for choice in ["by-number", "by-card"] {
        keys.push(format!("progress-choice-{choice}"));
        keys.push(format!("progress-choice-{choice}.hint"));
    }
    for field in [
        "keypad-application-number",
        "keypad-exporter-code",
        "keypad-house-number",
        "keypad-room-number",
        "keypad-phone",
    ] {
        for suffix in ["-title", "-hint", "-invalid"] {
            keys.push(format!("{field}{suffix}"));
        }
    }
    keys
}

fn is_error_key(literal: &str) -> bool {
    // A literal ending in '-' is a prefix the code matches on, not a key.
    let shaped = !literal.is_empty()
        && !literal.ends_with('-')
        && literal
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    shaped
        && (literal == "error-generic"
            || [
                "card-error-",
                "print-error-",
                "central-error-",
                "outbox-error-",
            ]
            .iter()
            .any(|prefix| literal.starts_with(prefix)))
}

fn used_keys() -> (BTreeSet<String>, BTreeSet<String>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut keys = BTreeSet::new();
    let mut slint = Vec::new();
    files(&root.join("ui"), "slint", &mut slint);
    assert!(slint.len() > 5, "no Slint files found");
    for path in &slint {
        let text = std::fs::read_to_string(path).expect("readable");
        for marker in ["Tr.text(\"", "Tr.text-arg(\"", "key: \""] {
            keys.extend(literals_after(&text, marker));
        }
    }
    let mut error_keys = BTreeSet::new();
    let mut rust = Vec::new();
    files(&root.join("src"), "rs", &mut rust);
    files(&root.join("drivers/src"), "rs", &mut rust);
    for path in &rust {
        let text = std::fs::read_to_string(path).expect("readable");
        for literal in literals_after(&text, "\"") {
            if is_error_key(&literal) {
                error_keys.insert(literal);
            }
        }
    }
    keys.extend(error_keys.iter().cloned());
    keys.extend(composed_keys());
    for n in 1..=7 {
        keys.insert(format!("weekday-{n}"));
    }
    for n in 1..=12 {
        keys.insert(format!("month-{n}"));
    }
    keys.insert("date-long".into());
    (keys, error_keys)
}

#[test]
fn every_used_key_has_a_message_in_every_locale() {
    let translator = Translator::new().expect("bundles load");
    let (keys, error_keys) = used_keys();
    assert!(
        keys.len() > 60,
        "suspiciously few keys found: {}",
        keys.len()
    );
    assert!(
        error_keys.len() > 10,
        "suspiciously few error keys: {error_keys:?}"
    );
    let mut missing = Vec::new();
    for locale in Locale::ALL {
        for key in &keys {
            if !translator.has(locale, key) {
                missing.push(format!("{locale}: {key}"));
            }
        }
        for key in &error_keys {
            let action = format!("{key}.action");
            if !translator.has(locale, &action) {
                missing.push(format!("{locale}: {action}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "missing messages:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_scanner_finds_keys_it_should() {
    let sample = r#"Text { text: Tr.text("nav-home", Tr.revision); } { key: "rating-good" }"#;
    let mut found = literals_after(sample, "Tr.text(\"");
    found.extend(literals_after(sample, "key: \""));
    assert_eq!(found, vec!["nav-home", "rating-good"]);
    assert!(is_error_key("card-error-removed"));
    assert!(!is_error_key("card-error-{}"));
    assert!(!is_error_key("nav-home"));
    let composed = r#"Tr.text("preview-title-" + root.kind, Tr.revision)"#;
    assert!(literals_after(composed, "Tr.text(\"").is_empty());
}
