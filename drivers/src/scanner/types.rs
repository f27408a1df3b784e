//! What a scanner yields and how it fails: the scanned code (personal data:
//! zeroized, redacted in `Debug`), scan events, errors, and the configuration.

use std::fmt;

use super::uri::ScannerUri;
use std::time::Duration;
use zeroize::Zeroizing;

/// A code read from the scanner: printable UTF-8 without its suffix. It is
/// personal data: zeroized on drop, never shown by `Debug`, never logged. Pass it
/// on (to the central verification) and drop it.
#[derive(PartialEq, Eq)]
pub struct ScannedCode(Zeroizing<String>);

impl ScannedCode {
    /// A code from elsewhere than a scanner's framer (a simulated scanner, a
    /// code typed in by hand); the framer's checks are the caller's to make.
    pub fn new(text: Zeroizing<String>) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The text, still zeroized on drop.
    pub fn into_inner(self) -> Zeroizing<String> {
        self.0
    }
}

impl fmt::Debug for ScannedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ScannedCode(<redacted>, {} bytes)", self.0.len())
    }
}

/// What a running [`Scanner`] reports.
#[derive(Debug, PartialEq, Eq)]
pub enum ScanEvent {
    /// The scanner is open (and, for HID, grabbed): codes can come. `description`
    /// is the input device's name for HID scanners.
    Connected {
        device: String,
        description: Option<String>,
    },
    /// A whole code.
    Scanned(ScannedCode),
    /// Something was read but it was no code ([`ScanError::is_read_error`]); the
    /// resident may scan again.
    Rejected(ScanError),
    /// The scanner cannot be used now: absent, refused, busy, or lost mid-use. It
    /// is retried until the scanner is cancelled; reported once per distinct
    /// reason, so a missing scanner does not flood the callback.
    Unavailable(ScanError),
}

/// Why a scan gave no code or the scanner cannot be used. `Display` is the
/// technician-facing detail and never contains code data; [`ScanError::message_key`]
/// names the resident-facing message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    #[error("scanner {device} is not connected")]
    NotFound { device: String },
    #[error(
        "no permission to open scanner {device} (give the kiosk user access, e.g. with a udev rule)"
    )]
    PermissionDenied { device: String },
    #[error("scanner {device} is held by another program")]
    Busy { device: String },
    #[error("{device} is not a code scanner: {reason}")]
    NotAScanner { device: String, reason: String },
    #[error("scanner {device} went away (unplugged, or its port failed): {detail}")]
    Disconnected { device: String, detail: String },
    #[error("scanner {device}: {detail}")]
    Io { device: String, detail: String },
    #[error("{0}")]
    Unsupported(String),

    #[error("the code held control characters ({length} bytes); discarded")]
    Garbage { length: usize },
    #[error("the code is not valid UTF-8 ({length} bytes); discarded")]
    InvalidUtf8 { length: usize },
    #[error("the code is longer than {limit} bytes; discarded up to the next suffix")]
    TooLong { limit: usize },
    #[error("the code stopped after {length} bytes without its suffix; discarded")]
    Incomplete { length: usize },
    #[error("the scanner went away {length} bytes into a code; discarded")]
    Interrupted { length: usize },
}

impl ScanError {
    /// True for a read that gave no code (the resident may scan again); false for a
    /// scanner that cannot be used.
    pub fn is_read_error(&self) -> bool {
        matches!(
            self,
            ScanError::Garbage { .. }
                | ScanError::InvalidUtf8 { .. }
                | ScanError::TooLong { .. }
                | ScanError::Incomplete { .. }
                | ScanError::Interrupted { .. }
        )
    }

    /// The Fluent message id of the resident-facing explanation.
    pub fn message_key(&self) -> &'static str {
        match self {
            ScanError::Garbage { .. }
            | ScanError::InvalidUtf8 { .. }
            | ScanError::TooLong { .. } => "scan-error-unreadable",
            ScanError::Incomplete { .. } | ScanError::Interrupted { .. } => "scan-error-incomplete",
            ScanError::NotFound { .. }
            | ScanError::PermissionDenied { .. }
            | ScanError::Busy { .. }
            | ScanError::NotAScanner { .. }
            | ScanError::Disconnected { .. }
            | ScanError::Io { .. }
            | ScanError::Unsupported(_) => "scan-error-scanner",
        }
    }
}

/// A scanner's place and framing rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScannerConfig {
    pub uri: ScannerUri,
    /// Longest code accepted, in bytes; longer ones are rejected
    /// ([`ScanError::TooLong`]). Clamped to 1..=[`ScannerConfig::MAX_CODE_LEN_LIMIT`].
    pub max_code_len: usize,
    /// A partial code older than this without a new byte is discarded
    /// ([`ScanError::Incomplete`]). At least 1 ms.
    pub inter_char_timeout: Duration,
}

impl ScannerConfig {
    /// Phone identity codes are a few hundred bytes; a version-40 QR code holds at
    /// most 2953, so this leaves room without letting a stuck scanner fill memory.
    pub const DEFAULT_MAX_CODE_LEN: usize = 1024;
    pub const MAX_CODE_LEN_LIMIT: usize = 64 * 1024;
    /// Scanners send a code as one burst (serial: about 1 ms a byte at 9600 baud;
    /// keyboard wedge: a few ms a key), so a quarter second of silence means the
    /// rest is not coming.
    pub const DEFAULT_INTER_CHAR_TIMEOUT: Duration = Duration::from_millis(250);

    pub fn new(uri: ScannerUri) -> Self {
        Self {
            uri,
            max_code_len: Self::DEFAULT_MAX_CODE_LEN,
            inter_char_timeout: Self::DEFAULT_INTER_CHAR_TIMEOUT,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_never_show_in_debug_or_errors() {
        let code = ScannedCode::new(Zeroizing::new("HZ-SECRET-4711".to_owned()));
        let event = ScanEvent::Scanned(code);
        let shown = format!("{event:?} {event:#?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("14 bytes"), "{shown}");
    }

    #[test]
    fn read_errors_and_device_errors_are_told_apart() {
        let read = ScanError::Incomplete { length: 3 };
        let device = ScanError::NotFound {
            device: "/dev/ttyACM0".into(),
        };
        assert!(read.is_read_error());
        assert!(!device.is_read_error());
        assert_eq!(read.message_key(), "scan-error-incomplete");
        assert_eq!(device.message_key(), "scan-error-scanner");
        assert_eq!(
            ScanError::TooLong { limit: 8 }.message_key(),
            "scan-error-unreadable"
        );
    }
}
