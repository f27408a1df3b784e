//! The soak's world: the reference central service (restartable on its folder
//! and port), the fault link in front of it, the printer emulator, and the
//! first demo resident's card: a virtual card in pcscd's vpcd reader where
//! pcscd and vpcd are installed, a card source of the soak's own otherwise.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::Context;
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::{EmbeddedCentral, ServerOptions};
use estation_drivers::card::virtual_card::harness::{self, PcscdGuard};
use estation_drivers::card::virtual_card::{
    Behaviour, InsertedCard, SocialSecurityFixture, VPCD_READER, VirtualCardSpec,
};
use estation_drivers::card::{
    CardError, CardEvent, CardMonitor, Identity, IdentitySource, MonitorCanceller, Pin, ProfileId,
};
use estation_drivers::print::emulator::Emulator;

use super::link::FaultLink;

/// The reader the on-screen card control inserts the soak's card into.
pub const SOAK_READER: &str = "soak card reader";

pub struct World {
    pub central: Option<EmbeddedCentral>,
    central_dir: PathBuf,
    /// Where the central service listened last: a restart takes the same port.
    central_addr: std::net::SocketAddr,
    token: String,
    pub central_db: PathBuf,
    pub link: FaultLink,
    pub printer: Emulator,
    pub cards: Cards,
}

impl World {
    pub async fn start(data: &Path, paper_width: u32, cards: Cards) -> anyhow::Result<Self> {
        let central_dir = data.join("central");
        let central = EmbeddedCentral::start(&central_dir)
            .await
            .context("starting the reference central service")?;
        let link = FaultLink::start(central.local_addr())
            .await
            .context("starting the link to the central service")?;
        let printer = Emulator::start(paper_width).context("starting the printer emulator")?;
        Ok(Self {
            central_addr: central.local_addr(),
            token: central.kiosk_token().to_owned(),
            central_db: central.db_path().to_path_buf(),
            central: Some(central),
            central_dir,
            link,
            printer,
            cards,
        })
    }

    pub fn kiosk_id(&self) -> &str {
        estation_central::server::DEMO_KIOSK_ID
    }

    pub fn token(&self) -> &str {
        &self.token
    }

    /// Stops the central service (requests under way finish first).
    pub async fn stop_central(&mut self) -> anyhow::Result<()> {
        if let Some(central) = self.central.take() {
            let address = central.local_addr();
            central
                .shutdown()
                .await
                .context("stopping the central service")?;
            // Keep pointing at the dead address: connections are refused.
            self.link.retarget(address);
        }
        Ok(())
    }

    /// Starts the central service again on the same folder (and the same port
    /// when it is free), with the kiosk's token unchanged.
    pub async fn start_central(&mut self) -> anyhow::Result<()> {
        if self.central.is_some() {
            return Ok(());
        }
        let options = || ServerOptions {
            identity_code_page: true,
            demo_kiosk_token: Some(self.token.clone()),
            ..ServerOptions::default()
        };
        let same_port = ServerOptions {
            listen: self.central_addr,
            ..options()
        };
        let central = match EmbeddedCentral::start_with(&self.central_dir, same_port).await {
            Ok(central) => central,
            // The port was taken in the meantime: another one, and the link follows.
            Err(_) => EmbeddedCentral::start_with(&self.central_dir, options())
                .await
                .context("restarting the central service")?,
        };
        self.central_addr = central.local_addr();
        self.link.retarget(central.local_addr());
        self.central = Some(central);
        Ok(())
    }
}

/// The first demo resident's card in the soak's reader. `pull_next` makes the
/// next read fail as a card pulled out during the read does.
#[derive(Default)]
pub struct SoakCards {
    pull: AtomicBool,
}

impl SoakCards {
    pub fn pull_next(&self) {
        self.pull.store(true, Ordering::SeqCst);
    }
}

impl IdentitySource for SoakCards {
    fn read_identity(&self, reader: &str, _pin: Option<&Pin>) -> Result<Identity, CardError> {
        if reader != SOAK_READER {
            return Err(CardError::NoReader);
        }
        if self.pull.swap(false, Ordering::SeqCst) {
            return Err(CardError::CardRemoved);
        }
        // The soak keeps its own copy of the demo card: it uses no demo module
        // (the architecture test holds it to that).
        let resident = DEMO_RESIDENTS
            .first()
            .ok_or(CardError::NoCard(reader.to_owned()))?;
        Ok(Identity {
            profile: ProfileId::Simulated,
            card_number: resident.card_number.to_owned(),
            id_number: resident.id_number.to_owned(),
            name: resident.name.to_owned(),
            gender: resident.gender.to_owned(),
            birth_date: resident.birth_date.to_owned(),
        })
    }
}

/// How long a card event may take to come through pcscd (it polls the vpcd
/// reader a few times a second; a restarted pcscd takes a second or two).
const CARD_EVENT_GUARD: Duration = Duration::from_secs(30);

/// Where the soak's card is read.
pub enum Cards {
    /// The soak's own card source behind the on-screen card control.
    Own(Arc<SoakCards>),
    /// A virtual card in pcscd's vpcd reader, read as a kiosk reads its reader.
    Pcscd(Box<PcscdCards>),
}

impl Cards {
    /// The virtual card through pcscd where pcscd and the vpcd driver are
    /// installed (and `own` is not asked for), else the soak's own card with
    /// the reason.
    pub fn choose(own: bool) -> (Cards, Option<String>) {
        let own_cards = || Cards::Own(Arc::new(SoakCards::default()));
        if own {
            return (own_cards(), Some("--own-card".into()));
        }
        if harness::pcscd_binary().is_none() {
            return (own_cards(), Some("pcscd is not installed".into()));
        }
        if !Path::new("/etc/reader.conf.d/vpcd").exists() {
            return (
                own_cards(),
                Some("the vpcd driver (vsmartcard-vpcd) is not installed".into()),
            );
        }
        match harness::acquire() {
            Ok(guard) => (Cards::Pcscd(Box::new(PcscdCards::new(guard))), None),
            Err(error) => (own_cards(), Some(format!("pcscd with vpcd: {error}"))),
        }
    }

