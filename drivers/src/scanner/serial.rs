//! Serial and USB-CDC scanners through the `serialport` crate (the printer's
//! serial transport uses it too): exclusive open (`TIOCEXCL` and `flock` on
//! Unix), raw mode, the configured baud rate, and reads with a deadline.

use super::framing::CodeFramer;
use super::port::{Chunk, ScanPort};
use super::types::{ScanError, ScannedCode};
use std::io::Read;
use std::time::Duration;

pub(super) struct SerialPort {
    port: Box<dyn serialport::SerialPort>,
    device: String,
}

impl SerialPort {
    pub(super) fn open(path: &str, baud: u32) -> Result<Self, ScanError> {
        let device = path.to_owned();
        let port = serialport::new(path, baud)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|error| open_error(&device, error))?;
        // Bytes from before the open are the tail of a code nobody framed.
        let _ = port.clear(serialport::ClearBuffer::Input);
        Ok(Self { port, device })
    }
}

fn open_error(device: &str, error: serialport::Error) -> ScanError {
    let device = device.to_owned();
    match error.kind() {
        serialport::ErrorKind::Io(std::io::ErrorKind::NotFound) => ScanError::NotFound { device },
        serialport::ErrorKind::Io(std::io::ErrorKind::PermissionDenied) => {
            ScanError::PermissionDenied { device }
        }
        // EBUSY from TIOCEXCL, or the exclusive lock held by another process.
        serialport::ErrorKind::NoDevice => ScanError::Busy { device },
        _ => ScanError::Io {
            device,
            detail: error.to_string(),
        },
    }
}

impl ScanPort for SerialPort {
    fn read(&mut self, buffer: &mut [u8], timeout: Duration) -> Chunk {
        if let Err(error) = self.port.set_timeout(timeout) {
            return Chunk::Closed(ScanError::Io {
                device: self.device.clone(),
                detail: error.to_string(),
            });
        }
        match self.port.read(buffer) {
            Ok(0) => Chunk::Closed(ScanError::Disconnected {
                device: self.device.clone(),
                detail: "end of file".to_owned(),
            }),
            Ok(n) => Chunk::Data(n),
            Err(error)
                if matches!(
                    error.kind(),
                    std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::Interrupted
                ) =>
            {
                Chunk::Idle
            }
            // A hang-up (the USB device left, the pty master closed) reads as a
            // broken pipe or an I/O error.
            Err(error) => Chunk::Closed(ScanError::Disconnected {
                device: self.device.clone(),
                detail: error.to_string(),
            }),
        }
    }

    fn feed(
        &mut self,
        bytes: &[u8],
        framer: &mut CodeFramer,
        on_outcome: &mut dyn FnMut(Result<ScannedCode, ScanError>),
    ) {
        for &byte in bytes {
            if let Some(outcome) = framer.push(byte) {
                on_outcome(outcome);
            }
        }
    }
}
