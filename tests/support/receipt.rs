//! The submission receipt a kiosk must print, rendered by the kiosk's own code from
//! the inputs of the submission scripts (`submission-card.script`,
//! `submission-online.script`) at the tests' pinned time, with the branding of the
//! demo's bundle.

#![allow(dead_code)]

use estation::i18n::{Locale, Translator};
use estation::kiosk::backend::{SubmissionOutcome, Submitted};
use estation::kiosk::{ReceiptLabels, receipt_document};
use estation::session::AddressChangeForm;
use estation_drivers::print;

/// The receipt the kiosk must print for `outcome`, rendered by the same code from
/// the inputs of `submission-card.script` at the pinned time.
pub fn expected_receipt(reference: &str, outcome: SubmissionOutcome) -> image::GrayImage {
    let translator = std::sync::Arc::new(Translator::new().unwrap());
    let labels = ReceiptLabels::new(&translator, Locale::ZhCn);
    let at = time::OffsetDateTime::parse(
        "2026-11-24T02:00:00+08:00",
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let submitted = Submitted {
        reference: reference.to_owned(),
        outcome,
        received_at: at,
    };
    let form = AddressChangeForm {
        district: Some(0),
        house: "90".into(),
        room: "501".into(),
        phone: "13800138000".into(),
    };
    let (_, mut document) = receipt_document(&labels, &submitted, &form, at.offset());
    // The demo runs on the example bundle, whose branding closes every document.
    let bundle = estation::ops::bundle::BundleSource::from_toml(include_str!(
        "../../assets/config/example.toml"
    ))
    .unwrap()
    .into_bundle(time::OffsetDateTime::now_utc())
    .unwrap();
    estation::kiosk::documents::add_branding(&mut document, &bundle, Locale::ZhCn);
    print::render(&document, print::WIDTH_80MM).unwrap().pages[0]
        .raster
        .to_gray_image()
}
