//! Errors of the central-service client, and the resident-facing message each maps to.

use estation_central::wire::{Problem, ProblemCode};

#[derive(Debug, thiserror::Error)]
pub enum CentralError {
    /// No connection could be made, or it broke before an answer came.
    #[error("the central service cannot be reached: {0}")]
    Unreachable(String),
    #[error("the central service did not answer in time")]
    Timeout,
    /// The service answered with a problem document (4xx): the request itself
    /// was refused, retrying it unchanged will not help.
    #[error("the central service refused the request: {0}")]
    Rejected(Problem),
    /// The service failed (5xx); the request may be retried.
    #[error("the central service failed with HTTP {status}")]
    ServerFailed {
        status: u16,
        problem: Option<Problem>,
    },
    /// A status the contract does not allow at this point.
    #[error("unexpected HTTP status {0} from the central service")]
    UnexpectedStatus(u16),
    /// The body is not what the contract says.
    #[error("malformed reply from the central service: {0}")]
    Malformed(String),
    #[error("reply from the central service is larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("invalid central service client configuration: {0}")]
    Config(String),
}

impl CentralError {
    /// The Fluent message id of the text the resident sees.
    pub fn message_key(&self) -> &'static str {
        match self {
            CentralError::Unreachable(_) | CentralError::Timeout => "central-error-unreachable",
            CentralError::Rejected(problem) => match problem.code {
                ProblemCode::ResidentNotFound => "central-error-resident-not-found",
                ProblemCode::IdentityMismatch => "central-error-identity-mismatch",
                ProblemCode::ServiceClosed => "central-error-service-closed",
                ProblemCode::ApplicationNotFound => "central-error-application-not-found",
                ProblemCode::OriginCertificateNotFound => "central-error-origin-not-found",
                ProblemCode::OriginCertificateNotApproved => "central-error-origin-not-approved",
                ProblemCode::CertificateNotFound => "central-error-certificate-not-found",
                ProblemCode::ValidationFailed => "central-error-invalid-input",
                ProblemCode::Unauthorized => "central-error-kiosk-not-authorized",
                ProblemCode::IdentityCodeMalformed => "code-error-malformed",
                ProblemCode::IdentityCodeUnknown => "code-error-unknown",
                ProblemCode::IdentityCodeUsed => "code-error-used",
                ProblemCode::IdentityCodeExpired => "code-error-expired",
                _ => "central-error-failed",
            },
            CentralError::ServerFailed { .. }
            | CentralError::UnexpectedStatus(_)
            | CentralError::Malformed(_)
            | CentralError::TooLarge { .. }
            | CentralError::Config(_) => "central-error-failed",
        }
    }

    /// The stable problem code, when the service sent one.
    pub fn problem_code(&self) -> Option<ProblemCode> {
        match self {
            CentralError::Rejected(p) => Some(p.code),
            CentralError::ServerFailed { problem, .. } => problem.as_ref().map(|p| p.code),
            _ => None,
        }
    }

    /// True when the failure says nothing about the request itself (network,
    /// overload, a garbled reply), so sending it again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            CentralError::Unreachable(_)
            | CentralError::Timeout
            | CentralError::ServerFailed { .. }
            | CentralError::UnexpectedStatus(_)
            | CentralError::Malformed(_)
            | CentralError::TooLarge { .. } => true,
            CentralError::Rejected(p) => matches!(
                p.code,
                // Closed now, open later; a kiosk whose token is being rotated
                // must keep residents' requests rather than drop them.
                ProblemCode::ServiceClosed
                    | ProblemCode::Unauthorized
                    | ProblemCode::Internal
                    | ProblemCode::Unknown
            ),
            CentralError::Config(_) => false,
        }
    }

    /// True when the central service could not be reached at all; live services
    /// show as temporarily unavailable.
    pub fn is_offline(&self) -> bool {
        matches!(self, CentralError::Unreachable(_) | CentralError::Timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_keys_follow_problem_codes() {
        let rejected = |code| CentralError::Rejected(Problem::new(409, code, "x"));
        assert_eq!(
            rejected(ProblemCode::ServiceClosed).message_key(),
            "central-error-service-closed"
        );
        assert_eq!(
            rejected(ProblemCode::IdentityMismatch).message_key(),
            "central-error-identity-mismatch"
        );
        assert_eq!(
            rejected(ProblemCode::Unknown).message_key(),
            "central-error-failed"
        );
        assert_eq!(
            CentralError::Timeout.message_key(),
            "central-error-unreachable"
        );
        assert!(rejected(ProblemCode::ServiceClosed).is_transient());
        assert!(!rejected(ProblemCode::ValidationFailed).is_transient());
        assert!(CentralError::Malformed("x".into()).is_transient());
    }
}
