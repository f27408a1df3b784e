//! Per-address rate limiting of the public routes (verification, keys, phone
//! pages): anyone can call them, so nobody may call them fast enough to walk
//! through codes or tokens. GCRA buckets from `governor`, keyed by the client's
//! IP address as the TCP connection shows it (behind a reverse proxy, limit
//! there as well: every client then has the proxy's address here).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter as Governor};

use super::error::ApiError;
use crate::wire::ProblemCode;

/// Requests one client address may make to the public routes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicRateLimit {
    /// Sustained rate.
    pub per_minute: u32,
    /// Requests allowed at once before the rate applies.
    pub burst: u32,
}

impl Default for PublicRateLimit {
    fn default() -> Self {
        // A person checking papers by hand, or a phone reloading a page, stays far
        // below this; walking through 60-bit codes at this rate is hopeless.
        PublicRateLimit {
            per_minute: 60,
            burst: 20,
        }
    }
}

/// Identity codes one kiosk may have checked: a resident scans once per visit,
/// a few times when the phone shows an old code; a kiosk far above this is
/// broken or abused, and the fleet page shows its 429s.
pub const IDENTITY_CODE_RATE_LIMIT: PublicRateLimit = PublicRateLimit {
    per_minute: 30,
    burst: 10,
};

/// GCRA buckets per key: a client address on the public routes, a kiosk id on
/// the identity-code route.
pub struct RateLimiter<K: std::hash::Hash + Eq + Clone = IpAddr> {
    governor: Governor<K, DefaultKeyedStateStore<K>, DefaultClock>,
    checks: AtomicU64,
}

impl<K: std::hash::Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(limit: PublicRateLimit) -> RateLimiter<K> {
        let per_minute = NonZeroU32::new(limit.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
        RateLimiter {
            governor: Governor::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            checks: AtomicU64::new(0),
        }
    }

    /// `Ok` when `key` may go on; else the seconds to wait.
    pub fn check(&self, key: &K) -> Result<(), u64> {
        // Forget idle addresses now and then, so the table stays small.
        if self.checks.fetch_add(1, Ordering::Relaxed) % 4096 == 4095 {
            self.governor.retain_recent();
        }
        self.governor.check_key(key).map_err(|not_until| {
            not_until
                .wait_time_from(DefaultClock::default().now())
                .as_secs()
                .max(1)
        })
    }
}

pub fn too_many_requests(retry_after_secs: u64) -> Response {
    let mut response = ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        ProblemCode::TooManyRequests,
        "Too many requests from this address",
    )
    .detail(format!("try again in {retry_after_secs} s"))
    .into_response();
    if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
