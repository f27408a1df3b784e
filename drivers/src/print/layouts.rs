//! Builders for the documents a kiosk prints. They take plain data whose labels the
//! caller supplies (the kiosk and the central service own the words and the locale)
//! and return a [`Document`].

use super::document::{Align, Block, Document, FormBox, KeyValue, RuleStyle, TextSize, TextStyle};
use base64::Engine as _;
use serde::{Deserialize, Serialize};

/// A certificate as the central service issues it: social insurance payment
/// certificates, household registration proofs and the like are all this shape.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct CertificateContent {
    pub title: String,
    #[serde(default)]
    pub subtitle: Option<String>,
    pub issuer: String,
    /// (label, value) pairs, in order.
    pub fields: Vec<(String, String)>,
    #[serde(default)]
    pub table: Option<TableContent>,
    #[serde(default)]
    pub notes: Vec<String>,
    pub verification_code: String,
    pub verification_label: String,
    pub qr_payload: String,
    pub issued_at: String,
}

impl std::fmt::Debug for CertificateContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Field values are personal data.
        f.debug_struct("CertificateContent")
            .field("fields", &self.fields.len())
            .field(
                "table_rows",
                &self.table.as_ref().map(|table| table.rows.len()),
            )
            .finish_non_exhaustive()
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableContent {
    #[serde(default)]
    pub caption: Option<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Lays out a certificate: title, fields, table, notes, then the verification code
/// as text and as a QR code, and the issuer with the issue time.
pub fn certificate(content: &CertificateContent) -> Document {
    let mut document = Document::new();
    document.push(Block::Title {
        text: content.title.clone(),
        subtitle: content.subtitle.clone(),
    });
    document.push(Block::Rule {
        style: RuleStyle::Double,
    });
    if !content.fields.is_empty() {
        document.push(Block::KeyValues {
            rows: content
                .fields
                .iter()
                .map(|(label, value)| KeyValue::new(label, value))
                .collect(),
        });
    }
    if let Some(table) = &content.table {
        document.push(Block::Spacing { mm: 1 });
        document.push(Block::Table {
            caption: table.caption.clone(),
            headers: table.headers.clone(),
            rows: table.rows.clone(),
            weights: None,
            small: table.headers.len() > 4,
        });
    }
    if !content.notes.is_empty() {
        document.push(Block::Spacing { mm: 1 });
    }
    for note in &content.notes {
        document.push(Block::Paragraph {
            text: note.clone(),
            style: TextStyle::small(),
        });
    }
    document.push(Block::Rule {
        style: RuleStyle::Dashed,
    });
    push_verification(
        &mut document,
        &content.verification_label,
        &content.verification_code,
        &content.qr_payload,
    );
    document.push(Block::Paragraph {
        text: format!("{}\n{}", content.issuer, content.issued_at),
        style: TextStyle {
            align: Align::Right,
            ..TextStyle::NORMAL
        },
    });
    document
}

fn push_verification(document: &mut Document, label: &str, code: &str, qr_payload: &str) {
    document.push(Block::Qr {
        payload: qr_payload.to_owned(),
        caption: None,
        module_dots: None,
    });
    document.push(Block::Paragraph {
        text: format!("{label} {code}"),
        style: TextStyle::NORMAL.sized(TextSize::Large).bold().centered(),
    });
    document.push(Block::Spacing { mm: 2 });
}

/// A form box's label (usually numbered, e.g. "1. Exporter's name, address, country")
/// and the text written in it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct LabeledText {
    pub label: String,
    #[serde(default)]
    pub text: String,
}

impl LabeledText {
    pub fn new(label: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            text: text.into(),
        }
    }
    fn to_box(&self, weight: u32) -> FormBox {
        FormBox::new(&self.label, &self.text, weight)
    }
}

/// An RCEP certificate-of-origin form (the boxes of the agreement's Annex 3A form).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct OriginFormContent {
    pub title: String,
    #[serde(default)]
    pub subtitle: Option<String>,
    /// Certificate number box (label and number).
    pub certificate_no: LabeledText,
    /// "Issued in ..." box.
    pub issued_in: LabeledText,
    pub exporter: LabeledText,
    pub producer: LabeledText,
    pub importer: LabeledText,
    pub transport: LabeledText,
    pub official_use: LabeledText,
    /// Item table headers: item number, marks, packages and description, HS code,
    /// origin criterion, country of origin, quantity, invoice number and date.
    pub item_headers: Vec<String>,
    pub items: Vec<Vec<String>>,
    pub remarks: LabeledText,
    pub declaration: LabeledText,
    pub certification: LabeledText,
    pub verification_code: String,
    pub verification_label: String,
    pub qr_payload: String,
}

