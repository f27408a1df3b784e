//! Printable documents the central service issues, with labels in the
//! resident's language, and their signatures.

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use time::OffsetDateTime;

use super::error::ApiError;
use super::store::ApplicationRecord;
use crate::wire::{
    ApplicationStatus, ApplicationSummary, Field, FormBox, Gender, Locale, LocalizedText,
    OriginCertificateForm, Period, PrintableDocument, ProgressStep, QrPayload, StepState, Table,
    certificate_signing_message,
};

/// Picks the label for `locale`.
fn tr(locale: Locale, zh_cn: &str, zh_tw: &str, en_us: &str) -> String {
    match locale {
        Locale::ZhCn => zh_cn,
        Locale::ZhTw => zh_tw,
        Locale::EnUs => en_us,
    }
    .to_owned()
}

fn field(label: String, value: impl Into<String>) -> Field {
    Field {
        label,
        value: value.into(),
    }
}

pub use super::store::{ContributionRow, ResidentRow};

/// Checks a requested period, or makes the default one: the 12 whole months
/// before the current one. `now` is in the service centre's offset.
pub fn resolve_period(period: Option<&Period>, now: OffsetDateTime) -> Result<Period, ApiError> {
    match period {
        None => Ok(Period::default_for(now.date())),
        Some(p) => {
            p.check(now.date())
                .map_err(|e| ApiError::validation(format!("period: {e}")))?;
            Ok(p.clone())
        }
    }
}

fn money(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, (cents % 100).abs())
}

/// City of registration from the first four digits of the ID number.
fn city(id_number: &str, locale: Locale) -> String {
    let (zh_cn, zh_tw, en) = match id_number.get(..4) {
        Some("3301") => ("杭州市", "杭州市", "Hangzhou"),
        Some("3307") => ("金华市", "金華市", "Jinhua"),
        Some("3305") => ("湖州市", "湖州市", "Huzhou"),
        Some("4401") => ("广州市", "廣州市", "Guangzhou"),
        Some("6104") => ("咸阳市", "咸陽市", "Xianyang"),
        _ => ("", "", ""),
    };
    tr(locale, zh_cn, zh_tw, en)
}

fn gender_text(gender: Gender, locale: Locale) -> String {
    match gender {
        Gender::Male => tr(locale, "男", "男", "Male"),
        Gender::Female => tr(locale, "女", "女", "Female"),
    }
}

fn id_fields(resident: &ResidentRow, locale: Locale) -> Vec<Field> {
    vec![
        field(tr(locale, "姓名", "姓名", "Name"), resident.name.clone()),
        field(
            tr(locale, "公民身份号码", "公民身分號碼", "Citizen ID number"),
            resident.id_number.clone(),
        ),
    ]
}

fn verification_note(locale: Locale) -> String {
    tr(
        locale,
        "本证明由政务服务自助终端打印，可凭验证码或扫描二维码核验真伪。",
        "本證明由政務服務自助終端列印，可憑驗證碼或掃描二維碼核驗真偽。",
        "Printed at a self-service kiosk. Check it with the verification code or the QR code.",
    )
}

