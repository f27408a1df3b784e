//! Administration: publishing signed configuration bundles to kiosks chosen by
//! a selector, and the fleet's status (JSON and a small HTML page).
//!
//! Administrators authenticate with HTTP Basic (`admin id : token`), which a
//! browser can send for the status page; tokens are stored as SHA-256 like the
//! kiosks'. The service does not check bundle signatures: kiosks do, against
//! their own trust anchors, so the service is not trusted for integrity.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::api::{ApiJson, json};
use super::error::ApiError;
use super::store::{Store, rfc3339, sha256};
use super::{AppState, EmbeddedCentral, ServerError, new_token};
use crate::wire::{
    ConfigBundle, DeviceHealth, DeviceStatus, FleetStatus, KioskHealth, KioskStatus, LastHeartbeat,
    Problem, ProblemCode, PublishBundleRequest, PublishedBundle, SignedConfig, selector_matches,
    validate_selector,
};

/// A kiosk silent for longer than this shows as `silent` unless the query says otherwise.
pub const DEFAULT_STALE_AFTER_SECS: u64 = 15 * 60;
/// Backlog from which a kiosk shows a warning.
const BACKLOG_WARNING: u32 = 50;

/// The administrator a request was authenticated as.
#[derive(Clone, Debug)]
pub struct AuthenticatedAdmin(pub String);

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?.trim();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, token) = text.split_once(':')?;
    Some((id.to_owned(), token.to_owned()))
}

fn admin_unauthorized() -> Response {
    let mut response = ApiError::unauthorized().into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"estation administration\", charset=\"UTF-8\""),
    );
    response
}

