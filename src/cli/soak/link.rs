//! The soak's link to the central service: a loopback relay that can be cut, can
//! answer every request with a 500 on the service's behalf, can answer slowly,
//! and can be pointed at a restarted service. A change of state drops the
//! connections under way, as a lost route does, so the next request sees it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the link does to the next connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Up,
    /// Connections are closed at once, like a dead route.
    Down,
    /// Every request gets `500 Internal Server Error` (a failing service).
    ServerError,
    /// Requests are held this long before they reach the service.
    Slow(Duration),
}

#[derive(Clone)]
pub struct FaultLink {
    state: Arc<watch::Sender<(LinkState, SocketAddr)>>,
    address: SocketAddr,
}

impl FaultLink {
    /// Listens on an ephemeral loopback port and relays to `target`.
    pub async fn start(target: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let (sender, watcher) = watch::channel((LinkState::Up, target));
        tokio::spawn(async move {
            loop {
                let Ok((inbound, _)) = listener.accept().await else {
                    continue;
                };
                let mut watcher = watcher.clone();
                let (state, target) = *watcher.borrow_and_update();
                tokio::spawn(async move {
                    tokio::select! {
                        _ = serve(inbound, state, target) => {}
                        _ = watcher.changed() => {}
                    }
                });
            }
        });
        Ok(Self {
            state: Arc::new(sender),
            address,
        })
    }

    pub fn set(&self, state: LinkState) {
        // Setting the state it already has keeps the connections open.
        self.state.send_if_modified(|current| {
            let changed = current.0 != state;
            current.0 = state;
            changed
        });
    }

    /// Points the link at a restarted service.
    pub fn retarget(&self, target: SocketAddr) {
        self.state.send_modify(|current| current.1 = target);
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }
}

async fn serve(mut inbound: TcpStream, state: LinkState, target: SocketAddr) {
    match state {
        LinkState::Down => drop(inbound),
        LinkState::ServerError => {
            // Read whole requests so the reply is not lost to a reset.
            while read_request(&mut inbound).await.is_some() {
                let body = br#"{"status":500,"code":"internal","detail":"injected"}"#;
                let head = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len()
                );
                if inbound.write_all(head.as_bytes()).await.is_err()
                    || inbound.write_all(body).await.is_err()
                {
                    return;
                }
            }
        }
        LinkState::Up | LinkState::Slow(_) => {
            if let LinkState::Slow(delay) = state {
                tokio::time::sleep(delay).await;
            }
            if let Ok(mut outbound) = TcpStream::connect(target).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        }
    }
}

/// Reads one HTTP/1.1 request (head and a `content-length` body); `None` at the
/// end of the connection or on a request it cannot frame.
async fn read_request(stream: &mut TcpStream) -> Option<()> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 64 * 1024 || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length: usize = text
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    if length > 16 * 1024 * 1024 {
        return None;
    }
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(())
}
