//! The kiosk's hands: the central-service client, the card reader, the printer and
//! the outbox, behind one object whose methods the controller calls off the UI
//! thread. Every failure comes back as a [`Fault`] with a translated message key.

use std::sync::Arc;

use estation_central::wire;
use estation_drivers::card::{Identity, IdentitySource, Pin};
use estation_drivers::print::{self, Document, PrintError};

use crate::central::{CentralClient, CentralError};
use crate::i18n::Locale;
use crate::outbox::{Outbox, SenderHandle};
use crate::session::{Fault, Score};

/// A certificate from the central service with the picture of its paper.
#[derive(Debug)]
pub struct IssuedDocument {
    pub certificate: wire::IssuedCertificate,
    pub preview: Arc<image::GrayImage>,
}

/// Prints documents; implemented by the kiosk's configured printer.
pub trait PrintPort: Send + Sync {
    /// Prints `document` at most once per `job_id`, reporting progress in percent.
    fn print(
        &self,
        job_id: &str,
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

    pub async fn issue_certificate(
        &self,
        service_id: &str,
        identity: &Identity,
        locale: Locale,
    ) -> Result<IssuedDocument, Fault> {
        let request = wire::IssueCertificateRequest {
            service_id: service_id.to_owned(),
            card_number: identity.card_number.clone(),
            id_number: identity.id_number.clone(),
            name: identity.name.clone(),
            locale: wire::Locale::from_tag(locale.tag()),
            period: None,
        };
        let result = self.central.issue_certificate(&request).await;
        let mut request = request;
        zeroize::Zeroize::zeroize(&mut request.id_number);
        zeroize::Zeroize::zeroize(&mut request.name);
        zeroize::Zeroize::zeroize(&mut request.card_number);
        let certificate = result.map_err(|e| central_fault(&e))?;
        let document = certificate.document.clone();
        let width = self.printer.width_dots();
        let preview = tokio::task::spawn_blocking(move || render_preview(&document, width))
            .await
            .map_err(|e| Fault::new("print-error-failed", format!("preview task failed: {e}")))??;
        Ok(IssuedDocument {
            certificate,
            preview: Arc::new(preview),
        })
    }

    /// Blocking: printer I/O.
    pub fn print_certificate(
        &self,
        job_id: &str,
        certificate: &wire::IssuedCertificate,
        progress: &mut dyn FnMut(u8),
    ) -> Result<(), Fault> {
        let document = certificate_document(&certificate.document);
        self.printer
            .print(job_id, &document, progress)
            .map_err(|e| print_fault(&e))
    }

    /// Blocking: a durable SQLite write. Returns once the rating cannot be lost.
    pub fn submit_rating(
        &self,
        service_id: &str,
        certificate_id: Option<&str>,
        score: Score,
    ) -> Result<(), Fault> {
        let request = wire::RatingRequest {
            service_id: service_id.to_owned(),
            certificate_id: certificate_id.map(str::to_owned),
            score: match score {
                Score::Good => wire::Score::Good,
                Score::Average => wire::Score::Average,
                Score::Bad => wire::Score::Bad,
            },
            reasons: Vec::new(),
        };
        self.outbox
            .enqueue_rating(&request)
            .map_err(|e| Fault::new("error-generic", e.to_string()))
    }
}

/// The printing driver's document for a certificate from the central service.
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
pub fn render_preview(
    document: &wire::PrintableDocument,
    width_dots: u32,
) -> Result<image::GrayImage, Fault> {
    let document = certificate_document(document);
    print::render(&document, width_dots)
        .map(|rendered| rendered.paper_image())
        .map_err(|e| print_fault(&e))
}

pub fn central_fault(error: &CentralError) -> Fault {
    Fault::new(error.message_key(), error.to_string())
}

pub fn print_fault(error: &PrintError) -> Fault {
    Fault::new(error.message_key(), error.to_string())
}
