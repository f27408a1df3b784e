//! The durable outbox: every request that must reach the back office
//! (submissions, ratings, heartbeats) is written here, in SQLite with WAL and
//! `synchronous=FULL`, before the resident is told "done". A background sender
//! delivers the entries in order, each with its idempotency key, until the
//! central service acknowledges it, across restarts and network outages.
//!
//! The enqueue methods block for one short SQLite transaction (an fsync); call
//! them off the UI thread.
//!
//! Payloads hold residents' names and ID numbers, so they are sealed at rest
//! with XChaCha20-Poly1305 under a 256-bit key kept in a separate key file
//! (bound to their kind and idempotency key, so rows cannot be swapped). Use
//! [`Outbox::open_with_key`] in production with the key on a different
//! protection domain from the database: a root-only file on another volume, or
//! one a TPM unseals at boot. [`Outbox::open`] keeps the key next to the
//! database (`outbox.key` beside `outbox.sqlite`), which protects copies of the
//! database alone (backups, support bundles) but not a stolen disk.

use std::fmt;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use estation_central::wire::{Heartbeat, RatingRequest, SubmissionRequest};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::central_client::{CentralClient, RetryPolicy, new_idempotency_key};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("outbox database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("outbox payload cannot be encoded: {0}")]
    Encode(#[from] serde_json::Error),
    #[error("the outbox database is not in WAL mode (got {0})")]
    NotWal(String),
    #[error("unknown outbox entry kind {0:?}")]
    UnknownKind(String),
    #[error("an outbox task failed")]
    Task,
    #[error("outbox key file {path}: {source}")]
    KeyFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("outbox key file {0} must hold exactly 32 bytes")]
    KeyLength(PathBuf),
    #[error("outbox key file {0} is readable by other users; make it 0600")]
    KeyExposed(PathBuf),
    #[error("the outbox key does not open this outbox database (wrong or replaced key file)")]
    WrongKey,
    #[error("outbox entry {0} cannot be decrypted")]
    Undecryptable(i64),
    #[error("an outbox payload cannot be sealed")]
    Seal,
}

/// What an entry is, which decides the endpoint it goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutboxKind {
    Submission,
    Rating,
    Heartbeat,
}

impl OutboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxKind::Submission => "submission",
            OutboxKind::Rating => "rating",
            OutboxKind::Heartbeat => "heartbeat",
        }
    }

    fn parse(text: &str) -> Result<OutboxKind, OutboxError> {
        match text {
            "submission" => Ok(OutboxKind::Submission),
            "rating" => Ok(OutboxKind::Rating),
            "heartbeat" => Ok(OutboxKind::Heartbeat),
            other => Err(OutboxError::UnknownKind(other.to_owned())),
        }
    }
}

/// One stored request.
#[derive(Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// Position in the queue; entries go out in this order.
    pub seq: i64,
    pub kind: OutboxKind,
    pub idempotency_key: String,
    /// JSON body of the request.
    pub payload: String,
    pub attempts: u32,
    pub last_error: Option<String>,
}

impl fmt::Debug for OutboxEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The payload may hold a resident's name and ID number.
        f.debug_struct("OutboxEntry")
            .field("seq", &self.seq)
            .field("kind", &self.kind)
            .field("idempotency_key", &self.idempotency_key)
            .field("attempts", &self.attempts)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

/// What the UI needs to know about the outbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxStatus {
    /// Entries waiting to be delivered.
    pub backlog: usize,
    /// Entries the central service refused for good (kept for technicians).
    pub rejected: usize,
    /// Delivery failures in a row; 0 once the head entry went through.
    pub consecutive_failures: u32,
    /// The sender itself failed (its database, not the network) this many times
    /// in a row and is restarting with a backoff; 0 while it runs normally.
    pub sender_failures: u32,
}

impl OutboxStatus {
    /// "Received, will be sent when the network is back."
    pub fn waiting_for_network(&self) -> bool {
        self.backlog > 0 && self.consecutive_failures > 0
    }
}

