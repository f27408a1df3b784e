//! Documents of a visit, ready to show and print: the printing driver's document,
//! the picture of its paper, and what the session needs to know about it. Their
//! text is personal data: it is overwritten when the document is dropped.

use std::sync::Arc;

use estation_drivers::print::{Block, Document};
use zeroize::Zeroize;

use crate::i18n::Locale;
use crate::ops::bundle::ConfigBundle;
use crate::session::{DocKind, DocumentSummary};

pub struct ReadyDocument {
    pub summary: DocumentSummary,
    pub document: Document,
    pub preview: Arc<image::GrayImage>,
}

impl std::fmt::Debug for ReadyDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadyDocument")
            .field("kind", &self.summary.kind)
            .finish_non_exhaustive()
    }
}

impl ReadyDocument {
    pub fn kind(&self) -> DocKind {
        self.summary.kind
    }
}

impl Drop for ReadyDocument {
    fn drop(&mut self) {
        scrub(&mut self.document);
    }
}

/// Closes a document with the station's name, the bundle's footer and help
/// line, small and centred under a rule, in the resident's language.
pub fn add_branding(document: &mut Document, bundle: &ConfigBundle, locale: Locale) {
    use estation_drivers::print::TextStyle;
    let tag = locale.tag();
    let mut lines = vec![bundle.station_name.get(tag).to_owned()];
    if let Some(footer) = &bundle.branding.receipt_footer {
        lines.push(footer.get(tag).to_owned());
    }
    // The help line is printed unless the footer already names the number.
    if let Some(phone) = &bundle.branding.help_phone
        && !lines.iter().any(|line| line.contains(phone.as_str()))
    {
        lines.push(format!("☎ {phone}"));
    }
    lines.retain(|line| !line.trim().is_empty());
    if lines.is_empty() {
        return;
    }
    document.blocks.push(Block::Rule {
        style: Default::default(),
    });
    document.blocks.push(Block::Paragraph {
        text: lines.join("\n"),
        style: TextStyle::small().centered(),
    });
}

/// Overwrites every text a document carries.
pub fn scrub(document: &mut Document) {
    for block in &mut document.blocks {
        match block {
            Block::Title { text, subtitle } => {
                text.zeroize();
                subtitle.zeroize();
            }
            Block::Heading { text } | Block::Paragraph { text, .. } => text.zeroize(),
            Block::KeyValues { rows } => {
                for row in rows {
                    row.label.zeroize();
                    row.value.zeroize();
                }
            }
            Block::Table {
                caption,
                headers,
                rows,
                ..
            } => {
                caption.zeroize();
                headers.zeroize();
                for row in rows {
                    row.zeroize();
                }
            }
            Block::Boxes { cells, .. } => {
                for cell in cells {
                    cell.label.zeroize();
                    cell.text.zeroize();
                }
            }
            Block::Qr {
                payload, caption, ..
            } => {
                payload.zeroize();
                caption.zeroize();
            }
            Block::Image { .. } | Block::Rule { .. } | Block::Spacing { .. } | Block::PageBreak => {
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use estation_drivers::print::KeyValue;

    #[test]
    fn scrub_blanks_every_text() {
        let mut document = Document::new();
        document.push(Block::Title {
            text: "证明".into(),
            subtitle: Some("张三".into()),
        });
        document.push(Block::KeyValues {
            rows: vec![KeyValue::new("姓名", "张三")],
        });
        document.push(Block::Table {
            caption: None,
            headers: vec!["a".into()],
            rows: vec![vec!["110101195001011234".into()]],
            weights: None,
            small: false,
        });
        scrub(&mut document);
        let json = document.to_json();
        assert!(!json.contains("张三"), "{json}");
        assert!(!json.contains("110101"), "{json}");
    }
}
