//! The kiosk's bundle on disk.
//!
//! `current.json` is the bundle in force and `previous.json` the one before it,
//! both byte for byte as received. A new bundle is written to a temporary file,
//! flushed, renamed over `current.json` and the directory flushed: rename is
//! atomic, so a kiosk killed at any instant finds either the old or the new
//! bundle, whole (`tests/bundle_signed.rs` kills one many times to check).

use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use super::format::rfc3339;
use time::OffsetDateTime;
use tokio::sync::watch;

use super::error::BundleError;
use super::format::ConfigBundle;
use super::signing::{MAX_BUNDLE_BYTES, TrustAnchors, verify_signed};

const CURRENT: &str = "current.json";
const PREVIOUS: &str = "previous.json";
const TEMP_SUFFIX: &str = ".tmp";

/// The folder of a kiosk's data directory that holds its bundles: one name for
/// the kiosk, its self-test and the documentation.
pub const BUNDLE_FOLDER: &str = "config";

/// What [`BundleStore::apply`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyOutcome {
    /// The bundle is now in force.
    Applied { version: u64, previous: Option<u64> },
    /// The very same bundle was already in force.
    Unchanged { version: u64 },
}

struct Installed {
    bundle: Arc<ConfigBundle>,
    /// The signed text: two files with the same payload are the same bundle,
    /// however their JSON wrapper is formatted.
    payload: String,
    bytes: Vec<u8>,
}

/// The verified configuration in force, and the way to replace it.
pub struct BundleStore {
    dir: PathBuf,
    trust: TrustAnchors,
    /// The bundle in force; held only to read or swap, never across disk I/O,
    /// so the UI thread reading it never waits for an fsync.
    state: Mutex<Option<Arc<Installed>>>,
    /// Serialises appliers (the poller, a technician's USB stick).
    apply_lock: Mutex<()>,
    changes: watch::Sender<Option<Arc<ConfigBundle>>>,
}

impl std::fmt::Debug for BundleStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BundleStore")
            .field("dir", &self.dir)
            .field("trust", &self.trust)
            .field("version", &self.current().map(|b| b.version))
            .finish()
    }
}

/// Reads at most the bundle size limit (and one byte more, to tell it was over).
pub fn read_bundle_file(path: &Path) -> Result<Vec<u8>, BundleError> {
    let file = File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_BUNDLE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge {
            limit: MAX_BUNDLE_BYTES,
        });
    }
    Ok(bytes)
}

/// Replaces `path` with `bytes` so that a crash leaves the old or the new
/// content, never a mix: temp file, fsync, rename, fsync of the directory.
fn write_atomically(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temp = dir.join(format!("{name}{TEMP_SUFFIX}"));
    {
        let mut file = File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&temp, dir.join(name))?;
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        // Windows has no directory handles to flush; MoveFileEx is durable enough.
        let _ = dir;
        Ok(())
    }
}