/// Result of one delivery attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Acknowledged by the central service, with the number it gave the request
    /// (a submission's receipt number), if any.
    Delivered(Option<String>),
    /// Not delivered now; try the same entry again later.
    RetryLater(String),
    /// Refused for good: set aside so the queue moves on, and kept with the
    /// reason for the technician and the message key for the resident.
    Rejected(Refusal),
}

/// Why the central service refused an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// For the technician's log and the self-test.
    pub reason: String,
    /// The Fluent id of the resident-facing explanation (with its `.action`).
    pub message_key: String,
}

impl Refusal {
    pub fn new(message_key: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
            message_key: message_key.into(),
        }
    }
}

/// Where one entry stands, looked up by its idempotency key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EntryOutcome {
    /// Waiting for delivery.
    Pending,
    /// Acknowledged, with the number the central service gave it.
    Delivered { receipt: Option<String> },
    /// Refused for good.
    Rejected(Refusal),
    /// No entry has this key (never stored, or pruned).
    Unknown,
}

/// Something that can deliver outbox entries, usually [`CentralClient`].
pub trait Deliver: Send + Sync + 'static {
    fn deliver(&self, entry: &OutboxEntry) -> impl Future<Output = Delivery> + Send;
}

/// Pacing of the sender between failed attempts.
#[derive(Clone, Debug)]
pub struct SenderPolicy {
    pub backoff: RetryPolicy,
}

impl Default for SenderPolicy {
    fn default() -> Self {
        Self {
            backoff: RetryPolicy {
                max_attempts: u32::MAX,
                base_delay: Duration::from_millis(500),
                max_delay: Duration::from_secs(60),
            },
        }
    }
}

pub struct Outbox {
    conn: Mutex<Connection>,
    cipher: XChaCha20Poly1305,
    status: watch::Sender<OutboxStatus>,
    wake: Notify,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("status", &*self.status.borrow())
            .finish()
    }
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS outbox (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL,
    idempotency_key  TEXT NOT NULL UNIQUE,
    payload          BLOB NOT NULL,
    created_at       INTEGER NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending',
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,
    receipt          TEXT,
    problem          TEXT,
    settled_at       INTEGER
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (state, seq);
CREATE TABLE IF NOT EXISTS outbox_meta (
    name   TEXT PRIMARY KEY,
    value  BLOB NOT NULL
);
";

/// `PRAGMA user_version` once payloads are sealed; 0 is the clear-text layout.
const SEALED_VERSION: i64 = 1;
/// Sealed under the key when the database is created, to recognise it later.
const KEY_CHECK: &[u8] = b"estation-outbox-key-check";
const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;

fn now_seconds() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

fn associated_data(kind: &str, idempotency_key: &str) -> Vec<u8> {
    format!("estation-outbox-v1\0{kind}\0{idempotency_key}").into_bytes()
}

fn seal(cipher: &XChaCha20Poly1305, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, OutboxError> {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let sealed = cipher
        .encrypt(
            &nonce,
            Payload {
                msg: plaintext,
                aad,
            },
        )
        // Encryption fails only for messages beyond the cipher's limit (256 GiB).
        .map_err(|_| OutboxError::Seal)?;
    let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    Ok(out)
}

fn open_sealed(cipher: &XChaCha20Poly1305, sealed: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    cipher
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: ciphertext,
                aad,
            },
        )
        .ok()
}

