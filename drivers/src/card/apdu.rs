//! ISO 7816-4 command and response APDUs, status words and simple-TLV records.
//!
//! Everything here is a pure function over bytes: no reader, no I/O. The exchange
//! logic that follows `61xx` (GET RESPONSE) and `6Cxx` (wrong Le) lives in
//! [`exchange`] and takes the transmit step as a closure, so it is unit-testable
//! and the same code runs against pcscd.

use zeroize::Zeroizing;

/// Largest Nc a command APDU can carry (extended length).
pub const MAX_COMMAND_DATA: usize = 65_535;
/// Largest Ne a command APDU can ask for (extended length `0000` means 65 536).
pub const MAX_EXPECTED: usize = 65_536;
/// Upper bound on response bytes assembled from `61xx` chains, so a card that
/// keeps saying "more data" cannot make us allocate without end.
pub const MAX_CHAINED_RESPONSE: usize = 65_536;
/// Upper bound on GET RESPONSE rounds for one command.
pub const MAX_GET_RESPONSE_ROUNDS: usize = 256;

/// A malformed APDU or record. The text never contains card data.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ApduError {
    #[error("command data too long ({0} bytes, at most 65535)")]
    DataTooLong(usize),
    #[error("expected length out of range ({0}, 1..=65536)")]
    LeOutOfRange(usize),
    #[error("response shorter than a status word ({0} bytes)")]
    ResponseTooShort(usize),
    #[error("the card kept chaining responses past the limit")]
    ChainTooLong,
    #[error("record is empty")]
    EmptyRecord,
    #[error("record tag {found:#04x} where {expected:#04x} was expected")]
    UnexpectedTag { expected: u8, found: u8 },
    #[error("record tag {0:#04x} is reserved in simple-TLV")]
    ReservedTag(u8),
    #[error("record length field is truncated")]
    TruncatedLength,
    #[error("record declares {declared} value bytes but holds {available}")]
    TruncatedValue { declared: usize, available: usize },
}

/// A command APDU. Short or extended encoding is chosen by [`Command::to_bytes`].
#[derive(Clone, PartialEq, Eq)]
pub struct Command {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    /// Command data; zeroized on drop because VERIFY carries a PIN.
    pub data: Zeroizing<Vec<u8>>,
    /// Ne, the number of response bytes expected (`None`: no response data).
    pub le: Option<usize>,
}

impl std::fmt::Debug for Command {
    // The header is safe to show; data may be a PIN, so only its length is.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Command({:02X} {:02X} {:02X} {:02X}, {} data bytes, le {:?})",
            self.cla,
            self.ins,
            self.p1,
            self.p2,
            self.data.len(),
            self.le
        )
    }
}

impl Command {
    pub fn new(cla: u8, ins: u8, p1: u8, p2: u8) -> Self {
        Self {
            cla,
            ins,
            p1,
            p2,
            data: Zeroizing::new(Vec::new()),
            le: None,
        }
    }

    pub fn with_data(mut self, data: &[u8]) -> Self {
        self.data = Zeroizing::new(data.to_vec());
        self
    }

    pub fn with_le(mut self, le: usize) -> Self {
        self.le = Some(le);
        self
    }

    /// Encodes the command (ISO 7816-4 §5.1): short form when Nc ≤ 255 and
    /// Ne ≤ 256, extended form otherwise.
    pub fn to_bytes(&self) -> Result<Zeroizing<Vec<u8>>, ApduError> {
        let nc = self.data.len();
        if nc > MAX_COMMAND_DATA {
            return Err(ApduError::DataTooLong(nc));
        }
        if let Some(ne) = self.le
            && !(1..=MAX_EXPECTED).contains(&ne)
        {
            return Err(ApduError::LeOutOfRange(ne));
        }
        let extended = nc > 255 || self.le.is_some_and(|ne| ne > 256);
        let mut out = Zeroizing::new(Vec::with_capacity(4 + 3 + nc + 3));
        out.extend_from_slice(&[self.cla, self.ins, self.p1, self.p2]);
        if extended {
            if nc > 0 {
                out.push(0);
                out.extend_from_slice(&(nc as u16).to_be_bytes());
                out.extend_from_slice(&self.data);
            }
            if let Some(ne) = self.le {
                if nc == 0 {
                    out.push(0);
                }
                // 65 536 is encoded as 0000; truncation to u16 does exactly that.
                out.extend_from_slice(&((ne % 65_536) as u16).to_be_bytes());
            }
        } else {
            if nc > 0 {
                out.push(nc as u8);
                out.extend_from_slice(&self.data);
            }
            if let Some(ne) = self.le {
                // 256 is encoded as 00.
                out.push((ne % 256) as u8);
            }
        }
        Ok(out)
    }
}

