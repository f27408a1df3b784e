//! Demo mode's environment: the embedded reference central service, the demo card,
//! a file printer and an outbox, all inside one data folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use estation_central::seed::DEMO_RESIDENTS;
use estation_central::server::{Clock, EmbeddedCentral, ServerOptions};
use estation_drivers::card::{
    CardError, Identity, IdentitySource, PcscIdentitySource, Pin, ProfileId,
};

use std::sync::Mutex;
use std::time::Duration;

use crate::kiosk::backend::Backend;
use crate::ops::bundle::{
    BundleSource, BundleStore, KeyPair, Technician, TrustAnchors, sign_bundle,
};
use crate::ops::heartbeat::{HealthBoard, spawn_board_heartbeat};
use crate::ops::maintenance::{Authenticator, LockoutPolicy, TechnicianPins};
use crate::ops::maintenance_port::MaintenancePort;
use crate::ops::selftest::{CardTest, CentralTest, PrinterTest, SelftestContext};

/// The reader the on-screen "insert the demo card" control inserts into.
pub const DEMO_READER: &str = "estation demo reader";

/// The demo technician's PIN (demo mode only; real PINs come in signed bundles).
pub const DEMO_TECHNICIAN_PIN: &str = "246810";
/// [`DEMO_TECHNICIAN_PIN`] hashed once with `estation admin hash-pin`: hashing it
/// at every start (argon2id, about 19 MiB and tens of milliseconds) would stand
/// between the demo and its first frame. A test checks that it verifies.
const DEMO_TECHNICIAN_PIN_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$70dJcEcprjUN/Lc0u0uqGQ$nN9V5W6WOqalTLI8BycxCd0IP/besxnNmADUou/Sdec";
use crate::central_client::{CentralClient, ClientConfig};

use crate::central_client::outbox::Outbox;
use crate::kiosk::printer::JournaledPrinter;

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
    #[error("maintenance mode failed to start: {0}")]
    Maintenance(String),
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
    up: Arc<tokio::sync::watch::Sender<bool>>,
    address: std::net::SocketAddr,
}

impl crate::ui_bridge::script::LinkControl for NetworkSwitch {
    fn set_connected(&self, connected: bool) {
        self.set_up(connected);
    }
}

