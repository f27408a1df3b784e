//! Property tests for the scanner's decoders: no input makes them panic, what
//! they deliver is always a clean code within the bound, and clean codes come
//! through unchanged. `PROPTEST_CASES` raises the case count for longer runs.

use estation_drivers::scanner::{CodeFramer, ScanError, Suffix};
use proptest::prelude::*;

#[derive(Clone, Debug)]
enum Step {
    Byte(u8),
    Poison,
    Expire,
    Interrupt,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => any::<u8>().prop_map(Step::Byte),
        // Bytes that matter to framing, so suffixes and controls come often.
        4 => prop::sample::select(vec![b'\r', b'\n', b'\t', 0u8, 0x7f, 0xc2, 0x85, 0xff, b'A'])
            .prop_map(Step::Byte),
        1 => Just(Step::Poison),
        1 => Just(Step::Expire),
        1 => Just(Step::Interrupt),
    ]
}

fn suffix() -> impl Strategy<Value = Suffix> {
    prop::sample::select(vec![
        Suffix::Cr,
        Suffix::Lf,
        Suffix::CrLf,
        Suffix::Any,
        Suffix::Tab,
    ])
}

/// Checks one framer outcome: a code is non-empty, within the bound and clean.
fn check(outcome: Result<String, ScanError>, max_len: usize) -> Result<(), TestCaseError> {
    match outcome {
        Ok(text) => {
            prop_assert!(!text.is_empty());
            prop_assert!(text.len() <= max_len, "{} > {max_len}", text.len());
            prop_assert!(!text.chars().any(char::is_control), "{text:?}");
        }
        Err(why) => prop_assert!(why.is_read_error(), "{why}"),
    }
    Ok(())
}

proptest! {
    #[test]
    fn the_framer_takes_any_input(
        suffix in suffix(),
        max_len in 1usize..48,
        steps in prop::collection::vec(step(), 0..400),
    ) {
        let mut framer = CodeFramer::new(suffix, max_len);
        for step in steps {
            match step {
                Step::Byte(byte) => {
                    if let Some(outcome) = framer.push(byte) {
                        check(outcome.map(|code| code.as_str().to_owned()), max_len)?;
                    }
                }
                Step::Poison => {
                    if let Some(outcome) = framer.poison() {
                        check(outcome.map(|code| code.as_str().to_owned()), max_len)?;
                    }
                }
                Step::Expire => {
                    if let Some(why) = framer.expire() {
                        check(Err(why), max_len)?;
                    }
                    prop_assert!(!framer.has_partial());
                }
                Step::Interrupt => {
                    if let Some(why) = framer.interrupt() {
                        check(Err(why), max_len)?;
                    }
                    prop_assert!(!framer.has_partial());
                }
            }
            prop_assert!(framer.pending_len() <= max_len);
        }
    }

    #[test]
    fn clean_codes_come_through_whatever_line_ending(
        codes in prop::collection::vec("\\PC{1,24}", 1..8),
        endings in prop::collection::vec(prop::sample::select(vec!["\r", "\n", "\r\n"]), 8),
        max_len in 1usize..64,
    ) {
        let mut framer = CodeFramer::new(Suffix::Any, max_len);
        let mut seen = Vec::new();
        for (code, ending) in codes.iter().zip(endings.iter().cycle()) {
            for byte in code.bytes().chain(ending.bytes()) {
                if let Some(outcome) = framer.push(byte) {
                    seen.push(outcome.map(|code| code.as_str().to_owned()));
                }
            }
        }
        let expected: Vec<Result<String, ScanError>> = codes
            .iter()
            .map(|code| {
                if code.len() <= max_len {
                    Ok(code.clone())
                } else {
                    Err(ScanError::TooLong { limit: max_len })
                }
            })
            .collect();
        prop_assert_eq!(seen, expected);
        prop_assert!(!framer.has_partial());
    }
}

#[cfg(target_os = "linux")]
mod keyboard_wedge {
    use super::*;
    use estation_drivers::scanner::keyboard::{
        INPUT_EVENT_SIZE, InputEventParser, KeyDecoder, KeyInput, us_key_for,
    };

    fn record(type_: u16, code: u16, value: i32) -> Vec<u8> {
        let time_field = (INPUT_EVENT_SIZE - 8) / 2;
        let mut bytes = vec![0u8; 2 * time_field];
        bytes.extend_from_slice(&type_.to_ne_bytes());
        bytes.extend_from_slice(&code.to_ne_bytes());
        bytes.extend_from_slice(&value.to_ne_bytes());
        bytes
    }

    /// Runs bytes, cut into the given pieces, through parser, decoder and framer.
    fn decode(stream: &[u8], cuts: &[usize], max_len: usize) -> Vec<Result<String, ScanError>> {
        let mut parser = InputEventParser::new();
        let mut keys = KeyDecoder::new();
        let mut framer = CodeFramer::new(Suffix::Cr, max_len);
        let mut seen = Vec::new();
        let mut rest = stream;
        let mut cuts = cuts.iter().cycle();
        while !rest.is_empty() {
            let take = (*cuts.next().unwrap_or(&rest.len())).clamp(1, rest.len());
            let (piece, tail) = rest.split_at(take);
            rest = tail;
            parser.feed(piece, &mut |event| {
                let outcome = match keys.feed(event) {
                    Some(KeyInput::Byte(byte)) => framer.push(byte),
                    Some(KeyInput::Unmapped) => framer.poison(),
                    None => None,
                };
                if let Some(outcome) = outcome {
                    seen.push(outcome.map(|code| code.as_str().to_owned()));
                }
            });
        }
        seen
    }

    proptest! {
        #[test]
        fn any_bytes_from_an_input_device_are_survived(
            stream in prop::collection::vec(any::<u8>(), 0..4096),
            cuts in prop::collection::vec(1usize..64, 1..8),
            max_len in 1usize..48,
        ) {
            for outcome in decode(&stream, &cuts, max_len) {
                check(outcome, max_len)?;
            }
        }

        #[test]
        fn any_key_events_are_survived(
            events in prop::collection::vec((0u16..6, 0u16..260, -1i32..4), 0..600),
            max_len in 1usize..48,
        ) {
            let stream: Vec<u8> = events
                .iter()
                .flat_map(|&(type_, code, value)| record(type_, code, value))
                .collect();
            for outcome in decode(&stream, &[INPUT_EVENT_SIZE], max_len) {
                check(outcome, max_len)?;
            }
        }

        #[test]
        fn typed_ascii_codes_come_through(
            codes in prop::collection::vec("[ -~]{1,40}", 1..5),
            cuts in prop::collection::vec(1usize..100, 1..6),
        ) {
            let mut stream = Vec::new();
            for code in &codes {
                for byte in code.bytes().chain([b'\r']) {
                    let (key, shift) = us_key_for(byte).unwrap();
                    if shift {
                        stream.extend(record(1, 42, 1));
                    }
                    stream.extend(record(1, key.0, 1));
                    stream.extend(record(0, 0, 0));
                    stream.extend(record(1, key.0, 0));
                    if shift {
                        stream.extend(record(1, 42, 0));
                    }
                    stream.extend(record(0, 0, 0));
                }
            }
            let expected: Vec<Result<String, ScanError>> =
                codes.iter().map(|code| Ok(code.clone())).collect();
            prop_assert_eq!(decode(&stream, &cuts, 64), expected);
        }
    }
}