/// Reads the key file, creating it (mode 0600, never overwriting) when missing.
fn load_or_create_key(path: &Path) -> Result<zeroize::Zeroizing<[u8; KEY_LEN]>, OutboxError> {
    use std::io::{Read, Write};
    let io = |source| OutboxError::KeyFile {
        path: path.to_owned(),
        source,
    };
    let mut key = zeroize::Zeroizing::new([0u8; KEY_LEN]);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            use rand::RngCore;
            rand::rngs::OsRng.fill_bytes(key.as_mut());
            file.write_all(key.as_ref()).map_err(io)?;
            file.sync_all().map_err(io)?;
            return Ok(key);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    let mut file = std::fs::File::open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(io)?.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(OutboxError::KeyExposed(path.to_owned()));
        }
    }
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(KEY_LEN + 1));
    Read::by_ref(&mut file)
        .take(KEY_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() != KEY_LEN {
        return Err(OutboxError::KeyLength(path.to_owned()));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

const ENTRY_COLUMNS: &str = "seq, kind, idempotency_key, payload, attempts, last_error";

/// Recognises the database's key, or records it in a new database.
fn check_key(conn: &Connection, cipher: &XChaCha20Poly1305) -> Result<(), OutboxError> {
    let aad = associated_data("meta", "key-check");
    let stored: Option<Vec<u8>> = conn
        .query_row(
            "SELECT value FROM outbox_meta WHERE name = 'key_check'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    match stored {
        Some(sealed) => match open_sealed(cipher, &sealed, &aad) {
            Some(plain) if plain == KEY_CHECK => Ok(()),
            _ => Err(OutboxError::WrongKey),
        },
        None => {
            conn.execute(
                "INSERT INTO outbox_meta (name, value) VALUES ('key_check', ?1)",
                params![seal(cipher, KEY_CHECK, &aad)?],
            )?;
            Ok(())
        }
    }
}

/// Seals the entries an older outbox stored in clear text, then compacts the
/// file so the clear text does not linger in free pages or the WAL.
fn seal_clear_text_entries(
    conn: &Connection,
    cipher: &XChaCha20Poly1305,
) -> Result<(), OutboxError> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version >= SEALED_VERSION {
        return Ok(());
    }
    let rows: Vec<(i64, String, String, String)> = {
        let mut stmt = conn.prepare(
            "SELECT seq, kind, idempotency_key, payload FROM outbox WHERE typeof(payload) = 'text'",
        )?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<Result<_, _>>()?
    };
    let converted = !rows.is_empty();
    let tx = conn.unchecked_transaction()?;
    for (seq, kind, key, payload) in rows {
        let sealed = seal(cipher, payload.as_bytes(), &associated_data(&kind, &key))?;
        tx.execute(
            "UPDATE outbox SET payload = ?2 WHERE seq = ?1",
            params![seq, sealed],
        )?;
    }
    tx.pragma_update(None, "user_version", SEALED_VERSION)?;
    tx.commit()?;
    if converted {
        conn.execute_batch(
            "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
        )?;
    }
    Ok(())
}

/// Outboxes created before delivery outcomes were kept lack their columns.
fn add_outcome_columns(conn: &Connection) -> Result<(), OutboxError> {
    let existing: Vec<String> = {
        let mut stmt = conn.prepare("SELECT name FROM pragma_table_info('outbox')")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?
    };
    for (column, declaration) in [
        ("receipt", "ALTER TABLE outbox ADD COLUMN receipt TEXT"),
        ("problem", "ALTER TABLE outbox ADD COLUMN problem TEXT"),
        (
            "settled_at",
            "ALTER TABLE outbox ADD COLUMN settled_at INTEGER",
        ),
    ] {
        if !existing.iter().any(|name| name == column) {
            conn.execute(declaration, [])?;
        }
    }
    Ok(())
}

type EntryRow = (i64, String, String, Vec<u8>, u32, Option<String>);

fn entry_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<EntryRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
    ))
}

impl Outbox {
    /// Opens or creates the outbox database at `path`, with its key in
    /// `path.with_extension("key")` (created when missing). Production kiosks
    /// should use [`Outbox::open_with_key`] with the key elsewhere.
    pub fn open(path: &Path) -> Result<Outbox, OutboxError> {
        Self::open_with_key(path, &path.with_extension("key"))
    }

