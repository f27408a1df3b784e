//! The outbox tests' common pieces: a sender that retries at once, and a
//! bounded wait for a status.

use std::time::Duration;

use estation::central_client::RetryPolicy;
use estation::central_client::outbox::{OutboxStatus, SenderPolicy};
use tokio::sync::watch;

/// A sender that never gives up and retries within milliseconds, so tests
/// wait on the outbox's state rather than on back-off.
pub fn quick() -> SenderPolicy {
    SenderPolicy {
        backoff: RetryPolicy {
            max_attempts: u32::MAX,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(50),
        },
    }
}

/// Waits (bounded, as a safety net only) until the status satisfies `ready`.
pub async fn until(
    status: &mut watch::Receiver<OutboxStatus>,
    ready: impl FnMut(&OutboxStatus) -> bool,
) -> OutboxStatus {
    *tokio::time::timeout(Duration::from_secs(60), status.wait_for(ready))
        .await
        .expect("the outbox never reached the expected state")
        .unwrap()
}
