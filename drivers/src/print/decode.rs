//! An ESC/POS decoder: reads a printer byte stream back into paper. The file sink,
//! the printer emulator and the tests share it, so what we check is what a printer
//! would have printed, not what we meant to send.
//!
//! It understands what the encoders emit (raster bands, feeds, cuts, QR codes,
//! text with styles and GB18030 Chinese mode, status requests) and skips the
//! parameters of other common commands so it never loses its place.

use super::document::Align;
use super::layout::with_typesetter;
use super::raster::{Raster, stack_pages};
use image::GrayImage;

/// What a stream printed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Decoded {
    /// One image per cut (the last page may be uncut).
    pub pages: Vec<GrayImage>,
    /// Text printed in text mode, one entry per line.
    pub text_lines: Vec<String>,
    /// Payloads of native (`GS ( k`) QR codes.
    pub qr_payloads: Vec<String>,
    pub cuts: usize,
    pub raster_bands: usize,
    /// Real-time status requests seen (`DLE EOT n` as n; `GS r n` as 0x100 + n).
    pub status_requests: Vec<u16>,
    /// Bytes that were not a known command.
    pub unknown_bytes: usize,
    /// True when the stream ended inside a command.
    pub truncated: bool,
}

impl Decoded {
    /// All pages stacked with cut marks (for previews and PNG files).
    pub fn paper_image(&self) -> GrayImage {
        let width = self.pages.iter().map(GrayImage::width).max().unwrap_or(8);
        stack_pages(width, self.pages.clone())
    }
}

/// Decodes a complete stream; `paper_width` is the dot width used for text mode
/// and native QR codes (raster bands carry their own width).
pub fn decode(bytes: &[u8], paper_width: u32) -> Decoded {
    let mut decoder = Decoder::new(paper_width);
    decoder.feed(bytes);
    decoder.finish()
}

/// Something a printer must answer at once or count, reported while streaming.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamEvent {
    /// `DLE EOT n`.
    RealTimeStatus(u8),
    /// `GS r n`.
    TransmitStatus(u8),
    RasterBand,
    Cut,
}

/// Incremental decoder: feed bytes as they arrive; commands split across reads
/// are kept until complete.
pub struct Decoder {
    paper_width: u32,
    pending: Vec<u8>,
    page: Raster,
    out: Decoded,
    style: Style,
    line: Vec<u8>,
    qr: QrState,
    /// A stopped printer (paper out) still answers status but prints nothing.
    stopped: bool,
}

#[derive(Clone, Copy)]
struct Style {
    align: Align,
    bold: bool,
    width_mult: u8,
    height_mult: u8,
    chinese: bool,
    line_spacing: u32,
}

impl Default for Style {
    fn default() -> Self {
        Self {
            align: Align::Left,
            bold: false,
            width_mult: 1,
            height_mult: 1,
            chinese: false,
            line_spacing: 30,
        }
    }
}

#[derive(Clone, Default)]
struct QrState {
    module: u8,
    data: Vec<u8>,
}

/// Result of looking at the start of the pending bytes.
enum Step {
    /// Need more bytes.
    Incomplete,
    /// Consumed this many bytes.
    Done(usize),
}

/// Largest raster a band may claim (4096 dots x 4096 rows); more is garbage.
const MAX_BAND_BYTES: usize = 512 * 4096;

impl Decoder {
    pub fn new(paper_width: u32) -> Self {
        let paper_width = paper_width.clamp(8, 4096);
        Self {
            paper_width,
            pending: Vec::new(),
            page: Raster::new(paper_width, 0),
            out: Decoded::default(),
            style: Style::default(),
            line: Vec::new(),
            qr: QrState {
                module: 3,
                data: Vec::new(),
            },
            stopped: false,
        }
    }

    /// While stopped, printing commands are consumed but leave no mark.
    pub fn set_stopped(&mut self, stopped: bool) {
        self.stopped = stopped;
    }