    /// Opens or creates the outbox database at `path`, sealing payloads under
    /// the key in `key_path` (32 random bytes, created with mode 0600 when
    /// missing; refused when other users can read it). A key that does not
    /// match the database is [`OutboxError::WrongKey`]. Entries of an older,
    /// clear-text outbox are sealed on first open.
    pub fn open_with_key(path: &Path, key_path: &Path) -> Result<Outbox, OutboxError> {
        let key = load_or_create_key(key_path)?;
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        let conn = Connection::open(path)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(OutboxError::NotWal(mode));
        }
        // FULL: a commit is on disk when it returns, even after power loss.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(Duration::from_secs(5))?;
        // Freed pages are zeroed, so delivered entries leave nothing behind.
        conn.pragma_update(None, "secure_delete", "ON")?;
        conn.execute_batch(SCHEMA)?;
        add_outcome_columns(&conn)?;
        check_key(&conn, &cipher)?;
        seal_clear_text_entries(&conn, &cipher)?;
        let outbox = Outbox {
            conn: Mutex::new(conn),
            cipher,
            status: watch::Sender::new(OutboxStatus::default()),
            wake: Notify::new(),
        };
        outbox.refresh_counts()?;
        Ok(outbox)
    }

    fn to_entry(&self, row: EntryRow) -> Result<OutboxEntry, OutboxError> {
        let (seq, kind, idempotency_key, sealed, attempts, last_error) = row;
        let payload = open_sealed(
            &self.cipher,
            &sealed,
            &associated_data(&kind, &idempotency_key),
        )
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or(OutboxError::Undecryptable(seq))?;
        Ok(OutboxEntry {
            seq,
            kind: OutboxKind::parse(&kind)?,
            idempotency_key,
            payload,
            attempts,
            last_error,
        })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refresh_counts(&self) -> Result<(), OutboxError> {
        let (backlog, rejected): (i64, i64) = self.conn().query_row(
            "SELECT COALESCE(SUM(state = 'pending'), 0), COALESCE(SUM(state = 'rejected'), 0) FROM outbox",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        self.status.send_modify(|s| {
            s.backlog = usize::try_from(backlog).unwrap_or(0);
            s.rejected = usize::try_from(rejected).unwrap_or(0);
        });
        Ok(())
    }

    /// Stores a request; returns once it is durable. Enqueuing the same key again
    /// stores nothing new, so a caller may retry an enqueue safely.
    pub fn enqueue<T: Serialize>(
        &self,
        kind: OutboxKind,
        idempotency_key: &str,
        payload: &T,
    ) -> Result<(), OutboxError> {
        let payload = serde_json::to_vec(payload)?;
        let payload = seal(
            &self.cipher,
            &payload,
            &associated_data(kind.as_str(), idempotency_key),
        )?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        self.conn().execute(
            "INSERT INTO outbox (kind, idempotency_key, payload, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (idempotency_key) DO NOTHING",
            params![kind.as_str(), idempotency_key, payload, now],
        )?;
        self.refresh_counts()?;
        self.wake.notify_one();
        Ok(())
    }

    /// Stores a submission under a fresh key, which it returns (print it on the
    /// resident's local receipt: the service's receipt number follows later).
    pub fn enqueue_submission(&self, request: &SubmissionRequest) -> Result<String, OutboxError> {
        let key = new_idempotency_key();
        self.enqueue(OutboxKind::Submission, &key, request)?;
        Ok(key)
    }

    pub fn enqueue_rating(&self, request: &RatingRequest) -> Result<(), OutboxError> {
        self.enqueue(OutboxKind::Rating, &new_idempotency_key(), request)
    }

    pub fn enqueue_heartbeat(&self, heartbeat: &Heartbeat) -> Result<(), OutboxError> {
        self.enqueue(OutboxKind::Heartbeat, &new_idempotency_key(), heartbeat)
    }

    /// Entries waiting for delivery, oldest first.
    pub fn pending(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        self.entries("pending")
    }

    /// Entries the central service refused for good.
    pub fn rejected(&self) -> Result<Vec<OutboxEntry>, OutboxError> {
        self.entries("rejected")
    }

    fn entries(&self, state: &str) -> Result<Vec<OutboxEntry>, OutboxError> {
        let conn = self.conn();
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM outbox WHERE state = ?1 ORDER BY seq"
        ))?;
        let rows = stmt
            .query_map(params![state], entry_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        drop(stmt);
        drop(conn);
        rows.into_iter().map(|r| self.to_entry(r)).collect()
    }

    /// The oldest pending entry. One that cannot be decrypted (damaged or
    /// planted) is set aside as rejected so the queue keeps moving.
    fn head(&self) -> Result<Option<OutboxEntry>, OutboxError> {
        loop {
            let row = self
                .conn()
                .query_row(
                    &format!("SELECT {ENTRY_COLUMNS} FROM outbox WHERE state = 'pending' ORDER BY seq LIMIT 1"),
                    [],
                    entry_from_row,
                )
                .optional()?;
            let Some(row) = row else {
                return Ok(None);
            };
            match self.to_entry(row) {
                Err(OutboxError::Undecryptable(seq)) => {
                    tracing::warn!(seq, "outbox entry cannot be decrypted; set aside");
                    self.settle(
                        seq,
                        &Delivery::Rejected(Refusal::new(
                            "outbox-error-failed",
                            "the stored payload cannot be decrypted",
                        )),
                    )?;
                }
                other => return other.map(Some),
            }
        }
    }

    fn settle(&self, seq: i64, delivery: &Delivery) -> Result<(), OutboxError> {
        {
            let conn = self.conn();
            match delivery {
                // The row stays (without its payload) so the kiosk can tell the
                // resident what became of it; retention prunes it later.
                Delivery::Delivered(receipt) => {
                    conn.execute(
                        "UPDATE outbox SET state = 'delivered', payload = x'', receipt = ?2,
                         attempts = attempts + 1, last_error = NULL, settled_at = ?3 WHERE seq = ?1",
                        params![seq, receipt, now_seconds()],
                    )?;
                }
                Delivery::RetryLater(reason) => {
                    conn.execute(
                        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE seq = ?1",
                        params![seq, reason],
                    )?;
                }
                Delivery::Rejected(refusal) => {
                    conn.execute(
                        "UPDATE outbox SET state = 'rejected', attempts = attempts + 1, last_error = ?2,
                         problem = ?3, settled_at = ?4 WHERE seq = ?1",
                        params![seq, refusal.reason, refusal.message_key, now_seconds()],
                    )?;
                }
            }
        }
        self.status.send_modify(|s| {
            s.consecutive_failures = match delivery {
                Delivery::RetryLater(_) => s.consecutive_failures.saturating_add(1),
                _ => 0,
            }
        });
        self.refresh_counts()
    }

    /// What became of the entry stored under `idempotency_key`.
    pub fn outcome(&self, idempotency_key: &str) -> Result<EntryOutcome, OutboxError> {
        // state, receipt, last error, problem
        type OutcomeRow = (String, Option<String>, Option<String>, Option<String>);
        let row: Option<OutcomeRow> = self
            .conn()
            .query_row(
                "SELECT state, receipt, last_error, problem FROM outbox WHERE idempotency_key = ?1",
                params![idempotency_key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        Ok(match row {
            None => EntryOutcome::Unknown,
            Some((state, receipt, reason, problem)) => match state.as_str() {
                "delivered" => EntryOutcome::Delivered { receipt },
                "rejected" => EntryOutcome::Rejected(Refusal::new(
                    problem.unwrap_or_else(|| "outbox-error-failed".into()),
                    reason.unwrap_or_default(),
                )),
                _ => EntryOutcome::Pending,
            },
        })
    }

    /// Deletes delivered entries settled before `before` (unix seconds) and
    /// rejected ones settled before `rejected_before`: the retention rule that
    /// keeps the file from growing. Returns how many rows went.
    pub fn prune(&self, before: i64, rejected_before: i64) -> Result<usize, OutboxError> {
        let removed = self.conn().execute(
            "DELETE FROM outbox WHERE (state = 'delivered' AND settled_at < ?1)
                                   OR (state = 'rejected' AND settled_at < ?2)",
            params![before, rejected_before],
        )?;
        self.refresh_counts()?;
        Ok(removed)
    }

    /// Copies the write-ahead log into the database and truncates it, so the WAL
    /// does not keep the high-water mark of a busy night.
    pub fn checkpoint(&self) -> Result<(), OutboxError> {
        self.conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// Follows the backlog and delivery health.
    pub fn status(&self) -> watch::Receiver<OutboxStatus> {
        self.status.subscribe()
    }

    /// Wakes the sender now, e.g. when the network is known to be back.
    pub fn nudge(&self) {
        self.wake.notify_one();
    }

    /// Starts the background sender on the current tokio runtime, with the
    /// default pacing. Dropping the handle leaves the sender running.
    pub fn spawn_sender<D: Deliver>(self: Arc<Self>, deliver: D) -> SenderHandle {
        self.spawn_sender_with(deliver, SenderPolicy::default())
    }

    pub fn spawn_sender_with<D: Deliver>(
        self: Arc<Self>,
        deliver: D,
        policy: SenderPolicy,
    ) -> SenderHandle {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(supervise_sender(self, Arc::new(deliver), policy, stopped));
        SenderHandle { stop, task }
    }

    fn record_sender_failure(&self, failed: bool) {
        self.status.send_modify(|s| {
            s.sender_failures = if failed {
                s.sender_failures.saturating_add(1)
            } else {
                0
            }
        });
    }
}

/// Runs the sender and starts it again, after a backoff, whenever it fails (a
/// database error in the middle of the queue): a kiosk that says "will be sent"
/// must keep sending. Failures show in [`OutboxStatus::sender_failures`].
async fn supervise_sender<D: Deliver>(
    outbox: Arc<Outbox>,
    deliver: Arc<D>,
    policy: SenderPolicy,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), OutboxError> {
    let mut failures: u32 = 0;
    loop {
        match run_sender(&outbox, deliver.as_ref(), &policy, stopped.clone()).await {
            Ok(()) => return Ok(()),
            Err(error) => {
                failures = failures.saturating_add(1);
                outbox.record_sender_failure(true);
                tracing::error!(%error, failures, "outbox sender failed; restarting");
                let delay = policy.backoff.delay(failures.saturating_sub(1));
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stopped.changed() => return Ok(()),
                }
            }
        }
    }
}

/// Controls a running sender.
pub struct SenderHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<Result<(), OutboxError>>,
}

impl SenderHandle {
    /// Stops after the attempt under way, if any, and waits for the task.
    pub async fn stop(self) -> Result<(), OutboxError> {
        let _ = self.stop.send(true);
        self.task.await.map_err(|_| OutboxError::Task)?
    }
}

async fn blocking<T: Send + 'static>(
    outbox: &Arc<Outbox>,
    f: impl FnOnce(&Outbox) -> Result<T, OutboxError> + Send + 'static,
) -> Result<T, OutboxError> {
    let outbox = outbox.clone();
    tokio::task::spawn_blocking(move || f(&outbox))
        .await
        .map_err(|_| OutboxError::Task)?
}

