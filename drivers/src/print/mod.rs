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

pub mod cli;
mod decode;
mod document;
pub mod emulator;
mod encode;
mod error;
mod journal;
mod layout;
pub mod layouts;
mod printer;
mod raster;
pub mod samples;
mod status;
mod transport;

pub use decode::{Decoded, Decoder, StreamEvent, decode};
pub use document::{Align, Block, Document, FormBox, KeyValue, RuleStyle, TextSize, TextStyle};
pub use encode::{
    EncodeOptions, EncodedJob, QrMode, TextLine, TextReceipt, encode, encode_text_receipt,
};
pub use error::PrintError;
pub use journal::{Begin, JobRecord, JobState, PrintJournal};
pub use layout::{
    DOTS_PER_MM, GLYPH_CACHE_LIMIT, Typesetter, WIDTH_58MM, WIDTH_80MM, WIDTH_A4, dither_png,
    render, with_typesetter,
};
pub use printer::{PrintOutcome, Printer, PrinterConfig, Progress, SendReport};
pub use raster::{Page, QrRegion, Raster, Rendered, stack_pages};
pub use status::{PrinterStatus, StatusWarning, is_dle_eot_reply};
pub use transport::PrinterUri;
