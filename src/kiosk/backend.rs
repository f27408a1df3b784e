//! The kiosk's hands: the central-service client, the card reader, the printer and
//! the outbox, behind one object whose methods the controller calls off the UI
//! thread. Every failure comes back as a [`Fault`] with a translated message key.

use std::sync::Arc;
use std::time::Duration;

use estation_central::wire;
use estation_drivers::card::{Identity, IdentitySource, Pin, ProfileId};
use estation_drivers::print::{self, Document, PrintError};
use estation_drivers::scanner::ScannedCode;
use zeroize::Zeroize;

use crate::central_client::outbox::{EntryOutcome, Outbox, SenderHandle};
use crate::central_client::{CentralClient, CentralError};
use crate::i18n::Locale;
use crate::kiosk::documents::ReadyDocument;
use crate::session::{AddressChangeForm, ApplicationEntry, DocKind, DocumentSummary, Fault, Score};

/// How long a submission waits for the outbox to deliver it before the resident is
/// told it will be sent later. The submission is durable before this wait starts.
const SUBMISSION_DELIVERY_WAIT: Duration = Duration::from_secs(5);

/// Delivery attempts that may fail, while a submission waits, before the resident
/// is told at once that it will be sent later: each attempt already retried, so
/// the central service is not reachable now and waiting longer helps nobody.
const FAILED_ATTEMPTS_BEFORE_QUEUED: u32 = 2;

/// Waits, driven by the outbox's status changes, until the entry under `key` is
/// delivered or refused. It is queued when still pending after `limit`, or as
/// soon as the outbox has failed [`FAILED_ATTEMPTS_BEFORE_QUEUED`] more attempts
/// in a row.
async fn await_outcome(outbox: &Outbox, key: &str, limit: Duration) -> SubmissionOutcome {
    let mut status = outbox.status();
    let failures_before = status.borrow_and_update().consecutive_failures;
    let settled = |outbox: &Outbox| match outbox.outcome(key) {
        Ok(EntryOutcome::Delivered { receipt }) => Some(match receipt {
            Some(receipt_number) => SubmissionOutcome::Accepted { receipt_number },
            // An acknowledgment always carries the number; without one the
            // resident cannot follow the application, so say it is not known.
            None => SubmissionOutcome::Queued,
        }),
        Ok(EntryOutcome::Rejected(refusal)) => Some(SubmissionOutcome::Refused {
            message_key: refusal.message_key,
        }),
        Ok(EntryOutcome::Pending | EntryOutcome::Unknown) | Err(_) => None,
    };
    let wait = async {
        loop {
            if let Some(outcome) = settled(outbox) {
                return outcome;
            }
            let failures = status.borrow_and_update().consecutive_failures;
            if failures >= failures_before.saturating_add(FAILED_ATTEMPTS_BEFORE_QUEUED) {
                return SubmissionOutcome::Queued;
            }
            if status.changed().await.is_err() {
                return SubmissionOutcome::Queued;
            }
        }
    };
    tokio::time::timeout(limit, wait)
        .await
        .unwrap_or(SubmissionOutcome::Queued)
}

/// Prints documents; implemented by the kiosk's configured printer.
pub trait PrintPort: Send + Sync {
    /// Prints `document` at most once per `job_id`, reporting progress in percent.
    fn print(
        &self,
        job_id: &str,
        kind: &str,
        document: &Document,
        progress: &mut dyn FnMut(u8),
    ) -> Result<(), PrintError>;

    /// The printer's dot width.
    fn width_dots(&self) -> u32;
}

pub struct Backend {
    pub central: CentralClient,
    pub cards: Arc<dyn IdentitySource>,
    pub printer: Arc<dyn PrintPort>,
    pub outbox: Arc<Outbox>,
    /// Keeps the outbox's background sender running for as long as the kiosk runs.
    pub outbox_sender: Option<SenderHandle>,
    /// Technician tools; `None` disables maintenance mode.
    pub maintenance: Option<Arc<crate::ops::maintenance_port::MaintenancePort>>,
}

/// A submission as the outbox took it, and what the central service said of it
/// while the resident waited.
#[derive(Debug)]
pub struct Submitted {
    /// The kiosk's own reference, derived from the idempotency key, so it exists
    /// even when the network does not.
    pub reference: String,
    pub outcome: SubmissionOutcome,
    pub received_at: time::OffsetDateTime,
}

/// What the resident is told about a submission: only what is true.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmissionOutcome {
    /// The central service accepted it under this receipt number (also the
    /// application number for the progress inquiry).
    Accepted { receipt_number: String },
    /// Stored at the kiosk; it goes out when the network is back.
    Queued,
    /// The central service refused it; `message_key` says why and what to do.
    Refused { message_key: String },
}