impl std::fmt::Debug for OriginFormContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OriginFormContent")
            .field("items", &self.items.len())
            .finish_non_exhaustive()
    }
}

/// Relative widths of the eight item columns of the RCEP form.
const ORIGIN_ITEM_WEIGHTS: [u32; 8] = [7, 10, 24, 9, 9, 9, 12, 14];

/// Lays out an RCEP origin form for A4-wide paper (it also fits 80 mm, cramped).
pub fn origin_form(content: &OriginFormContent) -> Document {
    let mut document = Document::new();
    document.page_length_mm = Some(297);
    document.push(Block::Title {
        text: content.title.clone(),
        subtitle: content.subtitle.clone(),
    });
    let boxes = |left: &LabeledText, right: &LabeledText, min_height_mm| Block::Boxes {
        cells: vec![left.to_box(3), right.to_box(2)],
        min_height_mm,
    };
    document.push(boxes(&content.exporter, &content.certificate_no, 22));
    document.push(boxes(&content.producer, &content.issued_in, 18));
    document.push(boxes(&content.importer, &content.official_use, 22));
    document.push(Block::Boxes {
        cells: vec![content.transport.to_box(1)],
        min_height_mm: 14,
    });
    let weights = (content.item_headers.len() == ORIGIN_ITEM_WEIGHTS.len())
        .then(|| ORIGIN_ITEM_WEIGHTS.to_vec());
    document.push(Block::Table {
        caption: None,
        headers: content.item_headers.clone(),
        rows: content.items.clone(),
        weights,
        small: true,
    });
    document.push(Block::Boxes {
        cells: vec![content.remarks.to_box(1)],
        min_height_mm: 12,
    });
    document.push(Block::Boxes {
        cells: vec![
            content.declaration.to_box(1),
            content.certification.to_box(1),
        ],
        min_height_mm: 45,
    });
    document.push(Block::Spacing { mm: 2 });
    push_verification(
        &mut document,
        &content.verification_label,
        &content.verification_code,
        &content.qr_payload,
    );
    document
}

/// A receipt for materials submitted at the kiosk.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct ReceiptContent {
    pub title: String,
    /// (label, value) rows: service, applicant, number of files, time, ...
    pub rows: Vec<(String, String)>,
    #[serde(default)]
    pub notes: Vec<String>,
    /// The reference number the resident quotes later.
    pub reference_label: String,
    pub reference: String,
    /// Where the resident can follow the application; printed as a QR code.
    #[serde(default)]
    pub qr_payload: Option<String>,
    #[serde(default)]
    pub footer: Option<String>,
}

impl std::fmt::Debug for ReceiptContent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiptContent")
            .field("rows", &self.rows.len())
            .finish_non_exhaustive()
    }
}

pub fn submission_receipt(content: &ReceiptContent) -> Document {
    let mut document = Document::new();
    document.push(Block::Title {
        text: content.title.clone(),
        subtitle: None,
    });
    document.push(Block::Paragraph {
        text: content.reference_label.clone(),
        style: TextStyle::NORMAL.centered(),
    });
    document.push(Block::Paragraph {
        text: content.reference.clone(),
        style: TextStyle::NORMAL.sized(TextSize::Huge).bold().centered(),
    });
    document.push(Block::Rule {
        style: RuleStyle::Dashed,
    });
    document.push(Block::KeyValues {
        rows: content
            .rows
            .iter()
            .map(|(label, value)| KeyValue::new(label, value))
            .collect(),
    });
    if !content.notes.is_empty() {
        document.push(Block::Spacing { mm: 1 });
    }
    for note in &content.notes {
        document.push(Block::Paragraph {
            text: note.clone(),
            style: TextStyle::small(),
        });
    }
    if let Some(payload) = &content.qr_payload {
        document.push(Block::Rule {
            style: RuleStyle::Dashed,
        });
        document.push(Block::Qr {
            payload: payload.clone(),
            caption: None,
            module_dots: None,
        });
    }
    if let Some(footer) = &content.footer {
        document.push(Block::Paragraph {
            text: footer.clone(),
            style: TextStyle::small().centered(),
        });
    }
    document
}