    pub fn through_pcscd(&self) -> bool {
        matches!(self, Cards::Pcscd(_))
    }
}

/// The first demo resident's card as a virtual card behind pcscd, with the
/// kiosk's card monitor watching the reader. Every event the monitor posts to
/// the kiosk is also kept here, so that inserting or removing the card waits
/// until the kiosk has been told.
pub struct PcscdCards {
    guard: PcscdGuard,
    card: Option<InsertedCard>,
    events: mpsc::Receiver<CardEvent>,
    sender: mpsc::Sender<CardEvent>,
    monitor: Option<(MonitorCanceller, std::thread::JoinHandle<()>)>,
}

impl PcscdCards {
    fn new(guard: PcscdGuard) -> Self {
        let (sender, events) = mpsc::channel();
        Self {
            guard,
            card: None,
            events,
            sender,
            monitor: None,
        }
    }

    /// Starts the card monitor, as the kiosk runs it; each event goes to
    /// `post` (the kiosk's mailbox) and is kept for the waits below.
    pub fn watch(&mut self, post: impl Fn(CardEvent) + Send + 'static) -> anyhow::Result<()> {
        let mut monitor = CardMonitor::new().context("starting the card monitor")?;
        let canceller = monitor.canceller();
        let sender = self.sender.clone();
        let thread = std::thread::Builder::new()
            .name("soak-card-monitor".into())
            .spawn(move || {
                let result = monitor.run(&mut |event| {
                    post(event.clone());
                    let _ = sender.send(event);
                });
                if let Err(error) = result {
                    tracing::error!(%error, "card monitor stopped");
                }
            })
            .context("starting the card monitor thread")?;
        self.monitor = Some((canceller, thread));
        self.wait_for(|e| matches!(e, CardEvent::ReaderAdded { reader } if reader == VPCD_READER))
            .context("the card monitor did not find the vpcd reader")
    }

    /// Inserts the resident's card; with `vanish_at_apdu` the card is pulled
    /// out as it answers that command. Returns once the kiosk has been told.
    pub fn insert(&mut self, vanish_at_apdu: Option<usize>) -> anyhow::Result<()> {
        self.remove()?;
        let spec =
            VirtualCardSpec::social_security(demo_card_fixture()).with_behaviour(Behaviour {
                vanish_at_apdu,
                ..Behaviour::default()
            });
        self.card = Some(InsertedCard::insert(spec).context("inserting the virtual card")?);
        self.wait_for(
            |e| matches!(e, CardEvent::CardInserted { reader, .. } if reader == VPCD_READER),
        )
        .context("pcscd did not report the card")
    }

    /// Takes the card out (if one is in); returns once the kiosk has been told.
    pub fn remove(&mut self) -> anyhow::Result<()> {
        let Some(card) = self.card.take() else {
            return Ok(());
        };
        card.remove();
        self.wait_for(|e| matches!(e, CardEvent::CardRemoved { reader } if reader == VPCD_READER))
            .context("pcscd did not report the card's removal")
    }

    /// Stops pcscd and starts it again; returns once the card monitor has found
    /// the reader on the new pcscd.
    pub fn restart_pcscd(&mut self) -> anyhow::Result<()> {
        self.remove()?;
        // Events of the old pcscd say nothing about the new one.
        while self.events.try_recv().is_ok() {}
        self.guard.restart().context("restarting pcscd")?;
        self.wait_for(|e| matches!(e, CardEvent::ReaderAdded { reader } if reader == VPCD_READER))
            .context("the card monitor did not find the reader on the restarted pcscd")
    }

    fn wait_for(&self, wanted: impl Fn(&CardEvent) -> bool) -> anyhow::Result<()> {
        let deadline = Instant::now() + CARD_EVENT_GUARD;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(event) if wanted(&event) => return Ok(()),
                Ok(_) => {}
                Err(_) => anyhow::bail!(
                    "no such card event within {} s; {}",
                    CARD_EVENT_GUARD.as_secs(),
                    harness::diagnosis()
                ),
            }
        }
    }
}

impl Drop for PcscdCards {
    fn drop(&mut self) {
        if let Some((canceller, thread)) = self.monitor.take() {
            canceller.cancel();
            let _ = thread.join();
        }
    }
}

/// The first demo resident's card, without a PIN, as the register knows them.
fn demo_card_fixture() -> SocialSecurityFixture {
    let mut fixture = SocialSecurityFixture::sample();
    if let Some(resident) = DEMO_RESIDENTS.first() {
        fixture.card_number = resident.card_number.to_owned();
        fixture.id_number = resident.id_number.to_owned();
        fixture.name = resident.name.to_owned();
        fixture.gender_code = if resident.gender == "F" { b'2' } else { b'1' };
        // "YYYY-MM-DD" as BCD YYYYMMDD.
        let digits: Vec<u8> = resident
            .birth_date
            .bytes()
            .filter(u8::is_ascii_digit)
            .map(|d| d - b'0')
            .collect();
        fixture.birth_date_bcd = (digits.len() == 8).then(|| {
            let pair = |i: usize| (digits[i] << 4) | digits[i + 1];
            [pair(0), pair(2), pair(4), pair(6)]
        });
    }
    fixture
}
