//! An open card, seen as a channel for APDUs, with the `61xx`/`6Cxx` handling of
//! [`apdu::exchange`] and a count of the APDUs that went over the wire.

use zeroize::Zeroizing;

use super::apdu::{self, ApduError, Command, Response};
use super::identity::CardError;

impl From<ApduError> for CardError {
    fn from(e: ApduError) -> Self {
        CardError::Malformed(e.to_string())
    }
}

/// Where command APDUs go. [`crate::card::PcscIdentitySource`] implements it over
/// a PC/SC card handle.
pub trait ApduTransport {
    /// Sends one raw command APDU and returns the raw response (data + SW).
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError>;
}

/// A card being read: exchanges commands and counts APDUs.
pub struct CardSession<'t> {
    transport: &'t mut dyn ApduTransport,
    apdus: usize,
}

impl<'t> CardSession<'t> {
    pub fn new(transport: &'t mut dyn ApduTransport) -> Self {
        Self {
            transport,
            apdus: 0,
        }
    }

    /// Sends `command` and returns the assembled response, whatever its status word.
    pub fn exchange(&mut self, command: &Command) -> Result<Response, CardError> {
        let transport = &mut *self.transport;
        let apdus = &mut self.apdus;
        let mut transmit = |bytes: &[u8]| {
            *apdus += 1;
            tracing::trace!(
                ins = format_args!("{:02X}", bytes.get(1).copied().unwrap_or(0)),
                "card command"
            );
            transport.transmit_raw(bytes)
        };
        apdu::exchange(command, &mut transmit)
    }

    /// APDUs sent so far, GET RESPONSE and resends included.
    pub fn apdu_count(&self) -> usize {
        self.apdus
    }
}
