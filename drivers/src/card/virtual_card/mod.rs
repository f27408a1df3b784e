//! A virtual smart card for tests, benchmarks and demos: it plugs into pcscd
//! through the `vpcd` reader driver (Debian package `vsmartcard-vpcd`), so
//! everything above it (pcscd, libpcsclite, the `pcsc` crate, the monitor and
//! the profiles) runs for real.
//!
//! vpcd listens on TCP port 35963 (reader `Virtual PCD 00 00`); a card "is
//! inserted" by connecting and "removed" by closing the connection. Every
//! message either way is a 2-byte big-endian length and a payload. A 1-byte
//! payload from vpcd is a control message (0 power off, 1 power on, 2 reset,
//! 4 get ATR, which the card answers with its ATR); anything longer is a
//! command APDU, answered with a response APDU.
//!
//! ```no_run
//! use estation_drivers::card::virtual_card::{harness, InsertedCard, SocialSecurityFixture, VirtualCardSpec};
//! let pcscd = harness::acquire().expect("pcscd with vpcd");
//! let card = InsertedCard::insert(VirtualCardSpec::social_security(SocialSecurityFixture::sample()))?;
//! // ... read it through estation_drivers::card::PcscIdentitySource ...
//! let apdus = card.remove();
//! # Ok::<(), std::io::Error>(())
//! ```
//!
//! Plain std, no test-framework dependency, so the kiosk's own end-to-end tests
//! can use it too.

pub mod harness;
mod simulator;

pub use simulator::{
    Behaviour, CardApplication, CardSimulator, Reaction, SOCIAL_SECURITY_ATR, ServiceCardFixture,
    SocialSecurityFixture, VirtualCardSpec,
};

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

/// vpcd's port for its first slot.
pub const VPCD_PORT: u16 = 35963;
/// The reader name pcscd gives vpcd's first slot.
pub const VPCD_READER: &str = "Virtual PCD 00 00";

/// A virtual card connected to vpcd, served by a background thread.
/// Dropping it removes the card.
pub struct InsertedCard {
    stream: TcpStream,
    simulator: Arc<Mutex<CardSimulator>>,
    server: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for InsertedCard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InsertedCard")
            .field("apdus", &self.apdu_count())
            .finish_non_exhaustive()
    }
}

impl InsertedCard {
    /// Inserts the card into vpcd's first slot on 127.0.0.1.
    pub fn insert(spec: VirtualCardSpec) -> io::Result<Self> {
        Self::insert_at(SocketAddr::from(([127, 0, 0, 1], VPCD_PORT)), spec)
    }

    /// Inserts the card into the vpcd slot listening at `address`.
    pub fn insert_at(address: SocketAddr, spec: VirtualCardSpec) -> io::Result<Self> {
        let stream = TcpStream::connect(address)?;
        stream.set_nodelay(true)?;
        let simulator = Arc::new(Mutex::new(CardSimulator::new(spec)));
        let server = {
            let stream = stream.try_clone()?;
            let simulator = Arc::clone(&simulator);
            std::thread::Builder::new()
                .name("virtual-card".into())
                .spawn(move || serve(stream, &simulator))?
        };
        Ok(Self {
            stream,
            simulator,
            server: Some(server),
        })
    }

    /// Command APDUs the card has received.
    pub fn apdu_count(&self) -> usize {
        self.lock().apdu_count()
    }

    /// PIN tries the card has left.
    pub fn pin_tries(&self) -> u8 {
        self.lock().pin_tries()
    }

    /// Pulls the card out; returns the number of command APDUs it received.
    pub fn remove(mut self) -> usize {
        self.disconnect();
        self.apdu_count()
    }

    /// Waits until the card has disconnected by itself (a `vanish_at_apdu`
    /// behaviour) and returns the number of command APDUs it received.
    pub fn wait_vanished(mut self) -> usize {
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
        self.apdu_count()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CardSimulator> {
        self.simulator
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn disconnect(&mut self) {
        let _ = self.stream.shutdown(Shutdown::Both);
        if let Some(server) = self.server.take() {
            let _ = server.join();
        }
    }
}

impl Drop for InsertedCard {
    fn drop(&mut self) {
        self.disconnect();
    }
}

/// Serves vpcd until it or the card hangs up.
fn serve(mut stream: TcpStream, simulator: &Mutex<CardSimulator>) {
    loop {
        let message = match read_message(&mut stream) {
            Ok(message) => message,
            Err(_) => return,
        };
        let reply = {
            let mut card = simulator.lock().unwrap_or_else(PoisonError::into_inner);
            match message.as_slice() {
                [0x00] | [0x01] | [0x02] => {
                    card.reset();
                    None
                }
                [0x04] => Some(card.atr().to_vec()),
                [_] => None,
                command => {
                    let delay = card.response_delay();
                    let reaction = card.react(command);
                    drop(card);
                    if !delay.is_zero() {
                        std::thread::sleep(delay);
                    }
                    match reaction {
                        Reaction::Answer(bytes) => Some(bytes),
                        Reaction::Vanish => {
                            let _ = stream.shutdown(Shutdown::Both);
                            return;
                        }
                    }
                }
            }
        };
        if let Some(reply) = reply
            && write_message(&mut stream, &reply).is_err()
        {
            return;
        }
    }
}

fn read_message(stream: &mut TcpStream) -> io::Result<Vec<u8>> {
    // vpcd and the card exchange tiny messages in lockstep; with delayed ACKs
    // every APDU would wait ~40 ms, which real readers do not, and which would
    // swamp the latency the benchmark measures. Linux resets the flag, so it
    // is set before every read.
    #[cfg(target_os = "linux")]
    let _ = socket2::SockRef::from(&*stream).set_tcp_quickack(true);
    let mut length = [0u8; 2];
    stream.read_exact(&mut length)?;
    let mut payload = vec![0u8; usize::from(u16::from_be_bytes(length))];
    stream.read_exact(&mut payload)?;
    Ok(payload)
}

fn write_message(stream: &mut TcpStream, payload: &[u8]) -> io::Result<()> {
    let length = u16::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "message too long"))?;
    let mut frame = Vec::with_capacity(payload.len() + 2);
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(payload);
    stream.write_all(&frame)
}
