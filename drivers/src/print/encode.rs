//! ESC/POS encoding: rendered pages become raster bands a printer's receive buffer
//! can take, optionally with native `GS ( k` QR codes; plain receipts become
//! GB18030 text in Chinese mode.
//!
//! The `escpos` crate builds the standard commands (initialise, justification,
//! QR, cut, GB18030 text). The raster bands (`GS v 0`) and dot feeds (`ESC J`) are
//! written here: the crate's bit-image path wants an encoded picture file and
//! thresholds it itself, while we already hold a dithered 1-bit raster and must cut
//! it into bands of a known size.

use super::PrintError;
use super::document::Align;
use super::raster::{QrRegion, Rendered};
use escpos::driver::Driver;
use escpos::printer::Printer;
use escpos::utils::{
    Encoder, JustifyMode, Protocol, QRCodeCorrectionLevel, QRCodeModel, QRCodeOption,
};
use std::cell::RefCell;
use std::rc::Rc;

/// How QR codes reach the paper.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum QrMode {
    /// As part of the page raster (works on every printer).
    #[default]
    Raster,
    /// As the printer's own `GS ( k` QR command, at the same module size.
    Native,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Largest raster band in bytes; many printers have a 4 KiB receive buffer.
    pub max_band_bytes: usize,
    pub qr: QrMode,
    /// Cut after each page.
    pub cut: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            max_band_bytes: 4096,
            qr: QrMode::Raster,
            cut: true,
        }
    }
}

/// Bytes for a printer, split into chunks (one raster band, QR or cut each) so the
/// sender can report progress and check status between them.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedJob {
    pub bytes: Vec<u8>,
    /// End offset of each chunk in `bytes`.
    pub chunk_ends: Vec<usize>,
    pub pages: usize,
}

impl std::fmt::Debug for EncodedJob {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedJob")
            .field("bytes", &self.bytes.len())
            .field("chunks", &self.chunk_ends.len())
            .field("pages", &self.pages)
            .finish()
    }
}

impl EncodedJob {
    pub fn chunks(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.chunk_ends.iter().map(move |&end| {
            let chunk = &self.bytes[start..end];
            start = end;
            chunk
        })
    }
}

/// Collects what `escpos` writes.
#[derive(Clone, Default)]
struct Collect(Rc<RefCell<Vec<u8>>>);

impl Driver for Collect {
    fn name(&self) -> String {
        "collect".to_owned()
    }
    fn write(&self, data: &[u8]) -> escpos::errors::Result<()> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(())
    }
    fn read(&self, _buf: &mut [u8]) -> escpos::errors::Result<usize> {
        Ok(0)
    }
    fn flush(&self) -> escpos::errors::Result<()> {
        Ok(())
    }
}

struct JobWriter {
    printer: Printer<Collect>,
    sink: Collect,
    job: EncodedJob,
}

impl JobWriter {
    fn new(protocol: Protocol) -> Self {
        let sink = Collect::default();
        let printer = Printer::new(sink.clone(), protocol, None);
        Self {
            printer,
            sink,
            job: EncodedJob {
                bytes: Vec::new(),
                chunk_ends: Vec::new(),
                pages: 0,
            },
        }
    }

    /// Runs escpos commands and ends the chunk.
    fn with(
        &mut self,
        build: impl FnOnce(&mut Printer<Collect>) -> escpos::errors::Result<&mut Printer<Collect>>,
    ) -> Result<(), PrintError> {
        build(&mut self.printer)
            .and_then(|printer| printer.print())
            .map_err(|error| PrintError::Encoding(error.to_string()))?;
        let bytes = std::mem::take(&mut *self.sink.0.borrow_mut());
        self.raw(&bytes);
        Ok(())
    }

    /// Appends bytes to the current chunk.
    fn raw(&mut self, bytes: &[u8]) {
        self.job.bytes.extend_from_slice(bytes);
    }

    fn end_chunk(&mut self) {
        if self.job.chunk_ends.last() != Some(&self.job.bytes.len()) {
            self.job.chunk_ends.push(self.job.bytes.len());
        }
    }

    fn finish(mut self) -> EncodedJob {
        self.end_chunk();
        self.job
    }
}

/// Blank rows at least this long are sent as a paper feed instead of raster.
const MIN_FEED_ROWS: u32 = 16;

