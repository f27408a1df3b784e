//! Keyboard-wedge decoding: the kernel's `struct input_event` records read from an
//! evdev device, and key presses to characters with the US layout that scanners
//! type in (whatever layout the kiosk's desktop uses: the device is grabbed, so no
//! layout of the desktop applies).
//!
//! Both parts are pure and take any input without panicking; the HID scanner
//! loop feeds them what it reads from the grabbed device.

use evdev::{EventType, InputEvent, KeyCode, SynchronizationCode};
use zeroize::{Zeroize, Zeroizing};

/// Size of one `struct input_event` on this platform (24 bytes on 64-bit Linux).
pub const INPUT_EVENT_SIZE: usize = std::mem::size_of::<InputEvent>();

/// Splits a byte stream into `input_event` records. The evdev device hands out
/// whole records per `read`, but a record split across reads (pipes, replays) is
/// kept until it is whole.
#[derive(Default)]
pub struct InputEventParser {
    /// Bytes of an incomplete record; key codes are part of a code, so zeroized.
    partial: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for InputEventParser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InputEventParser")
            .field("partial", &self.partial.len())
            .finish()
    }
}

impl InputEventParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `on_event` for every whole record in `bytes` (after any partial one
    /// kept from before).
    pub fn feed(&mut self, mut bytes: &[u8], on_event: &mut dyn FnMut(InputEvent)) {
        if !self.partial.is_empty() {
            let wanted = INPUT_EVENT_SIZE - self.partial.len();
            let taken = wanted.min(bytes.len());
            self.partial.extend_from_slice(&bytes[..taken]);
            bytes = &bytes[taken..];
            if self.partial.len() < INPUT_EVENT_SIZE {
                return;
            }
            on_event(record(&self.partial));
            self.partial.zeroize();
        }
        let mut records = bytes.chunks_exact(INPUT_EVENT_SIZE);
        for bytes in records.by_ref() {
            on_event(record(bytes));
        }
        self.partial.extend_from_slice(records.remainder());
    }

    /// Drops a partial record (the device was reopened).
    pub fn clear(&mut self) {
        self.partial.zeroize();
    }
}

/// One record: `struct timeval` (whose size depends on the platform) followed by
/// `__u16 type, __u16 code, __s32 value` in native byte order. The time is not
/// used: the scanner loop times bytes itself.
fn record(bytes: &[u8]) -> InputEvent {
    let tail = &bytes[INPUT_EVENT_SIZE - 8..INPUT_EVENT_SIZE];
    let type_ = u16::from_ne_bytes([tail[0], tail[1]]);
    let code = u16::from_ne_bytes([tail[2], tail[3]]);
    let value = i32::from_ne_bytes([tail[4], tail[5], tail[6], tail[7]]);
    InputEvent::new(type_, code, value)
}

/// What a key press means to the code being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyInput {
    /// A character (or Enter as `\r`, Tab as `\t`).
    Byte(u8),
    /// A key that types nothing a code can hold (function keys, Ctrl or Alt
    /// combinations, Alt+keypad sequences), or events the kernel dropped: the code
    /// being read is lost.
    Unmapped,
}

/// Turns key events into characters, tracking Shift, Caps Lock and the other
/// modifiers. Key releases and auto-repeat produce nothing.
#[derive(Debug, Default)]
pub struct KeyDecoder {
    left_shift: bool,
    right_shift: bool,
    control: bool,
    alt: bool,
    meta: bool,
    caps_lock: bool,
    /// After `SYN_DROPPED`, events up to the next `SYN_REPORT` are incomplete.
    dropping: bool,
}