/// SELECT by DF name (application identifier), first or only occurrence.
pub fn select_by_name(df_name: &[u8]) -> Command {
    Command::new(0x00, 0xA4, 0x04, 0x00).with_data(df_name)
}

/// SELECT an elementary file by its two-byte file identifier under the current DF.
pub fn select_file(file_id: u16) -> Command {
    Command::new(0x00, 0xA4, 0x02, 0x00).with_data(&file_id.to_be_bytes())
}

/// READ RECORD `record` of the currently selected EF (P2 = 04), asking for up to
/// `le` bytes.
pub fn read_record(record: u8, le: usize) -> Command {
    Command::new(0x00, 0xB2, record, 0x04).with_le(le)
}

/// VERIFY with the given reference data against PIN reference `p2`.
pub fn verify(p2: u8, reference_data: &[u8]) -> Command {
    Command::new(0x00, 0x20, 0x00, p2).with_data(reference_data)
}

/// VERIFY without data: asks the card how many tries are left (answers `63Cx`)
/// without spending one.
pub fn verify_status(p2: u8) -> Command {
    Command::new(0x00, 0x20, 0x00, p2)
}

/// GET RESPONSE for `le` bytes (after a `61xx`).
pub fn get_response(cla: u8, le: usize) -> Command {
    Command::new(cla, 0xC0, 0x00, 0x00).with_le(le)
}

/// A status word SW1-SW2.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl std::fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SW {:04X}", self.0)
    }
}

impl std::fmt::Display for StatusWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

impl StatusWord {
    pub const SUCCESS: StatusWord = StatusWord(0x9000);
    pub const SECURITY_NOT_SATISFIED: StatusWord = StatusWord(0x6982);
    pub const AUTH_METHOD_BLOCKED: StatusWord = StatusWord(0x6983);
    pub const FILE_NOT_FOUND: StatusWord = StatusWord(0x6A82);
    pub const RECORD_NOT_FOUND: StatusWord = StatusWord(0x6A83);

    pub fn sw1(self) -> u8 {
        (self.0 >> 8) as u8
    }
    pub fn sw2(self) -> u8 {
        self.0 as u8
    }
    pub fn is_success(self) -> bool {
        self.0 == 0x9000
    }
    /// `61xx`: xx more bytes wait for a GET RESPONSE (00 means 256 or more).
    pub fn bytes_available(self) -> Option<usize> {
        (self.sw1() == 0x61).then(|| {
            if self.sw2() == 0 {
                256
            } else {
                usize::from(self.sw2())
            }
        })
    }
    /// `6Cxx`: wrong Le, resend with Ne = xx (00 means 256).
    pub fn exact_length(self) -> Option<usize> {
        (self.sw1() == 0x6C).then(|| {
            if self.sw2() == 0 {
                256
            } else {
                usize::from(self.sw2())
            }
        })
    }
    /// `63Cx`: verification failed (or, to a VERIFY without data, not yet done)
    /// with x tries left.
    pub fn tries_left(self) -> Option<u8> {
        (self.0 & 0xFFF0 == 0x63C0).then_some(self.sw2() & 0x0F)
    }
    /// `6983` / `6984`: the PIN (reference data) is blocked or unusable.
    pub fn is_blocked(self) -> bool {
        self.0 == 0x6983 || self.0 == 0x6984
    }
    /// Answers that mean "this application or file is not on this card".
    pub fn is_not_found(self) -> bool {
        matches!(self.0, 0x6A82 | 0x6A81 | 0x6A86 | 0x6D00 | 0x6E00 | 0x6999)
    }
}