/// What a technician's test page reports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TestPageInfo {
    pub title: String,
    /// (label, value): kiosk id, printer URI, software version, time, status, ...
    pub rows: Vec<(String, String)>,
}

/// Sample text covering CJK (simplified and traditional), Latin, digits and
/// punctuation, to check shaping and line breaking on real paper.
const SAMPLE_TEXT: &str = "中文样张：永和九年，岁在癸丑。繁體樣張：臺灣、香港。\
The quick brown fox jumps over the lazy dog 0123456789 (ABC) @#%&.";

/// A technician's test page: facts, a dot ruler, a grey ramp (dithering), type
/// sizes, rules, a table and a QR code.
pub fn test_page(info: &TestPageInfo) -> Document {
    let mut document = Document::new();
    document.push(Block::Title {
        text: info.title.clone(),
        subtitle: None,
    });
    document.push(Block::KeyValues {
        rows: info
            .rows
            .iter()
            .map(|(label, value)| KeyValue::new(label, value))
            .collect(),
    });
    document.push(Block::Rule {
        style: RuleStyle::Solid,
    });
    document.push(Block::Image {
        png_base64: ruler_png(),
        width_mm: None,
        align: Align::Center,
    });
    document.push(Block::Image {
        png_base64: grey_ramp_png(),
        width_mm: None,
        align: Align::Center,
    });
    for size in [TextSize::Small, TextSize::Normal, TextSize::Large] {
        document.push(Block::Paragraph {
            text: SAMPLE_TEXT.to_owned(),
            style: TextStyle::NORMAL.sized(size),
        });
    }
    document.push(Block::Paragraph {
        text: "粗体 Bold 0123456789".to_owned(),
        style: TextStyle::NORMAL.sized(TextSize::Large).bold().centered(),
    });
    document.push(Block::Rule {
        style: RuleStyle::Dashed,
    });
    document.push(Block::Rule {
        style: RuleStyle::Double,
    });
    document.push(Block::Table {
        caption: None,
        headers: vec!["#".into(), "A".into(), "B".into()],
        rows: vec![
            vec!["1".into(), "左对齐 left".into(), "12.50".into()],
            vec![
                "2".into(),
                "换行测试 wrapping test of a longer cell".into(),
                "3.00".into(),
            ],
        ],
        weights: None,
        small: false,
    });
    document.push(Block::Qr {
        payload: "ESTATION TEST PAGE 0123456789".to_owned(),
        caption: Some("ESTATION TEST PAGE 0123456789".to_owned()),
        module_dots: None,
    });
    document
}

/// A ruler 45 mm wide (it fits 58 mm paper unscaled): a tick every 8 dots (1 mm),
/// long ticks every 10 mm, so missing dots or a skewed head show at once.
fn ruler_png() -> String {
    let (width, height) = (361u32, 40u32);
    let image = image::GrayImage::from_fn(width, height, |x, y| {
        let tick = if x.is_multiple_of(80) {
            height
        } else if x.is_multiple_of(40) {
            height * 2 / 3
        } else if x.is_multiple_of(8) {
            height / 3
        } else {
            0
        };
        let dark = (y < tick && x % 8 < 2) || y >= height - 2;
        image::Luma([if dark { 0 } else { 255 }])
    });
    png_base64(&image)
}

/// A grey ramp from white to black: shows the dithering.
fn grey_ramp_png() -> String {
    let (width, height) = (512u32, 48u32);
    let image = image::GrayImage::from_fn(width, height, |x, _| {
        image::Luma([255 - (x * 255 / (width - 1)) as u8])
    });
    png_base64(&image)
}

fn png_base64(image: &image::GrayImage) -> String {
    let mut bytes = Vec::new();
    // Encoding an in-memory grey image to PNG cannot fail short of allocation failure.
    let _ = image.write_to(
        &mut std::io::Cursor::new(&mut bytes),
        image::ImageFormat::Png,
    );
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
