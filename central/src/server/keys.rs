//! The service's ed25519 signing keys: one signs certificates, one signs
//! kiosk configuration. They live outside the database (and so outside its
//! backups), in files the operator controls or in the operator's environment.
//!
//! A key directory holds `certificate.key` and `config.key`, PKCS#8 PEM, mode
//! 0600 (a key file others can read is refused). Replicas of one deployment are
//! given the same keys.

use std::io::Write;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};

/// File names inside a key directory.
pub const CERTIFICATE_KEY_FILE: &str = "certificate.key";
pub const CONFIG_KEY_FILE: &str = "config.key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{0}: no signing key; create the keys with `estation-central keygen --key-dir DIR` (or give them in the environment)"
    )]
    Missing(PathBuf),
    #[error("{0}: readable by others; `chmod 600` it (signing keys must be private)")]
    Exposed(PathBuf),
    #[error("{0}: not an ed25519 private key in PKCS#8 PEM")]
    Malformed(String),
    #[error(
        "the database still holds signing keys that differ from those in {0}; keep the right ones in the key directory and remove the others by hand"
    )]
    Conflict(PathBuf),
    #[error("no signing keys given: serve with --key-dir DIR (see `estation-central keygen`)")]
    Unset,
}

/// Where the signing keys come from.
#[derive(Clone, Debug, Default)]
pub enum KeySource {
    /// A key directory; with `create`, missing keys are generated (0600).
    Dir { path: PathBuf, create: bool },
    /// PEM text from the operator's environment.
    Pem { certificate: String, config: String },
    /// Nothing said: an embedded service uses `<its directory>/keys`, created on
    /// first use; the stand-alone service refuses to start.
    #[default]
    Unset,
}

/// The two signing keys of a service.
#[derive(Clone)]
pub struct SigningKeys {
    pub certificate: SigningKey,
    pub config: SigningKey,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io {
        path: path.to_owned(),
        source,
    }
}

fn parse_pem(pem: &str, what: &str) -> Result<SigningKey, KeyError> {
    SigningKey::from_pkcs8_pem(pem.trim()).map_err(|_| KeyError::Malformed(what.to_owned()))
}

/// The PEM text of a key.
pub fn to_pem(key: &SigningKey) -> Result<String, KeyError> {
    // PKCS#8 version 1, which OpenSSL 3.0 reads (it refuses the version 2 form).
    ed25519_dalek::pkcs8::KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
    .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
    .map(|pem| pem.to_string())
    .map_err(|_| KeyError::Malformed("key".into()))
}

fn read_key(path: &Path) -> Result<Option<SigningKey>, KeyError> {
    let metadata = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(path)(e)),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(KeyError::Exposed(path.to_owned()));
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    let pem = std::fs::read_to_string(path).map_err(io(path))?;
    parse_pem(&pem, &path.display().to_string()).map(Some)
}

/// Writes a new key file, 0600, refusing to replace one.
fn write_key(path: &Path, key: &SigningKey) -> Result<(), KeyError> {
    let pem = to_pem(key)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io(path))?;
    file.write_all(pem.as_bytes()).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    Ok(())
}

/// Creates a key directory (0700) with the keys it lacks; answers which it created.
pub fn generate(dir: &Path) -> Result<Vec<PathBuf>, KeyError> {
    create_dir(dir)?;
    let mut created = Vec::new();
    for name in [CERTIFICATE_KEY_FILE, CONFIG_KEY_FILE] {
        let path = dir.join(name);
        if read_key(&path)?.is_none() {
            write_key(&path, &SigningKey::generate(&mut rand::rngs::OsRng))?;
            created.push(path);
        }
    }
    Ok(created)
}

fn create_dir(dir: &Path) -> Result<(), KeyError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io(dir))
}

