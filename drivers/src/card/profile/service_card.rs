//! The estation kiosk service card, issued to technicians (layout in
//! docs/cards.md).
//!
//! Application `F0 45 53 54 41 54 49 4F 4E 01` ("ESTATION" behind the F0
//! proprietary-AID prefix, version 01). One record file, EF 0101, every record a
//! simple-TLV object, readable only after the technician PIN is verified
//! (VERIFY P2 = 81, the digits as ASCII, 4 to 12 of them):
//!
//! | record | tag | content                                   | length |
//! |--------|-----|-------------------------------------------|--------|
//! | 1      | 01  | card serial, ASCII letters/digits         | 1..=32 |
//! | 2      | 02  | technician id, ASCII letters/digits/`-`   | 1..=32 |
//! | 3      | 03  | technician name, UTF-8                    | 1..=64 |
//! | 4      | 04  | role: 01 technician, 02 supervisor        | 1      |

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::common::{CardProfile, pin_required, trim_padding, verify_outcome};
use crate::card::apdu::{self, StatusWord};
use crate::card::session::CardSession;
use crate::card::{CardError, Identity, Pin, ProfileId};

/// Application identifier of the service-card application.
pub const AID: &[u8] = &[0xF0, 0x45, 0x53, 0x54, 0x41, 0x54, 0x49, 0x4F, 0x4E, 0x01];
/// The record file under the application.
pub const EF_TECHNICIAN: u16 = 0x0101;
/// PIN reference of the technician PIN (a local, application-specific PIN).
pub const PIN_REFERENCE: u8 = 0x81;
/// ATR of the reference service card: T=1, historical bytes "ESTATION".
pub const ATR: &[u8] = &[
    0x3B, 0x88, 0x80, 0x01, b'E', b'S', b'T', b'A', b'T', b'I', b'O', b'N', 0x16,
];
/// Historical bytes that mark a service card in its ATR.
pub const ATR_MARKER: &[u8] = b"ESTATION";

pub const RECORD_SERIAL: u8 = 1;
pub const RECORD_TECHNICIAN_ID: u8 = 2;
pub const RECORD_NAME: u8 = 3;
pub const RECORD_ROLE: u8 = 4;

/// What a technician may do in maintenance mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ServiceRole {
    Technician,
    Supervisor,
}

impl ServiceRole {
    pub fn code(self) -> u8 {
        match self {
            ServiceRole::Technician => 0x01,
            ServiceRole::Supervisor => 0x02,
        }
    }
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            0x01 => Some(ServiceRole::Technician),
            0x02 => Some(ServiceRole::Supervisor),
            _ => None,
        }
    }
}

/// A technician's credential as read from a service card after PIN
/// verification. Zeroized on drop; `Debug` shows only the role.
#[derive(Clone, Zeroize, ZeroizeOnDrop, PartialEq, Eq)]
pub struct ServiceCredential {
    pub card_serial: String,
    pub technician_id: String,
    pub name: String,
    #[zeroize(skip)]
    pub role: ServiceRole,
}

impl fmt::Debug for ServiceCredential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServiceCredential")
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

impl ServiceCredential {
    /// The credential as an [`Identity`]: the technician id goes in `id_number`,
    /// the card serial in `card_number`; gender and birth date stay empty.
    pub fn to_identity(&self) -> Identity {
        Identity {
            profile: ProfileId::ServiceCard,
            card_number: self.card_serial.clone(),
            id_number: self.technician_id.clone(),
            name: self.name.clone(),
            gender: String::new(),
            birth_date: String::new(),
        }
    }
}

/// The service-card profile.
pub struct ServiceCardProfile;

impl CardProfile for ServiceCardProfile {
    fn id(&self) -> ProfileId {
        ProfileId::ServiceCard
    }

    fn matches_atr(&self, atr: &[u8]) -> bool {
        atr.windows(ATR_MARKER.len()).any(|w| w == ATR_MARKER)
    }

    fn select(&self, session: &mut CardSession<'_>) -> Result<bool, CardError> {
        Ok(session
            .exchange(&apdu::select_by_name(AID))?
            .sw
            .is_success())
    }

    fn read(
        &self,
        session: &mut CardSession<'_>,
        pin: Option<&Pin>,
    ) -> Result<Identity, CardError> {
        Ok(read_credential(session, pin)?.to_identity())
    }
}

