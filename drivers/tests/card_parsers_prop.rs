//! Property tests for the card parsers: no input panics, and what is encoded
//! decodes back. `PROPTEST_CASES` raises the case count for longer runs.

use proptest::prelude::*;
use zeroize::Zeroizing;

use estation_drivers::card::apdu::{self, Command, Response, StatusWord};
use estation_drivers::card::profile::{self, social_security};
use estation_drivers::card::session::{ApduTransport, CardSession};
use estation_drivers::card::{CardError, Pin};

/// Decodes a command APDU per ISO 7816-4 (the inverse of `Command::to_bytes`).
fn decode_command(bytes: &[u8]) -> Option<(Vec<u8>, Option<usize>)> {
    let body = bytes.get(4..)?;
    match body {
        [] => Some((Vec::new(), None)),
        [le] => Some((
            Vec::new(),
            Some(if *le == 0 { 256 } else { usize::from(*le) }),
        )),
        [0, hi, lo] => {
            let le = usize::from(u16::from_be_bytes([*hi, *lo]));
            Some((Vec::new(), Some(if le == 0 { 65_536 } else { le })))
        }
        [0, hi, lo, rest @ ..] => {
            let nc = usize::from(u16::from_be_bytes([*hi, *lo]));
            let data = rest.get(..nc)?.to_vec();
            match &rest[nc..] {
                [] => Some((data, None)),
                [a, b] => {
                    let le = usize::from(u16::from_be_bytes([*a, *b]));
                    Some((data, Some(if le == 0 { 65_536 } else { le })))
                }
                _ => None,
            }
        }
        [nc, rest @ ..] => {
            let nc = usize::from(*nc);
            let data = rest.get(..nc)?.to_vec();
            match &rest[nc..] {
                [] => Some((data, None)),
                [le] => Some((data, Some(if *le == 0 { 256 } else { usize::from(*le) }))),
                _ => None,
            }
        }
    }
}

/// A card that answers each command with the next scripted byte string.
struct ScriptedCard {
    answers: Vec<Vec<u8>>,
    next: usize,
}

impl ApduTransport for ScriptedCard {
    fn transmit_raw(&mut self, _command: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
        let answer = self.answers.get(self.next).cloned();
        self.next += 1;
        // Past the script the card is gone, as if pulled.
        answer.map(Zeroizing::new).ok_or(CardError::CardRemoved)
    }
}

/// Answers that look like card answers often enough to get deep into the
/// profiles: success with TLV-ish data, chaining and length hints, PIN words.
fn card_answer() -> impl Strategy<Value = Vec<u8>> {
    let status = prop_oneof![
        Just(vec![0x90, 0x00]),
        Just(vec![0x69, 0x82]),
        Just(vec![0x6A, 0x83]),
        Just(vec![0x69, 0x83]),
        (0u8..16).prop_map(|n| vec![0x63, 0xC0 | n]),
        any::<u8>().prop_map(|n| vec![0x61, n]),
        any::<u8>().prop_map(|n| vec![0x6C, n]),
        any::<[u8; 2]>().prop_map(|sw| sw.to_vec()),
    ];
    let data = prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..40),
        (1u8..0x20, proptest::collection::vec(any::<u8>(), 0..40))
            .prop_map(|(tag, value)| apdu::encode_simple_tlv(tag, &value)),
    ];
    prop_oneof![
        (data, status).prop_map(|(mut d, s)| {
            d.extend(s);
            d
        }),
        proptest::collection::vec(any::<u8>(), 0..4),
    ]
}

proptest! {
    #[test]
    fn commands_round_trip(
        ins in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..400),
        le in proptest::option::of(1usize..=65_536),
    ) {
        let mut command = Command::new(0, ins, 1, 2).with_data(&data);
        command.le = le;
        let bytes = command.to_bytes().unwrap();
        prop_assert_eq!(&bytes[..4], &[0, ins, 1, 2]);
        prop_assert_eq!(decode_command(&bytes), Some((data, le)));
    }

    #[test]
    fn responses_split_any_bytes(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
        match Response::parse(&raw) {
            Ok(response) => {
                prop_assert_eq!(response.data.len() + 2, raw.len());
                prop_assert_eq!(response.sw, StatusWord(u16::from_be_bytes([raw[raw.len() - 2], raw[raw.len() - 1]])));
            }
            Err(_) => prop_assert!(raw.len() < 2),
        }
    }

    #[test]
    fn simple_tlv_never_panics_and_round_trips(
        raw in proptest::collection::vec(any::<u8>(), 0..300),
        tag in 1u8..0xFF,
        value in proptest::collection::vec(any::<u8>(), 0..700),
    ) {
        if let Ok((tlv, rest)) = apdu::parse_simple_tlv(&raw) {
            prop_assert!(tlv.value.len() + rest.len() < raw.len());
        }
        let encoded = apdu::encode_simple_tlv(tag, &value);
        let (tlv, rest) = apdu::parse_simple_tlv(&encoded).unwrap();
        prop_assert_eq!((tlv.tag, tlv.value), (tag, &value[..]));
        prop_assert!(rest.is_empty());
    }

    #[test]
    fn field_decoders_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
        if let Ok(name) = social_security::decode_name(&raw) {
            prop_assert!(!name.is_empty());
        }
        if let Ok(id) = social_security::decode_id_number(&raw) {
            prop_assert!(id.len() == 18 || id.len() == 15);
        }
        if let Some(date) = social_security::decode_bcd_date(&raw) {
            prop_assert_eq!(date.len(), 10);
        }
        let _ = social_security::decode_card_number(&raw);
        let _ = social_security::decode_gender(&raw);
    }

    #[test]
    fn exchange_is_bounded_on_any_answers(answers in proptest::collection::vec(card_answer(), 1..400)) {
        let mut card = ScriptedCard { answers, next: 0 };
        let mut session = CardSession::new(&mut card);
        let _ = session.exchange(&apdu::read_record(1, 256));
        prop_assert!(session.apdu_count() <= apdu::MAX_GET_RESPONSE_ROUNDS + 2);
    }

    #[test]
    fn profiles_survive_any_card(
        answers in proptest::collection::vec(card_answer(), 0..40),
        atr in proptest::collection::vec(any::<u8>(), 0..33),
        with_pin in any::<bool>(),
    ) {
        let pin = Pin::new("123456");
        let mut card = ScriptedCard { answers, next: 0 };
        let mut session = CardSession::new(&mut card);
        // Whatever the card says, the result is a whole identity or an error.
        if let Ok(identity) = profile::read_identity(&mut session, &atr, with_pin.then_some(&pin)) {
            prop_assert!(!identity.name.is_empty());
            prop_assert!(!identity.id_number.is_empty());
            prop_assert!(!identity.card_number.is_empty());
        }
    }
}
