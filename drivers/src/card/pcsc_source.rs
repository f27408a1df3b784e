//! Reading cards through the platform's PC/SC service (pcscd on Linux).

use std::ffi::CString;
use std::time::Duration;

use zeroize::Zeroizing;

use super::apdu::ApduError;
use super::identity::{CardError, Identity, IdentitySource, Pin, ProfileId};
use super::profile::{self, service_card};
use super::session::{ApduTransport, CardSession};

/// Maps a PC/SC error to the kiosk's error, for an operation on `reader`.
pub(crate) fn map_pcsc_error(error: pcsc::Error, reader: &str) -> CardError {
    use pcsc::Error as E;
    match error {
        E::NoService | E::ServiceStopped | E::InvalidHandle => {
            CardError::ServiceUnavailable(error.to_string())
        }
        E::NoReadersAvailable => CardError::NoReader,
        E::UnknownReader | E::ReaderUnavailable => CardError::ReaderUnplugged,
        E::NoSmartcard => CardError::NoCard(reader.to_owned()),
        E::RemovedCard | E::ResetCard => CardError::CardRemoved,
        // A card whose answer-to-reset cannot be used (no protocol in common,
        // garbled ATR) is as unreadable to the resident as a silent one.
        E::UnresponsiveCard | E::UnpoweredCard | E::InvalidAtr | E::ProtoMismatch => {
            CardError::MuteCard
        }
        E::SharingViolation => CardError::SharingViolation,
        E::UnsupportedCard | E::UnknownCard | E::CardUnsupported => {
            CardError::UnknownCard(String::new())
        }
        other => CardError::Reader(other.to_string()),
    }
}

/// A reader and the card in it, as `estation card list` shows them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReaderInfo {
    pub name: String,
    pub card_present: bool,
    /// The card does not answer (present but mute).
    pub card_mute: bool,
    /// Answer-to-reset of the card, upper-case hex; `None` without a card.
    pub atr_hex: Option<String>,
}

/// Lists the readers pcscd knows and the state of each.
///
/// Recommended human output for `estation card list` (one line per reader,
/// columns separated by two spaces, `-` for no ATR):
///
/// ```text
/// READER                CARD     ATR
/// Virtual PCD 00 00     present  3B8880014553544154494F4E16
/// Virtual PCD 00 01     empty    -
/// ```
///
/// `CARD` is `present`, `mute` or `empty`. With no reader, print
/// `no card reader connected` and exit 0; on an error print `error: {error}` to
/// stderr and exit 1.
pub fn list_readers() -> Result<Vec<ReaderInfo>, CardError> {
    let context = establish()?;
    // A reader plugged or unplugged between listing and asking for states
    // makes pcscd refuse the whole question (unknown reader); ask again.
    let mut attempts_left = LIST_ATTEMPTS;
    loop {
        match reader_states(&context) {
            Err(CardError::ReaderUnplugged) if attempts_left > 1 => attempts_left -= 1,
            result => return result,
        }
    }
}

/// How often [`list_readers`] asks again when the reader list changed under it.
const LIST_ATTEMPTS: u32 = 3;

fn reader_states(context: &pcsc::Context) -> Result<Vec<ReaderInfo>, CardError> {
    let names = match context.list_readers_owned() {
        Ok(names) => names,
        Err(pcsc::Error::NoReadersAvailable) => return Ok(Vec::new()),
        Err(e) => return Err(map_pcsc_error(e, "")),
    };
    let mut states: Vec<pcsc::ReaderState> = names
        .into_iter()
        .map(|name| pcsc::ReaderState::new(name, pcsc::State::UNAWARE))
        .collect();
    if states.is_empty() {
        return Ok(Vec::new());
    }
    context
        .get_status_change(Duration::ZERO, &mut states)
        .map_err(|e| map_pcsc_error(e, ""))?;
    Ok(states
        .iter()
        .map(|state| {
            let event = state.event_state();
            let present = event.contains(pcsc::State::PRESENT);
            ReaderInfo {
                name: state.name().to_string_lossy().into_owned(),
                card_present: present,
                card_mute: present && event.contains(pcsc::State::MUTE),
                atr_hex: (present && !state.atr().is_empty())
                    .then(|| hex::encode_upper(state.atr())),
            }
        })
        .collect())
}

/// The reader `estation card read` uses without `--reader`: the first one
/// holding a card. `NoReader` without readers, `NoCard(first reader)` when all
/// are empty.
pub fn default_reader() -> Result<String, CardError> {
    let readers = list_readers()?;
    if let Some(with_card) = readers.iter().find(|r| r.card_present) {
        return Ok(with_card.name.clone());
    }
    match readers.into_iter().next() {
        Some(first) => Err(CardError::NoCard(first.name)),
        None => Err(CardError::NoReader),
    }
}

fn establish() -> Result<pcsc::Context, CardError> {
    // Establishing only fails when the service cannot be reached.
    pcsc::Context::establish(pcsc::Scope::System)
        .map_err(|e| CardError::ServiceUnavailable(e.to_string()))
}

/// What a read cost, for diagnostics and the benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadStats {
    pub profile: ProfileId,
    /// Command APDUs sent, GET RESPONSE and resends included.
    pub apdus: usize,
}

/// Reads identities from cards in PC/SC readers, trying the registered
/// [`profile::CardProfile`]s by ATR and by SELECT.
#[derive(Clone, Copy, Debug, Default)]
pub struct PcscIdentitySource;

