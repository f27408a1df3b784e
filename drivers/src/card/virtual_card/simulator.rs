//! The card's side of the conversation: file systems built from fixtures and the
//! answers an ISO 7816 card gives, with optional misbehaviour.

use std::time::Duration;

use encoding_rs::GB18030;
use zeroize::Zeroizing;

use crate::card::CardError;
use crate::card::apdu::encode_simple_tlv;
use crate::card::profile::service_card::{self, ServiceRole};
use crate::card::profile::social_security as ssse;
use crate::card::session::ApduTransport;

/// ATR of the virtual social security card: T=0, historical bytes "SSSE-VIRTUAL".
pub const SOCIAL_SECURITY_ATR: &[u8] = &[
    0x3B, 0x6C, 0x00, 0x00, b'S', b'S', b'S', b'E', b'-', b'V', b'I', b'R', b'T', b'U', b'A', b'L',
];

/// The personal data on a virtual social security card. Test data only.
#[derive(Clone, Debug)]
pub struct SocialSecurityFixture {
    /// EF05 record 7, nine characters.
    pub card_number: String,
    /// EF06 record 1, the 18-character citizen ID number.
    pub id_number: String,
    /// EF06 record 2, written in GB18030 (GBK for common characters).
    pub name: String,
    /// EF06 gender code, GB/T 2261.1: `b'1'` male, `b'2'` female.
    pub gender_code: u8,
    /// EF06 record 7 as BCD `YYYYMMDD`; `None` leaves the record out.
    pub birth_date_bcd: Option<[u8; 4]>,
    /// When set, EF06 is readable only after VERIFY with this PIN.
    pub pin: Option<String>,
    /// PIN tries left (the card's counter; 0 means blocked).
    pub pin_tries: u8,
    /// First-generation layout: gender in EF06 record 3 instead of 4.
    pub first_generation: bool,
}

impl SocialSecurityFixture {
    /// A typical card: common name, no PIN on EF06.
    pub fn sample() -> Self {
        Self {
            card_number: "A01234567".into(),
            id_number: "11010519491231002X".into(),
            name: "张三".into(),
            gender_code: b'1',
            birth_date_bcd: Some([0x19, 0x49, 0x12, 0x31]),
            pin: None,
            pin_tries: 3,
            first_generation: false,
        }
    }
}

/// The technician data on a virtual service card. Test data only.
#[derive(Clone, Debug)]
pub struct ServiceCardFixture {
    pub card_serial: String,
    pub technician_id: String,
    pub name: String,
    pub role: ServiceRole,
    pub pin: String,
    pub pin_tries: u8,
}

impl ServiceCardFixture {
    pub fn sample() -> Self {
        Self {
            card_serial: "SC000001".into(),
            technician_id: "T-0042".into(),
            name: "王工程师".into(),
            role: ServiceRole::Technician,
            pin: "2468".into(),
            pin_tries: 5,
        }
    }
}

/// Which application the card carries.
#[derive(Clone, Debug)]
pub enum CardApplication {
    SocialSecurity(SocialSecurityFixture),
    ServiceCard(ServiceCardFixture),
    /// No application the kiosk knows: every SELECT fails.
    Foreign,
}

/// How the card misbehaves. The default is a well-behaved card.
#[derive(Clone, Debug, Default)]
pub struct Behaviour {
    /// Waited before each answer (a slow card).
    pub response_delay: Duration,
    /// The card disappears (connection closed, as if pulled) instead of
    /// answering its N-th command APDU, counting from 1.
    pub vanish_at_apdu: Option<usize>,
    /// From the N-th command APDU on, answers are garbage bytes.
    pub garbage_from_apdu: Option<usize>,
    /// Answers READ RECORD with `61xx` and hands the data out through GET
    /// RESPONSE in pieces of at most 8 bytes.
    pub chain_responses: bool,
    /// Answers READ RECORD whose Le is not the record length with `6Cxx`.
    pub demand_exact_le: bool,
}

