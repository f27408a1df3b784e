//! Codes residents carry: verification codes printed on certificates
//! (unguessable, easy to read aloud and to type back in), and the reference
//! phone identity codes (sealed, short-lived; see [`super::identity_code`] for
//! the route that spends them).

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use ed25519_dalek::SigningKey;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::wire::MAX_IDENTITY_CODE_CHARS;

/// A fresh verification code: 12 characters of Crockford base32 (60 random
/// bits), grouped for reading aloud: "7KQ2-M9XD-4HTR".
pub fn new_verification_code() -> String {
    grouped_random_code(3)
}

/// `groups` groups of four random Crockford base32 characters (20 bits each),
/// joined by dashes: no I, L, O or U to misread.
pub fn grouped_random_code(groups: usize) -> String {
    use rand::Rng;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..groups * 4)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Normalises a typed-in code: upper case, no spaces, Crockford look-alikes mapped.
pub fn normalize_verification_code(code: &str) -> String {
    code.trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}

/// What every reference code starts with; the digit is the format's version.
pub const CODE_PREFIX: &str = "EID1:";
/// How long a code identifies its resident: long enough to walk to the kiosk
/// and scan, short enough that a photographed screen is soon worthless.
pub const IDENTITY_CODE_TTL: time::Duration = time::Duration::minutes(5);
const NONCE_BYTES: usize = 12;
const TAG_BYTES: usize = 16;
const EXPIRY_BYTES: usize = 8;
/// Card numbers are short; a longer one would make an unwieldy QR code.
const MAX_CARD_NUMBER_BYTES: usize = 32;

/// Why a scanned text identifies nobody.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    #[error("not an identity code of this service's form")]
    Malformed,
    /// Not sealed with this deployment's key: forged, damaged in a way that still
    /// decodes, or from another system.
    #[error("not an identity code this service issued")]
    Unknown,
    #[error("the card number cannot be put in a code")]
    CardNumber,
}

/// A code opened with the deployment's key.
#[derive(Debug)]
pub struct OpenedCode {
    pub nonce: [u8; NONCE_BYTES],
    pub expires_at: OffsetDateTime,
    pub card_number: String,
}

/// The key that seals and opens reference codes.
#[derive(Clone)]
pub struct IdentityCodeVerifier {
    cipher: ChaCha20Poly1305,
}

impl IdentityCodeVerifier {
    /// Derived from the certificate signing key with a label of its own, so the
    /// box key is useless for anything else and never stored on its own.
    pub fn derive(certificate_key: &SigningKey) -> Self {
        let mut hash = Sha256::new();
        hash.update(b"estation identity code key v1\0");
        hash.update(certificate_key.to_bytes());
        let key: [u8; 32] = hash.finalize().into();
        IdentityCodeVerifier {
            cipher: ChaCha20Poly1305::new(Key::from_slice(&key)),
        }
    }