/// Builds the unsigned document for a certificate service; the QR text is
/// filled in once the document is signed.
pub fn certificate_document(
    service_id: &str,
    locale: Locale,
    resident: &ResidentRow,
    contributions: &[ContributionRow],
    period: &Period,
    verification_code: &str,
    issued_at: &str,
) -> Option<PrintableDocument> {
    let city = city(&resident.id_number, locale);
    let verification_label = tr(locale, "验证码", "驗證碼", "Verification code");
    let mut document = PrintableDocument {
        title: String::new(),
        subtitle: None,
        issuer: String::new(),
        fields: id_fields(resident, locale),
        table: None,
        notes: vec![],
        verification_code: verification_code.to_owned(),
        verification_label,
        qr_payload: String::new(),
        issued_at: issued_at.to_owned(),
    };
    let period_text = format!("{} — {}", period.from, period.to);
    match service_id {
        "si-payment-certificate" => {
            document.title = tr(
                locale,
                "社会保险个人缴费证明",
                "社會保險個人繳費證明",
                "Social Insurance Payment Certificate",
            );
            document.subtitle = Some(period_text);
            document.issuer = tr(
                locale,
                &format!("{city}社会保险管理服务中心"),
                &format!("{city}社會保險管理服務中心"),
                &format!("Social Insurance Administration Centre, {city}"),
            );
            document.fields.push(field(
                tr(
                    locale,
                    "社会保障卡号",
                    "社會保障卡號",
                    "Social security card",
                ),
                resident.card_number.clone(),
            ));
            if let Some(last) = contributions.last() {
                document.fields.push(field(
                    tr(locale, "参保单位", "參保單位", "Employer"),
                    last.employer.clone(),
                ));
            }
            document.fields.push(field(
                tr(locale, "缴费月数", "繳費月數", "Months paid"),
                contributions.len().to_string(),
            ));
            document.fields.push(field(
                tr(
                    locale,
                    "个人缴费合计（元）",
                    "個人繳費合計（元）",
                    "Personal total (CNY)",
                ),
                money(contributions.iter().map(|c| c.personal_cents).sum()),
            ));
            document.table = Some(Table {
                caption: Some(tr(locale, "缴费明细", "繳費明細", "Monthly contributions")),
                headers: vec![
                    tr(locale, "费款所属期", "費款所屬期", "Month"),
                    tr(locale, "缴费基数", "繳費基數", "Base"),
                    tr(locale, "个人缴费", "個人繳費", "Personal"),
                    tr(locale, "单位缴费", "單位繳費", "Employer"),
                ],
                rows: contributions
                    .iter()
                    .map(|c| {
                        vec![
                            c.month.clone(),
                            money(c.base_cents),
                            money(c.personal_cents),
                            money(c.employer_cents),
                        ]
                    })
                    .collect(),
            });
            if contributions.is_empty() {
                document.notes.push(tr(
                    locale,
                    "所选期间内无缴费记录。",
                    "所選期間內無繳費紀錄。",
                    "No contributions on record in this period.",
                ));
            }
        }
        "household-proof" => {
            document.title = tr(
                locale,
                "户籍证明",
                "戶籍證明",
                "Household Registration Proof",
            );
            document.issuer = tr(
                locale,
                &format!("{city}公安局户政管理处"),
                &format!("{city}公安局戶政管理處"),
                &format!("Household Registration Office, {city} Public Security Bureau"),
            );
            document.fields.extend([
                field(
                    tr(locale, "性别", "性別", "Gender"),
                    gender_text(resident.gender, locale),
                ),
                field(
                    tr(locale, "出生日期", "出生日期", "Date of birth"),
                    resident.birth_date.clone(),
                ),
                field(
                    tr(locale, "户籍地址", "戶籍地址", "Registered address"),
                    resident.address.clone(),
                ),
                field(
                    tr(locale, "户主姓名", "戶主姓名", "Head of household"),
                    resident.household_head.clone(),
                ),
                field(
                    tr(locale, "与户主关系", "與戶主關係", "Relationship"),
                    resident.relationship.for_locale(locale),
                ),
            ]);
            document.notes.push(tr(
                locale,
                "兹证明上述人员户籍登记信息属实。本证明自开具之日起三个月内有效。",
                "茲證明上述人員戶籍登記資訊屬實。本證明自開具之日起三個月內有效。",
                "The registration details above are correct. Valid for three months from issue.",
            ));
        }
        "tax-payment-certificate" => {
            document.title = tr(
                locale,
                "个人所得税完税证明",
                "個人所得稅完稅證明",
                "Individual Income Tax Payment Certificate",
            );
            document.subtitle = Some(period_text);
            document.issuer = tr(
                locale,
                &format!("国家税务总局{city}税务局"),
                &format!("國家稅務總局{city}稅務局"),
                &format!("{city} Tax Service, State Taxation Administration"),
            );
            document.table = Some(Table {
                caption: None,
                headers: vec![
                    tr(locale, "所属期", "所屬期", "Month"),
                    tr(locale, "收入额", "收入額", "Income"),
                    tr(locale, "已缴税额", "已繳稅額", "Tax paid"),
                ],
                rows: contributions
                    .iter()
                    .map(|c| {
                        // 3 % bracket above the 5,000 yuan allowance and personal contributions.
                        let taxable = (c.base_cents - 500_000 - c.personal_cents).max(0);
                        vec![
                            c.month.clone(),
                            money(c.base_cents),
                            money(taxable * 3 / 100),
                        ]
                    })
                    .collect(),
            });
        }
        _ => return None,
    }
    document.notes.push(verification_note(locale));
    Some(document)
}