/// Everything that defines a virtual card.
#[derive(Clone, Debug)]
pub struct VirtualCardSpec {
    /// Answer to reset; empty makes the card mute.
    pub atr: Vec<u8>,
    pub application: CardApplication,
    pub behaviour: Behaviour,
}

impl VirtualCardSpec {
    pub fn social_security(fixture: SocialSecurityFixture) -> Self {
        Self {
            atr: SOCIAL_SECURITY_ATR.to_vec(),
            application: CardApplication::SocialSecurity(fixture),
            behaviour: Behaviour::default(),
        }
    }

    pub fn service_card(fixture: ServiceCardFixture) -> Self {
        Self {
            atr: service_card::ATR.to_vec(),
            application: CardApplication::ServiceCard(fixture),
            behaviour: Behaviour::default(),
        }
    }

    /// A card with a valid ATR and no application the kiosk knows.
    pub fn foreign() -> Self {
        Self {
            atr: vec![0x3B, 0x02, 0x14, 0x50],
            application: CardApplication::Foreign,
            behaviour: Behaviour::default(),
        }
    }

    pub fn with_behaviour(mut self, behaviour: Behaviour) -> Self {
        self.behaviour = behaviour;
        self
    }
}

/// What the card does with one command APDU.
#[derive(Debug, PartialEq, Eq)]
pub enum Reaction {
    Answer(Vec<u8>),
    /// Drop the connection without answering.
    Vanish,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Selected {
    Master,
    SsseDf,
    Ef(u16),
    ServiceApp,
    ServiceEf,
}

/// The card's state: file system, PIN counters, selection and APDU count.
#[derive(Debug)]
pub struct CardSimulator {
    spec: VirtualCardSpec,
    selected: Selected,
    pin_verified: bool,
    pin_tries: u8,
    apdus: usize,
    pending: Vec<u8>,
}

const SW_OK: [u8; 2] = [0x90, 0x00];

fn sw(value: u16) -> Vec<u8> {
    value.to_be_bytes().to_vec()
}

fn bcd_pin(digits: &str) -> Vec<u8> {
    ssse::encode_bcd_pin(digits)
        .map(|p| p.to_vec())
        .unwrap_or_default()
}

impl CardSimulator {
    pub fn new(spec: VirtualCardSpec) -> Self {
        let pin_tries = match &spec.application {
            CardApplication::SocialSecurity(f) => f.pin_tries,
            CardApplication::ServiceCard(f) => f.pin_tries,
            CardApplication::Foreign => 0,
        };
        Self {
            spec,
            selected: Selected::Master,
            pin_verified: false,
            pin_tries,
            apdus: 0,
            pending: Vec::new(),
        }
    }

    pub fn atr(&self) -> &[u8] {
        &self.spec.atr
    }

    pub fn response_delay(&self) -> Duration {
        self.spec.behaviour.response_delay
    }

    /// Command APDUs received so far.
    pub fn apdu_count(&self) -> usize {
        self.apdus
    }

    /// PIN tries the card has left.
    pub fn pin_tries(&self) -> u8 {
        self.pin_tries
    }

    /// Power-off or reset: the security state and selection are lost.
    pub fn reset(&mut self) {
        self.selected = Selected::Master;
        self.pin_verified = false;
        self.pending.clear();
    }

    /// Reacts to one command APDU.
    pub fn react(&mut self, command: &[u8]) -> Reaction {
        self.apdus += 1;
        let behaviour = &self.spec.behaviour;
        if behaviour.vanish_at_apdu == Some(self.apdus) {
            return Reaction::Vanish;
        }
        if behaviour.garbage_from_apdu.is_some_and(|n| self.apdus >= n) {
            return Reaction::Answer(vec![0xDE, 0xAD, 0xBE]);
        }
        Reaction::Answer(self.answer(command))
    }

