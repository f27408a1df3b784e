//! Printable documents the central service issues, with labels in the
//! resident's language, and their signatures.

use base64::Engine;
use ed25519_dalek::{Signer, SigningKey};
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

use super::error::ApiError;
use crate::wire::{
    Field, Gender, Locale, LocalizedText, Period, PrintableDocument, QrPayload, Table,
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

pub struct ResidentRow {
    pub card_number: String,
    pub id_number: String,
    pub name: String,
    pub gender: Gender,
    pub birth_date: String,
    pub address: String,
    pub household_head: String,
    pub relationship: LocalizedText,
}

pub fn load_resident(
    conn: &Connection,
    card_number: &str,
) -> Result<Option<ResidentRow>, ApiError> {
    let row = conn
        .query_row(
            "SELECT card_number, id_number, name, gender, birth_date, address, household_head,
                    relationship_json
             FROM residents WHERE card_number = ?1",
            params![card_number],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, String>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            },
        )
        .optional()?;
    let Some((
        card_number,
        id_number,
        name,
        gender,
        birth_date,
        address,
        household_head,
        relationship,
    )) = row
    else {
        return Ok(None);
    };
    Ok(Some(ResidentRow {
        card_number,
        id_number,
        name,
        gender: if gender == "F" {
            Gender::Female
        } else {
            Gender::Male
        },
        birth_date,
        address,
        household_head,
        relationship: serde_json::from_str(&relationship)?,
    }))
}

pub struct ContributionRow {
    pub month: String,
    pub employer: String,
    pub base_cents: i64,
    pub personal_cents: i64,
    pub employer_cents: i64,
}

pub fn load_contributions(
    conn: &Connection,
    id_number: &str,
    period: &Period,
) -> Result<Vec<ContributionRow>, ApiError> {
    let mut stmt = conn.prepare_cached(
        "SELECT month, employer, base_cents, personal_cents, employer_cents FROM contributions
         WHERE id_number = ?1 AND month BETWEEN ?2 AND ?3 ORDER BY month",
    )?;
    let rows = stmt
        .query_map(params![id_number, period.from, period.to], |r| {
            Ok(ContributionRow {
                month: r.get(0)?,
                employer: r.get(1)?,
                base_cents: r.get(2)?,
                personal_cents: r.get(3)?,
                employer_cents: r.get(4)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn has_contributions(conn: &Connection, id_number: &str) -> Result<bool, ApiError> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM contributions WHERE id_number = ?1",
        params![id_number],
        |r| r.get(0),
    )?;
    Ok(n > 0)
}

fn month_index(yyyy_mm: &str) -> Option<i32> {
    let (y, m) = yyyy_mm.split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let y: i32 = y.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    (1..=12).contains(&m).then_some(y * 12 + m - 1)
}

fn month_text(index: i32) -> String {
    format!("{:04}-{:02}", index / 12, index % 12 + 1)
}

/// Checks a requested period, or makes the default one: the 12 months before `now`.
pub fn resolve_period(period: Option<&Period>, now: OffsetDateTime) -> Result<Period, ApiError> {
    const MAX_MONTHS: i32 = 120;
    match period {
        None => {
            let current = now.year() * 12 + i32::from(u8::from(now.month())) - 1;
            Ok(Period {
                from: month_text(current - 12),
                to: month_text(current - 1),
            })
        }
        Some(p) => {
            let (Some(from), Some(to)) = (month_index(&p.from), month_index(&p.to)) else {
                return Err(ApiError::validation("period months must be YYYY-MM"));
            };
            if from > to || to - from >= MAX_MONTHS {
                return Err(ApiError::validation(
                    "period must run forwards and span at most 120 months",
                ));
            }
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
        verification_code: certificate_number.to_owned(),
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

/// A fresh verification code: 12 characters of Crockford base32 (60 random
/// bits), grouped for reading aloud: "7KQ2-M9XD-4HTR".
pub fn new_verification_code() -> String {
    use rand::Rng;
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut rng = rand::thread_rng();
    let chars: Vec<char> = (0..12)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Normalises a typed-in code: upper case, no spaces, Crockford look-alikes mapped.
pub fn normalize_verification_code(code: &str) -> String {
    code.trim()
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect()
}
