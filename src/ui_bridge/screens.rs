//! Every screen with sample data, for `estation screenshot` and the screenshot tests.

use std::sync::Arc;

use estation_central::{seed, wire};
use estation_drivers::print;

use crate::i18n::{Locale, Translator};
use crate::kiosk::{format_date, group_services, supported_open_services};
use crate::session::{AddressChangeForm, DocKind, KeypadField, Screen, ServiceEntry};
use crate::view::{CheckView, DocumentFacts, FormView, View};

/// Sample data shared by all screens: the demo catalogue and sample documents.
pub struct Samples {
    catalogue: wire::Catalogue,
    certificate: Option<Arc<image::GrayImage>>,
    origin_form: Option<Arc<image::GrayImage>>,
    progress: Option<Arc<image::GrayImage>>,
    /// The kiosk's own receipt of the sample address change, per language.
    receipts: Vec<(Locale, Arc<image::GrayImage>, String)>,
}

/// The sample address change, as the submission screens show it.
fn sample_form() -> AddressChangeForm {
    AddressChangeForm {
        district: Some(0),
        house: "90".into(),
        room: "501".into(),
        phone: "13800138000".into(),
    }
}

/// The progress of the first demo application, as the central service prints it:
/// the application number is the document's reference.
pub fn sample_progress() -> wire::PrintableDocument {
    let field = |label: &str, value: &str| wire::Field {
        label: label.into(),
        value: value.into(),
    };
    wire::PrintableDocument {
        title: "办件进度".into(),
        subtitle: Some("居住地址变更申报".into()),
        issuer: "示范市政务服务中心".into(),
        fields: vec![
            field("申请号", "SQ2025060100012"),
            field("申请人", "张*"),
            field("当前状态", "审核中"),
            field("预计办结", "2026-11-27"),
        ],
        table: Some(wire::Table {
            caption: Some("办理环节".into()),
            headers: vec!["环节".into(), "状态".into(), "日期".into()],
            rows: vec![
                vec!["受理".into(), "已完成".into(), "2026-11-24".into()],
                vec!["审核".into(), "进行中".into(), "—".into()],
                vec!["办结".into(), "未开始".into(), "—".into()],
            ],
        }),
        notes: vec!["本单仅供查询，不作为办理结果证明。".into()],
        verification_code: "SQ2025060100012".into(),
        verification_label: "申请号".into(),
        qr_payload: "SQ2025060100012".into(),
        issued_at: "2026-11-24 02:00".into(),
    }
}

fn preview(document: &print::Document, width: u32) -> Option<Arc<image::GrayImage>> {
    crate::kiosk::backend::render_preview(document, width)
        .map_err(|fault| tracing::warn!(detail = %fault.detail, "sample preview not rendered"))
        .ok()
        .map(Arc::new)
}

impl Samples {
    pub fn new() -> Self {
        let catalogue = wire::Catalogue {
            categories: seed::categories(),
            services: seed::services(),
        };
        let certificate = preview(
            &crate::kiosk::backend::certificate_document(&sample_document()),
            print::WIDTH_80MM,
        );
        let origin_form = preview(
            &print::layouts::origin_form(&print::samples::rcep_origin_form()),
            print::WIDTH_A4,
        );
        let progress = preview(
            &crate::kiosk::backend::certificate_document(&sample_progress()),
            print::WIDTH_80MM,
        );
        // The receipt of an address change accepted just now, as this kiosk
        // prints it in each language.
        let mut receipts = Vec::new();
        if let Ok(translator) = Translator::new() {
            let translator = Arc::new(translator);
            let submitted = crate::kiosk::backend::Submitted {
                reference: "K7Q2-M9XD".into(),
                outcome: crate::kiosk::backend::SubmissionOutcome::Accepted {
                    receipt_number: "SQ2026112400001".into(),
                },
                received_at: time::macros::datetime!(2026-11-24 02:00 +08:00),
            };
            for locale in Locale::ALL {
                let labels = crate::kiosk::receipt::ReceiptLabels::new(&translator, locale);
                let (summary, document) = crate::kiosk::receipt::receipt_document(
                    &labels,
                    &submitted,
                    &sample_form(),
                    time::macros::offset!(+8),
                );
                if let Some(image) = preview(&document, print::WIDTH_80MM) {
                    receipts.push((locale, image, summary.verification_code));
                }
            }
        }
        Self {
            catalogue,
            certificate,
            origin_form,
            progress,
            receipts,
        }
    }
}

