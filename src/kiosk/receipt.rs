//! The submission receipt, built on the kiosk so that it exists offline too, in the
//! resident's language, saying only what is true of the submission.

use std::sync::Arc;

use crate::i18n::{Locale, Translator};
use crate::kiosk::backend::{SubmissionOutcome, Submitted};
use crate::session::{AddressChangeForm, DocKind, DocumentSummary, SubmissionState};

/// The words of a submission receipt, in the resident's language.
#[derive(Clone)]
pub struct ReceiptLabels {
    translator: Arc<Translator>,
    locale: Locale,
}

impl ReceiptLabels {
    pub fn new(translator: &Arc<Translator>, locale: Locale) -> Self {
        Self {
            translator: translator.clone(),
            locale,
        }
    }

    fn t(&self, key: &str) -> String {
        self.translator.text(self.locale, key)
    }
}

/// The receipt of a submission, built on the kiosk so it exists offline too. It
/// says only what is true: accepted with the service's receipt number, stored
/// here and not yet sent (and when the number will exist), or refused (why, and
/// what to do).
pub fn receipt_document(
    labels: &ReceiptLabels,
    submitted: &Submitted,
    form: &AddressChangeForm,
    offset: time::UtcOffset,
) -> (DocumentSummary, estation_drivers::print::Document) {
    let at = submitted.received_at.to_offset(offset);
    let phone = &form.phone;
    let masked_phone = if phone.len() == 11 {
        format!("{}****{}", &phone[..3], &phone[7..])
    } else {
        String::new()
    };
    let mut rows = vec![
        (
            labels.t("receipt-service"),
            labels.t("receipt-service-address-change"),
        ),
        (
            labels.t("form-new-address"),
            form.new_address().unwrap_or_default(),
        ),
        (labels.t("form-phone"), masked_phone),
        (
            labels.t("receipt-received-at"),
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}",
                at.year(),
                u8::from(at.month()),
                at.day(),
                at.hour(),
                at.minute()
            ),
        ),
    ];
    let status = labels.t("receipt-status");
    let (title, state, reference_label, reference, notes) = match &submitted.outcome {
        SubmissionOutcome::Accepted { receipt_number } => {
            rows.push((status, labels.t("receipt-status-accepted")));
            (
                labels.t("receipt-title"),
                SubmissionState::Accepted,
                labels.t("receipt-reference-accepted"),
                receipt_number.clone(),
                vec![labels.t("receipt-note-accepted")],
            )
        }
        SubmissionOutcome::Queued => {
            rows.push((status, labels.t("receipt-status-queued")));
            (
                labels.t("receipt-title"),
                SubmissionState::Queued,
                labels.t("receipt-reference-queued"),
                submitted.reference.clone(),
                vec![labels.t("receipt-note-queued")],
            )
        }
        SubmissionOutcome::Refused { message_key } => {
            rows.push((status, labels.t("receipt-status-refused")));
            rows.push((labels.t("receipt-reason"), labels.t(message_key)));
            (
                labels.t("receipt-title-refused"),
                SubmissionState::Refused {
                    message_key: message_key.clone(),
                },
                labels.t("receipt-reference-queued"),
                submitted.reference.clone(),
                vec![
                    labels.t(&format!("{message_key}.action")),
                    labels.t("receipt-note-refused"),
                ],
            )
        }
    };
    let content = estation_drivers::print::layouts::ReceiptContent {
        title,
        rows,
        notes,
        reference_label,
        reference: reference.clone(),
        qr_payload: Some(reference.clone()),
        footer: None,
    };
    let summary = DocumentSummary {
        document_id: format!("receipt-{}", submitted.reference),
        print_job_id: crate::kiosk::backend::new_print_job_id("receipt"),
        kind: DocKind::Receipt,
        verification_code: reference,
        min_width_dots: estation_drivers::print::WIDTH_58MM,
        submission: Some(state),
    };
    (
        summary,
        estation_drivers::print::layouts::submission_receipt(&content),
    )
}
