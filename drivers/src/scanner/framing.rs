//! Bytes to codes: a bounded buffer closed by the configured suffix.
//!
//! The framer never holds more than `max_len` bytes and never reallocates, so no
//! stray copy of a code is left in freed memory; it zeroizes what it held after
//! every code, rejection and timeout. A code is delivered only when it is
//! non-empty, valid UTF-8 and free of control characters; anything else becomes a
//! typed [`ScanError`] and reading resumes cleanly with the next code.

use super::types::{ScanError, ScannedCode};
use super::uri::Suffix;
use zeroize::{Zeroize, Zeroizing};

const CR: u8 = b'\r';
const LF: u8 = b'\n';
const TAB: u8 = b'\t';

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Gathering a code in the buffer.
    Collecting,
    /// A control byte (or an undecodable key) was seen: the code is lost; its
    /// length is still counted for the error.
    Garbage { length: usize },
    /// The code outgrew the buffer (already reported): everything up to the next
    /// suffix is dropped.
    Overflow,
}

/// Assembles codes from bytes; see the module documentation.
pub struct CodeFramer {
    suffix: Suffix,
    max_len: usize,
    buffer: Zeroizing<Vec<u8>>,
    state: State,
    /// The previous byte was a CR: for [`Suffix::CrLf`] the code waits for its LF;
    /// for [`Suffix::Any`] an LF now ends nothing more.
    after_cr: bool,
}

impl std::fmt::Debug for CodeFramer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CodeFramer")
            .field("suffix", &self.suffix)
            .field("max_len", &self.max_len)
            .field("pending", &self.buffer.len())
            .field("state", &self.state)
            .finish()
    }
}

impl CodeFramer {
    /// A framer for codes of at most `max_len` bytes (at least 1).
    pub fn new(suffix: Suffix, max_len: usize) -> Self {
        let max_len = max_len.max(1);
        Self {
            suffix,
            max_len,
            buffer: Zeroizing::new(Vec::with_capacity(max_len)),
            state: State::Collecting,
            after_cr: false,
        }
    }

    /// Takes one byte; returns a code or a rejection when this byte ends one.
    pub fn push(&mut self, byte: u8) -> Option<Result<ScannedCode, ScanError>> {
        let after_cr = std::mem::take(&mut self.after_cr);
        match self.suffix {
            Suffix::Cr if byte == CR => return self.finish(),
            Suffix::Lf if byte == LF => return self.finish(),
            Suffix::Tab if byte == TAB => return self.finish(),
            Suffix::Any if byte == CR => {
                self.after_cr = true;
                return self.finish();
            }
            Suffix::Any if byte == LF => return if after_cr { None } else { self.finish() },
            Suffix::CrLf if after_cr && byte == LF => return self.finish(),
            Suffix::CrLf => {
                let mut outcome = None;
                if after_cr {
                    // A lone CR inside a code.
                    outcome = self.take_control();
                }
                if byte == CR {
                    self.after_cr = true;
                    return outcome;
                }
                return outcome.or_else(|| self.take_data(byte));
            }
            _ => {}
        }
        self.take_data(byte)
    }

    /// Marks the code being read as unreadable without a byte (a key with no
    /// character, events lost by the kernel); reported when the code ends.
    pub fn poison(&mut self) -> Option<Result<ScannedCode, ScanError>> {
        self.after_cr = false;
        self.take_control()
    }

    /// True while part of a code (or of a rejected one) is pending, so the
    /// inter-character timeout applies.
    pub fn has_partial(&self) -> bool {
        !self.buffer.is_empty()
            || self.state != State::Collecting
            || (self.after_cr && self.suffix == Suffix::CrLf)
    }

    /// Bytes of the code being read (0 after an overflow).
    pub fn pending_len(&self) -> usize {
        match self.state {
            State::Collecting => self.buffer.len(),
            State::Garbage { length } => length,
            State::Overflow => 0,
        }
    }

    /// The inter-character timeout passed: discards the partial code.
    pub fn expire(&mut self) -> Option<ScanError> {
        self.abandon(|length| ScanError::Incomplete { length })
    }

    /// The device went away: discards the partial code.
    pub fn interrupt(&mut self) -> Option<ScanError> {
        self.abandon(|length| ScanError::Interrupted { length })
    }

