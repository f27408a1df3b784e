//! The HTTP API as one router, and serving it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use tokio::net::TcpListener;

use super::auth::require_kiosk;
use super::http::{not_found, problem_answers};
use super::rate_limit::too_many_requests;
use super::state::AppState;
use super::{admin, api, enroll, identity_code, phone, resident};

/// The HTTP API, ready to serve.
pub fn router(state: Arc<AppState>, max_body_bytes: usize) -> Router {
    let kiosk_only = Router::new()
        .route("/v1/catalogue", get(api::catalogue))
        .route("/v1/identity/lookup", post(api::identity_lookup))
        .route("/v1/identity/code", post(identity_code::identify_by_code))
        .route("/v1/certificates", post(api::issue_certificate))
        .route(
            "/v1/certificates/{certificate_id}/phone-link",
            post(phone::create_phone_link),
        )
        .route(
            "/v1/applications/lookup",
            post(resident::applications_by_card),
        )
        .route(
            "/v1/origin-certificates/{application_number}/form",
            get(resident::origin_certificate_form),
        )
        .route(
            "/v1/services/{service_id}/form",
            get(resident::submission_form),
        )
        .route(
            "/v1/origin-certificates/{application_number}",
            get(api::origin_certificate),
        )
        .route(
            "/v1/origin-certificates/{application_number}/document",
            get(api::origin_certificate_document),
        )
        .route(
            "/v1/applications/{application_number}/progress",
            get(api::application_progress),
        )
        .route("/v1/submissions", post(api::submit))
        .route("/v1/ratings", post(api::rate))
        .route("/v1/heartbeats", post(api::heartbeat))
        .route("/v1/config", get(api::config))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_kiosk));
    let mut public = Router::new()
        .route("/v1/verify/{code}", get(api::verify_certificate))
        .route("/v1/keys", get(api::public_keys))
        .route("/v1/enroll", post(enroll::enroll))
        .route("/m/{token}", get(phone::phone_page));
    if state.identity_code_page {
        public = public.route(
            "/m/id",
            get(identity_code::show_code_form).post(identity_code::show_code),
        );
    }
    let public = public.route_layer(middleware::from_fn_with_state(state.clone(), limit_public));
    kiosk_only
        .merge(public)
        .merge(admin::routes(state.clone()))
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn(problem_answers))
        .with_state(state)
}

/// Serves until `shutdown` resolves, then finishes the requests under way.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    max_body_bytes: usize,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    state
        .public_base_url
        .get_or_init(|| format!("http://{addr}"));
    axum::serve(
        listener,
        router(state, max_body_bytes).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Middleware of the public routes.
pub async fn limit_public(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let address = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    match state.public_limiter.check(&address) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            tracing::warn!(%address, "public route rate limit reached");
            too_many_requests(wait)
        }
    }
}