    fn answer(&mut self, command: &[u8]) -> Vec<u8> {
        let Some(&[cla, ins, p1, p2]) = command.get(..4).and_then(|h| <&[u8; 4]>::try_from(h).ok())
        else {
            return sw(0x6700);
        };
        let body = &command[4..];
        // Short APDUs only, which is all the profiles send to these files.
        let (data, le) = match body {
            [] => (&[][..], None),
            [le] => (&[][..], Some(if *le == 0 { 256 } else { usize::from(*le) })),
            [lc, rest @ ..] if rest.len() == usize::from(*lc) => (rest, None),
            [lc, rest @ ..] if rest.len() == usize::from(*lc) + 1 => {
                let le = rest[rest.len() - 1];
                (
                    &rest[..rest.len() - 1],
                    Some(if le == 0 { 256 } else { usize::from(le) }),
                )
            }
            _ => return sw(0x6700),
        };
        if cla != 0x00 {
            return sw(0x6E00);
        }
        match ins {
            0xA4 => self.select(p1, data),
            0xB2 if p2 == 0x04 => self.read_record(p1, le),
            0xB2 => sw(0x6A86),
            0x20 => self.verify(p2, data),
            0xC0 => self.get_response(le.unwrap_or(256)),
            _ => sw(0x6D00),
        }
    }

    fn select(&mut self, p1: u8, data: &[u8]) -> Vec<u8> {
        let target = match (&self.spec.application, p1, data) {
            (CardApplication::SocialSecurity(_), 0x04, name) if name == ssse::DF_NAME => {
                Some(Selected::SsseDf)
            }
            (CardApplication::ServiceCard(_), 0x04, aid) if aid == service_card::AID => {
                Some(Selected::ServiceApp)
            }
            (_, 0x00 | 0x02, [hi, lo]) => {
                let fid = u16::from_be_bytes([*hi, *lo]);
                match (self.selected, fid) {
                    (Selected::SsseDf | Selected::Ef(_), ssse::EF_CARD | ssse::EF_HOLDER) => {
                        Some(Selected::Ef(fid))
                    }
                    (Selected::ServiceApp | Selected::ServiceEf, service_card::EF_TECHNICIAN) => {
                        Some(Selected::ServiceEf)
                    }
                    _ => None,
                }
            }
            _ => None,
        };
        match target {
            Some(target) => {
                if matches!(target, Selected::SsseDf | Selected::ServiceApp) {
                    self.pin_verified = false;
                }
                self.selected = target;
                SW_OK.to_vec()
            }
            None => sw(0x6A82),
        }
    }

    fn records(&self) -> Option<(Vec<Vec<u8>>, bool)> {
        let gbk = |text: &str, width: usize| {
            let (bytes, _, _) = GB18030.encode(text);
            let mut bytes = bytes.into_owned();
            if bytes.len() < width {
                bytes.resize(width, 0x00);
            }
            bytes
        };
        match (&self.spec.application, self.selected) {
            (CardApplication::SocialSecurity(f), Selected::Ef(ssse::EF_CARD)) => Some((
                vec![
                    encode_simple_tlv(0x01, &[0x11; 16]),
                    encode_simple_tlv(0x02, b"3"),
                    encode_simple_tlv(0x03, if f.first_generation { b"1.00" } else { b"3.00" }),
                    encode_simple_tlv(0x04, b"110100D15600"),
                    encode_simple_tlv(0x05, &[0x20, 0x20, 0x01, 0x01]),
                    encode_simple_tlv(0x06, &[0x20, 0x30, 0x01, 0x01]),
                    encode_simple_tlv(ssse::TAG_CARD_NUMBER, f.card_number.as_bytes()),
                ],
                false,
            )),
            (CardApplication::SocialSecurity(f), Selected::Ef(ssse::EF_HOLDER)) => {
                let gender = encode_simple_tlv(ssse::TAG_GENDER, &[f.gender_code]);
                let nation = encode_simple_tlv(0x0B, &[0x01]);
                let mut records = vec![
                    encode_simple_tlv(ssse::TAG_ID_NUMBER, f.id_number.as_bytes()),
                    encode_simple_tlv(ssse::TAG_NAME, &gbk(&f.name, 30)),
                ];
                if f.first_generation {
                    records.extend([gender, nation]);
                } else {
                    records.extend([encode_simple_tlv(0x4E, b"1"), gender, nation]);
                }
                records.push(encode_simple_tlv(0x0C, b"110"));
                if let Some(date) = f.birth_date_bcd {
                    while records.len() < 6 {
                        records.push(encode_simple_tlv(0x0C, b"110"));
                    }
                    records.push(encode_simple_tlv(ssse::TAG_BIRTH_DATE, &date));
                }
                Some((records, f.pin.is_some()))
            }
            (CardApplication::ServiceCard(f), Selected::ServiceEf) => Some((
                vec![
                    encode_simple_tlv(0x01, f.card_serial.as_bytes()),
                    encode_simple_tlv(0x02, f.technician_id.as_bytes()),
                    encode_simple_tlv(0x03, f.name.as_bytes()),
                    encode_simple_tlv(0x04, &[f.role.code()]),
                ],
                true,
            )),
            _ => None,
        }
    }

