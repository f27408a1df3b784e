//! Printing: documents as data, laid out with a real CJK font for 58 mm, 80 mm and
//! A4-wide thermal paper, rendered to 1-bit rasters, encoded as ESC/POS, and sent
//! through a transport chosen by a printer URI, with status checks before and after
//! every job and a durable journal so a certificate prints at most once.
//!
//! The pieces, in pipeline order:
//! [`Document`] → [`layouts`] builders → [`render`] ([`Typesetter`]) → [`Rendered`]
//! → [`encode`] ([`EncodeOptions`]) → [`Printer`] over a [`PrinterUri`] transport,
//! recorded in a [`PrintJournal`]. [`decode`] reads ESC/POS back into images (the
//! file sink, the [`emulator`] and tests share it).

mod document;
mod error;
mod layout;
pub mod layouts;
mod raster;
pub mod samples;

pub use document::{Align, Block, Document, FormBox, KeyValue, RuleStyle, TextSize, TextStyle};
pub use error::PrintError;
pub use layout::{
    DOTS_PER_MM, Typesetter, WIDTH_58MM, WIDTH_80MM, WIDTH_A4, dither_png, render, with_typesetter,
};
pub use raster::{Page, QrRegion, Raster, Rendered, stack_pages};