/// Encodes rendered pages as ESC/POS.
pub fn encode(rendered: &Rendered, options: &EncodeOptions) -> Result<EncodedJob, PrintError> {
    let mut writer = JobWriter::new(Protocol::default());
    writer.with(|printer| printer.init())?;
    writer.end_chunk();
    for page in &rendered.pages {
        let raster = &page.raster;
        let stride = raster.stride().max(1);
        let band_rows = (options.max_band_bytes / stride).clamp(1, 2047) as u32;
        let native: Vec<&QrRegion> = if options.qr == QrMode::Native {
            page.qr_regions.iter().collect()
        } else {
            Vec::new()
        };
        let mut y = 0;
        while y < raster.height() {
            if let Some(region) = native.iter().find(|region| region.top == y) {
                writer.with(|printer| {
                    let option = QRCodeOption::new(
                        QRCodeModel::Model2,
                        region.module_dots.min(15) as u8,
                        QRCodeCorrectionLevel::M,
                    );
                    printer
                        .justify(JustifyMode::CENTER)?
                        .qrcode_option(&region.payload, option)?
                        .justify(JustifyMode::LEFT)
                })?;
                writer.end_chunk();
                y += region.height;
                continue;
            }
            let blank = (y..raster.height())
                .take_while(|&row| raster.is_row_blank(row))
                .count() as u32;
            let next_qr = native
                .iter()
                .map(|region| region.top)
                .filter(|&top| top > y)
                .min();
            if blank >= MIN_FEED_ROWS || (blank > 0 && next_qr == Some(y + blank)) {
                let blank = next_qr.map_or(blank, |top| blank.min(top - y));
                let mut remaining = blank;
                while remaining > 0 {
                    let step = remaining.min(255);
                    writer.raw(&[0x1B, b'J', step as u8]);
                    remaining -= step;
                }
                y += blank;
                continue;
            }
            // A band stops at a long blank stretch or a native QR code.
            let mut end = (y + band_rows).min(raster.height());
            if let Some(top) = next_qr {
                end = end.min(top);
            }
            let mut blank_run = 0;
            for row in y..end {
                blank_run = if raster.is_row_blank(row) {
                    blank_run + 1
                } else {
                    0
                };
                if blank_run >= MIN_FEED_ROWS {
                    end = row + 1 - blank_run;
                    break;
                }
            }
            writer.raw(&raster_band_command(
                raster.stride(),
                &raster.data()[y as usize * stride..end as usize * stride],
            ));
            writer.end_chunk();
            y = end;
        }
        if options.cut {
            writer.with(|printer| printer.cut())?;
        }
        writer.end_chunk();
        writer.job.pages += 1;
    }
    Ok(writer.finish())
}

/// `GS v 0 0 xL xH yL yH d1...dk`: print a raster band, normal density.
fn raster_band_command(stride: usize, rows: &[u8]) -> Vec<u8> {
    let height = rows.len() / stride.max(1);
    let mut command = Vec::with_capacity(8 + rows.len());
    command.extend_from_slice(&[0x1D, b'v', b'0', 0]);
    command.extend_from_slice(&(stride as u16).to_le_bytes());
    command.extend_from_slice(&(height as u16).to_le_bytes());
    command.extend_from_slice(rows);
    command
}

/// A plain-text receipt, printed with the printer's own GB18030 font.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TextReceipt {
    pub lines: Vec<TextLine>,
    pub cut: bool,
}

impl std::fmt::Debug for TextReceipt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextReceipt")
            .field("lines", &self.lines.len())
            .finish()
    }
}

#[derive(Clone, PartialEq, Eq, Default)]
pub struct TextLine {
    pub text: String,
    pub align: Align,
    pub bold: bool,
    /// Double width and height.
    pub double: bool,
}

impl TextLine {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }
}

/// `FS &`: select Chinese character mode (two-byte GB18030 characters).
const FS_CHINESE_ON: [u8; 2] = [0x1C, b'&'];
/// `FS .`: cancel Chinese character mode.
const FS_CHINESE_OFF: [u8; 2] = [0x1C, b'.'];

/// Encodes a text receipt in GB18030 Chinese mode. Fails on characters GB18030
/// cannot carry (it carries all of Unicode, so in practice never).
pub fn encode_text_receipt(receipt: &TextReceipt) -> Result<EncodedJob, PrintError> {
    let mut writer = JobWriter::new(Protocol::new(Encoder::new(encoding_rs::GB18030)));
    writer.with(|printer| printer.init())?;
    writer.raw(&FS_CHINESE_ON);
    writer.end_chunk();
    for line in &receipt.lines {
        let justify = match line.align {
            Align::Left => JustifyMode::LEFT,
            Align::Center => JustifyMode::CENTER,
            Align::Right => JustifyMode::RIGHT,
        };
        let size = if line.double { 2 } else { 1 };
        writer.with(|printer| {
            printer
                .justify(justify)?
                .bold(line.bold)?
                .size(size, size)?
                .writeln(&line.text)?
                .reset_size()?
                .bold(false)
        })?;
        writer.end_chunk();
    }
    writer.raw(&FS_CHINESE_OFF);
    writer.with(|printer| printer.justify(JustifyMode::LEFT))?;
    if receipt.cut {
        writer.with(|printer| printer.feeds(3)?.cut())?;
    }
    writer.job.pages = 1;
    Ok(writer.finish())
}