impl KeyDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn feed(&mut self, event: InputEvent) -> Option<KeyInput> {
        let event_type = event.event_type();
        if event_type == EventType::SYNCHRONIZATION {
            if event.code() == SynchronizationCode::SYN_DROPPED.0 {
                // The kernel's buffer overflowed: keys (and modifier releases) were
                // lost, so neither the code nor the modifier state can be trusted.
                *self = Self {
                    caps_lock: self.caps_lock,
                    dropping: true,
                    ..Self::default()
                };
                return Some(KeyInput::Unmapped);
            }
            if event.code() == SynchronizationCode::SYN_REPORT.0 {
                self.dropping = false;
            }
            return None;
        }
        if self.dropping || event_type != EventType::KEY {
            return None;
        }
        let key = KeyCode::new(event.code());
        let pressed = event.value() != 0;
        match key {
            KeyCode::KEY_LEFTSHIFT => self.left_shift = pressed,
            KeyCode::KEY_RIGHTSHIFT => self.right_shift = pressed,
            KeyCode::KEY_LEFTCTRL | KeyCode::KEY_RIGHTCTRL => self.control = pressed,
            KeyCode::KEY_LEFTALT | KeyCode::KEY_RIGHTALT => self.alt = pressed,
            KeyCode::KEY_LEFTMETA | KeyCode::KEY_RIGHTMETA => self.meta = pressed,
            // Only the press (1) types; release (0) and auto-repeat (2) do not.
            _ if event.value() != 1 => {}
            KeyCode::KEY_CAPSLOCK => self.caps_lock = !self.caps_lock,
            // Scanners set Num Lock before keypad digits; they are digits either way.
            KeyCode::KEY_NUMLOCK => {}
            _ if self.control || self.alt || self.meta => return Some(KeyInput::Unmapped),
            _ => {
                let shift = self.left_shift || self.right_shift;
                return Some(match us_layout(key) {
                    Some(Layout::Letter(lower)) if shift != self.caps_lock => {
                        KeyInput::Byte(lower.to_ascii_uppercase())
                    }
                    Some(Layout::Letter(lower)) => KeyInput::Byte(lower),
                    Some(Layout::Symbol(_, shifted)) if shift => KeyInput::Byte(shifted),
                    Some(Layout::Symbol(plain, _)) => KeyInput::Byte(plain),
                    Some(Layout::Fixed(byte)) => KeyInput::Byte(byte),
                    None => KeyInput::Unmapped,
                });
            }
        }
        None
    }
}

/// What a key types on a US keyboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// A letter (lower case); Shift and Caps Lock make it upper case.
    Letter(u8),
    /// Plain and shifted characters.
    Symbol(u8, u8),
    /// The same with or without Shift (keypad, Enter, Tab, Space).
    Fixed(u8),
}

fn us_layout(key: KeyCode) -> Option<Layout> {
    use Layout::{Fixed, Letter, Symbol};
    Some(match key {
        KeyCode::KEY_A => Letter(b'a'),
        KeyCode::KEY_B => Letter(b'b'),
        KeyCode::KEY_C => Letter(b'c'),
        KeyCode::KEY_D => Letter(b'd'),
        KeyCode::KEY_E => Letter(b'e'),
        KeyCode::KEY_F => Letter(b'f'),
        KeyCode::KEY_G => Letter(b'g'),
        KeyCode::KEY_H => Letter(b'h'),
        KeyCode::KEY_I => Letter(b'i'),
        KeyCode::KEY_J => Letter(b'j'),
        KeyCode::KEY_K => Letter(b'k'),
        KeyCode::KEY_L => Letter(b'l'),
        KeyCode::KEY_M => Letter(b'm'),
        KeyCode::KEY_N => Letter(b'n'),
        KeyCode::KEY_O => Letter(b'o'),
        KeyCode::KEY_P => Letter(b'p'),
        KeyCode::KEY_Q => Letter(b'q'),
        KeyCode::KEY_R => Letter(b'r'),
        KeyCode::KEY_S => Letter(b's'),
        KeyCode::KEY_T => Letter(b't'),
        KeyCode::KEY_U => Letter(b'u'),
        KeyCode::KEY_V => Letter(b'v'),
        KeyCode::KEY_W => Letter(b'w'),
        KeyCode::KEY_X => Letter(b'x'),
        KeyCode::KEY_Y => Letter(b'y'),
        KeyCode::KEY_Z => Letter(b'z'),
        KeyCode::KEY_1 => Symbol(b'1', b'!'),
        KeyCode::KEY_2 => Symbol(b'2', b'@'),
        KeyCode::KEY_3 => Symbol(b'3', b'#'),
        KeyCode::KEY_4 => Symbol(b'4', b'$'),
        KeyCode::KEY_5 => Symbol(b'5', b'%'),
        KeyCode::KEY_6 => Symbol(b'6', b'^'),
        KeyCode::KEY_7 => Symbol(b'7', b'&'),
        KeyCode::KEY_8 => Symbol(b'8', b'*'),
        KeyCode::KEY_9 => Symbol(b'9', b'('),
        KeyCode::KEY_0 => Symbol(b'0', b')'),
        KeyCode::KEY_MINUS => Symbol(b'-', b'_'),
        KeyCode::KEY_EQUAL => Symbol(b'=', b'+'),
        KeyCode::KEY_LEFTBRACE => Symbol(b'[', b'{'),
        KeyCode::KEY_RIGHTBRACE => Symbol(b']', b'}'),
        KeyCode::KEY_BACKSLASH => Symbol(b'\\', b'|'),
        KeyCode::KEY_SEMICOLON => Symbol(b';', b':'),
        KeyCode::KEY_APOSTROPHE => Symbol(b'\'', b'"'),
        KeyCode::KEY_GRAVE => Symbol(b'`', b'~'),
        KeyCode::KEY_COMMA => Symbol(b',', b'<'),
        KeyCode::KEY_DOT => Symbol(b'.', b'>'),
        KeyCode::KEY_SLASH => Symbol(b'/', b'?'),
        KeyCode::KEY_SPACE => Fixed(b' '),
        KeyCode::KEY_ENTER | KeyCode::KEY_KPENTER => Fixed(b'\r'),
        KeyCode::KEY_TAB => Fixed(b'\t'),
        KeyCode::KEY_KP0 => Fixed(b'0'),
        KeyCode::KEY_KP1 => Fixed(b'1'),
        KeyCode::KEY_KP2 => Fixed(b'2'),
        KeyCode::KEY_KP3 => Fixed(b'3'),
        KeyCode::KEY_KP4 => Fixed(b'4'),
        KeyCode::KEY_KP5 => Fixed(b'5'),
        KeyCode::KEY_KP6 => Fixed(b'6'),
        KeyCode::KEY_KP7 => Fixed(b'7'),
        KeyCode::KEY_KP8 => Fixed(b'8'),
        KeyCode::KEY_KP9 => Fixed(b'9'),
        KeyCode::KEY_KPDOT => Fixed(b'.'),
        KeyCode::KEY_KPPLUS => Fixed(b'+'),
        KeyCode::KEY_KPMINUS => Fixed(b'-'),
        KeyCode::KEY_KPASTERISK => Fixed(b'*'),
        KeyCode::KEY_KPSLASH => Fixed(b'/'),
        KeyCode::KEY_KPEQUAL => Fixed(b'='),
        _ => return None,
    })
}

