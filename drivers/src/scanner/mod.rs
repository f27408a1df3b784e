//! Code scanners: the QR/barcode reader under which a resident holds the identity
//! code on a phone (electronic social security card, provincial app code).
//!
//! Two wirings are read, both named by a [`ScannerUri`]:
//! - `serial:` an RS-232 scanner or a USB scanner in USB-CDC mode (`/dev/ttyACM0`);
//! - `hid:` (Linux) a USB keyboard-wedge scanner, read from its own input device
//!   with an exclusive grab (`EVIOCGRAB`) so its keystrokes never reach the UI;
//!   key codes become characters with the US layout scanners use.
//!
//! A [`Scanner`] runs on its own thread and reports [`ScanEvent`]s through a
//! callback until cancelled, like the card monitor: `Connected`, `Scanned(code)`,
//! `Rejected(why)` for a read that gave no code, `Unavailable(why)` while the
//! device is absent, refused or lost (it is reopened on its own: hot-plug and
//! re-plug need no restart).
//!
//! The bytes in between are framed by a [`CodeFramer`]: a bounded buffer, the
//! configured [`Suffix`], an inter-character timeout for partial codes, and
//! rejection of control characters and invalid UTF-8.
//!
//! A scanned code identifies a resident for a short time: [`ScannedCode`] is
//! zeroized on drop, redacted in `Debug`, and no log line carries it. docs/scanner.md
//! has the wiring, the configuration, the tests and what cannot be tested here.

pub mod framing;
#[cfg(target_os = "linux")]
mod hid;
#[cfg(target_os = "linux")]
pub mod keyboard;
mod monitor;
mod port;
mod serial;
mod types;
mod uri;

pub use framing::CodeFramer;
pub use monitor::{Scanner, ScannerHandle, ScannerStatus, ScannerThread};
pub use types::{ScanError, ScanEvent, ScannedCode, ScannerConfig};
pub use uri::{ScannerUri, ScannerUriError, Suffix};
