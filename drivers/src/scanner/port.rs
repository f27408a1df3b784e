//! An open scanner device as the loop sees it, whatever its wiring: wait for
//! input, read it, and turn bytes into framer input.

use std::time::Duration;

use super::framing::CodeFramer;
use super::types::{ScanError, ScannedCode};

/// What one wait for input gave.
pub(crate) enum Chunk {
    /// Bytes in the start of the buffer.
    Data(usize),
    /// Nothing within the timeout.
    Idle,
    /// The device is gone or failed; it must be reopened.
    Closed(ScanError),
}

/// An open scanner device.
pub(crate) trait ScanPort: Send {
    /// Waits up to `timeout` for input and reads what is there.
    fn read(&mut self, buffer: &mut [u8], timeout: Duration) -> Chunk;
    /// Turns bytes read into framer input, reporting each code or rejection.
    fn feed(
        &mut self,
        bytes: &[u8],
        framer: &mut CodeFramer,
        on_outcome: &mut dyn FnMut(Result<ScannedCode, ScanError>),
    );
    /// The device's own name, when it has one (HID).
    fn description(&self) -> Option<String> {
        None
    }
}