impl Default for Samples {
    fn default() -> Self {
        Self::new()
    }
}

/// A social insurance certificate for the first demo resident (fictional data).
pub fn sample_document() -> wire::PrintableDocument {
    let resident = &seed::DEMO_RESIDENTS[0];
    let rows = (1..=6)
        .map(|month| {
            vec![
                format!("2026-{month:02}"),
                "5,800.00".to_owned(),
                "464.00".to_owned(),
                "928.00".to_owned(),
            ]
        })
        .collect();
    wire::PrintableDocument {
        title: "社会保险参保缴费证明".into(),
        subtitle: Some("（个人权益记录）".into()),
        issuer: "示范市社会保险事业管理中心".into(),
        fields: vec![
            wire::Field {
                label: "姓名".into(),
                value: resident.name.into(),
            },
            wire::Field {
                label: "公民身份号码".into(),
                value: wire::mask_id_number(resident.id_number),
            },
            wire::Field {
                label: "缴费期间".into(),
                value: "2026-01 至 2026-06".into(),
            },
        ],
        table: Some(wire::Table {
            caption: Some("养老保险缴费明细".into()),
            headers: vec![
                "月份".into(),
                "缴费基数".into(),
                "个人缴费".into(),
                "单位缴费".into(),
            ],
            rows,
        }),
        notes: vec!["本证明可通过验证码在线核验真伪。".into()],
        verification_code: "8K3F-2Q7M-XW4D".into(),
        verification_label: "验证码".into(),
        qr_payload: "https://verify.example.invalid/v1/certificates/8K3F-2Q7M-XW4D".into(),
        issued_at: "2026-11-24 02:00".into(),
    }
}

