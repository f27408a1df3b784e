//! Printer status from the real-time status replies (`DLE EOT n`, and `GS r 1` for
//! the paper sensor), and the rules for when a job may start.

use super::PrintError;

/// `DLE EOT n`: transmit real-time status `n`.
pub const DLE_EOT: [u8; 2] = [0x10, 0x04];
/// The status requests a status check sends, in order.
pub const STATUS_REQUESTS: [u8; 4] = [1, 2, 3, 4];

/// What the printer reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PrinterStatus {
    pub offline: bool,
    pub cover_open: bool,
    pub paper_end: bool,
    pub paper_near_end: bool,
    pub cutter_error: bool,
    pub unrecoverable_error: bool,
    /// Head too hot and the like; clears by itself.
    pub auto_recoverable_error: bool,
}

/// Something worth telling a technician that does not stop a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusWarning {
    PaperNearEnd,
}

impl PrinterStatus {
    /// A printer with paper, cover closed, no errors.
    pub const READY: PrinterStatus = PrinterStatus {
        offline: false,
        cover_open: false,
        paper_end: false,
        paper_near_end: false,
        cutter_error: false,
        unrecoverable_error: false,
        auto_recoverable_error: false,
    };

    /// `Ok` when a job may start; otherwise the most useful reason (what a
    /// person must fix first comes first).
    pub fn check_ready(&self) -> Result<(), PrintError> {
        if self.cover_open {
            Err(PrintError::CoverOpen)
        } else if self.paper_end {
            Err(PrintError::PaperOut)
        } else if self.cutter_error {
            Err(PrintError::CutterError)
        } else if self.unrecoverable_error {
            Err(PrintError::PrinterError)
        } else if self.offline || self.auto_recoverable_error {
            Err(PrintError::Offline(
                "the printer reports it is offline".to_owned(),
            ))
        } else {
            Ok(())
        }
    }

    pub fn warnings(&self) -> Vec<StatusWarning> {
        if self.paper_near_end {
            vec![StatusWarning::PaperNearEnd]
        } else {
            Vec::new()
        }
    }

    /// Folds one `DLE EOT n` reply into the status. Fails when the byte does not
    /// have the fixed bits every reply has (0xx1xx10), which is how stray bytes,
    /// late replies and automatic status packets are told apart.
    pub fn apply_dle_eot(&mut self, request: u8, reply: u8) -> Result<(), PrintError> {
        if !is_dle_eot_reply(reply) {
            return Err(PrintError::StatusUnavailable(format!(
                "unexpected status byte {reply:#04x}"
            )));
        }
        let bit = |n: u8| reply & (1 << n) != 0;
        match request {
            1 => self.offline = bit(3),
            2 => {
                self.cover_open = bit(2);
                if bit(5) {
                    self.paper_end = true;
                }
            }
            3 => {
                self.cutter_error = bit(3);
                self.unrecoverable_error = bit(5);
                self.auto_recoverable_error = bit(6);
            }
            4 => {
                self.paper_near_end = bit(2) || bit(3);
                self.paper_end = self.paper_end || bit(5) || bit(6);
            }
            other => {
                return Err(PrintError::StatusUnavailable(format!(
                    "unsupported status request {other}"
                )));
            }
        }
        Ok(())
    }

    /// The reply a printer in this state gives to `DLE EOT n` (for the emulator).
    pub fn dle_eot_reply(&self, request: u8) -> u8 {
        let flag = |on: bool, n: u8| if on { 1u8 << n } else { 0 };
        let fixed = 0x12;
        fixed
            | match request {
                1 => flag(self.offline || self.cover_open || self.paper_end, 3),
                2 => flag(self.cover_open, 2) | flag(self.paper_end, 5) | flag(self.has_error(), 6),
                3 => {
                    flag(self.cutter_error, 3)
                        | flag(self.unrecoverable_error, 5)
                        | flag(self.auto_recoverable_error, 6)
                }
                4 => {
                    flag(self.paper_near_end || self.paper_end, 2)
                        | flag(self.paper_near_end || self.paper_end, 3)
                        | flag(self.paper_end, 5)
                        | flag(self.paper_end, 6)
                }
                _ => 0,
            }
    }

    /// The reply to `GS r 1` (paper sensor status).
    pub fn gs_r_paper_reply(&self) -> u8 {
        let near = self.paper_near_end || self.paper_end;
        (if near { 0x03 } else { 0 }) | (if self.paper_end { 0x0C } else { 0 })
    }

    /// Folds a `GS r 1` reply in (bits 4 and 7 are always 0).
    pub fn apply_gs_r_paper(&mut self, reply: u8) -> Result<(), PrintError> {
        if reply & 0x90 != 0 {
            return Err(PrintError::StatusUnavailable(format!(
                "unexpected GS r reply {reply:#04x}"
            )));
        }
        self.paper_near_end = reply & 0x03 != 0;
        self.paper_end = reply & 0x0C != 0;
        Ok(())
    }

    fn has_error(&self) -> bool {
        self.cutter_error || self.unrecoverable_error || self.auto_recoverable_error
    }
}

/// Every `DLE EOT` reply for n = 1..4 has bit 0 = 0, bit 1 = 1, bit 4 = 1, bit 7 = 0.
pub fn is_dle_eot_reply(byte: u8) -> bool {
    byte & 0x93 == 0x12
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_round_trip_through_the_emulator_encoding() {
        let states = [
            PrinterStatus::READY,
            PrinterStatus {
                paper_end: true,
                ..PrinterStatus::READY
            },
            PrinterStatus {
                paper_near_end: true,
                ..PrinterStatus::READY
            },
            PrinterStatus {
                cover_open: true,
                ..PrinterStatus::READY
            },
            PrinterStatus {
                cutter_error: true,
                ..PrinterStatus::READY
            },
        ];
        for state in states {
            let mut parsed = PrinterStatus::default();
            for n in STATUS_REQUESTS {
                parsed.apply_dle_eot(n, state.dle_eot_reply(n)).unwrap();
            }
            assert_eq!(parsed.cover_open, state.cover_open);
            assert_eq!(parsed.paper_end, state.paper_end);
            assert_eq!(
                parsed.paper_near_end,
                state.paper_near_end || state.paper_end
            );
            assert_eq!(parsed.cutter_error, state.cutter_error);
        }
    }

    #[test]
    fn epson_reference_bytes() {
        // Epson's manual: 0x12 is "online, nothing wrong"; 0x72 on n=4 is paper end.
        let mut status = PrinterStatus::default();
        status.apply_dle_eot(1, 0x12).unwrap();
        status.apply_dle_eot(4, 0x72).unwrap();
        assert!(!status.offline && status.paper_end);
        assert!(matches!(status.check_ready(), Err(PrintError::PaperOut)));
    }

    #[test]
    fn stray_bytes_are_rejected() {
        let mut status = PrinterStatus::default();
        assert!(status.apply_dle_eot(1, 0xFF).is_err());
        assert!(status.apply_dle_eot(1, 0x00).is_err());
        assert!(status.apply_gs_r_paper(0x90).is_err());
    }

    #[test]
    fn cover_open_wins_over_paper_out() {
        let status = PrinterStatus {
            cover_open: true,
            paper_end: true,
            ..PrinterStatus::READY
        };
        assert!(matches!(status.check_ready(), Err(PrintError::CoverOpen)));
    }
}