    fn abandon(&mut self, error: impl FnOnce(usize) -> ScanError) -> Option<ScanError> {
        let outcome = match self.state {
            State::Collecting if self.buffer.is_empty() => None,
            State::Collecting => Some(error(self.buffer.len())),
            State::Garbage { length } => Some(ScanError::Garbage { length }),
            State::Overflow => None,
        };
        self.reset();
        outcome
    }

    fn reset(&mut self) {
        self.buffer.zeroize();
        self.state = State::Collecting;
        self.after_cr = false;
    }

    fn take_data(&mut self, byte: u8) -> Option<Result<ScannedCode, ScanError>> {
        if byte < 0x20 || byte == 0x7f {
            return self.take_control();
        }
        match self.state {
            State::Overflow => None,
            State::Garbage { length } => self.grow_garbage(length + 1),
            State::Collecting if self.buffer.len() >= self.max_len => self.overflow(),
            State::Collecting => {
                self.buffer.push(byte);
                None
            }
        }
    }

    fn take_control(&mut self) -> Option<Result<ScannedCode, ScanError>> {
        match self.state {
            State::Overflow => None,
            State::Garbage { length } => self.grow_garbage(length + 1),
            State::Collecting => {
                let length = self.buffer.len() + 1;
                self.buffer.zeroize();
                self.grow_garbage(length)
            }
        }
    }

    fn grow_garbage(&mut self, length: usize) -> Option<Result<ScannedCode, ScanError>> {
        if length > self.max_len {
            return self.overflow();
        }
        self.state = State::Garbage { length };
        None
    }

    fn overflow(&mut self) -> Option<Result<ScannedCode, ScanError>> {
        self.buffer.zeroize();
        self.state = State::Overflow;
        Some(Err(ScanError::TooLong {
            limit: self.max_len,
        }))
    }

    /// The suffix arrived.
    fn finish(&mut self) -> Option<Result<ScannedCode, ScanError>> {
        let after_cr = self.after_cr;
        let outcome = match self.state {
            State::Overflow => None,
            State::Garbage { length } => Some(Err(ScanError::Garbage { length })),
            State::Collecting if self.buffer.is_empty() => None,
            State::Collecting => Some(self.decode()),
        };
        self.reset();
        self.after_cr = after_cr;
        outcome
    }

