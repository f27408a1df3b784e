//! The soak's world: the reference central service (restartable on its folder
//! and port), the fault link in front of it, the printer emulator, and a card
//! source holding the first demo resident's card that can be pulled mid-read.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Context;
use estation_central::server::{EmbeddedCentral, ServerOptions};
use estation_drivers::card::{CardError, Identity, IdentitySource, Pin};
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
    pub cards: Arc<SoakCards>,
}

impl World {
    pub async fn start(data: &Path, paper_width: u32) -> anyhow::Result<Self> {
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
            cards: Arc::new(SoakCards::default()),
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
        crate::cli::demo_env::demo_card_identity(reader)
    }
}