    /// Decodes what it can and returns the events in stream order.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<StreamEvent> {
        self.pending.extend_from_slice(bytes);
        let mut events = Vec::new();
        let mut offset = 0;
        while offset < self.pending.len()
            && let Step::Done(used) = self.step(offset, &mut events)
        {
            offset += used;
        }
        self.pending.drain(..offset);
        events
    }

    /// Ends the stream: flushes text and the last page.
    pub fn finish(mut self) -> Decoded {
        self.out.truncated = !self.pending.is_empty();
        self.flush_line();
        self.end_page();
        self.out
    }

    /// Takes everything decoded so far and starts afresh (keeps paper width).
    pub fn take(&mut self) -> Decoded {
        let decoder = std::mem::replace(self, Decoder::new(self.paper_width));
        decoder.finish()
    }

    fn step(&mut self, at: usize, events: &mut Vec<StreamEvent>) -> Step {
        let bytes = &self.pending[at..];
        let Some(&first) = bytes.first() else {
            return Step::Incomplete;
        };
        let need = |n: usize| {
            if bytes.len() < n {
                None
            } else {
                Some(&bytes[..n])
            }
        };
        match first {
            0x00 | 0x0D => Step::Done(1),
            0x0A => {
                self.flush_line_and_feed();
                Step::Done(1)
            }
            0x10 => {
                let Some(head) = need(2) else {
                    return Step::Incomplete;
                };
                match head[1] {
                    0x04 => {
                        let Some(command) = need(3) else {
                            return Step::Incomplete;
                        };
                        let n = command[2];
                        // n = 7, 8 and 18 carry one more byte.
                        let extra = usize::from(matches!(n, 7 | 8 | 18));
                        if need(3 + extra).is_none() {
                            return Step::Incomplete;
                        }
                        self.out.status_requests.push(u16::from(n));
                        events.push(StreamEvent::RealTimeStatus(n));
                        Step::Done(3 + extra)
                    }
                    0x05 => need(3).map_or(Step::Incomplete, |_| Step::Done(3)),
                    0x14 => need(5).map_or(Step::Incomplete, |_| Step::Done(5)),
                    _ => self.unknown(1),
                }
            }
            0x1B => self.esc(at, events),
            0x1D => self.gs(at, events),
            0x1C => {
                let Some(head) = need(2) else {
                    return Step::Incomplete;
                };
                match head[1] {
                    b'&' => {
                        self.style.chinese = true;
                        Step::Done(2)
                    }
                    b'.' => {
                        self.style.chinese = false;
                        Step::Done(2)
                    }
                    b'!' | b'-' | b'C' | b'W' | b'S' => {
                        need(3).map_or(Step::Incomplete, |_| Step::Done(3))
                    }
                    b'p' => need(4).map_or(Step::Incomplete, |_| Step::Done(4)),
                    _ => self.unknown(2),
                }
            }
            0x09 => {
                self.line.extend_from_slice(b"    ");
                Step::Done(1)
            }
            byte if byte >= 0x20 => {
                self.line.push(byte);
                Step::Done(1)
            }
            _ => self.unknown(1),
        }
    }

    fn unknown(&mut self, bytes: usize) -> Step {
        self.out.unknown_bytes += bytes;
        Step::Done(bytes)
    }

    fn esc(&mut self, at: usize, _events: &mut [StreamEvent]) -> Step {
        let bytes = &self.pending[at..];
        let Some(&command) = bytes.get(1) else {
            return Step::Incomplete;
        };
        let param = bytes.get(2).copied();
        let with_param = |decoder: &mut Self, apply: fn(&mut Self, u8)| match param {
            Some(n) => {
                apply(decoder, n);
                Step::Done(3)
            }
            None => Step::Incomplete,
        };
        match command {
            b'@' => {
                self.flush_line();
                self.style = Style::default();
                Step::Done(2)
            }
            b'a' => with_param(self, |decoder, n| {
                decoder.flush_line();
                decoder.style.align = match n {
                    1 | b'1' => Align::Center,
                    2 | b'2' => Align::Right,
                    _ => Align::Left,
                };
            }),
            b'E' => with_param(self, |decoder, n| decoder.style.bold = n & 1 == 1),
            b'!' => with_param(self, |decoder, n| {
                decoder.style.bold = n & 0x08 != 0;
                decoder.style.height_mult = if n & 0x10 != 0 { 2 } else { 1 };
                decoder.style.width_mult = if n & 0x20 != 0 { 2 } else { 1 };
            }),
            b'J' => with_param(self, |decoder, n| {
                decoder.flush_line();
                decoder.feed_dots(u32::from(n));
            }),
            b'd' => with_param(self, |decoder, n| {
                decoder.flush_line_and_feed();
                let spacing = decoder.style.line_spacing;
                decoder.feed_dots(spacing * u32::from(n.saturating_sub(1)));
            }),
            b'2' => {
                self.style.line_spacing = 30;
                Step::Done(2)
            }
            b'3' => with_param(self, |decoder, n| decoder.style.line_spacing = u32::from(n)),
            b'-' | b'M' | b't' | b'R' | b'G' | b'V' | b'{' | b'=' | b' ' | b'c' | b'U' | b'r' => {
                if param.is_some() {
                    Step::Done(3)
                } else {
                    Step::Incomplete
                }
            }
            b'p' => {
                if bytes.len() >= 5 {
                    Step::Done(5)
                } else {
                    Step::Incomplete
                }
            }
            b'$' | b'\\' => {
                if bytes.len() >= 4 {
                    Step::Done(4)
                } else {
                    Step::Incomplete
                }
            }
            _ => self.unknown(2),
        }
    }

    fn gs(&mut self, at: usize, events: &mut Vec<StreamEvent>) -> Step {
        let bytes = &self.pending[at..];
        let Some(&command) = bytes.get(1) else {
            return Step::Incomplete;
        };
        match command {
            b'v' => {
                if bytes.len() < 8 {
                    return Step::Incomplete;
                }
                if bytes[2] != b'0' {
                    return self.unknown(3);
                }
                let mode = bytes[3];
                let stride = usize::from(u16::from_le_bytes([bytes[4], bytes[5]]));
                let rows = usize::from(u16::from_le_bytes([bytes[6], bytes[7]]));
                let size = stride * rows;
                if size > MAX_BAND_BYTES || stride == 0 {
                    return self.unknown(8);
                }
                if bytes.len() < 8 + size {
                    return Step::Incomplete;
                }
                let data = bytes[8..8 + size].to_vec();
                self.raster_band(stride, rows, mode, data);
                events.push(StreamEvent::RasterBand);
                Step::Done(8 + size)
            }
            b'(' => {
                if bytes.len() < 5 {
                    return Step::Incomplete;
                }
                let length = usize::from(u16::from_le_bytes([bytes[3], bytes[4]]));
                if bytes.len() < 5 + length {
                    return Step::Incomplete;
                }
                if bytes[2] == b'k' && length >= 2 {
                    let body = bytes[5..5 + length].to_vec();
                    self.two_d_code(&body);
                }
                Step::Done(5 + length)
            }
            b'V' => {
                let Some(&mode) = bytes.get(2) else {
                    return Step::Incomplete;
                };
                let length = if matches!(mode, 65 | 66 | 97 | 98 | 103 | 104) {
                    4
                } else {
                    3
                };
                if bytes.len() < length {
                    return Step::Incomplete;
                }
                self.flush_line();
                self.end_page();
                self.out.cuts += 1;
                events.push(StreamEvent::Cut);
                Step::Done(length)
            }
            b'!' => {
                let Some(&n) = bytes.get(2) else {
                    return Step::Incomplete;
                };
                self.style.width_mult = ((n >> 4) & 0x07) + 1;
                self.style.height_mult = (n & 0x07) + 1;
                Step::Done(3)
            }
            b'r' => {
                let Some(&n) = bytes.get(2) else {
                    return Step::Incomplete;
                };
                self.out.status_requests.push(0x100 + u16::from(n));
                events.push(StreamEvent::TransmitStatus(n));
                Step::Done(3)
            }
            b'B' | b'a' | b'I' | b'H' | b'h' | b'w' | b'f' | b'b' => {
                if bytes.len() >= 3 {
                    Step::Done(3)
                } else {
                    Step::Incomplete
                }
            }
            b'L' | b'W' | b'P' => {
                if bytes.len() >= 4 {
                    Step::Done(4)
                } else {
                    Step::Incomplete
                }
            }
            b'k' => {
                let Some(&system) = bytes.get(2) else {
                    return Step::Incomplete;
                };
                if system <= 6 {
                    match bytes[3..].iter().position(|&b| b == 0) {
                        Some(end) => Step::Done(3 + end + 1),
                        None => Step::Incomplete,
                    }
                } else {
                    let Some(&n) = bytes.get(3) else {
                        return Step::Incomplete;
                    };
                    let length = 4 + usize::from(n);
                    if bytes.len() >= length {
                        Step::Done(length)
                    } else {
                        Step::Incomplete
                    }
                }
            }
            b'8' => {
                // GS 8 L p1 p2 p3 p4 ...: graphics data with a 32-bit length.
                if bytes.len() < 7 {
                    return Step::Incomplete;
                }
                let length = u32::from_le_bytes([bytes[3], bytes[4], bytes[5], bytes[6]]) as usize;
                if length > MAX_BAND_BYTES * 4 {
                    return self.unknown(7);
                }
                if bytes.len() >= 7 + length {
                    Step::Done(7 + length)
                } else {
                    Step::Incomplete
                }
            }
            _ => self.unknown(2),
        }
    }

    /// `GS ( k`: QR code settings, data and print (cn = 49).
    fn two_d_code(&mut self, body: &[u8]) {
        let (cn, function) = (body[0], body[1]);
        if cn != 49 {
            return;
        }
        match function {
            67 => {
                if let Some(&size) = body.get(2) {
                    self.qr.module = size.clamp(1, 16);
                }
            }
            80 => self.qr.data = body.get(3..).unwrap_or_default().to_vec(),
            81 => {
                let payload = String::from_utf8_lossy(&self.qr.data).into_owned();
                self.print_native_qr(&payload);
                self.out.qr_payloads.push(payload);
            }
            _ => {}
        }
    }

    fn print_native_qr(&mut self, payload: &str) {
        if self.stopped {
            return;
        }
        self.flush_line();
        let Ok(code) =
            qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
        else {
            return;
        };
        let modules = code.width() as u32;
        let module = u32::from(self.qr.module);
        let side = modules * module;
        let mut symbol = Raster::new(side, side);
        for (index, color) in code.to_colors().iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (column, row) = (index as u32 % modules, index as u32 / modules);
                symbol.fill_rect(
                    i64::from(column * module),
                    i64::from(row * module),
                    module,
                    module,
                );
            }
        }
        let x = self.aligned_x(side);
        let top = self.page.height();
        self.page.extend_blank(side);
        self.page.blit(&symbol, i64::from(x), i64::from(top));
    }

    fn aligned_x(&self, width: u32) -> u32 {
        let free = self.page.width().saturating_sub(width);
        match self.style.align {
            Align::Left => 0,
            Align::Center => free / 2,
            Align::Right => free,
        }
    }

    fn raster_band(&mut self, stride: usize, rows: usize, mode: u8, data: Vec<u8>) {
        self.out.raster_bands += 1;
        if self.stopped {
            return;
        }
        self.flush_line();
        let width = (stride * 8) as u32;
        let Some(mut band) = Raster::from_packed(width, rows as u32, data) else {
            return;
        };
        // Modes 1..3 (and '1'..'3') double the width and/or height.
        let (double_width, double_height) = match mode & 0x03 {
            1 => (true, false),
            2 => (false, true),
            3 => (true, true),
            _ => (false, false),
        };
        if double_width || double_height {
            let (sx, sy) = (
                if double_width { 2 } else { 1 },
                if double_height { 2 } else { 1 },
            );
            let mut scaled = Raster::new(band.width() * sx, band.height() * sy);
            for y in 0..scaled.height() {
                for x in 0..scaled.width() {
                    if band.get(x / sx, y / sy) {
                        scaled.set(i64::from(x), i64::from(y));
                    }
                }
            }
            band = scaled;
        }
        if band.width() > self.page.width() {
            let mut wider = Raster::new(band.width(), 0);
            wider.append(&self.page);
            self.page = wider;
        }
        self.page.append(&band);
    }

    fn feed_dots(&mut self, dots: u32) {
        if !self.stopped {
            self.page.extend_blank(dots);
        }
    }

    fn flush_line_and_feed(&mut self) {
        if self.line.is_empty() {
            let spacing = self.style.line_spacing * u32::from(self.style.height_mult);
            self.feed_dots(spacing);
        } else {
            self.flush_line();
        }
    }

    /// Prints the buffered text line with the printer's font size (12x24 dots,
    /// scaled by the character size), through the shared typesetter.
    fn flush_line(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let bytes = std::mem::take(&mut self.line);
        let text = if self.style.chinese || bytes.iter().any(|&b| b >= 0x80) {
            encoding_rs::GB18030.decode(&bytes).0.into_owned()
        } else {
            String::from_utf8_lossy(&bytes).into_owned()
        };
        if !self.stopped {
            let size = 24.0 * f32::from(self.style.height_mult);
            let (bold, align, width) = (self.style.bold, self.style.align, self.page.width());
            let rendered = with_typesetter(|typesetter| {
                Ok(typesetter.render_text_line(&text, size, bold, align, width))
            });
            let line_height = self.style.line_spacing.max(24) * u32::from(self.style.height_mult);
            let top = self.page.height();
            self.page.extend_blank(line_height);
            if let Ok(line) = rendered {
                self.page.blit(&line, 0, i64::from(top));
            }
        }
        self.out.text_lines.push(text);
    }

    fn end_page(&mut self) {
        if self.page.height() > 0 {
            self.out.pages.push(self.page.to_gray_image());
        }
        self.page = Raster::new(self.paper_width, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_across_reads_are_decoded_once() {
        let band = [0x1D, b'v', b'0', 0, 1, 0, 2, 0, 0xFF, 0x81];
        let mut decoder = Decoder::new(8);
        let mut events = Vec::new();
        for byte in band.iter().chain(&[0x10, 0x04, 0x04, 0x1D, b'V', b'A', 0]) {
            events.extend(decoder.feed(&[*byte]));
        }
        assert_eq!(
            events,
            vec![
                StreamEvent::RasterBand,
                StreamEvent::RealTimeStatus(4),
                StreamEvent::Cut
            ]
        );
        let decoded = decoder.finish();
        assert_eq!(decoded.pages.len(), 1);
        assert_eq!(decoded.pages[0].get_pixel(0, 0).0[0], 0);
        assert_eq!(decoded.pages[0].get_pixel(1, 1).0[0], 255);
        assert_eq!(decoded.cuts, 1);
        assert!(!decoded.truncated);
    }

    #[test]
    fn garbage_never_panics() {
        let mut seed = 0x1234_5678u32;
        let bytes: Vec<u8> = (0..20_000)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                (seed >> 24) as u8
            })
            .collect();
        let decoded = decode(&bytes, 384);
        assert!(decoded.unknown_bytes > 0);
    }
}