    fn decode(&self) -> Result<ScannedCode, ScanError> {
        let length = self.buffer.len();
        let text =
            std::str::from_utf8(&self.buffer).map_err(|_| ScanError::InvalidUtf8 { length })?;
        // C1 controls (U+0080..U+009F) pass the byte check as UTF-8 sequences.
        if text.chars().any(char::is_control) {
            return Err(ScanError::Garbage { length });
        }
        let mut code = Zeroizing::new(String::with_capacity(length));
        code.push_str(text);
        Ok(ScannedCode::new(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Feeds `bytes`, returning codes as `Ok(text)` and rejections as `Err`.
    fn feed(framer: &mut CodeFramer, bytes: &[u8]) -> Vec<Outcome> {
        bytes
            .iter()
            .filter_map(|&byte| framer.push(byte))
            .map(|outcome| outcome.map(|code| code.as_str().to_owned()))
            .collect()
    }

    type Outcome = Result<String, ScanError>;

    fn ok(text: &str) -> Outcome {
        Ok(text.to_owned())
    }

    #[test]
    fn each_suffix_ends_codes_its_way() {
        let cases: [(Suffix, &[u8], Vec<Outcome>); 10] = [
            (Suffix::Cr, b"AB\rCD\r", vec![ok("AB"), ok("CD")]),
            // A CR-configured kiosk with a CR LF scanner: the LF poisons the next code.
            (
                Suffix::Cr,
                b"AB\r\nCD\r",
                vec![ok("AB"), Err(ScanError::Garbage { length: 3 })],
            ),
            (Suffix::Lf, b"AB\nCD\n", vec![ok("AB"), ok("CD")]),
            (
                Suffix::Lf,
                b"AB\r\n",
                vec![Err(ScanError::Garbage { length: 3 })],
            ),
            (Suffix::CrLf, b"AB\r\nCD\r\n", vec![ok("AB"), ok("CD")]),
            (
                Suffix::CrLf,
                b"A\rB\r\nC\r\n",
                vec![Err(ScanError::Garbage { length: 3 }), ok("C")],
            ),
            (
                Suffix::Any,
                b"AB\rCD\nEF\r\nGH\r",
                vec![ok("AB"), ok("CD"), ok("EF"), ok("GH")],
            ),
            // Empty lines are nothing, not errors.
            (Suffix::Any, b"\n\r\n\rAB\n\n", vec![ok("AB")]),
            (Suffix::Tab, b"AB\tCD\t", vec![ok("AB"), ok("CD")]),
            (
                Suffix::Tab,
                b"AB\rCD\t",
                vec![Err(ScanError::Garbage { length: 5 })],
            ),
        ];
        for (suffix, bytes, expected) in cases {
            let mut framer = CodeFramer::new(suffix, 64);
            assert_eq!(feed(&mut framer, bytes), expected, "{suffix:?} {bytes:?}");
        }
    }

    #[test]
    fn control_bytes_and_bad_utf8_are_rejected_then_reading_resumes() {
        let mut framer = CodeFramer::new(Suffix::Cr, 64);
        assert_eq!(
            feed(
                &mut framer,
                b"AB\x00CD\r\xff\xfe\r\xc2\x85X\r\x1b[A\r\xe7\xa4\xbe\xe4\xbf\x9d-1\r"
            ),
            vec![
                Err(ScanError::Garbage { length: 5 }),
                Err(ScanError::InvalidUtf8 { length: 2 }),
                Err(ScanError::Garbage { length: 3 }),
                Err(ScanError::Garbage { length: 3 }),
                ok("社保-1"),
            ]
        );
        assert!(!framer.has_partial());
    }

    #[test]
    fn an_over_long_code_is_rejected_once_and_the_next_one_reads() {
        let mut framer = CodeFramer::new(Suffix::Cr, 8);
        assert_eq!(feed(&mut framer, b"12345678\r"), vec![ok("12345678")]);
        assert_eq!(
            feed(&mut framer, b"123456789abcdefghijk\x01\x02\rOK\r"),
            vec![Err(ScanError::TooLong { limit: 8 }), ok("OK")]
        );
        // Garbage that grows past the bound is too long as well.
        assert_eq!(
            feed(
                &mut framer,
                b"\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\rOK\r"
            ),
            vec![Err(ScanError::TooLong { limit: 8 }), ok("OK")]
        );
        assert!(framer.buffer.capacity() >= 8 && framer.buffer.capacity() < 64);
    }

    #[test]
    fn a_partial_code_is_dropped_on_timeout_or_unplug() {
        let mut framer = CodeFramer::new(Suffix::CrLf, 64);
        assert!(feed(&mut framer, b"PART").is_empty());
        assert!(framer.has_partial());
        assert_eq!(framer.expire(), Some(ScanError::Incomplete { length: 4 }));
        assert!(!framer.has_partial());
        assert_eq!(framer.expire(), None);
        // A code whose LF never came is incomplete too.
        assert!(feed(&mut framer, b"AB\r").is_empty());
        assert_eq!(framer.expire(), Some(ScanError::Incomplete { length: 2 }));
        assert!(feed(&mut framer, b"X\x07Y").is_empty());
        assert_eq!(framer.interrupt(), Some(ScanError::Garbage { length: 3 }));
        assert!(feed(&mut framer, b"XY").is_empty());
        assert_eq!(
            framer.interrupt(),
            Some(ScanError::Interrupted { length: 2 })
        );
        assert_eq!(feed(&mut framer, b"NEXT\r\n"), vec![ok("NEXT")]);
    }

    #[test]
    fn poison_rejects_the_code_being_read() {
        let mut framer = CodeFramer::new(Suffix::Cr, 64);
        assert!(feed(&mut framer, b"AB").is_empty());
        assert!(framer.poison().is_none());
        assert_eq!(
            feed(&mut framer, b"C\rD\r"),
            vec![Err(ScanError::Garbage { length: 4 }), ok("D")]
        );
    }

    #[test]
    fn nothing_is_left_in_the_buffer_after_a_code() {
        let mut framer = CodeFramer::new(Suffix::Cr, 16);
        assert_eq!(feed(&mut framer, b"SECRET\r"), vec![ok("SECRET")]);
        assert!(framer.buffer.is_empty());
        assert!(feed(&mut framer, b"SECRET").is_empty());
        assert!(!format!("{framer:?}").contains("SECRET"));
    }
}