/// Middleware: HTTP Basic with a registered administrator's id and token.
pub async fn require_admin(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let Some((admin_id, token)) = basic_credentials(req.headers()) else {
        return admin_unauthorized();
    };
    if admin_id.is_empty() || admin_id.len() > 64 {
        return admin_unauthorized();
    }
    let store = state.store.clone();
    let id = admin_id.clone();
    let known = tokio::task::spawn_blocking(move || admin_token_matches(&store, &id, &token)).await;
    match known {
        Ok(Ok(true)) => {
            req.extensions_mut().insert(AuthenticatedAdmin(admin_id));
            next.run(req).await
        }
        Ok(Ok(false)) => {
            tracing::warn!(admin_id = %admin_id.escape_debug(), "rejected administration request");
            admin_unauthorized()
        }
        Ok(Err(error)) => error.into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

fn admin_token_matches(store: &Store, admin_id: &str, token: &str) -> Result<bool, ApiError> {
    use subtle::ConstantTimeEq;
    let stored: Option<Vec<u8>> = store.read(|c| {
        Ok(c.query_row(
            "SELECT token_sha256 FROM admins WHERE admin_id = ?1",
            params![admin_id],
            |r| r.get(0),
        )
        .optional()?)
    })?;
    Ok(stored.is_some_and(|s| bool::from(s.as_slice().ct_eq(&sha256(token.as_bytes())))))
}

impl AppState {
    /// Registers an administrator (or replaces the token) and returns the new token.
    pub async fn register_admin(&self, admin_id: &str) -> Result<String, ServerError> {
        if admin_id.is_empty() || admin_id.len() > 64 || admin_id.contains(':') {
            return Err(ServerError::Api(
                "an administrator id has 1 to 64 characters and no ':'".into(),
            ));
        }
        let token = new_token();
        let store = self.store.clone();
        let (id, t, now) = (admin_id.to_owned(), token.clone(), self.clock.now());
        tokio::task::spawn_blocking(move || {
            store.write(|tx| {
                tx.execute(
                    "INSERT INTO admins (admin_id, token_sha256, created_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (admin_id) DO UPDATE SET token_sha256 = excluded.token_sha256",
                    params![id, sha256(t.as_bytes()), rfc3339(now)],
                )?;
                Ok(())
            })
        })
        .await
        .map_err(|_| ServerError::Task)??;
        Ok(token)
    }
}

impl EmbeddedCentral {
    /// Registers an administrator and returns the token.
    pub async fn register_admin(&self, admin_id: &str) -> Result<String, ServerError> {
        self.state.register_admin(admin_id).await
    }
}

// ---------------------------------------------------------------- which bundle a kiosk gets

/// The bundle a kiosk gets: the newest published bundle whose selector names
/// it, else the service's own signed default.
pub fn config_for_kiosk(
    store: &Store,
    kiosk_id: &str,
) -> Result<Option<(u64, SignedConfig)>, ApiError> {
    let published = store.read(|c| published_for(c, kiosk_id))?;
    match published {
        Some(found) => Ok(Some(found)),
        None => store.latest_config(),
    }
}

fn published_for(c: &Connection, kiosk_id: &str) -> Result<Option<(u64, SignedConfig)>, ApiError> {
    let mut stmt = c.prepare_cached(
        "SELECT version, selector, payload, signature, key_id FROM published_bundles
         ORDER BY version DESC",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let selector: String = row.get(1)?;
        if selector_matches(&selector, kiosk_id) {
            let version: i64 = row.get(0)?;
            return Ok(Some((
                u64::try_from(version).map_err(|_| ApiError::internal())?,
                SignedConfig {
                    payload: row.get(2)?,
                    signature: row.get(3)?,
                    key_id: row.get(4)?,
                },
            )));
        }
    }
    Ok(None)
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

// ---------------------------------------------------------------- publishing

fn registered_kiosks(c: &Connection) -> Result<Vec<String>, ApiError> {
    let mut stmt = c.prepare_cached("SELECT kiosk_id FROM kiosks ORDER BY kiosk_id")?;
    let ids = stmt
        .query_map([], |r| r.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

/// Publishes a signed bundle to the kiosks the selector names. Versions are
/// global: each published bundle must be newer than every one before it.
#[utoipa::path(post, path = "/v1/admin/bundles", tag = "admin",
    security(("admin_basic" = [])),
    request_body = PublishBundleRequest,
    responses(
        (status = 200, description = "Published", body = PublishedBundle),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "validation-failed: bad selector, not a bundle, expired, or not newer", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn publish_bundle(
    State(state): State<Arc<AppState>>,
    Extension(admin): Extension<AuthenticatedAdmin>,
    ApiJson(request): ApiJson<PublishBundleRequest>,
) -> Result<Response, ApiError> {
    validate_selector(&request.selector).map_err(ApiError::validation)?;
    let bundle: ConfigBundle = serde_json::from_str(&request.bundle.payload)
        .map_err(|e| ApiError::validation(format!("payload is not a configuration bundle: {e}")))?;
    let signature_ok = base64::engine::general_purpose::STANDARD
        .decode(request.bundle.signature.trim())
        .is_ok_and(|b| b.len() == 64);
    if !signature_ok {
        return Err(ApiError::validation(
            "signature is not a base64 ed25519 signature",
        ));
    }
    if request.bundle.key_id.is_empty() || request.bundle.key_id.len() > 64 {
        return Err(ApiError::validation("key_id has 1 to 64 characters"));
    }
    let now = state.now();
    if bundle.expires_at <= now {
        return Err(ApiError::validation("the bundle has expired"));
    }
    let version =
        i64::try_from(bundle.version).map_err(|_| ApiError::validation("version is too large"))?;
    let store = state.store.clone();
    let published = tokio::task::spawn_blocking(move || {
        store.write(|tx| {
            let newest: Option<i64> =
                tx.query_row("SELECT MAX(version) FROM published_bundles", [], |r| {
                    r.get(0)
                })?;
            if let Some(newest) = newest
                && version <= newest
            {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    ProblemCode::ValidationFailed,
                    "Bundle version not newer",
                )
                .detail(format!(
                    "version {version} is not newer than published version {newest}"
                )));
            }
            tx.execute(
                "INSERT INTO published_bundles (version, selector, payload, signature, key_id,
                     expires_at, published_by, published_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    version,
                    request.selector,
                    request.bundle.payload,
                    request.bundle.signature.trim(),
                    request.bundle.key_id,
                    rfc3339(bundle.expires_at),
                    admin.0,
                    rfc3339(now),
                ],
            )?;
            let matched_kiosks = registered_kiosks(tx)?
                .into_iter()
                .filter(|id| selector_matches(&request.selector, id))
                .collect();
            Ok(PublishedBundle {
                version: bundle.version,
                selector: request.selector,
                key_id: request.bundle.key_id,
                expires_at: bundle.expires_at,
                published_at: now,
                published_by: admin.0,
                matched_kiosks,
            })
        })
    })
    .await
    .map_err(|_| ApiError::internal())??;
    tracing::info!(
        version = published.version,
        selector = %published.selector,
        kiosks = published.matched_kiosks.len(),
        "configuration bundle published"
    );
    Ok(json(&published))
}

/// Published bundles, newest first.
#[utoipa::path(get, path = "/v1/admin/bundles", tag = "admin",
    security(("admin_basic" = [])),
    responses(
        (status = 200, description = "Published bundles, newest first", body = [PublishedBundle]),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_bundles(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let store = state.store.clone();
    let bundles = tokio::task::spawn_blocking(move || {
        store.read(|c| {
            let kiosks = registered_kiosks(c)?;
            let mut stmt = c.prepare_cached(
                "SELECT version, selector, key_id, expires_at, published_at, published_by
                 FROM published_bundles ORDER BY version DESC",
            )?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, String>(3)?,
                        r.get::<_, String>(4)?,
                        r.get::<_, String>(5)?,
                    ))
                })?
                .collect::<Result<Vec<_>, _>>()?;
            rows.into_iter()
                .map(
                    |(version, selector, key_id, expires_at, published_at, published_by)| {
                        Ok(PublishedBundle {
                            version: u64::try_from(version).map_err(|_| ApiError::internal())?,
                            matched_kiosks: kiosks
                                .iter()
                                .filter(|id| selector_matches(&selector, id))
                                .cloned()
                                .collect(),
                            selector,
                            key_id,
                            expires_at: parse_time(&expires_at)?,
                            published_at: parse_time(&published_at)?,
                            published_by,
                        })
                    },
                )
                .collect::<Result<Vec<_>, ApiError>>()
        })
    })
    .await
    .map_err(|_| ApiError::internal())??;
    Ok(json(&bundles))
}

