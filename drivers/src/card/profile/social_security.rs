//! The Chinese social security card (社会保障卡), SSSE application.
//!
//! Layout (see docs/cards.md for sources): SELECT the DF named `sx1.sh.社会保障`
//! (GBK), then the basic-information files, each record one simple-TLV object:
//!
//! | file | record | tag | content                              | length |
//! |------|--------|-----|--------------------------------------|--------|
//! | EF05 | 7      | 07  | social security card number (ASCII)  | 9      |
//! | EF06 | 1      | 08  | social security number = citizen ID  | 18     |
//! | EF06 | 2      | 09  | name, GBK, padded                    | 30     |
//! | EF06 | 4 (3)  | 0A  | gender, GB/T 2261.1 code ('1' M, '2' F) | 1   |
//! | EF06 | 7      | 0D  | birth date, BCD `YYYYMMDD`           | 4      |
//!
//! First-generation cards keep gender in record 3; the tag tells which. EF06 may
//! be protected by the cardholder PIN (6 digits, BCD, VERIFY P2 = 00): the card
//! answers `6982` to READ RECORD until the PIN is verified.

use encoding_rs::GB18030;
use zeroize::Zeroizing;

use super::common::{CardProfile, pin_required, trim_padding, verify_outcome};
use crate::card::apdu::{self, StatusWord};
use crate::card::session::CardSession;
use crate::card::{CardError, Identity, Pin, ProfileId};

/// `sx1.sh.社会保障` in GBK.
pub const DF_NAME: &[u8] = b"sx1.sh.\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF";
pub const EF_CARD: u16 = 0xEF05;
pub const EF_HOLDER: u16 = 0xEF06;
/// PIN reference of the cardholder PIN.
pub const PIN_REFERENCE: u8 = 0x00;

pub const TAG_CARD_NUMBER: u8 = 0x07;
pub const TAG_ID_NUMBER: u8 = 0x08;
pub const TAG_NAME: u8 = 0x09;
pub const TAG_GENDER: u8 = 0x0A;
pub const TAG_BIRTH_DATE: u8 = 0x0D;

pub const RECORD_CARD_NUMBER: u8 = 7;
pub const RECORD_ID_NUMBER: u8 = 1;
pub const RECORD_NAME: u8 = 2;
pub const RECORD_GENDER: u8 = 4;
pub const RECORD_GENDER_FIRST_GENERATION: u8 = 3;
pub const RECORD_BIRTH_DATE: u8 = 7;

/// The SSSE profile.
pub struct SocialSecurityProfile;

impl CardProfile for SocialSecurityProfile {
    fn id(&self) -> ProfileId {
        ProfileId::SocialSecurity
    }

    fn matches_atr(&self, _atr: &[u8]) -> bool {
        // Issuers use many chip vendors and ATRs; SELECT decides. Being first in
        // the registry makes it the default guess for unknown ATRs.
        false
    }

    fn select(&self, session: &mut CardSession<'_>) -> Result<bool, CardError> {
        Ok(session
            .exchange(&apdu::select_by_name(DF_NAME))?
            .sw
            .is_success())
    }

    fn read(
        &self,
        session: &mut CardSession<'_>,
        pin: Option<&Pin>,
    ) -> Result<Identity, CardError> {
        select_ef(session, EF_CARD)?;
        // Fields live in zeroizing holders until the identity is whole, so an
        // error halfway leaves nothing behind.
        let mut card_number = {
            let record = read_tagged(session, RECORD_CARD_NUMBER, TAG_CARD_NUMBER, 9)?
                .ok_or_else(|| missing("EF05 card number"))?;
            Zeroizing::new(decode_card_number(&record)?)
        };

        select_ef(session, EF_HOLDER)?;
        let first = read_record(session, RECORD_ID_NUMBER, 18 + 2)?;
        let first = if first.sw == StatusWord::SECURITY_NOT_SATISFIED {
            let Some(pin) = pin else {
                return Err(pin_required(session, PIN_REFERENCE)?);
            };
            verify_pin(session, pin)?;
            read_record(session, RECORD_ID_NUMBER, 18 + 2)?
        } else {
            first
        };
        let mut id_number = {
            let record = tagged_value(first, RECORD_ID_NUMBER, TAG_ID_NUMBER)?
                .ok_or_else(|| missing("EF06 citizen ID number"))?;
            Zeroizing::new(decode_id_number(&record)?)
        };
        let mut name = {
            let record = read_tagged(session, RECORD_NAME, TAG_NAME, 30)?
                .ok_or_else(|| missing("EF06 name"))?;
            Zeroizing::new(decode_name(&record)?)
        };
        let gender = match read_tagged(session, RECORD_GENDER, TAG_GENDER, 1)? {
            Some(value) => decode_gender(&value),
            None => read_tagged(session, RECORD_GENDER_FIRST_GENERATION, TAG_GENDER, 1)?
                .map(|value| decode_gender(&value))
                .unwrap_or_default(),
        };
        let birth_date = match read_tagged(session, RECORD_BIRTH_DATE, TAG_BIRTH_DATE, 4)? {
            Some(value) => decode_bcd_date(&value),
            None => None,
        }
        .or_else(|| birth_date_from_id(&id_number))
        .unwrap_or_default();

        Ok(Identity {
            profile: ProfileId::SocialSecurity,
            card_number: std::mem::take(&mut *card_number),
            id_number: std::mem::take(&mut *id_number),
            name: std::mem::take(&mut *name),
            gender: gender.to_owned(),
            birth_date,
        })
    }
}

