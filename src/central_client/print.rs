//! The central service's printable wire types mapped onto the printing
//! driver's layouts. The service owns the words; these only move them across.

use estation_central::wire::{FormBox, OriginCertificateForm, PrintableDocument, ReceiptDocument};
use estation_drivers::print::layouts::{
    CertificateContent, LabeledText, OriginFormContent, ReceiptContent, TableContent,
};

/// A certificate, a progress printout or a list of applications, for
/// `layouts::certificate`.
pub fn certificate_content(document: &PrintableDocument) -> CertificateContent {
    CertificateContent {
        title: document.title.clone(),
        subtitle: document.subtitle.clone(),
        issuer: document.issuer.clone(),
        fields: document
            .fields
            .iter()
            .map(|f| (f.label.clone(), f.value.clone()))
            .collect(),
        table: document.table.as_ref().map(|t| TableContent {
            caption: t.caption.clone(),
            headers: t.headers.clone(),
            rows: t.rows.clone(),
        }),
        notes: document.notes.clone(),
        verification_code: document.verification_code.clone(),
        verification_label: document.verification_label.clone(),
        qr_payload: document.qr_payload.clone(),
        issued_at: document.issued_at.clone(),
    }
}

fn labeled(form_box: &FormBox) -> LabeledText {
    LabeledText::new(form_box.label.clone(), form_box.text.clone())
}

/// A certificate-of-origin form, for `layouts::origin_form` (A4-wide paper).
pub fn origin_form_content(form: &OriginCertificateForm) -> OriginFormContent {
    OriginFormContent {
        title: form.title.clone(),
        subtitle: form.subtitle.clone(),
        certificate_no: labeled(&form.certificate_no),
        issued_in: labeled(&form.issued_in),
        exporter: labeled(&form.exporter),
        producer: labeled(&form.producer),
        importer: labeled(&form.importer),
        transport: labeled(&form.transport),
        official_use: labeled(&form.official_use),
        item_headers: form.item_headers.clone(),
        items: form.items.clone(),
        remarks: labeled(&form.remarks),
        declaration: labeled(&form.declaration),
        certification: labeled(&form.certification),
        verification_code: form.verification_code.clone(),
        verification_label: form.verification_label.clone(),
        qr_payload: form.qr_payload.clone(),
    }
}

/// A submission receipt (the service's, or the kiosk's own for a queued
/// submission, see `wire::submission_receipt`), for `layouts::submission_receipt`.
pub fn receipt_content(receipt: &ReceiptDocument) -> ReceiptContent {
    ReceiptContent {
        title: receipt.title.clone(),
        rows: receipt
            .rows
            .iter()
            .map(|f| (f.label.clone(), f.value.clone()))
            .collect(),
        notes: receipt.notes.clone(),
        reference_label: receipt.reference_label.clone(),
        reference: receipt.reference.clone(),
        qr_payload: receipt.qr_payload.clone(),
        footer: receipt.footer.clone(),
    }
}