async fn run_sender<D: Deliver>(
    outbox: &Arc<Outbox>,
    deliver: &D,
    policy: &SenderPolicy,
    mut stopped: watch::Receiver<bool>,
) -> Result<(), OutboxError> {
    let mut failures: u32 = 0;
    loop {
        if *stopped.borrow() {
            return Ok(());
        }
        let head = blocking(outbox, Outbox::head).await?;
        if outbox.status.borrow().sender_failures > 0 {
            outbox.record_sender_failure(false);
        }
        let Some(entry) = head else {
            tokio::select! {
                _ = outbox.wake.notified() => {}
                _ = stopped.changed() => return Ok(()),
            }
            continue;
        };
        let delivery = tokio::select! {
            d = deliver.deliver(&entry) => d,
            _ = stopped.changed() => return Ok(()),
        };
        let retry = matches!(delivery, Delivery::RetryLater(_));
        match &delivery {
            Delivery::Delivered(_) => failures = 0,
            Delivery::RetryLater(reason) => {
                failures = failures.saturating_add(1);
                tracing::info!(seq = entry.seq, kind = entry.kind.as_str(), %reason, "outbox delivery postponed");
            }
            Delivery::Rejected(refusal) => {
                failures = 0;
                tracing::warn!(seq = entry.seq, kind = entry.kind.as_str(), reason = %refusal.reason, "outbox entry rejected");
            }
        }
        let seq = entry.seq;
        blocking(outbox, move |o| o.settle(seq, &delivery)).await?;
        if retry {
            let delay = policy.backoff.delay(failures.saturating_sub(1));
            tokio::select! {
                _ = tokio::time::sleep(delay) => {}
                _ = outbox.wake.notified() => {}
                _ = stopped.changed() => return Ok(()),
            }
        }
    }
}