/// The view of `screen` with sample data, as a resident would see it.
pub fn sample_view(
    samples: &Samples,
    translator: &Translator,
    screen: Screen,
    locale: Locale,
    elderly: bool,
) -> View {
    let mut view = View::new(screen, locale);
    view.elderly = elderly;
    let wall = time::macros::datetime!(2026-11-24 02:00 +08:00);
    view.time = "02:00".into();
    view.date = format_date(translator, locale, wall);
    let entries: Vec<ServiceEntry> = supported_open_services(&samples.catalogue);
    view.service_groups = group_services(&samples.catalogue, &entries, locale);
    if let Some(service) = samples
        .catalogue
        .services
        .iter()
        .find(|s| s.id == "si-payment-certificate")
    {
        view.service_name = service.name.get(locale.tag()).to_owned();
    }
    let form = sample_form();
    match screen {
        Screen::PinEntry => {
            view.pin_length = 3;
            view.pin_tries_left = Some(2);
            view.pin_wrong = true;
        }
        Screen::ChoosePeriod => view.period = "last-12-months".into(),
        Screen::Keypad(field) => {
            let sample = match field {
                KeypadField::ApplicationNumber => "SQ2025060",
                KeypadField::ExporterCode => "3301960001",
                KeypadField::HouseNumber => "90",
                KeypadField::RoomNumber => "501",
                KeypadField::Phone => "1380013",
            };
            view.keypad_letters = field.takes_letters();
            view.keypad_text = field.masked(sample);
            view.keypad_count = crate::kiosk::keypad_count(field, sample);
            view.keypad_can_submit = field.is_valid(sample);
        }
        Screen::ProgressList => {
            view.applications = seed::applications()
                .iter()
                .take(3)
                .map(|a| a.application_number.to_owned())
                .collect();
        }
        Screen::SubmissionForm | Screen::SubmissionConfirm => {
            view.form = FormView::from_form(&form);
        }
        Screen::SubmissionDistrict => view.form = FormView::from_form(&form),
        Screen::Printing => view.print_percent = 60,
        Screen::Preview(kind) => {
            let receipt = samples.receipts.iter().find(|(l, _, _)| *l == locale);
            view.preview = match kind {
                DocKind::OriginForm => samples.origin_form.clone(),
                DocKind::Receipt => receipt.map(|(_, image, _)| image.clone()),
                DocKind::Progress => samples.progress.clone(),
                DocKind::Certificate => samples.certificate.clone(),
            };
            view.verification_code = match kind {
                DocKind::Progress => sample_progress().verification_code,
                DocKind::Receipt => receipt.map(|(_, _, code)| code.clone()).unwrap_or_default(),
                DocKind::Certificate | DocKind::OriginForm => sample_document().verification_code,
            };
            match kind {
                DocKind::Certificate => {
                    view.document = Some(DocumentFacts::of(
                        &crate::kiosk::backend::certificate_document(&sample_document()),
                    ))
                }
                DocKind::Progress => {
                    view.document = Some(DocumentFacts::of(
                        &crate::kiosk::backend::certificate_document(&sample_progress()),
                    ))
                }
                DocKind::OriginForm | DocKind::Receipt => {}
            }
            if kind == DocKind::Receipt {
                view.receipt_state = "accepted".into();
            }
        }
        Screen::OriginUnsupported => {
            view.origin_application = "CO2025330100001".into();
            view.origin_exporter = "3301960001".into();
        }
        Screen::PhoneLink => {
            view.phone_link =
                Some("https://central.example.invalid/v1/phone/Xk3f9Qz7-Lm2Wp8Rt".into());
        }
        Screen::RatingReasons => view.reasons = vec!["too-slow".into()],
        Screen::MaintenanceLogin => {
            view.pin_length = 2;
            view.login_error_key = "maintenance-error-denied".into();
            view.login_tries_left = Some(4);
        }
        Screen::MaintenanceMenu => view.technician = "T-0042".into(),
        Screen::SelfTestReport => {
            let check = |id: &str, status: &str, code: &str, reason: &str| CheckView {
                id: id.into(),
                status: status.into(),
                code: code.into(),
                reason: reason.into(),
            };
            view.checks = vec![
                check(
                    "card-reader",
                    "pass",
                    "ok",
                    "reader \"Virtual PCD 00 00\" connected, no card inserted",
                ),
                check(
                    "printer",
                    "warn",
                    "paper-near-end",
                    "the paper roll is nearly used up",
                ),
                check(
                    "central",
                    "pass",
                    "ok",
                    "reachable, kiosk accepted, TLS certificate valid",
                ),
                check(
                    "clock",
                    "fail",
                    "skew",
                    "kiosk clock is +412 s from the central service's",
                ),
                check("disk", "pass", "ok", "53248 MiB free for /var/lib/estation"),
                check(
                    "outbox",
                    "pass",
                    "ok",
                    "0 waiting, 0 refused by the service, 0 failed deliveries in a row",
                ),
            ];
        }
        // A kiosk with a code scanner, the usual fitting.
        Screen::InsertCard | Screen::ProgressChoice => view.scanner_ready = true,
        Screen::Goodbye => view.rated = true,
        // The paper ran out after the certificate was issued to a card holder.
        Screen::Error => {
            view.error_key = "print-error-paper-out".into();
            view.error_code = sample_document().verification_code;
            view.error_can_phone = true;
            view.card_reminder = true;
        }
        _ => {}
    }
    view
}