/// A response APDU: data (zeroized on drop, it may be personal) and status word.
#[derive(Clone, PartialEq, Eq)]
pub struct Response {
    pub data: Zeroizing<Vec<u8>>,
    pub sw: StatusWord,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Response({} data bytes, {:?})", self.data.len(), self.sw)
    }
}

impl Response {
    /// Splits raw response bytes into data and the trailing status word.
    pub fn parse(raw: &[u8]) -> Result<Response, ApduError> {
        let Some(split) = raw.len().checked_sub(2) else {
            return Err(ApduError::ResponseTooShort(raw.len()));
        };
        let (data, sw) = raw.split_at(split);
        Ok(Response {
            data: Zeroizing::new(data.to_vec()),
            sw: StatusWord(u16::from_be_bytes([sw[0], sw[1]])),
        })
    }
}

/// One raw exchange with a card: command bytes in, response bytes (data + SW) out.
pub type Transmit<'a, E> = dyn FnMut(&[u8]) -> Result<Zeroizing<Vec<u8>>, E> + 'a;

/// Sends `command` through `transmit` (raw command bytes in, raw response bytes
/// out) and assembles the full answer: a `6Cxx` is answered by resending once with
/// the exact length, each `61xx` by a GET RESPONSE, with the pieces concatenated.
/// The final status word is the one of the last exchange.
pub fn exchange<E: From<ApduError>>(
    command: &Command,
    transmit: &mut Transmit<'_, E>,
) -> Result<Response, E> {
    let mut send = |cmd: &Command| -> Result<Response, E> {
        let raw = transmit(&cmd.to_bytes()?)?;
        Ok(Response::parse(&raw)?)
    };

    let mut response = send(command)?;
    if let Some(exact) = response.sw.exact_length() {
        response = send(&command.clone().with_le(exact))?;
    }
    let mut rounds = 0;
    while let Some(available) = response.sw.bytes_available() {
        rounds += 1;
        if rounds > MAX_GET_RESPONSE_ROUNDS {
            return Err(ApduError::ChainTooLong.into());
        }
        let next = send(&get_response(command.cla, available))?;
        if response.data.len() + next.data.len() > MAX_CHAINED_RESPONSE {
            return Err(ApduError::ChainTooLong.into());
        }
        response.data.extend_from_slice(&next.data);
        response.sw = next.sw;
    }
    Ok(response)
}

/// One simple-TLV data object (ISO 7816-4 §5.2.1): a tag byte (not 00 or FF), a
/// length of one byte (0..=254) or FF followed by two bytes, then the value.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SimpleTlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
}

impl std::fmt::Debug for SimpleTlv<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SimpleTlv(tag {:02X}, {} bytes)",
            self.tag,
            self.value.len()
        )
    }
}

/// Parses the first simple-TLV object of `bytes`, returning it and the bytes after it.
pub fn parse_simple_tlv(bytes: &[u8]) -> Result<(SimpleTlv<'_>, &[u8]), ApduError> {
    let (&tag, rest) = bytes.split_first().ok_or(ApduError::EmptyRecord)?;
    if tag == 0x00 || tag == 0xFF {
        return Err(ApduError::ReservedTag(tag));
    }
    let (&first, rest) = rest.split_first().ok_or(ApduError::TruncatedLength)?;
    let (len, rest) = if first == 0xFF {
        let (long, rest) = rest.split_at_checked(2).ok_or(ApduError::TruncatedLength)?;
        (usize::from(u16::from_be_bytes([long[0], long[1]])), rest)
    } else {
        (usize::from(first), rest)
    };
    let (value, rest) = rest
        .split_at_checked(len)
        .ok_or(ApduError::TruncatedValue {
            declared: len,
            available: rest.len(),
        })?;
    Ok((SimpleTlv { tag, value }, rest))
}