/// Bilingual certificate-of-origin form. Trade documents are bilingual whatever
/// the kiosk's language, which also keeps the signed form deterministic.
pub struct OriginForm<'a> {
    pub summary: &'a crate::wire::OriginCertificateSummary,
    pub exporter_address: &'a str,
    pub consignee: &'a str,
    pub transport: &'a str,
    pub goods: &'a [[String; 4]],
}

pub fn origin_document(
    form: &OriginForm<'_>,
    certificate_number: &str,
    approved_on: &str,
    verification_code: &str,
) -> PrintableDocument {
    let s = form.summary;
    PrintableDocument {
        title: format!("{} / {}", s.form_name.zh_cn, s.form_name.en_us),
        subtitle: Some(format!("No. {certificate_number}")),
        issuer: "中华人民共和国海关 / Customs of the People's Republic of China".into(),
        fields: vec![
            field("出口商 Exporter".into(), format!("{} ({})", s.exporter_name, s.exporter_code)),
            field("出口商地址 Address".into(), form.exporter_address),
            field("收货人 Consignee".into(), form.consignee),
            field("协定 Agreement".into(), s.agreement.clone()),
            field("运输方式 Transport".into(), form.transport),
            field("申请号 Application No.".into(), s.application_number.clone()),
        ],
        table: Some(Table {
            caption: Some("货物 Goods".into()),
            headers: vec![
                "HS".into(),
                "品名 Description".into(),
                "数量 Quantity".into(),
                "原产地标准 Criterion".into(),
            ],
            rows: form.goods.iter().map(|g| g.to_vec()).collect(),
        }),
        notes: vec![
            "兹证明上述货物符合协定原产地规则。 The goods described above meet the origin requirements of the agreement."
                .into(),
        ],
        verification_code: verification_code.to_owned(),
        verification_label: "验证码 Verification code".into(),
        qr_payload: String::new(),
        issued_at: approved_on.to_owned(),
    }
}

/// Signs `document` and fills in its QR text; returns (signature base64, QR text).
pub fn sign_document(
    key: &SigningKey,
    document: &mut PrintableDocument,
    certificate_id: &str,
    service_id: &str,
    issued_at_unix: i64,
) -> (String, String) {
    let digest = document.content_digest();
    let message = certificate_signing_message(
        certificate_id,
        &document.verification_code,
        service_id,
        issued_at_unix,
        &digest,
    );
    let signature = key.sign(&message).to_bytes();
    let qr = QrPayload {
        verification_code: document.verification_code.clone(),
        certificate_id: certificate_id.to_owned(),
        service_id: service_id.to_owned(),
        issued_at_unix,
        document_digest: digest,
        signature,
    }
    .encode();
    document.qr_payload = qr.clone();
    (
        base64::engine::general_purpose::STANDARD.encode(signature),
        qr,
    )
}

// ---------------------------------------------------------------- progress