    /// A new code for `card_number`, valid until `expires_at`.
    pub fn seal(&self, card_number: &str, expires_at: OffsetDateTime) -> Result<String, CodeError> {
        use rand::RngCore;
        if card_number.is_empty() || card_number.len() > MAX_CARD_NUMBER_BYTES {
            return Err(CodeError::CardNumber);
        }
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let expiry =
            u64::try_from(expires_at.unix_timestamp()).map_err(|_| CodeError::CardNumber)?;
        let mut plain = Vec::with_capacity(EXPIRY_BYTES + card_number.len());
        plain.extend_from_slice(&expiry.to_be_bytes());
        plain.extend_from_slice(card_number.as_bytes());
        let sealed = self
            .cipher
            .encrypt(
                Nonce::from_slice(&nonce),
                Payload {
                    msg: &plain,
                    aad: CODE_PREFIX.as_bytes(),
                },
            )
            .map_err(|_| CodeError::CardNumber)?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!(
            "{CODE_PREFIX}{}",
            data_encoding::BASE32_NOPAD.encode(&bytes)
        ))
    }

    /// Opens a scanned text. Scanners may change the letters' case or add
    /// blanks around the code; nothing else is forgiven.
    pub fn open(&self, scanned: &str) -> Result<OpenedCode, CodeError> {
        let text = scanned.trim();
        if text.len() > MAX_IDENTITY_CODE_CHARS || !text.is_ascii() {
            return Err(CodeError::Malformed);
        }
        let text = text.to_ascii_uppercase();
        let body = text.strip_prefix(CODE_PREFIX).ok_or(CodeError::Malformed)?;
        let bytes = data_encoding::BASE32_NOPAD
            .decode(body.as_bytes())
            .map_err(|_| CodeError::Malformed)?;
        if bytes.len() < NONCE_BYTES + TAG_BYTES + EXPIRY_BYTES + 1 {
            return Err(CodeError::Malformed);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: sealed,
                    aad: CODE_PREFIX.as_bytes(),
                },
            )
            .map_err(|_| CodeError::Unknown)?;
        // Sealed by this service, so well-formed; checked all the same.
        let (expiry, card) = plain.split_at(EXPIRY_BYTES);
        let expiry = u64::from_be_bytes(expiry.try_into().map_err(|_| CodeError::Malformed)?);
        let expires_at = i64::try_from(expiry)
            .ok()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .ok_or(CodeError::Malformed)?;
        let card_number = String::from_utf8(card.to_vec()).map_err(|_| CodeError::Malformed)?;
        let mut nonce_bytes = [0u8; NONCE_BYTES];
        nonce_bytes.copy_from_slice(nonce);
        Ok(OpenedCode {
            nonce: nonce_bytes,
            expires_at,
            card_number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verifier(seed: u8) -> IdentityCodeVerifier {
        IdentityCodeVerifier::derive(&SigningKey::from_bytes(&[seed; 32]))
    }

    fn in_five_minutes() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap() + IDENTITY_CODE_TTL
    }

    #[test]
    fn a_sealed_code_opens_to_its_card_number_and_expiry() {
        let v = verifier(1);
        let code = v.seal("A01234567", in_five_minutes()).unwrap();
        assert!(code.starts_with(CODE_PREFIX), "{code}");
        assert!(
            code[CODE_PREFIX.len()..]
                .chars()
                .all(|c| c.is_ascii_uppercase() || ('2'..='7').contains(&c)),
            "{code}"
        );
        assert!(!code.contains("A01234567"), "the card number is sealed");
        let opened = v.open(&code).unwrap();
        assert_eq!(opened.card_number, "A01234567");
        assert_eq!(opened.expires_at, in_five_minutes());
        // A scanner that lowers the case or adds blanks does not spoil it.
        assert_eq!(
            v.open(&format!(" {} ", code.to_ascii_lowercase()))
                .unwrap()
                .nonce,
            opened.nonce
        );
    }

    #[test]
    fn two_codes_for_one_resident_differ() {
        let v = verifier(1);
        let a = v.seal("A01234567", in_five_minutes()).unwrap();
        let b = v.seal("A01234567", in_five_minutes()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn forged_and_foreign_codes_are_unknown() {
        let code = verifier(1).seal("A01234567", in_five_minutes()).unwrap();
        assert_eq!(verifier(2).open(&code).unwrap_err(), CodeError::Unknown);
        // One character changed in the box.
        let mut forged: Vec<char> = code.chars().collect();
        let i = forged.len() - 10;
        forged[i] = if forged[i] == 'A' { 'B' } else { 'A' };
        let forged: String = forged.into_iter().collect();
        assert_eq!(verifier(1).open(&forged).unwrap_err(), CodeError::Unknown);
    }

    #[test]
    fn texts_that_are_no_code_are_malformed() {
        let v = verifier(1);
        let code = v.seal("A01234567", in_five_minutes()).unwrap();
        for text in [
            "",
            "A01234567",
            "EID1:",
            "EID1:not base32!",
            "EID2:AAAAAAAA",
            "EID1:AAAAAAAA",
            &code[..code.len() - 20],
            &"EID1:".repeat(200),
            "EID1:ÄÖ",
        ] {
            assert_eq!(v.open(text).unwrap_err(), CodeError::Malformed, "{text:?}");
        }
    }

    #[test]
    fn card_numbers_out_of_bounds_are_refused() {
        let v = verifier(1);
        assert_eq!(
            v.seal("", in_five_minutes()).unwrap_err(),
            CodeError::CardNumber
        );
        assert_eq!(
            v.seal(&"9".repeat(33), in_five_minutes()).unwrap_err(),
            CodeError::CardNumber
        );
    }
}