impl BundleStore {
    /// Opens (creating) the bundle directory and loads the bundle in force.
    /// `current.json` is checked again (signature, schema); if it does not
    /// pass, the previous good bundle is used; with neither the kiosk runs on
    /// its built-in defaults (`current()` is `None`).
    pub fn open(dir: &Path, trust: TrustAnchors) -> Result<BundleStore, BundleError> {
        fs::create_dir_all(dir)?;
        for entry in fs::read_dir(dir)?.flatten() {
            // A temp file is a write that never reached its rename.
            if entry.file_name().to_string_lossy().ends_with(TEMP_SUFFIX) {
                let _ = fs::remove_file(entry.path());
            }
        }
        let mut installed = None;
        for name in [CURRENT, PREVIOUS] {
            let path = dir.join(name);
            if !path.exists() {
                continue;
            }
            match read_bundle_file(&path).and_then(|bytes| {
                verify_signed(&bytes, &trust).map(|(signed, bundle)| Installed {
                    bundle: Arc::new(bundle),
                    payload: signed.payload,
                    bytes,
                })
            }) {
                Ok(found) => {
                    installed = Some(found);
                    break;
                }
                Err(error) => tracing::warn!(
                    file = %path.display(),
                    reason = %error,
                    "stored configuration bundle is not usable"
                ),
            }
        }
        if let Some(found) = &installed
            && found.bundle.is_expired_at(OffsetDateTime::now_utc())
        {
            // Keep serving: a kiosk cut off from the centre must not go dark.
            tracing::warn!(
                version = found.bundle.version,
                "the configuration bundle in force has expired; waiting for a newer one"
            );
        }
        let current = installed.as_ref().map(|i| i.bundle.clone());
        Ok(BundleStore {
            dir: dir.to_owned(),
            trust,
            state: Mutex::new(installed.map(Arc::new)),
            apply_lock: Mutex::new(()),
            changes: watch::Sender::new(current),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Arc<Installed>>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn trust(&self) -> &TrustAnchors {
        &self.trust
    }

    /// The bundle in force, if any.
    pub fn current(&self) -> Option<Arc<ConfigBundle>> {
        self.lock().as_ref().map(|i| i.bundle.clone())
    }

    /// The version in force, for heartbeats.
    pub fn current_version(&self) -> Option<u64> {
        self.lock().as_ref().map(|i| i.bundle.version)
    }

    /// The last good bundle before the one in force, if kept.
    pub fn previous(&self) -> Option<ConfigBundle> {
        let bytes = read_bundle_file(&self.dir.join(PREVIOUS)).ok()?;
        verify_signed(&bytes, &self.trust).ok().map(|(_, b)| b)
    }

    /// Follows the bundle in force: the kiosk re-reads idle timeouts, languages
    /// and service switches from here without a restart.
    pub fn subscribe(&self) -> watch::Receiver<Option<Arc<ConfigBundle>>> {
        self.changes.subscribe()
    }

    /// Verifies a bundle file and, if it passes every rule, makes it the one in
    /// force. On any error nothing changes on disk or in memory.
    pub fn apply(&self, bytes: &[u8]) -> Result<ApplyOutcome, BundleError> {
        self.apply_at(bytes, OffsetDateTime::now_utc())
    }

    /// [`BundleStore::apply`] with the clock given (tests, and the poller's
    /// single reading of the time).
    pub fn apply_at(&self, bytes: &[u8], now: OffsetDateTime) -> Result<ApplyOutcome, BundleError> {
        let (signed, bundle) = verify_signed(bytes, &self.trust)?;
        if bundle.is_expired_at(now) {
            return Err(BundleError::Expired {
                expires_at: rfc3339(bundle.expires_at),
            });
        }
        let _writer = self.apply_lock.lock().unwrap_or_else(|p| p.into_inner());
        let running = self.lock().clone();
        let previous = match running.as_deref() {
            Some(running) if running.payload == signed.payload => {
                return Ok(ApplyOutcome::Unchanged {
                    version: running.bundle.version,
                });
            }
            Some(running) if bundle.version <= running.bundle.version => {
                return Err(BundleError::NotNewer {
                    offered: bundle.version,
                    running: running.bundle.version,
                });
            }
            Some(running) => {
                write_atomically(&self.dir, PREVIOUS, &running.bytes)?;
                Some(running.bundle.version)
            }
            None => None,
        };
        write_atomically(&self.dir, CURRENT, bytes)?;
        let bundle = Arc::new(bundle);
        let version = bundle.version;
        *self.lock() = Some(Arc::new(Installed {
            bundle: bundle.clone(),
            payload: signed.payload,
            bytes: bytes.to_vec(),
        }));
        self.changes.send_replace(Some(bundle));
        tracing::info!(version, ?previous, "configuration bundle applied");
        Ok(ApplyOutcome::Applied { version, previous })
    }
}