pub fn status_text(status: ApplicationStatus, locale: Locale) -> String {
    match status {
        ApplicationStatus::Submitted => tr(locale, "已提交", "已提交", "Submitted"),
        ApplicationStatus::UnderReview => tr(locale, "审核中", "審核中", "Under review"),
        ApplicationStatus::NeedsMaterials => tr(locale, "待补材料", "待補材料", "Materials needed"),
        ApplicationStatus::Approved => tr(locale, "已批准", "已批准", "Approved"),
        ApplicationStatus::Rejected => tr(locale, "不予受理", "不予受理", "Declined"),
        ApplicationStatus::Completed => tr(locale, "已办结", "已辦結", "Completed"),
    }
}

fn step_state_text(state: StepState, locale: Locale) -> String {
    match state {
        StepState::Done => tr(locale, "已完成", "已完成", "Done"),
        StepState::Current => tr(locale, "进行中", "進行中", "In progress"),
        StepState::Pending => tr(locale, "未开始", "未開始", "Not started"),
    }
}

fn service_centre(locale: Locale) -> String {
    tr(
        locale,
        "政务服务中心",
        "政務服務中心",
        "Government Service Centre",
    )
}

fn informational_note(locale: Locale) -> String {
    tr(
        locale,
        "本单仅供查询参考，不作为证明使用。",
        "本單僅供查詢參考，不作為證明使用。",
        "For information only; this is not a certificate.",
    )
}

/// The parts of an application's progress a printout needs.
pub struct ProgressParts<'a> {
    pub application_number: &'a str,
    pub service_name: &'a LocalizedText,
    pub status: ApplicationStatus,
    pub submitted_on: &'a str,
    pub expected_completion: Option<&'a str>,
    pub steps: &'a [ProgressStep],
    pub missing: &'a [LocalizedText],
}

/// One application's progress for the generic certificate layout: steps with
/// dates, what is missing, and what to do next.
pub fn progress_document(
    parts: &ProgressParts<'_>,
    locale: Locale,
    printed_at: &str,
) -> PrintableDocument {
    let mut fields = vec![
        field(
            tr(locale, "申请号", "申請號", "Application No."),
            parts.application_number,
        ),
        field(
            tr(locale, "办理事项", "辦理事項", "Service"),
            parts.service_name.for_locale(locale),
        ),
        field(
            tr(locale, "当前状态", "目前狀態", "Status"),
            status_text(parts.status, locale),
        ),
        field(
            tr(locale, "提交日期", "提交日期", "Submitted on"),
            parts.submitted_on,
        ),
    ];
    if let Some(expected) = parts.expected_completion {
        fields.push(field(
            tr(locale, "预计办结", "預計辦結", "Expected by"),
            expected,
        ));
    }
    let mut notes = Vec::new();
    if !parts.missing.is_empty() {
        notes.push(tr(locale, "尚缺材料：", "尚缺材料：", "Still missing:"));
        notes.extend(
            parts
                .missing
                .iter()
                .map(|m| format!("· {}", m.for_locale(locale))),
        );
        notes.push(tr(
            locale,
            "请在工作日携带上述材料和本单到服务窗口补交。",
            "請在工作日攜帶上述材料和本單到服務窗口補交。",
            "Please bring these materials and this slip to a service counter on a working day.",
        ));
    }
    if parts.status == ApplicationStatus::Rejected {
        notes.push(tr(
            locale,
            "如有疑问，请咨询服务窗口或拨打 12345 政务服务热线。",
            "如有疑問，請諮詢服務窗口或撥打 12345 政務服務熱線。",
            "For questions, ask at a service counter or call the 12345 hotline.",
        ));
    }
    notes.push(informational_note(locale));
    PrintableDocument {
        title: tr(locale, "办件进度", "辦件進度", "Application Progress"),
        subtitle: Some(parts.service_name.for_locale(locale).to_owned()),
        issuer: service_centre(locale),
        fields,
        table: Some(Table {
            caption: Some(tr(locale, "办理环节", "辦理環節", "Steps")),
            headers: vec![
                tr(locale, "环节", "環節", "Step"),
                tr(locale, "状态", "狀態", "State"),
                tr(locale, "日期", "日期", "Date"),
            ],
            rows: parts
                .steps
                .iter()
                .map(|s| {
                    vec![
                        s.name.for_locale(locale).to_owned(),
                        step_state_text(s.state, locale),
                        s.date.clone().unwrap_or_else(|| "—".into()),
                    ]
                })
                .collect(),
        }),
        notes,
        verification_code: parts.application_number.to_owned(),
        verification_label: tr(locale, "申请号", "申請號", "Application No."),
        qr_payload: parts.application_number.to_owned(),
        issued_at: printed_at.to_owned(),
    }
}

