//! The document model: what to print, as data. Documents are built by the layout
//! builders in [`super::layouts`] or arrive as JSON; they know nothing of paper width.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A printable document: a column of blocks laid out top to bottom.
///
/// `Debug` shows only the shape of the document, never its text: documents carry
/// names and ID numbers.
#[derive(Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Document {
    pub blocks: Vec<Block>,
    /// Longest paper a page may use before the layout starts a new page (and the
    /// printer cuts). `None` prints one continuous strip per [`Block::PageBreak`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page_length_mm: Option<u32>,
}

impl fmt::Debug for Document {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("blocks", &self.blocks.len())
            .field("page_length_mm", &self.page_length_mm)
            .finish()
    }
}

impl Document {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, block: Block) -> &mut Self {
        self.blocks.push(block);
        self
    }

    pub fn from_json(json: &str) -> Result<Self, super::PrintError> {
        serde_json::from_str(json)
            .map_err(|error| super::PrintError::InvalidDocument(error.to_string()))
    }

    pub fn to_json(&self) -> String {
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// One element of a document.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Block {
    /// Large centred bold heading, with an optional smaller line under it.
    Title {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        subtitle: Option<String>,
    },
    /// A section heading: bold, left aligned.
    Heading { text: String },
    /// Running text, wrapped to the paper width. `\n` starts a new line.
    Paragraph {
        text: String,
        #[serde(default)]
        style: TextStyle,
    },
    /// Label/value rows: labels in a column sized to the longest label, values wrapped.
    KeyValues { rows: Vec<KeyValue> },
    /// A ruled table. `weights` (one per column) fixes relative column widths;
    /// without it columns are sized to their content.
    Table {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        headers: Vec<String>,
        rows: Vec<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<u32>>,
        #[serde(default)]
        small: bool,
    },
    /// A row of bordered form boxes (as on an origin certificate): each box has a
    /// small numbered label and a body. Consecutive rows share their borders.
    Boxes {
        cells: Vec<FormBox>,
        #[serde(default)]
        min_height_mm: u32,
    },
    /// A QR code, centred, with an optional caption under it.
    Qr {
        payload: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        caption: Option<String>,
        /// Dots per QR module; `None` picks one for the paper width.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        module_dots: Option<u32>,
    },
    /// A PNG picture (logo, seal, photo), dithered to black and white.
    Image {
        png_base64: String,
        /// Printed width in millimetres; `None` keeps the image's own size at 203 dpi.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        width_mm: Option<u32>,
        #[serde(default)]
        align: Align,
    },
    /// A horizontal line across the paper.
    Rule {
        #[serde(default)]
        style: RuleStyle,
    },
    /// Blank paper.
    Spacing { mm: u32 },
    /// End the current page here (the printer cuts).
    PageBreak,
}

impl fmt::Debug for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Only the kind: block text is personal data.
        let kind = match self {
            Block::Title { .. } => "Title",
            Block::Heading { .. } => "Heading",
            Block::Paragraph { .. } => "Paragraph",
            Block::KeyValues { .. } => "KeyValues",
            Block::Table { .. } => "Table",
            Block::Boxes { .. } => "Boxes",
            Block::Qr { .. } => "Qr",
            Block::Image { .. } => "Image",
            Block::Rule { .. } => "Rule",
            Block::Spacing { .. } => "Spacing",
            Block::PageBreak => "PageBreak",
        };
        f.write_str(kind)
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    pub label: String,
    pub value: String,
}

impl KeyValue {
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            value: value.into(),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormBox {
    pub label: String,
    #[serde(default)]
    pub text: String,
    /// Relative width within the row.
    #[serde(default = "one")]
    pub weight: u32,
}

fn one() -> u32 {
    1
}

impl FormBox {
    pub fn new(label: impl Into<String>, text: impl Into<String>, weight: u32) -> Self {
        Self {
            label: label.into(),
            text: text.into(),
            weight,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TextStyle {
    #[serde(default)]
    pub size: TextSize,
    #[serde(default)]
    pub bold: bool,
    #[serde(default)]
    pub align: Align,
}

impl TextStyle {
    pub const NORMAL: TextStyle = TextStyle {
        size: TextSize::Normal,
        bold: false,
        align: Align::Left,
    };

    pub fn small() -> Self {
        Self {
            size: TextSize::Small,
            ..Self::NORMAL
        }
    }
    pub fn centered(self) -> Self {
        Self {
            align: Align::Center,
            ..self
        }
    }
    pub fn bold(self) -> Self {
        Self { bold: true, ..self }
    }
    pub fn sized(self, size: TextSize) -> Self {
        Self { size, ..self }
    }
}

/// Text sizes relative to the paper's body size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TextSize {
    Small,
    #[default]
    Normal,
    Large,
    Huge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    #[default]
    Left,
    Center,
    Right,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum RuleStyle {
    #[default]
    Solid,
    Dashed,
    Double,
}