impl NetworkSwitch {
    async fn start(target: std::net::SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (up, state) = tokio::sync::watch::channel(true);
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if !*state.borrow() {
                    // Down: the connection is closed at once, like a dead route.
                    drop(inbound);
                    continue;
                }
                let mut watch = state.clone();
                tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        // Connections open when the link goes down die with it, as
                        // kept-alive connections do when a route is lost.
                        tokio::select! {
                            _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                            _ = watch.wait_for(|up| !*up) => {}
                        }
                    }
                });
            }
        });
        Ok(Self {
            up: Arc::new(up),
            address,
        })
    }

    pub fn set_up(&self, up: bool) {
        self.up.send_replace(up);
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
        // Demo residents get their phone identity codes from its /m/id page.
        let mut server = ServerOptions {
            identity_code_page: true,
            ..ServerOptions::default()
        };
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
        let maintenance = self.maintenance(&uri, options, &outbox, runtime)?;
        Ok(Backend {
            central,
            cards: Arc::new(DemoCards {
                pcsc: card_reader.then(PcscIdentitySource::new),
            }),
            printer: Arc::new(printer),
            outbox,
            outbox_sender: Some(outbox_sender),
            maintenance: Some(maintenance),
        })
    }

    /// Maintenance mode for the demo: a configuration bundle signed here with a
    /// key of the demo's own, whose one technician (`DEMO-TECH`) has the PIN
    /// [`DEMO_TECHNICIAN_PIN`]; the self-test covers the demo's devices; the
    /// heartbeat reports through the outbox.
    fn maintenance(
        &self,
        printer_uri: &str,
        options: &DemoOptions,
        outbox: &Arc<Outbox>,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Arc<MaintenancePort>, DemoError> {
        let bad = |e: &dyn std::fmt::Display| DemoError::Maintenance(e.to_string());
        let key = KeyPair::generate();
        let now = time::OffsetDateTime::now_utc();
        let mut bundle = BundleSource::from_toml(include_str!("../../assets/config/example.toml"))
            .and_then(|source| source.into_bundle(now))
            .map_err(|e| bad(&e))?;
        // The demo follows the central catalogue's hours and the kiosk's default
        // timeouts; the example's own hours and timeouts are for real fleets.
        let defaults = crate::session::Timeouts::default();
        bundle.service_hours.clear();
        bundle.disabled_services.clear();
        bundle.idle_timeout_secs = u32::try_from(defaults.idle / 1000).unwrap_or(u32::MAX);
        bundle.timeouts.idle_warning_secs =
            u32::try_from(defaults.idle_warning / 1000).unwrap_or(u32::MAX);
        bundle.timeouts.goodbye_secs = u32::try_from(defaults.goodbye / 1000).unwrap_or(u32::MAX);
        let pin_hash = DEMO_TECHNICIAN_PIN_HASH.to_owned();
        bundle.technician_pin_hashes = vec![pin_hash.clone()];
        bundle.technicians = vec![Technician {
            id: "DEMO-TECH".into(),
            pin_hash,
        }];
        let signed = sign_bundle(&bundle, &key).map_err(|e| bad(&e))?;
        let bytes = serde_json::to_vec(&signed).map_err(|e| bad(&e))?;
        let store = Arc::new(
            BundleStore::open(
                &self.data.join(crate::ops::bundle::store::BUNDLE_FOLDER),
                TrustAnchors::new(vec![key.verifying_key()]),
            )
            .map_err(|e| bad(&e))?,
        );
        store.apply(&bytes).map_err(|e| bad(&e))?;
        let pins = store
            .current()
            .map(|current| TechnicianPins::from_bundle(&current))
            .unwrap_or_else(|| TechnicianPins::new(std::iter::empty::<(&str, &str)>()));
        let board = Arc::new(HealthBoard::new(Some(store.clone())));
        let heartbeat = {
            let _guard = runtime.enter();
            spawn_board_heartbeat(outbox.clone(), Duration::from_secs(300), board.clone())
        };
        // The heartbeat runs for as long as the process.
        std::mem::forget(heartbeat);
        let client = CentralClient::new(ClientConfig::new(
            &self.network.base_url(),
            self.central.kiosk_id(),
            self.central.kiosk_token(),
        ))
        .map_err(|e| bad(&e))?;
        let selftest = SelftestContext {
            kiosk_id: self.central.kiosk_id().to_owned(),
            card: options.card_reader.then(CardTest::default),
            printer: Some(PrinterTest {
                uri: printer_uri.to_owned(),
                width_dots: options
                    .printer_width
                    .unwrap_or(estation_drivers::print::WIDTH_80MM),
                print_test_page: true,
            }),
            central: Some(CentralTest {
                base_url: self.network.base_url(),
                client: Some(client),
                timeout: Duration::from_secs(5),
            }),
            data_dir: Some(self.data.clone()),
            outbox: Some(outbox.clone()),
            bundle: Some(store),
            ..SelftestContext::default()
        };
        let lockout_file = self.data.join("technician-lockout.json");
        let policy = LockoutPolicy::default();
        let lockout = crate::ops::maintenance_port::load_lockout(&lockout_file, &policy, wall_ms());
        Ok(Arc::new(MaintenancePort {
            authenticator: Mutex::new(Authenticator::with_state(pins, policy, lockout)),
            lockout_file: Some(lockout_file),
            service_cards: options.card_reader.then(PcscIdentitySource::new),
            selftest,
            board: Some(board),
        }))
    }
}

fn wall_ms() -> i64 {
    i64::try_from(time::OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000)
        .unwrap_or(i64::MAX)
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
        demo_card_identity(reader)
    }
}

/// What the demo card holds: the first demo resident, as a card in `reader`
/// would give it.
fn demo_card_identity(reader: &str) -> Result<Identity, CardError> {
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

#[cfg(test)]
mod tests {
    use argon2::{Argon2, PasswordHash, PasswordVerifier};

    use super::{DEMO_TECHNICIAN_PIN, DEMO_TECHNICIAN_PIN_HASH};

    #[test]
    fn the_stored_demo_pin_hash_is_the_demo_pin() {
        let hash = PasswordHash::new(DEMO_TECHNICIAN_PIN_HASH).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password(DEMO_TECHNICIAN_PIN.as_bytes(), &hash)
                .is_ok()
        );
        assert!(Argon2::default().verify_password(b"135790", &hash).is_err());
    }
}