/// A resident's list of applications for the generic certificate layout.
pub fn applications_document(
    resident: &ResidentRow,
    applications: &[ApplicationSummary],
    locale: Locale,
    printed_at: &str,
) -> PrintableDocument {
    let mut notes = Vec::new();
    if applications.is_empty() {
        notes.push(tr(
            locale,
            "暂无办件记录。",
            "暫無辦件紀錄。",
            "No applications on record.",
        ));
    } else {
        notes.push(tr(
            locale,
            "凭申请号可在自助终端查询每一件的办理环节和所缺材料。",
            "憑申請號可在自助終端查詢每一件的辦理環節和所缺材料。",
            "Look up an application number at a kiosk for its steps and missing materials.",
        ));
    }
    notes.push(informational_note(locale));
    let count = applications.len();
    PrintableDocument {
        title: tr(locale, "我的办件", "我的辦件", "My Applications"),
        subtitle: None,
        issuer: service_centre(locale),
        fields: vec![
            field(tr(locale, "姓名", "姓名", "Name"), resident.name.clone()),
            field(
                tr(locale, "公民身份号码", "公民身分號碼", "Citizen ID number"),
                crate::wire::mask_id_number(&resident.id_number),
            ),
        ],
        table: Some(Table {
            caption: None,
            headers: vec![
                tr(locale, "申请号", "申請號", "Application No."),
                tr(locale, "办理事项", "辦理事項", "Service"),
                tr(locale, "状态", "狀態", "Status"),
                tr(locale, "更新日期", "更新日期", "Updated"),
            ],
            rows: applications
                .iter()
                .map(|a| {
                    vec![
                        a.application_number.clone(),
                        a.service_name.for_locale(locale).to_owned(),
                        status_text(a.status, locale),
                        a.updated_on.clone(),
                    ]
                })
                .collect(),
        }),
        notes,
        verification_code: match locale {
            Locale::EnUs => format!("{count}"),
            Locale::ZhCn | Locale::ZhTw => format!("{count} 件"),
        },
        verification_label: tr(locale, "共计", "共計", "Applications"),
        qr_payload: if applications.is_empty() {
            "0".into()
        } else {
            applications
                .iter()
                .map(|a| a.application_number.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        },
        issued_at: printed_at.to_owned(),
    }
}

// ---------------------------------------------------------------- origin form

fn form_box(label: &str, text: impl Into<String>) -> FormBox {
    FormBox {
        label: label.to_owned(),
        text: text.into(),
    }
}

/// The boxes of an approved certificate of origin (RCEP Annex 3A layout),
/// carrying the signed document's verification code and QR.
pub fn origin_form(
    form: &OriginForm<'_>,
    producer: &str,
    invoice: &str,
    signed: &PrintableDocument,
) -> OriginCertificateForm {
    let s = form.summary;
    let certificate_number = s.certificate_number.clone().unwrap_or_default();
    let approved_on = s.approved_on.clone().unwrap_or_default();
    OriginCertificateForm {
        title: format!("{} / {}", s.form_name.zh_cn, s.form_name.en_us),
        subtitle: Some(format!("{} · No. {certificate_number}", s.agreement)),
        certificate_no: form_box("证书编号 Certificate No.", certificate_number.clone()),
        issued_in: form_box(
            "签发国 Issued in",
            "中华人民共和国 The People's Republic of China",
        ),
        exporter: form_box(
            "1. 出口商名称、地址、国家 Exporter's name, address and country",
            format!(
                "{} ({})\n{}\nCHINA",
                s.exporter_name, s.exporter_code, form.exporter_address
            ),
        ),
        producer: form_box(
            "2. 生产商名称、地址、国家 Producer's name, address and country",
            producer,
        ),
        importer: form_box(
            "3. 进口商或收货人 Importer's or consignee's name, address and country",
            form.consignee,
        ),
        transport: form_box(
            "4. 运输方式及路线 Means of transport and route",
            form.transport,
        ),
        official_use: form_box("5. 供官方使用 For official use", ""),
        item_headers: [
            "6. 项目号 Item",
            "7. 唛头 Marks",
            "8. 货物描述 Description",
            "9. HS",
            "10. 原产地标准 Criterion",
            "11. 原产国 Origin",
            "12. 数量 Quantity",
            "13. 发票 Invoice",
        ]
        .map(str::to_owned)
        .to_vec(),
        items: form
            .goods
            .iter()
            .enumerate()
            .map(|(i, [hs, description, quantity, criterion])| {
                vec![
                    (i + 1).to_string(),
                    "N/M".to_owned(),
                    description.clone(),
                    hs.clone(),
                    criterion.clone(),
                    "CHINA".to_owned(),
                    quantity.clone(),
                    invoice.to_owned(),
                ]
            })
            .collect(),
        remarks: form_box(
            "14. 备注 Remarks",
            format!("申请号 Application No. {}", s.application_number),
        ),
        declaration: form_box(
            "15. 出口商声明 Declaration by the exporter",
            format!(
                "兹声明上述内容正确，所列货物原产于中国，符合{agreement}原产地规则。\nThe undersigned declares that the above details are correct and that the goods originate in CHINA under the rules of origin of the {agreement}.\n{}\n{approved_on}",
                s.exporter_name,
                agreement = s.agreement,
            ),
        ),
        certification: form_box(
            "16. 证明 Certification",
            format!(
                "兹证明出口商声明正确。\nIt is hereby certified that the declaration by the exporter is correct.\n中华人民共和国海关 Customs of the People's Republic of China\n{approved_on}"
            ),
        ),
        verification_code: signed.verification_code.clone(),
        verification_label: signed.verification_label.clone(),
        qr_payload: signed.qr_payload.clone(),
    }
}

/// The application a submission just received opens, so that its receipt
/// number works in the progress inquiry and the resident's list.
pub fn submitted_application(
    receipt_number: &str,
    service_name: &LocalizedText,
    applicant_id_number: &str,
    today: &str,
) -> ApplicationRecord {
    let step = |zh_cn: &str, zh_tw: &str, en_us: &str, state, date: Option<&str>| ProgressStep {
        name: LocalizedText::new(zh_cn, zh_tw, en_us),
        state,
        date: date.map(str::to_owned),
    };
    let steps = vec![
        step("提交", "提交", "Submitted", StepState::Done, Some(today)),
        step(
            "受理",
            "受理",
            "Acceptance",
            StepState::Current,
            Some(today),
        ),
        step("审核", "審核", "Review", StepState::Pending, None),
        step("办结", "辦結", "Completed", StepState::Pending, None),
    ];
    ApplicationRecord {
        application_number: receipt_number.to_owned(),
        service_name: service_name.clone(),
        status: ApplicationStatus::Submitted,
        submitted_on: today.to_owned(),
        expected_completion: None,
        steps,
        missing: vec![],
        applicant_id_number: Some(applicant_id_number.to_owned()),
    }
}