impl PcscIdentitySource {
    pub fn new() -> Self {
        Self
    }

    /// Like [`IdentitySource::read_identity`], also telling what the read cost.
    pub fn read_identity_with_stats(
        &self,
        reader: &str,
        pin: Option<&Pin>,
    ) -> Result<(Identity, ReadStats), CardError> {
        with_card(reader, |session, atr| {
            let identity = profile::read_identity(session, atr, pin)?;
            let stats = ReadStats {
                profile: identity.profile,
                apdus: session.apdu_count(),
            };
            Ok((identity, stats))
        })
    }

    /// Reads a technician's credential from a service card, verifying `pin` on
    /// the card first. Any other card is `UnknownCard`.
    pub fn read_service_credential(
        &self,
        reader: &str,
        pin: &Pin,
    ) -> Result<service_card::ServiceCredential, CardError> {
        with_card(reader, |session, atr| {
            if !profile::CardProfile::select(&service_card::ServiceCardProfile, session)? {
                return Err(CardError::UnknownCard(hex::encode_upper(atr)));
            }
            service_card::read_credential(session, Some(pin))
        })
    }
}

impl IdentitySource for PcscIdentitySource {
    fn read_identity(&self, reader: &str, pin: Option<&Pin>) -> Result<Identity, CardError> {
        self.read_identity_with_stats(reader, pin)
            .map(|(identity, _)| identity)
    }
}

/// Connects to the card in `reader`, runs `read` inside a PC/SC transaction and
/// resets the card afterwards so no verified PIN state outlives the read.
fn with_card<T>(
    reader: &str,
    read: impl FnOnce(&mut CardSession<'_>, &[u8]) -> Result<T, CardError>,
) -> Result<T, CardError> {
    let context = establish()?;
    let reader_c = CString::new(reader).map_err(|_| CardError::ReaderUnplugged)?;
    let mut card = context
        .connect(&reader_c, pcsc::ShareMode::Shared, pcsc::Protocols::ANY)
        .map_err(|e| map_pcsc_error(e, reader))?;
    let atr = card
        .status2_owned()
        .map_err(|e| map_pcsc_error(e, reader))?
        .atr()
        .to_vec();
    let result = {
        let transaction = card.transaction().map_err(|e| map_pcsc_error(e, reader))?;
        let mut transport = PcscTransport {
            card: &transaction,
            context: &context,
            reader: &reader_c,
            buffer: Zeroizing::new(vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED]),
        };
        let result = read(&mut CardSession::new(&mut transport), &atr);
        let _ = transaction.end(pcsc::Disposition::LeaveCard);
        result
    };
    // The reset clears the card's security state (a verified PIN).
    let _ = card.disconnect(pcsc::Disposition::ResetCard);
    match result {
        Err(CardError::UnknownCard(atr_hex)) if atr_hex.is_empty() => {
            Err(CardError::UnknownCard(hex::encode_upper(&atr)))
        }
        other => other,
    }
}

struct PcscTransport<'a> {
    card: &'a pcsc::Card,
    context: &'a pcsc::Context,
    reader: &'a CString,
    buffer: Zeroizing<Vec<u8>>,
}

/// How long a read that went wrong waits for the reader to report a removal.
/// Readers notice a pulled card with a delay (pcscd polls some every 400 ms);
/// without this, a card pulled mid-read would look like a garbled answer.
const REMOVAL_SETTLE: Duration = Duration::from_secs(2);

impl PcscTransport<'_> {
    /// After a failed or truncated exchange, tells "the card went away" apart
    /// from other trouble by asking the reader, waiting briefly for it to notice.
    fn explain(&self, fallback: CardError) -> CardError {
        let reader = self.reader.to_string_lossy();
        let mut state = [pcsc::ReaderState::new(
            self.reader.clone(),
            pcsc::State::UNAWARE,
        )];
        for timeout in [Duration::ZERO, REMOVAL_SETTLE] {
            match self.context.get_status_change(timeout, &mut state) {
                Ok(()) => {}
                Err(pcsc::Error::Timeout) => return fallback,
                Err(pcsc::Error::UnknownReader) => return CardError::ReaderUnplugged,
                Err(e) => return map_pcsc_error(e, &reader),
            }
            let event = state[0].event_state();
            if event.intersects(pcsc::State::UNKNOWN | pcsc::State::IGNORE) {
                return CardError::ReaderUnplugged;
            }
            if !event.contains(pcsc::State::PRESENT) {
                return CardError::CardRemoved;
            }
            if event.contains(pcsc::State::MUTE) {
                return CardError::MuteCard;
            }
            state[0].sync_current_state();
        }
        fallback
    }
}

impl ApduTransport for PcscTransport<'_> {
    fn transmit_raw(&mut self, command: &[u8]) -> Result<Zeroizing<Vec<u8>>, CardError> {
        match self.card.transmit(command, &mut self.buffer) {
            // Some drivers (vpcd) report a card that vanished mid-exchange as an
            // empty answer rather than an error.
            Ok(response) if response.len() < 2 => {
                let truncated = ApduError::ResponseTooShort(response.len()).into();
                Err(self.explain(truncated))
            }
            Ok(response) => Ok(Zeroizing::new(response.to_vec())),
            Err(e) => match map_pcsc_error(e, &self.reader.to_string_lossy()) {
                unclear @ CardError::Reader(_) => Err(self.explain(unclear)),
                clear => Err(clear),
            },
        }
    }
}