fn outcome<T>(
    result: Result<T, crate::central_client::CentralError>,
    receipt: impl FnOnce(T) -> Option<String>,
) -> Delivery {
    match result {
        Ok(answer) => Delivery::Delivered(receipt(answer)),
        Err(e) if e.is_transient() => Delivery::RetryLater(e.to_string()),
        Err(e) => Delivery::Rejected(Refusal::new(e.message_key(), e.to_string())),
    }
}

impl Deliver for CentralClient {
    async fn deliver(&self, entry: &OutboxEntry) -> Delivery {
        let key = entry.idempotency_key.as_str();
        let corrupt = |e: serde_json::Error| {
            Delivery::Rejected(Refusal::new(
                "outbox-error-failed",
                format!("stored payload does not parse: {e}"),
            ))
        };
        match entry.kind {
            OutboxKind::Submission => {
                match serde_json::from_str::<SubmissionRequest>(&entry.payload) {
                    Ok(request) => outcome(self.submit(key, &request).await, |receipt| {
                        Some(receipt.receipt_number)
                    }),
                    Err(e) => corrupt(e),
                }
            }
            OutboxKind::Rating => match serde_json::from_str::<RatingRequest>(&entry.payload) {
                Ok(request) => outcome(self.rate(key, &request).await, |_| None),
                Err(e) => corrupt(e),
            },
            OutboxKind::Heartbeat => match serde_json::from_str::<Heartbeat>(&entry.payload) {
                Ok(heartbeat) => outcome(self.heartbeat(key, &heartbeat).await, |_| None),
                Err(e) => corrupt(e),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enqueue_is_durable_ordered_and_deduplicated_by_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outbox.sqlite");
        {
            let outbox = Outbox::open(&path).unwrap();
            outbox
                .enqueue(OutboxKind::Rating, "a", &serde_json::json!({"n": 1}))
                .unwrap();
            outbox
                .enqueue(OutboxKind::Submission, "b", &serde_json::json!({"n": 2}))
                .unwrap();
            outbox
                .enqueue(OutboxKind::Rating, "a", &serde_json::json!({"n": 3}))
                .unwrap();
            assert_eq!(outbox.status().borrow().backlog, 2);
        }
        let reopened = Outbox::open(&path).unwrap();
        let pending = reopened.pending().unwrap();
        let keys: Vec<_> = pending.iter().map(|e| e.idempotency_key.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(pending[0].payload, r#"{"n":1}"#);
        assert_eq!(reopened.status().borrow().backlog, 2);
        let mode: String = reopened
            .conn()
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let sync: i64 = reopened
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "synchronous=FULL");
    }

    fn raw_bytes(path: &Path) -> Vec<u8> {
        let mut bytes = std::fs::read(path).unwrap();
        for suffix in ["-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            bytes.extend(std::fs::read(PathBuf::from(name)).unwrap_or_default());
        }
        bytes
    }

    fn contains(haystack: &[u8], needle: &[u8]) -> bool {
        haystack.windows(needle.len()).any(|w| w == needle)
    }

    #[test]
    fn payloads_are_sealed_and_bound_to_their_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("o.sqlite");
        let outbox = Outbox::open(&path).unwrap();
        let secret = "SECRET-PAYLOAD-330106198503122314";
        outbox
            .enqueue(OutboxKind::Submission, "k1", &secret)
            .unwrap();
        outbox
            .enqueue(OutboxKind::Submission, "k2", &"other")
            .unwrap();
        assert!(!contains(&raw_bytes(&path), secret.as_bytes()));
        assert!(!contains(&raw_bytes(&path), b"330106198503122314"));
        assert_eq!(
            outbox.pending().unwrap()[0].payload,
            format!("\"{secret}\"")
        );
        // Moving a sealed payload to another row breaks it: the row's kind and
        // key are authenticated with it.
        outbox
            .conn()
            .execute(
                "UPDATE outbox SET payload = (SELECT payload FROM outbox WHERE idempotency_key = 'k1')
                 WHERE idempotency_key = 'k2'",
                [],
            )
            .unwrap();
        assert!(matches!(
            outbox.pending(),
            Err(OutboxError::Undecryptable(_))
        ));
        let head = outbox.head().unwrap().unwrap();
        assert_eq!(head.idempotency_key, "k1");
        outbox.settle(head.seq, &Delivery::Delivered(None)).unwrap();
        // The swapped row is set aside rather than blocking the queue.
        assert!(outbox.head().unwrap().is_none());
        assert_eq!(outbox.status().borrow().rejected, 1);
    }

    #[test]
    fn a_clear_text_outbox_is_sealed_on_first_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            // The layout of the first release: payloads as JSON text.
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(
                "CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL,
                    created_at INTEGER NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
                    attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT);
                 INSERT INTO outbox (kind, idempotency_key, payload, created_at)
                 VALUES ('rating', 'old-1', '{\"name\":\"OLD-CLEAR-TEXT-NAME\"}', 0);",
            )
            .unwrap();
        }
        assert!(contains(&raw_bytes(&path), b"OLD-CLEAR-TEXT-NAME"));
        let outbox = Outbox::open(&path).unwrap();
        assert!(!contains(&raw_bytes(&path), b"OLD-CLEAR-TEXT-NAME"));
        let pending = outbox.pending().unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].payload, r#"{"name":"OLD-CLEAR-TEXT-NAME"}"#);
        drop(outbox);
        assert_eq!(Outbox::open(&path).unwrap().pending().unwrap(), pending);
    }

    #[test]
    fn settling_updates_the_status() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(&dir.path().join("o.sqlite")).unwrap();
        outbox.enqueue(OutboxKind::Heartbeat, "h1", &1).unwrap();
        outbox.enqueue(OutboxKind::Heartbeat, "h2", &2).unwrap();
        let head = outbox.head().unwrap().unwrap();
        outbox
            .settle(head.seq, &Delivery::RetryLater("down".into()))
            .unwrap();
        assert!(outbox.status().borrow().waiting_for_network());
        assert_eq!(outbox.head().unwrap().unwrap().attempts, 1);
        outbox
            .settle(
                head.seq,
                &Delivery::Rejected(Refusal::new("outbox-error-failed", "bad")),
            )
            .unwrap();
        let status = *outbox.status().borrow();
        assert_eq!(
            (status.backlog, status.rejected, status.consecutive_failures),
            (1, 1, 0)
        );
        let next = outbox.head().unwrap().unwrap();
        assert_eq!(next.idempotency_key, "h2");
        outbox.settle(next.seq, &Delivery::Delivered(None)).unwrap();
        assert_eq!(outbox.status().borrow().backlog, 0);
        assert!(!format!("{next:?}").contains("payload"));
    }
}