/// Parses a record holding one simple-TLV object with the `expected` tag and
/// returns its value. Bytes after the object (padding) are ignored.
pub fn record_value(expected: u8, record: &[u8]) -> Result<&[u8], ApduError> {
    let (tlv, _) = parse_simple_tlv(record)?;
    if tlv.tag != expected {
        return Err(ApduError::UnexpectedTag {
            expected,
            found: tlv.tag,
        });
    }
    Ok(tlv.value)
}

/// Encodes a simple-TLV object (used by the virtual card and by tests).
pub fn encode_simple_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    out.push(tag);
    if value.len() < 0xFF {
        out.push(value.len() as u8);
    } else {
        out.push(0xFF);
        out.extend_from_slice(&(value.len().min(0xFFFF) as u16).to_be_bytes());
    }
    out.extend_from_slice(&value[..value.len().min(0xFFFF)]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02X}")).collect()
    }

    #[test]
    fn short_cases_encode_per_iso7816() {
        assert_eq!(
            hex(&Command::new(0, 0xA4, 4, 0).to_bytes().unwrap()),
            "00A40400"
        );
        assert_eq!(hex(&read_record(1, 0x12).to_bytes().unwrap()), "00B2010412");
        assert_eq!(hex(&read_record(1, 256).to_bytes().unwrap()), "00B2010400");
        assert_eq!(
            hex(&select_by_name(b"sx1.sh.\xC9\xE7\xBB\xE1\xB1\xA3\xD5\xCF")
                .to_bytes()
                .unwrap()),
            "00A404000F7378312E73682EC9E7BBE1B1A3D5CF"
        );
        assert_eq!(
            hex(&select_file(0xEF05).to_bytes().unwrap()),
            "00A4020002EF05"
        );
        assert_eq!(
            hex(&select_file(0xEF05).with_le(256).to_bytes().unwrap()),
            "00A4020002EF0500"
        );
    }

    #[test]
    fn extended_cases_encode_per_iso7816() {
        assert_eq!(
            hex(&read_record(1, 257).to_bytes().unwrap()),
            "00B20104000101"
        );
        assert_eq!(
            hex(&read_record(1, 65_536).to_bytes().unwrap()),
            "00B20104000000"
        );
        let data = vec![0xAB; 300];
        let bytes = Command::new(0, 0xD6, 0, 0)
            .with_data(&data)
            .to_bytes()
            .unwrap();
        assert_eq!(hex(&bytes[..7]), "00D6000000012C");
        assert_eq!(bytes.len(), 7 + 300);
        let bytes = Command::new(0, 0xD6, 0, 0)
            .with_data(&data)
            .with_le(2)
            .to_bytes()
            .unwrap();
        assert_eq!(hex(&bytes[bytes.len() - 2..]), "0002");
    }

    #[test]
    fn out_of_range_commands_are_refused() {
        assert_eq!(
            read_record(1, 0).to_bytes(),
            Err(ApduError::LeOutOfRange(0))
        );
        assert_eq!(
            read_record(1, 65_537).to_bytes(),
            Err(ApduError::LeOutOfRange(65_537))
        );
        let data = vec![0; 65_536];
        assert_eq!(
            Command::new(0, 0, 0, 0).with_data(&data).to_bytes(),
            Err(ApduError::DataTooLong(65_536))
        );
    }

    #[test]
    fn status_words_are_classified() {
        assert_eq!(StatusWord(0x6110).bytes_available(), Some(16));
        assert_eq!(StatusWord(0x6100).bytes_available(), Some(256));
        assert_eq!(StatusWord(0x6C12).exact_length(), Some(18));
        assert_eq!(StatusWord(0x63C2).tries_left(), Some(2));
        assert_eq!(StatusWord(0x6300).tries_left(), None);
        assert!(StatusWord(0x6983).is_blocked());
        assert!(StatusWord(0x6A82).is_not_found());
        assert!(!StatusWord(0x9000).is_not_found());
    }

    #[test]
    fn response_parse_splits_status_word() {
        let r = Response::parse(&[1, 2, 0x90, 0x00]).unwrap();
        assert_eq!(&r.data[..], &[1, 2]);
        assert!(r.sw.is_success());
        assert_eq!(
            Response::parse(&[0x90]),
            Err(ApduError::ResponseTooShort(1))
        );
    }

    #[derive(Debug, PartialEq)]
    enum ScriptError {
        Apdu(ApduError),
        Script(String),
    }
    impl From<ApduError> for ScriptError {
        fn from(e: ApduError) -> Self {
            ScriptError::Apdu(e)
        }
    }

    /// Drives [`exchange`] with a scripted card: each step is the expected
    /// command (hex) and the raw answer.
    fn scripted<'a>(
        script: &'a [(&'a str, &'a [u8])],
    ) -> impl FnMut(&[u8]) -> Result<Zeroizing<Vec<u8>>, ScriptError> + 'a {
        let mut step = 0;
        move |cmd: &[u8]| {
            let Some((expected, answer)) = script.get(step) else {
                return Err(ScriptError::Script("unexpected extra command".into()));
            };
            step += 1;
            if hex(cmd) != *expected {
                return Err(ScriptError::Script(format!(
                    "expected {expected}, got {}",
                    hex(cmd)
                )));
            }
            Ok(Zeroizing::new(answer.to_vec()))
        }
    }

    #[test]
    fn exchange_follows_61xx_chains() {
        let mut card = scripted(&[
            ("00B2010400", &[0x61, 0x03]),
            ("00C0000003", &[1, 2, 3, 0x61, 0x02]),
            ("00C0000002", &[4, 5, 0x90, 0x00]),
        ]);
        let r = exchange(&read_record(1, 256), &mut card).unwrap();
        assert_eq!(&r.data[..], &[1, 2, 3, 4, 5]);
        assert!(r.sw.is_success());
    }

    #[test]
    fn exchange_resends_after_6cxx() {
        let mut card = scripted(&[
            ("00B2010400", &[0x6C, 0x04]),
            ("00B2010404", &[9, 9, 9, 9, 0x90, 0x00]),
        ]);
        let r = exchange(&read_record(1, 256), &mut card).unwrap();
        assert_eq!(&r.data[..], &[9, 9, 9, 9]);
    }

    #[test]
    fn exchange_stops_endless_chains() {
        let mut endless = |_: &[u8]| -> Result<Zeroizing<Vec<u8>>, ScriptError> {
            Ok(Zeroizing::new(
                vec![0xAA; 255].into_iter().chain([0x61, 0xFF]).collect(),
            ))
        };
        let r = exchange(&read_record(1, 256), &mut endless);
        assert_eq!(r, Err(ScriptError::Apdu(ApduError::ChainTooLong)));
    }

    #[test]
    fn simple_tlv_parses_short_and_long_lengths() {
        let (tlv, rest) = parse_simple_tlv(&[0x08, 0x02, b'1', b'2', 0x00]).unwrap();
        assert_eq!((tlv.tag, tlv.value), (0x08, &b"12"[..]));
        assert_eq!(rest, &[0x00]);
        let mut long = vec![0x09, 0xFF, 0x01, 0x00];
        long.extend(vec![7; 256]);
        let (tlv, rest) = parse_simple_tlv(&long).unwrap();
        assert_eq!(tlv.value.len(), 256);
        assert!(rest.is_empty());
        assert_eq!(encode_simple_tlv(0x09, &[7; 256]), long);
    }

    #[test]
    fn simple_tlv_rejects_malformed_records() {
        assert_eq!(parse_simple_tlv(&[]), Err(ApduError::EmptyRecord));
        assert_eq!(
            parse_simple_tlv(&[0x00, 1, 1]),
            Err(ApduError::ReservedTag(0))
        );
        assert_eq!(parse_simple_tlv(&[0x08]), Err(ApduError::TruncatedLength));
        assert_eq!(
            parse_simple_tlv(&[0x08, 0xFF, 1]),
            Err(ApduError::TruncatedLength)
        );
        assert_eq!(
            parse_simple_tlv(&[0x08, 3, 1]),
            Err(ApduError::TruncatedValue {
                declared: 3,
                available: 1
            })
        );
        assert_eq!(
            record_value(0x09, &[0x08, 0]),
            Err(ApduError::UnexpectedTag {
                expected: 0x09,
                found: 0x08
            })
        );
    }
}