fn parse_time(text: &str) -> Result<OffsetDateTime, ApiError> {
    OffsetDateTime::parse(text, &Rfc3339).map_err(|_| ApiError::internal())
}

// ---------------------------------------------------------------- fleet status

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FleetQuery {
    /// Seconds without a heartbeat after which a kiosk is `silent` (default 900).
    pub stale_after_secs: Option<u64>,
}

fn kiosk_health(
    last: Option<&LastHeartbeat>,
    now: OffsetDateTime,
    stale_after_secs: u64,
) -> KioskHealth {
    let Some(last) = last else {
        return KioskHealth::Never;
    };
    let silent_for = (now - last.received_at).whole_seconds();
    if silent_for > i64::try_from(stale_after_secs).unwrap_or(i64::MAX) {
        return KioskHealth::Silent;
    }
    let worst = last
        .devices
        .iter()
        .map(|d| match d.status {
            DeviceStatus::Ok => KioskHealth::Ok,
            DeviceStatus::Warning | DeviceStatus::Absent => KioskHealth::Warning,
            DeviceStatus::Error => KioskHealth::Error,
        })
        .max()
        .unwrap_or(KioskHealth::Ok);
    if worst == KioskHealth::Ok && last.outbox_backlog >= BACKLOG_WARNING {
        KioskHealth::Warning
    } else {
        worst
    }
}