    fn read_record(&mut self, number: u8, le: Option<usize>) -> Vec<u8> {
        let Some((records, protected)) = self.records() else {
            return sw(0x6986);
        };
        if protected && !self.pin_verified {
            return sw(0x6982);
        }
        let Some(record) = usize::from(number)
            .checked_sub(1)
            .and_then(|i| records.get(i))
        else {
            return sw(0x6A83);
        };
        let behaviour = &self.spec.behaviour;
        if behaviour.demand_exact_le && le != Some(record.len()) {
            return sw(0x6C00 | (record.len() as u16 & 0xFF));
        }
        if behaviour.chain_responses {
            self.pending = record.clone();
            return sw(0x6100 | (record.len().min(8) as u16));
        }
        let mut answer = record.clone();
        answer.extend_from_slice(&SW_OK);
        answer
    }

    fn get_response(&mut self, le: usize) -> Vec<u8> {
        if self.pending.is_empty() {
            return sw(0x6985);
        }
        let take = le.min(self.pending.len());
        let mut answer: Vec<u8> = self.pending.drain(..take).collect();
        match self.pending.len() {
            0 => answer.extend_from_slice(&SW_OK),
            left => answer.extend_from_slice(&sw(0x6100 | left.min(8) as u16)),
        }
        answer
    }

    fn verify(&mut self, p2: u8, data: &[u8]) -> Vec<u8> {
        let expected = match (&self.spec.application, p2) {
            (CardApplication::SocialSecurity(f), ssse::PIN_REFERENCE) => match &f.pin {
                Some(pin) => bcd_pin(pin),
                None => return SW_OK.to_vec(),
            },
            (CardApplication::ServiceCard(f), service_card::PIN_REFERENCE) => {
                f.pin.as_bytes().to_vec()
            }
            _ => return sw(0x6A88),
        };
        if self.pin_tries == 0 {
            return sw(0x6983);
        }
        if data.is_empty() {
            return if self.pin_verified {
                SW_OK.to_vec()
            } else {
                sw(0x63C0 | u16::from(self.pin_tries.min(15)))
            };
        }
        if data == expected.as_slice() {
            self.pin_verified = true;
            self.pin_tries = match &self.spec.application {
                CardApplication::SocialSecurity(f) => f.pin_tries.max(1),
                CardApplication::ServiceCard(f) => f.pin_tries.max(1),
                CardApplication::Foreign => 0,
            };
            SW_OK.to_vec()
        } else {
            self.pin_verified = false;
            self.pin_tries -= 1;
            if self.pin_tries == 0 {
                sw(0x6983)
            } else {
                sw(0x63C0 | u16::from(self.pin_tries.min(15)))
            }
        }
    }
}

/// Lets profiles run straight against a simulator (unit tests, fuzzing); the
/// integration tests go through pcscd instead.
impl ApduTransport for CardSimulator {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
        match self.react(command) {
            Reaction::Answer(bytes) => Ok(Zeroizing::new(bytes)),
            Reaction::Vanish => Err(CardError::CardRemoved),
        }
    }
}
