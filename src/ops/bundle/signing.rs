//! Administrator keys, signing and verification of bundles.
//!
//! Keys are plain ed25519 in standard files: the private key as PKCS#8 PEM
//! (`-----BEGIN PRIVATE KEY-----`), the public key as SPKI PEM
//! (`-----BEGIN PUBLIC KEY-----`), so `openssl pkey` can read both.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use estation_central::wire::SignedConfig;
use sha2::{Digest, Sha256};

use super::error::BundleError;
use super::format::ConfigBundle;

/// Largest bundle file accepted, before any parsing.
pub const MAX_BUNDLE_BYTES: usize = 256 * 1024;

/// First 8 bytes of SHA-256 of the public key, in hex: the same id the central
/// service gives its own keys.
pub fn key_id(key: &VerifyingKey) -> String {
    Sha256::digest(key.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn key_error(path: &Path, message: impl fmt::Display) -> BundleError {
    BundleError::Key {
        path: path.display().to_string(),
        message: message.to_string(),
    }
}

/// An administrator's signing key.
pub struct KeyPair {
    signing: SigningKey,
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("key_id", &key_id(&self.signing.verifying_key()))
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    pub fn generate() -> KeyPair {
        KeyPair {
            signing: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing.verifying_key()
    }

    pub fn key_id(&self) -> String {
        key_id(&self.verifying_key())
    }

    /// Writes `prefix` (private, mode 0600) and `prefix.pub`. Refuses to
    /// overwrite an existing key: losing one locks every kiosk to it.
    pub fn write(&self, prefix: &Path) -> Result<PathBuf, BundleError> {
        let public_path = public_key_path(prefix);
        for path in [prefix, public_path.as_path()] {
            if path.exists() {
                return Err(key_error(path, "already exists; not overwritten"));
            }
        }
        // PKCS#8 version 1 (RFC 8410 without the optional public key): OpenSSL 3.0,
        // Debian 12's, refuses the version 2 form ed25519-dalek writes by default.
        let private = ed25519_dalek::pkcs8::KeypairBytes {
            secret_key: self.signing.to_bytes(),
            public_key: None,
        }
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| key_error(prefix, e))?;
        let public = self
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|e| key_error(&public_path, e))?;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options.open(prefix).map_err(|e| key_error(prefix, e))?;
        file.write_all(private.as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| key_error(prefix, e))?;
        std::fs::write(&public_path, public).map_err(|e| key_error(&public_path, e))?;
        Ok(public_path)
    }

    pub fn read(path: &Path) -> Result<KeyPair, BundleError> {
        let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
        let signing = SigningKey::from_pkcs8_pem(&text)
            .map_err(|e| key_error(path, format!("not an ed25519 PKCS#8 private key: {e}")))?;
        Ok(KeyPair { signing })
    }

    pub fn sign(&self, message: &[u8]) -> Signature {
        self.signing.sign(message)
    }
}

/// `PREFIX.pub`.
pub fn public_key_path(prefix: &Path) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".pub");
    PathBuf::from(name)
}

/// Reads a public key file (SPKI PEM).
pub fn read_public_key(path: &Path) -> Result<VerifyingKey, BundleError> {
    let text = std::fs::read_to_string(path).map_err(|e| key_error(path, e))?;
    VerifyingKey::from_public_key_pem(&text)
        .map_err(|e| key_error(path, format!("not an ed25519 public key: {e}")))
}

/// Signs `bundle` (validated first) into the document kiosks verify.
pub fn sign_bundle(bundle: &ConfigBundle, key: &KeyPair) -> Result<SignedConfig, BundleError> {
    bundle.validate()?;
    let payload = bundle.to_payload()?;
    let signature = key.sign(payload.as_bytes());
    Ok(SignedConfig {
        payload,
        signature: base64::engine::general_purpose::STANDARD.encode(signature.to_bytes()),
        key_id: key.key_id(),
    })
}

/// The public keys a kiosk accepts bundles from.
#[derive(Clone, Default)]
pub struct TrustAnchors {
    keys: Vec<VerifyingKey>,
}

impl fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.keys.iter().map(key_id))
            .finish()
    }
}

impl TrustAnchors {
    pub fn new(keys: Vec<VerifyingKey>) -> TrustAnchors {
        TrustAnchors { keys }
    }

    /// Reads each public key file (`PREFIX.pub` from `estation admin keygen`).
    pub fn from_files<P: AsRef<Path>>(paths: &[P]) -> Result<TrustAnchors, BundleError> {
        let keys = paths
            .iter()
            .map(|p| read_public_key(p.as_ref()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(TrustAnchors { keys })
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn key_ids(&self) -> Vec<String> {
        self.keys.iter().map(key_id).collect()
    }
}

/// Parses a bundle file and checks its signature and schema (not its version
/// or expiry, which depend on the kiosk's state and clock).
pub fn verify_signed(
    bytes: &[u8],
    trust: &TrustAnchors,
) -> Result<(SignedConfig, ConfigBundle), BundleError> {
    if bytes.len() > MAX_BUNDLE_BYTES {
        return Err(BundleError::TooLarge {
            limit: MAX_BUNDLE_BYTES,
        });
    }
    if trust.is_empty() {
        return Err(BundleError::NoTrustAnchor);
    }
    let signed: SignedConfig =
        serde_json::from_slice(bytes).map_err(|e| BundleError::Malformed(e.to_string()))?;
    verify_signature(&signed, trust)?;
    let bundle = ConfigBundle::from_payload(&signed.payload)?;
    Ok((signed, bundle))
}

fn verify_signature(signed: &SignedConfig, trust: &TrustAnchors) -> Result<(), BundleError> {
    if signed.signature.trim().is_empty() {
        return Err(BundleError::Unsigned);
    }
    let signature = base64::engine::general_purpose::STANDARD
        .decode(signed.signature.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| Signature::from_bytes(&b))
        .ok_or(BundleError::BadSignature)?;
    let message = signed.payload.as_bytes();
    // Try every anchor: `key_id` is unsigned and only tells which error to give.
    if trust
        .keys
        .iter()
        .any(|key| key.verify_strict(message, &signature).is_ok())
    {
        return Ok(());
    }
    if trust.keys.iter().any(|key| key_id(key) == signed.key_id) {
        Err(BundleError::BadSignature)
    } else {
        Err(BundleError::UnknownKey {
            key_id: signed.key_id.chars().take(32).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_through_pem_files() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path().join("admin");
        let pair = KeyPair::generate();
        let public = pair.write(&prefix).unwrap();
        assert!(matches!(pair.write(&prefix), Err(BundleError::Key { .. })));
        let again = KeyPair::read(&prefix).unwrap();
        assert_eq!(again.key_id(), pair.key_id());
        assert_eq!(read_public_key(&public).unwrap(), pair.verifying_key());
        let text = std::fs::read_to_string(&prefix).unwrap();
        assert!(text.starts_with("-----BEGIN PRIVATE KEY-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&prefix).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0);
        }
        assert!(format!("{pair:?}").contains(&pair.key_id()));
        assert!(KeyPair::read(&public).is_err());
    }
}