/// The key (and whether Shift is held) that types `byte` on a US keyboard, as a
/// scanner in keyboard-wedge mode sends it; `None` for bytes no key types. Enter
/// types `\r`. Used to drive virtual keyboards in tests and benchmarks.
pub fn us_key_for(byte: u8) -> Option<(KeyCode, bool)> {
    const KEYS: [KeyCode; 47] = [
        KeyCode::KEY_A,
        KeyCode::KEY_B,
        KeyCode::KEY_C,
        KeyCode::KEY_D,
        KeyCode::KEY_E,
        KeyCode::KEY_F,
        KeyCode::KEY_G,
        KeyCode::KEY_H,
        KeyCode::KEY_I,
        KeyCode::KEY_J,
        KeyCode::KEY_K,
        KeyCode::KEY_L,
        KeyCode::KEY_M,
        KeyCode::KEY_N,
        KeyCode::KEY_O,
        KeyCode::KEY_P,
        KeyCode::KEY_Q,
        KeyCode::KEY_R,
        KeyCode::KEY_S,
        KeyCode::KEY_T,
        KeyCode::KEY_U,
        KeyCode::KEY_V,
        KeyCode::KEY_W,
        KeyCode::KEY_X,
        KeyCode::KEY_Y,
        KeyCode::KEY_Z,
        KeyCode::KEY_1,
        KeyCode::KEY_2,
        KeyCode::KEY_3,
        KeyCode::KEY_4,
        KeyCode::KEY_5,
        KeyCode::KEY_6,
        KeyCode::KEY_7,
        KeyCode::KEY_8,
        KeyCode::KEY_9,
        KeyCode::KEY_0,
        KeyCode::KEY_MINUS,
        KeyCode::KEY_EQUAL,
        KeyCode::KEY_LEFTBRACE,
        KeyCode::KEY_RIGHTBRACE,
        KeyCode::KEY_BACKSLASH,
        KeyCode::KEY_SEMICOLON,
        KeyCode::KEY_APOSTROPHE,
        KeyCode::KEY_GRAVE,
        KeyCode::KEY_COMMA,
        KeyCode::KEY_DOT,
        KeyCode::KEY_SLASH,
    ];
    if byte == b'\r' {
        return Some((KeyCode::KEY_ENTER, false));
    }
    if byte == b'\t' {
        return Some((KeyCode::KEY_TAB, false));
    }
    if byte == b' ' {
        return Some((KeyCode::KEY_SPACE, false));
    }
    KEYS.iter().find_map(|&key| match us_layout(key)? {
        Layout::Letter(lower) if lower == byte => Some((key, false)),
        Layout::Letter(lower) if lower.to_ascii_uppercase() == byte => Some((key, true)),
        Layout::Symbol(plain, _) if plain == byte => Some((key, false)),
        Layout::Symbol(_, shifted) if shifted == byte => Some((key, true)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: u16, value: i32) -> InputEvent {
        InputEvent::new(EventType::KEY.0, code, value)
    }

    fn report() -> InputEvent {
        InputEvent::new(EventType::SYNCHRONIZATION.0, 0, 0)
    }

    /// Presses and releases a key by its kernel code, as a scanner does.
    fn tap(decoder: &mut KeyDecoder, code: u16) -> Option<KeyInput> {
        let typed = decoder.feed(key(code, 1));
        assert_eq!(decoder.feed(report()), None);
        assert_eq!(decoder.feed(key(code, 0)), None);
        assert_eq!(decoder.feed(report()), None);
        typed
    }

    /// The US layout checked against the kernel's key numbers
    /// (`linux/input-event-codes.h`), written out here independently of the table.
    #[test]
    fn us_layout_matches_the_kernel_key_numbers() {
        let rows: [(u16, &str, &str); 4] = [
            (2, "1234567890-=", "!@#$%^&*()_+"),
            (16, "qwertyuiop[]", "QWERTYUIOP{}"),
            (30, "asdfghjkl;'`", "ASDFGHJKL:\"~"),
            (43, "\\zxcvbnm,./", "|ZXCVBNM<>?"),
        ];
        let mut decoder = KeyDecoder::new();
        for (first, plain, shifted) in rows {
            for (offset, (plain, shifted)) in plain.bytes().zip(shifted.bytes()).enumerate() {
                let code = first + offset as u16;
                assert_eq!(
                    tap(&mut decoder, code),
                    Some(KeyInput::Byte(plain)),
                    "key {code}"
                );
                assert_eq!(decoder.feed(key(42, 1)), None);
                assert_eq!(decoder.feed(key(code, 1)), Some(KeyInput::Byte(shifted)));
                assert_eq!(decoder.feed(key(code, 0)), None);
                assert_eq!(decoder.feed(key(42, 0)), None);
                assert_eq!(us_key_for(plain), Some((KeyCode::new(code), false)));
                assert_eq!(us_key_for(shifted), Some((KeyCode::new(code), true)));
            }
        }
        for (code, byte) in [
            (28, b'\r'),
            (96, b'\r'),
            (15, b'\t'),
            (57, b' '),
            (82, b'0'),
            (79, b'1'),
            (73, b'9'),
            (83, b'.'),
            (98, b'/'),
        ] {
            assert_eq!(
                tap(&mut decoder, code),
                Some(KeyInput::Byte(byte)),
                "key {code}"
            );
        }
        // Every printable ASCII character has a key.
        assert!((0x20..0x7f).all(|byte| us_key_for(byte).is_some()));
        assert_eq!(us_key_for(0x07), None);
        assert_eq!(us_key_for(0xe4), None);
    }

    #[test]
    fn right_shift_caps_lock_and_repeat() {
        let mut decoder = KeyDecoder::new();
        assert_eq!(decoder.feed(key(54, 1)), None);
        assert_eq!(decoder.feed(key(54, 2)), None);
        assert_eq!(decoder.feed(key(30, 1)), Some(KeyInput::Byte(b'A')));
        assert_eq!(decoder.feed(key(30, 2)), None, "auto-repeat types nothing");
        assert_eq!(decoder.feed(key(54, 0)), None);
        assert_eq!(tap(&mut decoder, 58), None, "caps lock on");
        assert_eq!(tap(&mut decoder, 30), Some(KeyInput::Byte(b'A')));
        assert_eq!(
            tap(&mut decoder, 2),
            Some(KeyInput::Byte(b'1')),
            "caps lock leaves digits"
        );
        assert_eq!(decoder.feed(key(42, 1)), None);
        assert_eq!(decoder.feed(key(30, 1)), Some(KeyInput::Byte(b'a')));
        assert_eq!(decoder.feed(key(42, 0)), None);
        assert_eq!(tap(&mut decoder, 58), None, "caps lock off");
        assert_eq!(tap(&mut decoder, 30), Some(KeyInput::Byte(b'a')));
    }

    #[test]
    fn keys_without_characters_and_modifier_chords_are_unmapped() {
        let mut decoder = KeyDecoder::new();
        assert_eq!(tap(&mut decoder, 59), Some(KeyInput::Unmapped), "F1");
        assert_eq!(tap(&mut decoder, 14), Some(KeyInput::Unmapped), "Backspace");
        assert_eq!(tap(&mut decoder, 1), Some(KeyInput::Unmapped), "Escape");
        assert_eq!(tap(&mut decoder, 69), None, "Num Lock");
        assert_eq!(decoder.feed(key(29, 1)), None);
        assert_eq!(decoder.feed(key(36, 1)), Some(KeyInput::Unmapped), "Ctrl+J");
        assert_eq!(decoder.feed(key(29, 0)), None);
        assert_eq!(decoder.feed(key(56, 1)), None);
        assert_eq!(
            decoder.feed(key(79, 1)),
            Some(KeyInput::Unmapped),
            "Alt+KP1"
        );
        assert_eq!(decoder.feed(key(56, 0)), None);
        assert_eq!(tap(&mut decoder, 36), Some(KeyInput::Byte(b'j')));
        // Other event types (scan codes, LEDs) are not keys.
        assert_eq!(
            decoder.feed(InputEvent::new(EventType::MISC.0, 4, 0x70004)),
            None
        );
    }

    #[test]
    fn dropped_events_lose_the_code_and_the_shift_state() {
        let mut decoder = KeyDecoder::new();
        assert_eq!(decoder.feed(key(42, 1)), None);
        let dropped = InputEvent::new(EventType::SYNCHRONIZATION.0, 3, 0);
        assert_eq!(decoder.feed(dropped), Some(KeyInput::Unmapped));
        // Until the next report, events are partial and ignored.
        assert_eq!(decoder.feed(key(30, 1)), None);
        assert_eq!(decoder.feed(report()), None);
        assert_eq!(decoder.feed(key(30, 0)), None);
        assert_eq!(tap(&mut decoder, 30), Some(KeyInput::Byte(b'a')));
    }

    /// A record laid out as the kernel writes it.
    fn raw(seconds: i64, type_: u16, code: u16, value: i32) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(INPUT_EVENT_SIZE);
        let time_field = (INPUT_EVENT_SIZE - 8) / 2;
        bytes.extend_from_slice(&seconds.to_ne_bytes()[..time_field]);
        bytes.extend_from_slice(&123_456i64.to_ne_bytes()[..time_field]);
        bytes.extend_from_slice(&type_.to_ne_bytes());
        bytes.extend_from_slice(&code.to_ne_bytes());
        bytes.extend_from_slice(&value.to_ne_bytes());
        bytes
    }

    #[test]
    fn records_split_anywhere_parse_whole() {
        assert_eq!(
            INPUT_EVENT_SIZE,
            std::mem::size_of::<libc_input_event_probe::Probe>()
        );
        let stream: Vec<u8> = [
            raw(1, 1, 30, 1),
            raw(1, 0, 0, 0),
            raw(2, 1, 30, 0),
            raw(2, 4, 4, -5),
        ]
        .concat();
        for split in 0..stream.len() {
            let mut parser = InputEventParser::new();
            let mut seen = Vec::new();
            let (a, b) = stream.split_at(split);
            parser.feed(a, &mut |event| {
                seen.push((event.event_type().0, event.code(), event.value()))
            });
            parser.feed(b, &mut |event| {
                seen.push((event.event_type().0, event.code(), event.value()))
            });
            assert_eq!(
                seen,
                vec![(1, 30, 1), (0, 0, 0), (1, 30, 0), (4, 4, -5)],
                "split at {split}"
            );
            assert!(parser.partial.is_empty());
        }
    }

    /// The C layout of `struct input_event`, to check the record size against.
    mod libc_input_event_probe {
        #[repr(C)]
        pub struct Probe {
            pub seconds: std::ffi::c_long,
            pub microseconds: std::ffi::c_long,
            pub type_: u16,
            pub code: u16,
            pub value: i32,
        }
    }
}