impl Backend {
    pub async fn catalogue(&self) -> Result<wire::Catalogue, Fault> {
        self.central
            .catalogue()
            .await
            .map_err(|e| central_fault(&e))
    }

    /// Blocking: card I/O.
    pub fn read_identity(&self, reader: &str, pin: Option<&Pin>) -> Result<Identity, Fault> {
        self.cards
            .read_identity(reader, pin)
            .map_err(|e| Fault::from(&e))
    }

    /// The resident whose phone code was scanned, as the central service
    /// vouches for them. The code is spent there and dropped (zeroized) here.
    pub async fn identify_by_code(&self, code: ScannedCode) -> Result<Identity, Fault> {
        let mut request = wire::IdentityCodeRequest {
            code: code.as_str().to_owned(),
        };
        drop(code);
        let result = self.central.identify_by_code(&request).await;
        request.code.zeroize();
        let resident = result.map_err(|e| central_fault(&e))?;
        Ok(Identity {
            profile: ProfileId::PhoneCode,
            card_number: resident.card_number,
            id_number: resident.id_number,
            name: resident.name,
            gender: match resident.gender {
                wire::Gender::Male => "M",
                wire::Gender::Female => "F",
            }
            .to_owned(),
            birth_date: resident.birth_date,
        })
    }

    pub async fn issue_certificate(
        &self,
        service_id: &str,
        identity: &Identity,
        period: Option<wire::Period>,
        locale: Locale,
    ) -> Result<ReadyDocument, Fault> {
        let mut request = wire::IssueCertificateRequest {
            service_id: service_id.to_owned(),
            card_number: identity.card_number.clone(),
            id_number: identity.id_number.clone(),
            name: identity.name.clone(),
            locale: wire::Locale::from_tag(locale.tag()),
            period,
        };
        let result = self.central.issue_certificate(&request).await;
        zeroize::Zeroize::zeroize(&mut request.id_number);
        zeroize::Zeroize::zeroize(&mut request.name);
        zeroize::Zeroize::zeroize(&mut request.card_number);
        let mut certificate = result.map_err(|e| central_fault(&e))?;
        let document = certificate_document(&certificate.document);
        let summary = DocumentSummary {
            document_id: certificate.certificate_id.clone(),
            print_job_id: new_print_job_id("certificate"),
            kind: DocKind::Certificate,
            verification_code: certificate.verification_code.clone(),
            min_width_dots: print::WIDTH_58MM,
            submission: None,
        };
        scrub_certificate(&mut certificate);
        self.ready(summary, document, locale).await
    }

    pub async fn origin_form(
        &self,
        application_number: &str,
        exporter_code: &str,
    ) -> Result<ReadyDocument, Fault> {
        let form = self
            .central
            .origin_certificate_form(application_number, exporter_code)
            .await
            .map_err(|e| central_fault(&e))?;
        let content = crate::central_client::origin_form_content(&form);
        let summary = DocumentSummary {
            document_id: format!("origin-{application_number}"),
            print_job_id: new_print_job_id("origin-form"),
            kind: DocKind::OriginForm,
            verification_code: content.certificate_no.text.clone(),
            min_width_dots: print::WIDTH_A4,
            submission: None,
        };
        let document = print::layouts::origin_form(&content);
        self.ready_at(summary, document, print::WIDTH_A4).await
    }

    pub async fn progress_by_number(
        &self,
        application_number: &str,
        locale: Locale,
    ) -> Result<ReadyDocument, Fault> {
        let progress = self
            .central
            .application_progress_in(application_number, wire::Locale::from_tag(locale.tag()))
            .await
            .map_err(|e| central_fault(&e))?;
        let summary = DocumentSummary {
            document_id: format!("progress-{application_number}"),
            print_job_id: new_print_job_id("progress"),
            kind: DocKind::Progress,
            verification_code: progress.application_number.clone(),
            min_width_dots: print::WIDTH_58MM,
            submission: None,
        };
        let document = certificate_document(&progress.document);
        self.ready(summary, document, locale).await
    }

    pub async fn progress_by_card(
        &self,
        identity: &Identity,
        locale: Locale,
    ) -> Result<Vec<ApplicationEntry>, Fault> {
        let mut request = wire::ApplicationsLookupRequest {
            card_number: identity.card_number.clone(),
            id_number: identity.id_number.clone(),
            locale: wire::Locale::from_tag(locale.tag()),
        };
        let result = self.central.applications_by_card(&request).await;
        zeroize::Zeroize::zeroize(&mut request.id_number);
        zeroize::Zeroize::zeroize(&mut request.card_number);
        let found = result.map_err(|e| central_fault(&e))?;
        Ok(found
            .applications
            .into_iter()
            .map(|a| ApplicationEntry {
                application_number: a.application_number,
            })
            .collect())
    }

