//! Shared pieces of the central-service and outbox tests: the reference server on
//! loopback, and a fault-injecting HTTP relay between client and server.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use estation::central_client::{CentralClient, ClientConfig, RetryPolicy};
use estation_central::seed::DEMO_RESIDENTS;
use estation_central::wire::SubmissionRequest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Counts rows of the server's database.
pub fn rows(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// Values of one column, in the order the query gives.
pub fn column(db: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A client with short timeouts and quick retries, for tests.
pub fn client_config(base_url: &str, kiosk_id: &str, token: &str) -> ClientConfig {
    ClientConfig {
        request_timeout: Duration::from_secs(2),
        connect_timeout: Duration::from_secs(1),
        retry: RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
        },
        ..ClientConfig::new(base_url, kiosk_id, token)
    }
}

pub fn client(base_url: &str, kiosk_id: &str, token: &str) -> CentralClient {
    CentralClient::new(client_config(base_url, kiosk_id, token)).unwrap()
}

pub fn address_change(i: usize) -> SubmissionRequest {
    let r = &DEMO_RESIDENTS[i % DEMO_RESIDENTS.len()];
    SubmissionRequest {
        service_id: "address-change".into(),
        card_number: r.card_number.into(),
        id_number: r.id_number.into(),
        name: r.name.into(),
        fields: [
            (
                "new_address".to_owned(),
                format!("浙江省杭州市西湖区文三路 {i} 号"),
            ),
            ("phone".to_owned(), "13800000000".to_owned()),
        ]
        .into(),
    }
}

/// A loopback port nobody listens on (until a test starts a server there).
pub async fn free_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

/// What the relay does with one request.
#[derive(Clone, Debug)]
pub enum Fault {
    /// Relay request and reply.
    Pass,
    /// Relay the request, wait for the server's reply, then cut the connection
    /// without passing the reply on: the server did the work, the client never
    /// hears of it.
    CutAfterForward,
    /// Answer 500 without asking the server.
    Status500,
    /// Read the request and never answer.
    Stall,
    /// Answer 200 with broken JSON.
    Malformed,
    /// Answer 200 announcing a body of this many bytes (Content-Length).
    Oversized(usize),
    /// Answer 200 with a chunked body of this many bytes and no length.
    OversizedChunked(usize),
}

/// An HTTP/1.1 relay on loopback that applies scripted faults, one per request.
pub struct FaultProxy {
    addr: SocketAddr,
    script: Arc<Mutex<VecDeque<Fault>>>,
    requests: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultProxy {
    pub async fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let requests = Arc::new(AtomicUsize::new(0));
        let (s, r) = (script.clone(), requests.clone());
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(relay(stream, upstream, s.clone(), r.clone()));
            }
        });
        FaultProxy {
            addr,
            script,
            requests,
            task,
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Faults for the next requests, in order; after them, requests pass.
    pub fn script(&self, faults: impl IntoIterator<Item = Fault>) {
        self.script.lock().unwrap().extend(faults);
    }

    /// Requests seen so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Reads one HTTP/1.1 message (head + Content-Length body). `None` at EOF.
async fn read_message(stream: &mut TcpStream, buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            let total = end + 4 + length;
            while buffer.len() < total {
                let mut chunk = [0u8; 8192];
                let n = stream.read(&mut chunk).await.ok()?;
                if n == 0 {
                    return None;
                }
                buffer.extend_from_slice(&chunk[..n]);
            }
            let message = buffer[..total].to_vec();
            buffer.drain(..total);
            return Some(message);
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

async fn forward(
    upstream: &mut Option<(TcpStream, Vec<u8>)>,
    addr: SocketAddr,
    request: &[u8],
) -> Option<Vec<u8>> {
    if upstream.is_none() {
        *upstream = Some((TcpStream::connect(addr).await.ok()?, Vec::new()));
    }
    let (stream, buffer) = upstream.as_mut()?;
    stream.write_all(request).await.ok()?;
    read_message(stream, buffer).await
}

async fn relay(
    mut client: TcpStream,
    upstream_addr: SocketAddr,
    script: Arc<Mutex<VecDeque<Fault>>>,
    requests: Arc<AtomicUsize>,
) {
    let mut buffer = Vec::new();
    let mut upstream = None;
    while let Some(request) = read_message(&mut client, &mut buffer).await {
        requests.fetch_add(1, Ordering::SeqCst);
        let fault = script.lock().unwrap().pop_front().unwrap_or(Fault::Pass);
        match fault {
            Fault::Pass => {
                let Some(response) = forward(&mut upstream, upstream_addr, &request).await else {
                    return;
                };
                if client.write_all(&response).await.is_err() {
                    return;
                }
            }
            Fault::CutAfterForward => {
                let _ = forward(&mut upstream, upstream_addr, &request).await;
                return;
            }
            Fault::Status500 => {
                let body = br#"{"type":"urn:estation:problem:internal","title":"Internal error","status":500,"code":"internal"}"#;
                let head = format!(
                    "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/problem+json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = client.write_all(head.as_bytes()).await;
                let _ = client.write_all(body).await;
                return;
            }
            Fault::Stall => {
                // Hold the connection until the client gives up and closes it.
                let mut sink = [0u8; 1024];
                while matches!(client.read(&mut sink).await, Ok(n) if n > 0) {}
                return;
            }
            Fault::Malformed => {
                let body = br#"{"receipt_number": 5, "categories": ["#;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = client.write_all(head.as_bytes()).await;
                let _ = client.write_all(body).await;
                return;
            }
            Fault::Oversized(bytes) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {bytes}\r\nconnection: close\r\n\r\n"
                );
                let _ = client.write_all(head.as_bytes()).await;
                let _ = client.write_all(&vec![b' '; bytes]).await;
                return;
            }
            Fault::OversizedChunked(bytes) => {
                let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n";
                if client.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = vec![b' '; 16 * 1024];
                let mut sent = 0;
                while sent < bytes {
                    let frame = format!("{:x}\r\n", chunk.len());
                    if client.write_all(frame.as_bytes()).await.is_err()
                        || client.write_all(&chunk).await.is_err()
                        || client.write_all(b"\r\n").await.is_err()
                    {
                        return;
                    }
                    sent += chunk.len();
                }
                let _ = client.write_all(b"0\r\n\r\n").await;
                return;
            }
        }
    }
}
