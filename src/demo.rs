//! Demo mode's environment: the embedded reference central service, the demo card,
//! a file printer and an outbox, all inside one data folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::{Clock, EmbeddedCentral, ServerOptions};
use estation_drivers::card::{
    CardError, Identity, IdentitySource, PcscIdentitySource, Pin, ProfileId,
};

use crate::backend::Backend;
use crate::central::{CentralClient, ClientConfig};
use crate::kiosk::DEMO_READER;
use crate::outbox::Outbox;
use crate::printer::JournaledPrinter;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("creating {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
    #[error("the embedded central service failed to start: {0}")]
    Central(String),
    #[error("the central-service client failed to start: {0}")]
    Client(String),
    #[error("the outbox failed to open: {0}")]
    Outbox(String),
    #[error("the printer failed to open: {0}")]
    Printer(String),
}

pub struct DemoEnvironment {
    pub central: EmbeddedCentral,
    pub data: PathBuf,
    pub print_dir: PathBuf,
    /// The kiosk reaches the central service through this cuttable link.
    pub network: NetworkSwitch,
}

/// What demo mode can be told, beyond its defaults.
#[derive(Clone, Debug, Default)]
pub struct DemoOptions {
    /// Pin the central service's clock (opening hours, issue times) to this instant.
    pub at: Option<time::OffsetDateTime>,
    /// A printer URI instead of the file printer in the data folder.
    pub printer: Option<String>,
    /// The printer's paper width in dots (384, 576 or 1728).
    pub printer_width: Option<u32>,
    /// Watch this machine's PC/SC readers too.
    pub card_reader: bool,
}

/// A TCP link between the kiosk and the central service that scripts can cut, so
/// "network down" is a real refused connection, not a flag the client reads.
#[derive(Clone)]
pub struct NetworkSwitch {
    up: Arc<std::sync::atomic::AtomicBool>,
    address: std::net::SocketAddr,
}

impl NetworkSwitch {
    async fn start(target: std::net::SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = up.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    // Down: the connection is closed at once, like a dead route.
                    drop(inbound);
                    continue;
                }
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        Ok(Self { up, address })
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }
}

impl DemoEnvironment {
    pub async fn start(data: &Path, options: &DemoOptions) -> Result<Self, DemoError> {
        let folder = |path: PathBuf| -> Result<PathBuf, DemoError> {
            std::fs::create_dir_all(&path).map_err(|source| DemoError::Folder {
                path: path.display().to_string(),
                source,
            })?;
            Ok(path)
        };
        let central_dir = folder(data.join("central"))?;
        let print_dir = folder(data.join("printed"))?;
        let mut server = ServerOptions::default();
        if let Some(at) = options.at {
            server.clock = Clock::manual(at);
        }
        let central = EmbeddedCentral::start_with(&central_dir, server)
            .await
            .map_err(|e| DemoError::Central(e.to_string()))?;
        let network = NetworkSwitch::start(central.local_addr())
            .await
            .map_err(|e| DemoError::Central(format!("network link: {e}")))?;
        Ok(Self {
            central,
            data: data.to_path_buf(),
            print_dir,
            network,
        })
    }

    /// The kiosk's backend wired to the demo devices. Starts the outbox sender on
    /// `runtime`.
    pub fn backend(
        &self,
        runtime: &tokio::runtime::Handle,
        options: &DemoOptions,
    ) -> Result<Backend, DemoError> {
        let card_reader = options.card_reader;
        let config = ClientConfig::new(
            &self.network.base_url(),
            self.central.kiosk_id(),
            self.central.kiosk_token(),
        );
        let central =
            CentralClient::new(config.clone()).map_err(|e| DemoError::Client(e.to_string()))?;
        let outbox = Arc::new(
            Outbox::open(&self.data.join("outbox.sqlite"))
                .map_err(|e| DemoError::Outbox(e.to_string()))?,
        );
        let sender_client =
            CentralClient::new(config).map_err(|e| DemoError::Client(e.to_string()))?;
        let outbox_sender = {
            let _guard = runtime.enter();
            outbox.clone().spawn_sender(sender_client)
        };
        let uri = options
            .printer
            .clone()
            .unwrap_or_else(|| format!("file:{}", self.print_dir.display()));
        let printer = JournaledPrinter::open(
            &uri,
            options.printer_width,
            &self.data.join("print-journal.sqlite"),
        )
        .map_err(|e| DemoError::Printer(e.to_string()))?;
        Ok(Backend {
            central,
            cards: Arc::new(DemoCards {
                pcsc: card_reader.then(PcscIdentitySource::new),
            }),
            printer: Arc::new(printer),
            outbox,
            outbox_sender: Some(outbox_sender),
            network: Some(self.network.clone()),
        })
    }
}

/// The demo card (the first demo resident) in the on-screen demo reader, and real
/// cards in any real PC/SC reader.
pub struct DemoCards {
    /// `None`: the demo card only.
    pcsc: Option<PcscIdentitySource>,
}

impl IdentitySource for DemoCards {
    fn read_identity(&self, reader: &str, pin: Option<&Pin>) -> Result<Identity, CardError> {
        if reader != DEMO_READER {
            return match &self.pcsc {
                Some(pcsc) => pcsc.read_identity(reader, pin),
                None => Err(CardError::NoReader),
            };
        }
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