    /// Durable first (the outbox), then a short wait for delivery. `received_at`
    /// is the kiosk's wall-clock time, printed on the receipt.
    pub async fn submit(
        &self,
        service_id: &str,
        identity: &Identity,
        form: &AddressChangeForm,
        locale: Locale,
        received_at: time::OffsetDateTime,
    ) -> Result<Submitted, Fault> {
        let new_address = form
            .new_address()
            .ok_or_else(|| Fault::new("error-generic", "the form is incomplete"))?;
        let mut fields = std::collections::BTreeMap::new();
        fields.insert("new_address".to_owned(), new_address);
        fields.insert("phone".to_owned(), form.phone.clone());
        let request = wire::SubmissionRequest {
            service_id: service_id.to_owned(),
            card_number: identity.card_number.clone(),
            id_number: identity.id_number.clone(),
            name: identity.name.clone(),
            fields,
        };
        let _ = locale;
        let outbox = self.outbox.clone();
        let key = tokio::task::spawn_blocking(move || outbox.enqueue_submission(&request))
            .await
            .map_err(|e| Fault::new("outbox-error-failed", format!("outbox task: {e}")))?
            .map_err(|e| Fault::new("outbox-error-failed", e.to_string()))?;
        self.outbox.nudge();
        let outcome = await_outcome(&self.outbox, &key, SUBMISSION_DELIVERY_WAIT).await;
        Ok(Submitted {
            reference: reference_from_key(&key),
            outcome,
            received_at,
        })
    }

    pub async fn phone_link(&self, certificate_id: &str) -> Result<String, Fault> {
        self.central
            .phone_link(certificate_id)
            .await
            .map(|link| link.url)
            .map_err(|e| central_fault(&e))
    }

    /// The configuration bundle in force, if any.
    pub fn bundle(&self) -> Option<Arc<crate::ops::bundle::ConfigBundle>> {
        self.maintenance
            .as_ref()
            .and_then(|m| m.selftest.bundle.as_ref())
            .and_then(|store| store.current())
    }

    /// Lays out and renders a document for the preview, at the printer's width,
    /// with the station's branding from the bundle in force (its name, footer and
    /// help line) under it: the preview is the paper.
    pub async fn ready(
        &self,
        summary: DocumentSummary,
        mut document: Document,
        locale: Locale,
    ) -> Result<ReadyDocument, Fault> {
        if let Some(bundle) = self.bundle() {
            crate::kiosk::documents::add_branding(&mut document, &bundle, locale);
        }
        let width = self.printer.width_dots().max(summary.min_width_dots);
        self.ready_at(summary, document, width).await
    }

    async fn ready_at(
        &self,
        summary: DocumentSummary,
        document: Document,
        width: u32,
    ) -> Result<ReadyDocument, Fault> {
        let (document, preview) = tokio::task::spawn_blocking(move || {
            let preview = render_preview(&document, width);
            (document, preview)
        })
        .await
        .map_err(|e| Fault::new("print-error-failed", format!("preview task failed: {e}")))?;
        Ok(ReadyDocument {
            summary,
            document,
            preview: Arc::new(preview?),
        })
    }

    /// Blocking: printer I/O.
    pub fn print(
        &self,
        job_id: &str,
        kind: DocKind,
        document: &Document,
        progress: &mut dyn FnMut(u8),
    ) -> Result<(), Fault> {
        let kind = match kind {
            DocKind::Certificate => "certificate",
            DocKind::OriginForm => "origin-form",
            DocKind::Progress => "progress",
            DocKind::Receipt => "receipt",
        };
        self.printer
            .print(job_id, kind, document, progress)
            .map_err(|e| print_fault(&e))
    }

    /// Blocking: a durable SQLite write. Returns once the rating cannot be lost.
    pub fn submit_rating(
        &self,
        service_id: &str,
        certificate_id: Option<&str>,
        score: Score,
        reasons: Vec<String>,
    ) -> Result<(), Fault> {
        let request = wire::RatingRequest {
            service_id: service_id.to_owned(),
            certificate_id: certificate_id.map(str::to_owned),
            score: match score {
                Score::Good => wire::Score::Good,
                Score::Average => wire::Score::Average,
                Score::Bad => wire::Score::Bad,
            },
            reasons,
        };
        self.outbox
            .enqueue_rating(&request)
            .map_err(|e| Fault::new("outbox-error-failed", e.to_string()))
    }
}

