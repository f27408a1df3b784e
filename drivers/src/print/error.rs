//! Why printing failed, for technicians (`Display`) and residents ([`PrintError::message_key`]).

/// Everything that can go wrong between a [`Document`](super::Document) and paper.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("invalid document: {0}")]
    InvalidDocument(String),
    #[error("invalid printer URI {uri:?}: {reason}")]
    InvalidUri { uri: String, reason: String },
    #[error("no usable CJK font: {0}")]
    NoFont(String),
    #[error(
        "unsupported paper width {0} dots (use 384, 576 or 1728, or any multiple of 8 from 128 to 2048)"
    )]
    UnsupportedWidth(u32),
    #[error("image could not be decoded: {0}")]
    Image(String),
    #[error("QR code could not be encoded: {0}")]
    Qr(String),
    #[error("text cannot be encoded for the printer: {0}")]
    Encoding(String),

    #[error("printer is offline or unreachable: {0}")]
    Offline(String),
    #[error("printer did not answer the status request: {0}")]
    StatusUnavailable(String),
    #[error("printer cover is open")]
    CoverOpen,
    #[error("printer is out of paper")]
    PaperOut,
    #[error("printer ran out of paper during the job after {bands_sent} of {bands_total} bands")]
    PaperOutDuringJob {
        bands_sent: usize,
        bands_total: usize,
    },
    #[error("printer cutter error")]
    CutterError,
    #[error("printer reports an unrecoverable error")]
    PrinterError,
    #[error(
        "connection to the printer was lost during the job after {bands_sent} of {bands_total} bands: {reason}"
    )]
    ConnectionLost {
        bands_sent: usize,
        bands_total: usize,
        reason: String,
    },
    #[error("printer I/O timed out: {0}")]
    Timeout(String),
    #[error("printer I/O error: {0}")]
    Io(String),

    #[error(
        "print job {0} was interrupted earlier (crash or power loss); it may have printed, so it is not reprinted automatically"
    )]
    Interrupted(String),
    #[error(
        "print job {job_id}: every byte was sent, then the printer stopped answering ({reason}); it may have printed, so it is not reprinted automatically"
    )]
    OutcomeUnknown { job_id: String, reason: String },
    #[error("print journal error: {0}")]
    Journal(String),
}

impl PrintError {
    /// The Fluent message id of the resident-facing explanation.
    pub fn message_key(&self) -> &'static str {
        match self {
            PrintError::PaperOut | PrintError::PaperOutDuringJob { .. } => "print-error-paper-out",
            PrintError::CoverOpen => "print-error-cover-open",
            PrintError::Offline(_)
            | PrintError::StatusUnavailable(_)
            | PrintError::Timeout(_)
            | PrintError::Io(_)
            | PrintError::InvalidUri { .. } => "print-error-offline",
            PrintError::CutterError | PrintError::PrinterError => "print-error-jammed",
            PrintError::ConnectionLost { .. } => "print-error-interrupted",
            PrintError::Interrupted(_) => "print-error-needs-staff",
            PrintError::OutcomeUnknown { .. } => "print-error-outcome-unknown",
            PrintError::InvalidDocument(_)
            | PrintError::NoFont(_)
            | PrintError::UnsupportedWidth(_)
            | PrintError::Image(_)
            | PrintError::Qr(_)
            | PrintError::Encoding(_)
            | PrintError::Journal(_) => "print-error-failed",
        }
    }

    /// True when the printer hardware needs a person (paper, cover, cutter).
    pub fn needs_attendant(&self) -> bool {
        matches!(
            self,
            PrintError::PaperOut
                | PrintError::PaperOutDuringJob { .. }
                | PrintError::CoverOpen
                | PrintError::CutterError
                | PrintError::PrinterError
                | PrintError::Interrupted(_)
                | PrintError::OutcomeUnknown { .. }
        )
    }
}

impl From<rusqlite::Error> for PrintError {
    fn from(error: rusqlite::Error) -> Self {
        PrintError::Journal(error.to_string())
    }
}