fn missing(what: &str) -> CardError {
    CardError::Malformed(format!("{what} record is missing"))
}

fn select_ef(session: &mut CardSession<'_>, file_id: u16) -> Result<(), CardError> {
    let answer = session.exchange(&apdu::select_file(file_id))?;
    if answer.sw.is_success() {
        Ok(())
    } else {
        Err(CardError::Malformed(format!(
            "SELECT {file_id:04X} answered {}",
            answer.sw
        )))
    }
}

fn read_record(
    session: &mut CardSession<'_>,
    record: u8,
    le: usize,
) -> Result<apdu::Response, CardError> {
    session.exchange(&apdu::read_record(record, le))
}

/// Reads a record expected to hold `tag`. `Ok(None)` when the record is absent
/// or holds another tag (older layouts); errors for anything else.
fn read_tagged(
    session: &mut CardSession<'_>,
    record: u8,
    tag: u8,
    value_len: usize,
) -> Result<Option<Zeroizing<Vec<u8>>>, CardError> {
    let answer = read_record(session, record, value_len + 2)?;
    tagged_value(answer, record, tag)
}

fn tagged_value(
    answer: apdu::Response,
    record: u8,
    tag: u8,
) -> Result<Option<Zeroizing<Vec<u8>>>, CardError> {
    match answer.sw {
        sw if sw.is_success() => {}
        StatusWord::RECORD_NOT_FOUND => return Ok(None),
        StatusWord::SECURITY_NOT_SATISFIED => {
            return Err(CardError::PinRequired { tries_left: None });
        }
        sw => {
            return Err(CardError::Malformed(format!(
                "READ RECORD {record} answered {sw}"
            )));
        }
    }
    match apdu::record_value(tag, &answer.data) {
        Ok(value) => Ok(Some(Zeroizing::new(value.to_vec()))),
        Err(apdu::ApduError::UnexpectedTag { .. }) => Ok(None),
        Err(e) => Err(CardError::Malformed(format!("record {record}: {e}"))),
    }
}

fn verify_pin(session: &mut CardSession<'_>, pin: &Pin) -> Result<(), CardError> {
    let Some(reference) = encode_bcd_pin(pin.digits()) else {
        // Not spending a try on something the card can never accept.
        return Err(CardError::WrongPin { tries_left: None });
    };
    let answer = session.exchange(&apdu::verify(PIN_REFERENCE, &reference))?;
    verify_outcome(answer.sw)
}

/// Packs a PIN of 4 to 12 digits as BCD, an odd last digit padded with `F`.
pub fn encode_bcd_pin(digits: &str) -> Option<Zeroizing<Vec<u8>>> {
    if !(4..=12).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Zeroizing::new(
        digits
            .as_bytes()
            .chunks(2)
            .map(|pair| {
                let high = pair[0] - b'0';
                let low = pair.get(1).map_or(0x0F, |d| d - b'0');
                high << 4 | low
            })
            .collect(),
    ))
}

/// The card number: printable ASCII letters and digits after padding is removed.
pub fn decode_card_number(value: &[u8]) -> Result<String, CardError> {
    let text = trim_padding(value);
    if text.is_empty() || !text.iter().all(u8::is_ascii_alphanumeric) {
        return Err(CardError::Malformed(
            "card number is not alphanumeric".into(),
        ));
    }
    Ok(String::from_utf8_lossy(text).into_owned())
}

/// The citizen ID number: 18 characters (17 digits and a digit or `X` check
/// character), or 15 digits on very old numbers.
pub fn decode_id_number(value: &[u8]) -> Result<String, CardError> {
    let text = trim_padding(value);
    let well_formed = match text.len() {
        18 => {
            text[..17].iter().all(u8::is_ascii_digit)
                && matches!(text[17], b'0'..=b'9' | b'X' | b'x')
        }
        15 => text.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if !well_formed {
        return Err(CardError::Malformed(
            "citizen ID number is not well formed".into(),
        ));
    }
    Ok(String::from_utf8_lossy(text).to_ascii_uppercase())
}

/// The holder's name in GBK. Decoded as GB18030, GBK's superset, so rare
/// characters that issuers encode with four-byte sequences survive.
pub fn decode_name(value: &[u8]) -> Result<String, CardError> {
    let text = trim_padding(value);
    let (name, had_errors) = GB18030.decode_without_bom_handling(text);
    if had_errors {
        return Err(CardError::Malformed("name is not valid GBK/GB18030".into()));
    }
    let name = name.trim();
    if name.is_empty() || name.chars().any(char::is_control) {
        return Err(CardError::Malformed(
            "name is empty or has control characters".into(),
        ));
    }
    Ok(name.to_owned())
}

/// GB/T 2261.1 gender code, as ASCII digit or binary: 1 male, 2 female, else unknown.
pub fn decode_gender(value: &[u8]) -> &'static str {
    match trim_padding(value) {
        [b'1'] | [0x01] => "M",
        [b'2'] | [0x02] => "F",
        _ => "",
    }
}