/// Every kiosk's last heartbeat and what it means.
pub fn fleet_status(
    store: &Store,
    now: OffsetDateTime,
    stale_after_secs: u64,
) -> Result<FleetStatus, ApiError> {
    let rows = store.read(|c| {
        let mut stmt = c.prepare_cached(
            "SELECT k.kiosk_id, h.sent_at, h.received_at, h.app_version, h.config_version,
                    h.outbox_backlog, h.devices_json
             FROM kiosks k
             LEFT JOIN heartbeats h
               ON h.id = (SELECT MAX(id) FROM heartbeats WHERE kiosk_id = k.kiosk_id)
             ORDER BY k.kiosk_id",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<String>>(2)?,
                    r.get::<_, Option<String>>(3)?,
                    r.get::<_, Option<i64>>(4)?,
                    r.get::<_, Option<i64>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    })?;
    let mut kiosks = Vec::with_capacity(rows.len());
    for (kiosk_id, sent_at, received_at, app_version, config_version, backlog, devices) in rows {
        let last_heartbeat = match (sent_at, received_at, app_version, backlog, devices) {
            (Some(sent_at), Some(received_at), Some(app_version), Some(backlog), Some(devices)) => {
                Some(LastHeartbeat {
                    sent_at: parse_time(&sent_at)?,
                    received_at: parse_time(&received_at)?,
                    app_version,
                    config_version: config_version.and_then(|v| u64::try_from(v).ok()),
                    outbox_backlog: u32::try_from(backlog).unwrap_or(u32::MAX),
                    devices: serde_json::from_str::<Vec<DeviceHealth>>(&devices)?,
                })
            }
            _ => None,
        };
        let assigned_config_version = config_for_kiosk(store, &kiosk_id)?.map(|(v, _)| v);
        kiosks.push(KioskStatus {
            health: kiosk_health(last_heartbeat.as_ref(), now, stale_after_secs),
            config_current: last_heartbeat.as_ref().is_some_and(|h| {
                h.config_version.is_some() && h.config_version == assigned_config_version
            }),
            assigned_config_version,
            last_heartbeat,
            kiosk_id,
        });
    }
    Ok(FleetStatus {
        generated_at: now,
        stale_after_secs,
        kiosks,
    })
}

/// The fleet: every registered kiosk with its last heartbeat.
#[utoipa::path(get, path = "/v1/admin/fleet", tag = "admin",
    security(("admin_basic" = [])),
    params(FleetQuery),
    responses(
        (status = 200, description = "Every kiosk's last heartbeat", body = FleetStatus),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn fleet(
    State(state): State<Arc<AppState>>,
    Query(query): Query<FleetQuery>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let stale = query.stale_after_secs.unwrap_or(DEFAULT_STALE_AFTER_SECS);
    let store = state.store.clone();
    let status = tokio::task::spawn_blocking(move || fleet_status(&store, now, stale))
        .await
        .map_err(|_| ApiError::internal())??;
    Ok(json(&status))
}

/// The same as a page for a browser (refreshes itself every 30 s).
pub async fn fleet_page(
    State(state): State<Arc<AppState>>,
    Query(query): Query<FleetQuery>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let stale = query.stale_after_secs.unwrap_or(DEFAULT_STALE_AFTER_SECS);
    let store = state.store.clone();
    let status = tokio::task::spawn_blocking(move || fleet_status(&store, now, stale))
        .await
        .map_err(|_| ApiError::internal())??;
    Ok(Html(render_fleet_page(&status)).into_response())
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn health_name(health: KioskHealth) -> &'static str {
    match health {
        KioskHealth::Ok => "ok",
        KioskHealth::Warning => "warning",
        KioskHealth::Error => "error",
        KioskHealth::Silent => "silent",
        KioskHealth::Never => "never",
    }
}

/// A self-contained HTML page: no scripts, no external resources.
pub fn render_fleet_page(status: &FleetStatus) -> String {
    let mut page = String::from(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"refresh\" content=\"30\"><title>estation fleet</title><style>\
body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:left;vertical-align:top}\
.ok{background:#d9f2d9}.warning{background:#fff2cc}.error{background:#f8d0d0}\
.silent,.never{background:#e0e0e0}small{color:#555}</style></head><body>\n",
    );
    let count = |h| status.kiosks.iter().filter(|k| k.health == h).count();
    let _ = write!(
        page,
        "<h1>estation fleet</h1><p>{} kiosks: {} ok, {} warning, {} error, {} silent, {} never seen. \
Generated {}; silent after {} s.</p>\n<table><tr><th>Kiosk</th><th>Health</th><th>Last heartbeat</th>\
<th>Version</th><th>Config (running / assigned)</th><th>Backlog</th><th>Devices</th></tr>\n",
        status.kiosks.len(),
        count(KioskHealth::Ok),
        count(KioskHealth::Warning),
        count(KioskHealth::Error),
        count(KioskHealth::Silent),
        count(KioskHealth::Never),
        escape(&rfc3339(status.generated_at)),
        status.stale_after_secs,
    );
    for kiosk in &status.kiosks {
        let health = health_name(kiosk.health);
        let version = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| format!("v{v}"));
        let (seen, app, running, backlog, devices) = match &kiosk.last_heartbeat {
            Some(h) => (
                escape(&rfc3339(h.received_at)),
                escape(&h.app_version),
                version(h.config_version),
                h.outbox_backlog.to_string(),
                h.devices
                    .iter()
                    .filter(|d| d.status != DeviceStatus::Ok)
                    .map(|d| {
                        format!(
                            "{}: {}",
                            escape(&d.device),
                            escape(d.detail.as_deref().unwrap_or("-"))
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("<br>"),
            ),
            None => (
                "never".into(),
                "-".into(),
                "-".into(),
                "-".into(),
                String::new(),
            ),
        };
        let _ = writeln!(
            page,
            "<tr class=\"{health}\"><td>{}</td><td>{health}</td><td>{seen}</td><td>{app}</td>\
<td>{running} / {}{}</td><td>{backlog}</td><td><small>{}</small></td></tr>",
            escape(&kiosk.kiosk_id),
            version(kiosk.assigned_config_version),
            if kiosk.config_current || kiosk.last_heartbeat.is_none() {
                ""
            } else {
                " (pending)"
            },
            if devices.is_empty() {
                "all ok".to_owned()
            } else {
                devices
            },
        );
    }
    page.push_str("</table></body></html>\n");
    page
}

/// The administration routes, behind [`require_admin`].
pub fn routes(state: Arc<AppState>) -> axum::Router<Arc<AppState>> {
    use axum::routing::get;
    axum::Router::new()
        .route("/v1/admin/bundles", get(list_bundles).post(publish_bundle))
        .route("/v1/admin/fleet", get(fleet))
        .route("/admin/fleet", get(fleet_page))
        .route_layer(axum::middleware::from_fn_with_state(state, require_admin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn heartbeat(
        received_at: OffsetDateTime,
        devices: Vec<DeviceHealth>,
        backlog: u32,
    ) -> LastHeartbeat {
        LastHeartbeat {
            sent_at: received_at,
            received_at,
            app_version: "0.1.0".into(),
            config_version: Some(3),
            outbox_backlog: backlog,
            devices,
        }
    }

    #[test]
    fn health_is_the_worst_device_unless_the_kiosk_went_silent() {
        let now = datetime!(2025-06-02 10:00 UTC);
        let device = |status| DeviceHealth {
            device: "printer".into(),
            status,
            detail: None,
        };
        assert_eq!(kiosk_health(None, now, 900), KioskHealth::Never);
        let recent = now - time::Duration::minutes(1);
        assert_eq!(
            kiosk_health(
                Some(&heartbeat(recent, vec![device(DeviceStatus::Ok)], 0)),
                now,
                900
            ),
            KioskHealth::Ok
        );
        assert_eq!(
            kiosk_health(
                Some(&heartbeat(recent, vec![device(DeviceStatus::Ok)], 80)),
                now,
                900
            ),
            KioskHealth::Warning
        );
        assert_eq!(
            kiosk_health(
                Some(&heartbeat(
                    recent,
                    vec![device(DeviceStatus::Warning), device(DeviceStatus::Error)],
                    0
                )),
                now,
                900
            ),
            KioskHealth::Error
        );
        let old = now - time::Duration::hours(1);
        assert_eq!(
            kiosk_health(
                Some(&heartbeat(old, vec![device(DeviceStatus::Ok)], 0)),
                now,
                900
            ),
            KioskHealth::Silent
        );
    }

    #[test]
    fn the_page_escapes_what_kiosks_report() {
        let status = FleetStatus {
            generated_at: datetime!(2025-06-02 10:00 UTC),
            stale_after_secs: 900,
            kiosks: vec![KioskStatus {
                kiosk_id: "k<1>".into(),
                health: KioskHealth::Error,
                assigned_config_version: Some(4),
                config_current: false,
                last_heartbeat: Some(heartbeat(
                    datetime!(2025-06-02 09:59 UTC),
                    vec![DeviceHealth {
                        device: "printer".into(),
                        status: DeviceStatus::Error,
                        detail: Some("<script>".into()),
                    }],
                    0,
                )),
            }],
        };
        let page = render_fleet_page(&status);
        assert!(page.contains("k&lt;1&gt;"));
        assert!(page.contains("printer: &lt;script&gt;"));
        assert!(!page.contains("<script>"));
        assert!(page.contains("v3 / v4 (pending)"));
        assert!(page.contains("class=\"error\""));
    }
}
