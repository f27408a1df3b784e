//! Which configuration bundle a kiosk gets, answered from memory: the bundles
//! are cached and reloaded only when the newest versions in the store change
//! (one indexed read per check, never a write), so another replica's
//! publication is seen on the next check.

use std::sync::{Arc, Mutex};

use super::error::ApiError;
use super::store::{ConfigVersions, PublishedBundleRecord, Store, sha256};
use crate::wire::{SignedConfig, selector_matches};

/// The bundles as last loaded.
#[derive(Clone)]
pub struct ConfigSnapshot {
    versions: ConfigVersions,
    /// Newest first.
    published: Arc<Vec<PublishedBundleRecord>>,
    default: Option<(u64, SignedConfig)>,
}

impl ConfigSnapshot {
    /// The newest published bundle whose selector names the kiosk, else the
    /// service's own signed default.
    pub fn for_kiosk(&self, kiosk_id: &str) -> Option<(u64, SignedConfig)> {
        self.published
            .iter()
            .find(|b| selector_matches(&b.selector, kiosk_id))
            .and_then(|b| {
                Some((
                    u64::try_from(b.version).ok()?,
                    SignedConfig {
                        payload: b.payload.clone(),
                        signature: b.signature.clone(),
                        key_id: b.key_id.clone(),
                    },
                ))
            })
            .or_else(|| self.default.clone())
    }
}

#[derive(Default)]
pub struct ConfigCache(Mutex<Option<ConfigSnapshot>>);

impl ConfigCache {
    fn get(&self) -> Option<ConfigSnapshot> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn put(&self, snapshot: ConfigSnapshot) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(snapshot);
    }
}

/// The current bundles: from the cache when the store's newest versions are
/// those cached, else reloaded. `config_key_id` names the key of the defaults.
pub async fn snapshot(
    store: &dyn Store,
    cache: &ConfigCache,
    config_key_id: &str,
) -> Result<ConfigSnapshot, ApiError> {
    let versions = store.config_versions().await?;
    if let Some(cached) = cache.get()
        && cached.versions == versions
    {
        return Ok(cached);
    }
    let published = store.published_bundles().await?;
    let default = match store.default_config().await? {
        Some(record) => Some((
            u64::try_from(record.version).map_err(|_| ApiError::internal())?,
            SignedConfig {
                payload: record.payload,
                signature: record.signature,
                key_id: config_key_id.to_owned(),
            },
        )),
        None => None,
    };
    let snapshot = ConfigSnapshot {
        versions,
        published: Arc::new(published),
        default,
    };
    cache.put(snapshot.clone());
    Ok(snapshot)
}

/// The entity tag of a bundle: its version and a digest of its signature, so
/// two bundles with the same version (the service's default and a published
/// one) never share a tag.
pub fn config_etag(version: u64, signed: &SignedConfig) -> String {
    let digest: String = sha256(signed.signature.as_bytes())[..6]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("\"config-v{version}-{digest}\"")
}
