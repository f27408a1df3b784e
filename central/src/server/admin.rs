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
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use serde::Deserialize;
use time::OffsetDateTime;

use super::auth::{AuthenticatedAdmin, require_admin};
use super::error::ApiError;
use super::http::{ApiJson, ApiQuery, escape, json};
use super::state::AppState;
use super::store::{PublishRefused, PublishedBundleRecord, rfc3339};
use crate::wire::{
    ConfigBundle, DeviceStatus, FleetStatus, KioskHealth, KioskStatus, LastHeartbeat, Problem,
    ProblemCode, PublishBundleRequest, PublishedBundle, selector_matches, validate_selector,
};

/// A kiosk silent for longer than this shows as `silent` unless the query says otherwise.
/// Two heartbeat intervals of `estation run` (300 s each).
pub const DEFAULT_STALE_AFTER_SECS: u64 = 10 * 60;
/// Backlog from which a kiosk shows a warning.
const BACKLOG_WARNING: u32 = 50;

/// Publishes a signed bundle to the kiosks the selector names. Versions are
/// global: each published bundle must be newer than every one before it.
#[utoipa::path(post, path = "/v1/admin/bundles", tag = "admin",
    security(("admin_basic" = [])),
    request_body = PublishBundleRequest,
    responses(
        (status = 200, description = "Published", body = PublishedBundle),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "payload-too-large", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
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
    // A selector that matches nobody is most likely a typo, and publishing would
    // use up the version number for nothing.
    let matched_kiosks: Vec<String> = state
        .store
        .kiosk_ids()
        .await?
        .into_iter()
        .filter(|id| selector_matches(&request.selector, id))
        .collect();
    if matched_kiosks.is_empty() && !request.allow_no_kiosk {
        return Err(ApiError::validation(format!(
            "the selector {:?} matches no registered kiosk; check it, or set allow_no_kiosk to publish for kiosks enrolled later",
            request.selector
        )));
    }
    let record = PublishedBundleRecord {
        version,
        selector: request.selector.clone(),
        payload: request.bundle.payload,
        signature: request.bundle.signature.trim().to_owned(),
        key_id: request.bundle.key_id.clone(),
        expires_at: bundle.expires_at,
        published_by: admin.0.clone(),
        published_at: now,
    };
    if let Err(PublishRefused::NotNewer { newest }) = state.store.publish_bundle(&record).await? {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ProblemCode::ValidationFailed,
            "Bundle version not newer",
        )
        .detail(format!(
            "version {version} is not newer than published version {newest}"
        )));
    }
    let published = PublishedBundle {
        version: bundle.version,
        selector: request.selector,
        key_id: request.bundle.key_id,
        expires_at: bundle.expires_at,
        published_at: now,
        published_by: admin.0,
        matched_kiosks,
    };
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
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn list_bundles(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let kiosks = state.store.kiosk_ids().await?;
    let bundles = state
        .store
        .published_bundles()
        .await?
        .into_iter()
        .map(|b| {
            Ok(PublishedBundle {
                version: u64::try_from(b.version).map_err(|_| ApiError::internal())?,
                matched_kiosks: kiosks
                    .iter()
                    .filter(|id| selector_matches(&b.selector, id))
                    .cloned()
                    .collect(),
                selector: b.selector,
                key_id: b.key_id,
                expires_at: b.expires_at,
                published_at: b.published_at,
                published_by: b.published_by,
            })
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(json(&bundles))
}

// ---------------------------------------------------------------- fleet status

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FleetQuery {
    /// Seconds without a heartbeat after which a kiosk is `silent` (default 600: two heartbeat intervals).
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
pub async fn fleet_status(
    state: &AppState,
    now: OffsetDateTime,
    stale_after_secs: u64,
) -> Result<FleetStatus, ApiError> {
    let rows = state.store.fleet().await?;
    let bundles = state.config_snapshot().await?;
    let kiosks = rows
        .into_iter()
        .map(|(kiosk_id, last_heartbeat)| {
            let assigned_config_version = bundles.for_kiosk(&kiosk_id).map(|(v, _)| v);
            KioskStatus {
                health: kiosk_health(last_heartbeat.as_ref(), now, stale_after_secs),
                config_current: last_heartbeat.as_ref().is_some_and(|h| {
                    h.config_version.is_some() && h.config_version == assigned_config_version
                }),
                assigned_config_version,
                last_heartbeat,
                kiosk_id,
            }
        })
        .collect();
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
        (status = 400, description = "validation-failed: the query does not parse", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "unauthorized", body = Problem, content_type = "application/problem+json"),
        (status = 500, description = "internal", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn fleet(
    State(state): State<Arc<AppState>>,
    ApiQuery(query): ApiQuery<FleetQuery>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let stale = query.stale_after_secs.unwrap_or(DEFAULT_STALE_AFTER_SECS);
    let status = fleet_status(&state, now, stale).await?;
    Ok(json(&status))
}

/// The same as a page for a browser (refreshes itself every 30 s).
pub async fn fleet_page(
    State(state): State<Arc<AppState>>,
    ApiQuery(query): ApiQuery<FleetQuery>,
) -> Result<Response, ApiError> {
    let now = state.now();
    let stale = query.stale_after_secs.unwrap_or(DEFAULT_STALE_AFTER_SECS);
    let status = fleet_status(&state, now, stale).await?;
    Ok(Html(render_fleet_page(&status)).into_response())
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
        "<h1>estation fleet</h1><p>{}: {} ok, {} warning, {} error, {} silent, {} never seen. \
Generated {}; silent after {} s.</p>\n<table><tr><th>Kiosk</th><th>Health</th><th>Last heartbeat</th>\
<th>Version</th><th>Config (running / assigned)</th><th>Backlog</th><th>Devices</th></tr>\n",
        match status.kiosks.len() {
            1 => "1 kiosk".to_owned(),
            n => format!("{n} kiosks"),
        },
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
    page.push_str("</table>\n");
    page.push_str(super::enroll::enrollment_form());
    page.push_str("</body></html>\n");
    page
}

/// The administration routes, behind [`require_admin`].
pub fn routes(state: Arc<AppState>) -> axum::Router<Arc<AppState>> {
    use axum::routing::get;
    axum::Router::new()
        .route("/v1/admin/bundles", get(list_bundles).post(publish_bundle))
        .route("/v1/admin/fleet", get(fleet))
        .route("/admin/fleet", get(fleet_page))
        .route(
            "/v1/admin/enrollment-codes",
            axum::routing::post(super::enroll::create_enrollment_code),
        )
        .route(
            "/admin/enrollment-codes",
            axum::routing::post(super::enroll::enrollment_code_page),
        )
        .route_layer(axum::middleware::from_fn_with_state(state, require_admin))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::DeviceHealth;
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