/// Loads the keys. `legacy` are keys an earlier version kept in the database
/// (by purpose); they are written to a key directory that lacks them. Answers
/// the keys and whether the legacy keys are now safe in files (and may be
/// removed from the database).
pub fn load(
    source: &KeySource,
    legacy: &[(String, Vec<u8>)],
) -> Result<(SigningKeys, bool), KeyError> {
    let legacy_key = |purpose: &str| -> Result<Option<SigningKey>, KeyError> {
        legacy
            .iter()
            .find(|(p, _)| p == purpose)
            .map(|(_, bytes)| {
                let bytes: [u8; 32] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| KeyError::Malformed(format!("stored {purpose} key")))?;
                Ok(SigningKey::from_bytes(&bytes))
            })
            .transpose()
    };
    match source {
        KeySource::Unset => Err(KeyError::Unset),
        KeySource::Pem {
            certificate,
            config,
        } => Ok((
            SigningKeys {
                certificate: parse_pem(certificate, "certificate key from the environment")?,
                config: parse_pem(config, "config key from the environment")?,
            },
            false,
        )),
        KeySource::Dir { path, create } => {
            let mut keys = Vec::with_capacity(2);
            let mut legacy_safe = !legacy.is_empty();
            for (purpose, name) in [
                ("certificate", CERTIFICATE_KEY_FILE),
                ("config", CONFIG_KEY_FILE),
            ] {
                let file = path.join(name);
                let old = legacy_key(purpose)?;
                let key = match (read_key(&file)?, old) {
                    (Some(key), None) => key,
                    (Some(key), Some(old)) => {
                        if key.to_bytes() != old.to_bytes() {
                            return Err(KeyError::Conflict(path.clone()));
                        }
                        key
                    }
                    (None, Some(old)) => {
                        create_dir(path)?;
                        write_key(&file, &old)?;
                        tracing::info!(file = %file.display(), "signing key moved out of the database");
                        old
                    }
                    (None, None) if *create => {
                        create_dir(path)?;
                        let key = SigningKey::generate(&mut rand::rngs::OsRng);
                        write_key(&file, &key)?;
                        key
                    }
                    (None, None) => return Err(KeyError::Missing(file)),
                };
                keys.push(key);
            }
            if legacy
                .iter()
                .any(|(p, _)| p != "certificate" && p != "config")
            {
                legacy_safe = false;
            }
            let config = keys.pop().ok_or(KeyError::Unset)?;
            let certificate = keys.pop().ok_or(KeyError::Unset)?;
            Ok((
                SigningKeys {
                    certificate,
                    config,
                },
                legacy_safe,
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn generated_keys_are_private_and_exposed_ones_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keys_dir = dir.path().join("keys");
        let source = KeySource::Dir {
            path: keys_dir.clone(),
            create: true,
        };
        let (first, _) = load(&source, &[]).unwrap();
        for name in [CERTIFICATE_KEY_FILE, CONFIG_KEY_FILE] {
            let mode = std::fs::metadata(keys_dir.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        let dir_mode = std::fs::metadata(&keys_dir).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
        let (again, _) = load(&source, &[]).unwrap();
        assert_eq!(again.certificate.to_bytes(), first.certificate.to_bytes());
        assert_ne!(first.certificate.to_bytes(), first.config.to_bytes());

        let file = keys_dir.join(CONFIG_KEY_FILE);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(load(&source, &[]), Err(KeyError::Exposed(_))));

        let strict = KeySource::Dir {
            path: dir.path().join("absent"),
            create: false,
        };
        assert!(matches!(load(&strict, &[]), Err(KeyError::Missing(_))));
    }

    #[test]
    fn legacy_keys_move_to_files_once() {
        let dir = tempfile::tempdir().unwrap();
        let old = SigningKey::generate(&mut rand::rngs::OsRng);
        let old_config = SigningKey::generate(&mut rand::rngs::OsRng);
        let legacy = vec![
            ("certificate".to_owned(), old.to_bytes().to_vec()),
            ("config".to_owned(), old_config.to_bytes().to_vec()),
        ];
        let source = KeySource::Dir {
            path: dir.path().to_owned(),
            create: false,
        };
        let (keys, safe) = load(&source, &legacy).unwrap();
        assert!(safe);
        assert_eq!(keys.certificate.to_bytes(), old.to_bytes());
        assert_eq!(keys.config.to_bytes(), old_config.to_bytes());
        // Other keys in the directory than the database's: refuse to guess.
        let other = vec![(
            "certificate".to_owned(),
            SigningKey::generate(&mut rand::rngs::OsRng)
                .to_bytes()
                .to_vec(),
        )];
        assert!(matches!(load(&source, &other), Err(KeyError::Conflict(_))));
    }
}