/// Overwrites the personal data a certificate carries before it is dropped.
pub fn scrub_certificate(certificate: &mut wire::IssuedCertificate) {
    let document = &mut certificate.document;
    document.title.zeroize();
    if let Some(subtitle) = document.subtitle.as_mut() {
        subtitle.zeroize();
    }
    for field in &mut document.fields {
        field.label.zeroize();
        field.value.zeroize();
    }
    if let Some(table) = document.table.as_mut() {
        for row in &mut table.rows {
            for cell in row {
                cell.zeroize();
            }
        }
    }
    for note in &mut document.notes {
        note.zeroize();
    }
    document.qr_payload.zeroize();
    certificate.qr_payload.zeroize();
    certificate.signature.zeroize();
}

/// A print job id for one request to print: never reused, so the journal's "at
/// most once" applies to this request and a later request prints again.
pub fn new_print_job_id(kind: &str) -> String {
    format!("{kind}-{}", uuid::Uuid::new_v4().simple())
}

/// A reference a person can read out: the first 12 characters of the idempotency
/// key, upper case, in groups of four (`3F2A-91C0-7B44`).
pub fn reference_from_key(key: &str) -> String {
    let chars: Vec<char> = key
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(12)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// The printing driver's document for a document from the central service.
pub fn certificate_document(document: &wire::PrintableDocument) -> Document {
    let content = print::layouts::CertificateContent {
        title: document.title.clone(),
        subtitle: document.subtitle.clone(),
        issuer: document.issuer.clone(),
        fields: document
            .fields
            .iter()
            .map(|f| (f.label.clone(), f.value.clone()))
            .collect(),
        table: document
            .table
            .as_ref()
            .map(|t| print::layouts::TableContent {
                caption: t.caption.clone(),
                headers: t.headers.clone(),
                rows: t.rows.clone(),
            }),
        notes: document.notes.clone(),
        verification_code: document.verification_code.clone(),
        verification_label: document.verification_label.clone(),
        qr_payload: document.qr_payload.clone(),
        issued_at: document.issued_at.clone(),
    };
    print::layouts::certificate(&content)
}

/// The paper the printer will produce, as an image for the on-screen preview.
pub fn render_preview(document: &Document, width_dots: u32) -> Result<image::GrayImage, Fault> {
    print::render(document, width_dots)
        .map(|rendered| rendered.paper_image())
        .map_err(|e| print_fault(&e))
}

pub fn central_fault(error: &CentralError) -> Fault {
    Fault::new(error.message_key(), error.to_string())
}

pub fn print_fault(error: &PrintError) -> Fault {
    Fault::new(error.message_key(), error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::central_client::outbox::{Deliver, Delivery, OutboxEntry};

    /// A central service that always gives the same answer.
    struct Answers(Delivery);

    impl Deliver for Answers {
        async fn deliver(&self, _entry: &OutboxEntry) -> Delivery {
            self.0.clone()
        }
    }

    fn submission() -> wire::SubmissionRequest {
        wire::SubmissionRequest {
            service_id: "address-change".to_owned(),
            card_number: "C1".to_owned(),
            id_number: "110101194907150012".to_owned(),
            name: "Test".to_owned(),
            fields: Default::default(),
        }
    }

    async fn outcome_with(answer: Delivery, limit: Duration) -> SubmissionOutcome {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Arc::new(Outbox::open(&dir.path().join("outbox.sqlite")).unwrap());
        let key = outbox.enqueue_submission(&submission()).unwrap();
        let sender = outbox.clone().spawn_sender(Answers(answer));
        let outcome = await_outcome(&outbox, &key, limit).await;
        sender.stop().await.unwrap();
        outcome
    }

    #[tokio::test]
    async fn an_unreachable_central_service_means_queued_without_waiting_out_the_limit() {
        // The limit is an hour: only the failed attempts can end the wait (a
        // regression hangs until the test runner's timeout).
        let outcome = outcome_with(
            Delivery::RetryLater("connection refused".to_owned()),
            Duration::from_secs(3600),
        )
        .await;
        assert_eq!(outcome, SubmissionOutcome::Queued);
    }

    #[tokio::test]
    async fn an_acknowledged_submission_is_accepted_under_its_receipt_number() {
        let outcome = outcome_with(
            Delivery::Delivered(Some("R-2026-000123".to_owned())),
            Duration::from_secs(3600),
        )
        .await;
        assert_eq!(
            outcome,
            SubmissionOutcome::Accepted {
                receipt_number: "R-2026-000123".to_owned()
            }
        );
    }

    #[test]
    fn references_are_readable() {
        assert_eq!(
            reference_from_key("3f2a91c0-7b44-4e1d-9a2b-0c1d2e3f4a5b"),
            "3F2A-91C0-7B44"
        );
        assert_eq!(reference_from_key("ab"), "AB");
        assert_eq!(reference_from_key(""), "");
    }
}