/// Reads the credential from a card whose application is already selected.
/// Without a PIN the card's answer decides: `PinRequired` with the tries left.
pub fn read_credential(
    session: &mut CardSession<'_>,
    pin: Option<&Pin>,
) -> Result<ServiceCredential, CardError> {
    let answer = session.exchange(&apdu::select_file(EF_TECHNICIAN))?;
    if !answer.sw.is_success() {
        return Err(CardError::Malformed(format!(
            "SELECT {EF_TECHNICIAN:04X} answered {}",
            answer.sw
        )));
    }
    match pin {
        Some(pin) => {
            let Some(reference) = encode_pin(pin.digits()) else {
                return Err(CardError::WrongPin { tries_left: None });
            };
            let answer = session.exchange(&apdu::verify(PIN_REFERENCE, &reference))?;
            verify_outcome(answer.sw)?;
        }
        None => return Err(pin_required(session, PIN_REFERENCE)?),
    }

    let mut card_serial = Zeroizing::new(decode_token(
        &read(session, RECORD_SERIAL, 0x01, 34)?,
        "card serial",
    )?);
    let mut technician_id = Zeroizing::new(decode_token(
        &read(session, RECORD_TECHNICIAN_ID, 0x02, 34)?,
        "technician id",
    )?);
    let mut name = Zeroizing::new(decode_name(&read(session, RECORD_NAME, 0x03, 66)?)?);
    let role = match &read(session, RECORD_ROLE, 0x04, 3)?[..] {
        [code] => ServiceRole::from_code(*code),
        _ => None,
    }
    .ok_or_else(|| CardError::Malformed("service card role is unknown".into()))?;
    Ok(ServiceCredential {
        card_serial: std::mem::take(&mut *card_serial),
        technician_id: std::mem::take(&mut *technician_id),
        name: std::mem::take(&mut *name),
        role,
    })
}

fn read(
    session: &mut CardSession<'_>,
    record: u8,
    tag: u8,
    le: usize,
) -> Result<Zeroizing<Vec<u8>>, CardError> {
    let answer = session.exchange(&apdu::read_record(record, le))?;
    match answer.sw {
        sw if sw.is_success() => {}
        StatusWord::SECURITY_NOT_SATISFIED => {
            return Err(CardError::PinRequired { tries_left: None });
        }
        sw => {
            return Err(CardError::Malformed(format!(
                "READ RECORD {record} answered {sw}"
            )));
        }
    }
    let value = apdu::record_value(tag, &answer.data)
        .map_err(|e| CardError::Malformed(format!("record {record}: {e}")))?;
    Ok(Zeroizing::new(value.to_vec()))
}

/// The PIN as ASCII digits, 4 to 12 of them.
pub fn encode_pin(digits: &str) -> Option<Zeroizing<Vec<u8>>> {
    ((4..=12).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| Zeroizing::new(digits.as_bytes().to_vec()))
}

fn decode_token(value: &[u8], what: &str) -> Result<String, CardError> {
    let text = trim_padding(value);
    if text.is_empty()
        || text.len() > 32
        || !text.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
    {
        return Err(CardError::Malformed(format!(
            "service card {what} is not well formed"
        )));
    }
    Ok(String::from_utf8_lossy(text).into_owned())
}

fn decode_name(value: &[u8]) -> Result<String, CardError> {
    let text = std::str::from_utf8(trim_padding(value))
        .map_err(|_| CardError::Malformed("service card name is not UTF-8".into()))?
        .trim();
    if text.is_empty() || text.chars().any(char::is_control) {
        return Err(CardError::Malformed(
            "service card name is empty or has control characters".into(),
        ));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aid_spells_estation() {
        assert_eq!(&AID[1..9], b"ESTATION");
        assert!(ServiceCardProfile.matches_atr(ATR));
        assert!(!ServiceCardProfile.matches_atr(&[0x3B, 0x6C, 0x00, 0x00]));
    }

    #[test]
    fn pins_are_ascii_digits() {
        assert_eq!(&encode_pin("2468").unwrap()[..], b"2468");
        assert!(encode_pin("246").is_none());
        assert!(encode_pin("24x8").is_none());
    }

    #[test]
    fn fields_are_validated() {
        assert_eq!(decode_token(b"T-0042\0\0", "id").unwrap(), "T-0042");
        assert!(decode_token(b"T 0042", "id").is_err());
        assert_eq!(decode_name("王工".as_bytes()).unwrap(), "王工");
        assert!(decode_name(&[0xC0, 0x80]).is_err());
        assert_eq!(ServiceRole::from_code(2), Some(ServiceRole::Supervisor));
        assert_eq!(ServiceRole::from_code(9), None);
    }

    #[test]
    fn debug_hides_personal_fields() {
        let credential = ServiceCredential {
            card_serial: "SC0001".into(),
            technician_id: "T-0042".into(),
            name: "王工".into(),
            role: ServiceRole::Technician,
        };
        let shown = format!("{credential:?}");
        assert!(!shown.contains("T-0042") && !shown.contains("王工") && !shown.contains("SC0001"));
    }
}
