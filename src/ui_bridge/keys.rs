//! Keys no focused element took, as a keyboard or a kiosk's tactile keypad sends
//! them: what each means on the current screen. Pure: the window dispatches the
//! focus moves, the kiosk gets the inputs.
//!
//! | Key | Meaning |
//! |---|---|
//! | Tab, Shift+Tab (handled by the window), ↓ →, ↑ ← | next / previous element, in reading order |
//! | Enter, Space (on a focused element) | press it |
//! | 0–9 | a PIN or keypad digit (on other screens: nothing but "still here") |
//! | A–Z | a keypad letter where the field takes letters |
//! | Backspace | delete the last PIN or keypad character; elsewhere, back |
//! | Enter or # (nothing focused) | submit the PIN or the keypad field |
//! | Escape | back |
//! | F1 or * | say the screen again |
//! | F2 | voice guidance on / off |
//! | F3, F4 | speak slower, faster |
//! | + (or =), - | louder, softer |

use slint::SharedString;
use slint::platform::Key;

use crate::session::{Screen, UiAction};
use crate::view::{Input, VoiceCommand};

/// What a key does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KeyOutcome {
    Input(Input),
    FocusNext,
    FocusPrevious,
}

fn is(text: &str, key: Key) -> bool {
    text == SharedString::from(key).as_str()
}

/// The meaning of `text` (a Slint key event's text) on `screen`.
/// `letters`: the keypad on screen takes letters.
pub fn key_outcome(screen: Screen, letters: bool, text: &str) -> KeyOutcome {
    let ui = |action| KeyOutcome::Input(Input::Ui(action));
    let voice = |command| KeyOutcome::Input(Input::Voice(command));
    let pin = matches!(screen, Screen::PinEntry | Screen::MaintenanceLogin);
    let keypad = matches!(screen, Screen::Keypad(_));
    if is(text, Key::DownArrow) || is(text, Key::RightArrow) {
        return KeyOutcome::FocusNext;
    }
    if is(text, Key::UpArrow) || is(text, Key::LeftArrow) {
        return KeyOutcome::FocusPrevious;
    }
    if is(text, Key::Escape) {
        return ui(UiAction::Back);
    }
    if is(text, Key::Backspace) {
        return ui(if pin {
            UiAction::PinBackspace
        } else if keypad {
            UiAction::KeyBackspace
        } else {
            UiAction::Back
        });
    }
    if is(text, Key::Return) || text == "#" {
        return ui(if pin {
            UiAction::PinSubmit
        } else if keypad {
            UiAction::KeySubmit
        } else {
            UiAction::Touch
        });
    }
    if is(text, Key::F1) || text == "*" {
        return voice(VoiceCommand::Repeat);
    }
    if is(text, Key::F2) {
        return ui(UiAction::ToggleVoice);
    }
    if is(text, Key::F3) {
        return voice(VoiceCommand::Slower);
    }
    if is(text, Key::F4) {
        return voice(VoiceCommand::Faster);
    }
    match text {
        "+" | "=" => return voice(VoiceCommand::Louder),
        "-" => return voice(VoiceCommand::Softer),
        _ => {}
    }
    let mut chars = text.chars();
    if let (Some(c), None) = (chars.next(), chars.next()) {
        if let Some(digit) = c.to_digit(10) {
            if pin {
                return ui(UiAction::PinDigit(digit as u8));
            }
            if keypad {
                return ui(UiAction::Key(c));
            }
        } else if c.is_ascii_alphabetic() && keypad && letters {
            return ui(UiAction::Key(c.to_ascii_uppercase()));
        }
    }
    // Any other key: the resident is still there.
    ui(UiAction::Touch)
}