/// A BCD `YYYYMMDD` date as `YYYY-MM-DD`, if it is a plausible calendar date.
pub fn decode_bcd_date(value: &[u8]) -> Option<String> {
    let [a, b, c, d] = value else { return None };
    let digits: String = [a, b, c, d]
        .iter()
        .flat_map(|byte| [*byte >> 4, *byte & 0x0F])
        .map(|n| char::from_digit(u32::from(n), 10))
        .collect::<Option<String>>()?;
    format_date(&digits)
}

/// The birth date encoded in positions 7-14 of an 18-character ID number.
pub fn birth_date_from_id(id_number: &str) -> Option<String> {
    if id_number.len() != 18 {
        return None;
    }
    format_date(id_number.get(6..14)?)
}

fn format_date(yyyymmdd: &str) -> Option<String> {
    if yyyymmdd.len() != 8 || !yyyymmdd.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year: u32 = yyyymmdd[0..4].parse().ok()?;
    let month: u32 = yyyymmdd[4..6].parse().ok()?;
    let day: u32 = yyyymmdd[6..8].parse().ok()?;
    let leap = (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if !(1850..=2200).contains(&year) || day == 0 || day > days_in_month {
        return None;
    }
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_name_is_the_gbk_encoding_of_the_application_name() {
        let (encoded, _, _) = encoding_rs::GBK.encode("sx1.sh.社会保障");
        assert_eq!(&encoded[..], DF_NAME);
        assert_eq!(hex::encode_upper(DF_NAME), "7378312E73682EC9E7BBE1B1A3D5CF");
    }

    #[test]
    fn pins_pack_as_bcd() {
        assert_eq!(&encode_bcd_pin("123456").unwrap()[..], &[0x12, 0x34, 0x56]);
        assert_eq!(&encode_bcd_pin("12345").unwrap()[..], &[0x12, 0x34, 0x5F]);
        assert!(encode_bcd_pin("12a456").is_none());
        assert!(encode_bcd_pin("123").is_none());
        assert!(encode_bcd_pin("1234567890123").is_none());
    }

    #[test]
    fn names_decode_from_gbk_and_gb18030() {
        let (common, _, _) = GB18030.encode("张三");
        let mut padded = common.to_vec();
        padded.resize(30, 0);
        assert_eq!(decode_name(&padded).unwrap(), "张三");
        // 𠀾 (U+2003E, CJK Extension B) only exists as a four-byte GB18030 sequence;
        // 䶮 (U+4DAE) is a rare character in GBK's user-defined area mapping.
        let (rare, _, _) = GB18030.encode("李𠀾䶮");
        assert_eq!(decode_name(&rare).unwrap(), "李𠀾䶮");
        assert!(decode_name(&[0x81]).is_err());
        assert!(decode_name(&[0; 30]).is_err());
        assert!(decode_name(b"a\x07b").is_err());
    }

    #[test]
    fn id_numbers_are_checked_for_shape() {
        assert_eq!(
            decode_id_number(b"11010519491231002x").unwrap(),
            "11010519491231002X"
        );
        assert_eq!(
            decode_id_number(b"110105491231002").unwrap(),
            "110105491231002"
        );
        assert!(decode_id_number(b"1101051949123100").is_err());
        assert!(decode_id_number(b"11010519491231002Y").is_err());
    }

    #[test]
    fn card_numbers_are_alphanumeric() {
        assert_eq!(decode_card_number(b"A01234567").unwrap(), "A01234567");
        assert!(decode_card_number(b"A0123-567").is_err());
        assert!(decode_card_number(b"\0\0").is_err());
    }

    #[test]
    fn dates_decode_from_bcd_and_from_id_numbers() {
        assert_eq!(
            decode_bcd_date(&[0x19, 0x49, 0x12, 0x31]).as_deref(),
            Some("1949-12-31")
        );
        assert_eq!(
            decode_bcd_date(&[0x20, 0x00, 0x02, 0x29]).as_deref(),
            Some("2000-02-29")
        );
        assert_eq!(decode_bcd_date(&[0x19, 0x00, 0x02, 0x29]), None);
        assert_eq!(decode_bcd_date(&[0x19, 0x4A, 0x12, 0x31]), None);
        assert_eq!(decode_bcd_date(&[0x19, 0x49]), None);
        assert_eq!(
            birth_date_from_id("11010519491231002X").as_deref(),
            Some("1949-12-31")
        );
        assert_eq!(birth_date_from_id("110105491231002"), None);
    }

    #[test]
    fn genders_follow_gb_t_2261() {
        assert_eq!(decode_gender(b"1"), "M");
        assert_eq!(decode_gender(&[2]), "F");
        assert_eq!(decode_gender(b"9"), "");
    }
}