/// The key event text for a key's name in headless scripts (`key Down`,
/// `key Enter`, `key 7`, `key F2`).
pub fn key_text(name: &str) -> Option<SharedString> {
    let key = match name {
        "Tab" => Key::Tab,
        "Backtab" | "Shift+Tab" => Key::Backtab,
        "Enter" | "Return" => Key::Return,
        "Escape" | "Esc" => Key::Escape,
        "Backspace" => Key::Backspace,
        "Up" => Key::UpArrow,
        "Down" => Key::DownArrow,
        "Left" => Key::LeftArrow,
        "Right" => Key::RightArrow,
        "F1" => Key::F1,
        "F2" => Key::F2,
        "F3" => Key::F3,
        "F4" => Key::F4,
        "Space" => return Some(" ".into()),
        "Plus" => return Some("+".into()),
        "Minus" => return Some("-".into()),
        "Star" => return Some("*".into()),
        "Hash" => return Some("#".into()),
        other => {
            let mut chars = other.chars();
            return match (chars.next(), chars.next()) {
                (Some(c), None) if c.is_ascii_alphanumeric() => Some(c.to_string().into()),
                _ => None,
            };
        }
    };
    Some(key.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::KeypadField;

    fn named(screen: Screen, letters: bool, name: &str) -> KeyOutcome {
        key_outcome(screen, letters, &key_text(name).expect("a key name"))
    }

    #[test]
    fn digits_go_into_the_pin_and_the_keypad_only() {
        assert_eq!(
            named(Screen::PinEntry, false, "7"),
            KeyOutcome::Input(Input::Ui(UiAction::PinDigit(7)))
        );
        let keypad = Screen::Keypad(KeypadField::ApplicationNumber);
        assert_eq!(
            named(keypad, true, "7"),
            KeyOutcome::Input(Input::Ui(UiAction::Key('7')))
        );
        assert_eq!(
            named(keypad, true, "q"),
            KeyOutcome::Input(Input::Ui(UiAction::Key('Q')))
        );
        let phone = Screen::Keypad(KeypadField::Phone);
        assert_eq!(
            named(phone, false, "q"),
            KeyOutcome::Input(Input::Ui(UiAction::Touch))
        );
        assert_eq!(
            named(Screen::Services, false, "7"),
            KeyOutcome::Input(Input::Ui(UiAction::Touch))
        );
    }

    #[test]
    fn arrows_move_the_focus_and_editing_keys_follow_the_screen() {
        assert_eq!(
            named(Screen::Services, false, "Down"),
            KeyOutcome::FocusNext
        );
        assert_eq!(
            named(Screen::Services, false, "Right"),
            KeyOutcome::FocusNext
        );
        assert_eq!(
            named(Screen::Services, false, "Up"),
            KeyOutcome::FocusPrevious
        );
        assert_eq!(
            named(Screen::PinEntry, false, "Backspace"),
            KeyOutcome::Input(Input::Ui(UiAction::PinBackspace))
        );
        assert_eq!(
            named(Screen::Services, false, "Backspace"),
            KeyOutcome::Input(Input::Ui(UiAction::Back))
        );
        assert_eq!(
            named(Screen::PinEntry, false, "Hash"),
            KeyOutcome::Input(Input::Ui(UiAction::PinSubmit))
        );
        assert_eq!(
            named(Screen::Keypad(KeypadField::Phone), false, "Enter"),
            KeyOutcome::Input(Input::Ui(UiAction::KeySubmit))
        );
        assert_eq!(
            named(Screen::Rating, false, "Escape"),
            KeyOutcome::Input(Input::Ui(UiAction::Back))
        );
    }

    #[test]
    fn voice_keys() {
        let voice = |c| KeyOutcome::Input(Input::Voice(c));
        assert_eq!(
            named(Screen::Attract, false, "F2"),
            KeyOutcome::Input(Input::Ui(UiAction::ToggleVoice))
        );
        assert_eq!(
            named(Screen::Services, false, "F1"),
            voice(VoiceCommand::Repeat)
        );
        assert_eq!(
            named(Screen::PinEntry, false, "Star"),
            voice(VoiceCommand::Repeat)
        );
        assert_eq!(
            named(Screen::Services, false, "F3"),
            voice(VoiceCommand::Slower)
        );
        assert_eq!(
            named(Screen::Services, false, "F4"),
            voice(VoiceCommand::Faster)
        );
        assert_eq!(
            named(Screen::Services, false, "Plus"),
            voice(VoiceCommand::Louder)
        );
        assert_eq!(
            named(Screen::Services, false, "Minus"),
            voice(VoiceCommand::Softer)
        );
    }

    #[test]
    fn unknown_key_names_are_refused() {
        for name in ["", "F13", "Ctrl+C", "ab", "é"] {
            assert_eq!(key_text(name), None, "{name}");
        }
    }
}
