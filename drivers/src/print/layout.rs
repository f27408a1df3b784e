//! Layout and rendering: a [`Document`] becomes 1-bit [`Page`]s at a paper width.
//!
//! Text is shaped by cosmic-text (HarfBuzz-compatible shaping with a real CJK font,
//! Unicode UAX #14 line breaking) and rasterised by swash. The layout cuts the
//! document into horizontal slices (a text line, a table row, a QR code, ...) that
//! are never split, then packs slices into pages.

use super::PrintError;
use super::document::{Align, Block, Document, FormBox, KeyValue, RuleStyle, TextSize, TextStyle};
use super::raster::{Page, QrRegion, Raster, Rendered};
use base64::Engine as _;
use cosmic_text::{
    Attrs, Buffer, CacheKey, Family, FontSystem, Metrics, Shaping, SwashCache, SwashContent,
    Weight, Wrap,
};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Dots per millimetre at 203 dpi, the resolution of nearly every thermal printer.
pub const DOTS_PER_MM: u32 = 8;
/// 58 mm paper.
pub const WIDTH_58MM: u32 = 384;
/// 80 mm paper.
pub const WIDTH_80MM: u32 = 576;
/// A4-wide thermal paper (216 mm at 203 dpi).
pub const WIDTH_A4: u32 = 1728;

/// Font families tried in order; the first installed one is used.
const PREFERRED_FAMILIES: &[&str] = &[
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "SimHei",
    "PingFang SC",
];

/// Glyph coverage (0..=255) at which a dot is burnt. Below half so thin CJK strokes
/// survive at small sizes; thermal dots bleed a little anyway.
const INK_THRESHOLD: u8 = 100;

/// How many rendered glyphs the typesetter keeps (about 1 KiB each at receipt
/// sizes).
pub const GLYPH_CACHE_LIMIT: usize = 4096;

/// Shapes and renders documents. Holds the font database and glyph cache, so keep
/// one and reuse it (building one scans the installed fonts).
pub struct Typesetter {
    fonts: FontSystem,
    glyphs: SwashCache,
    family: String,
}

impl std::fmt::Debug for Typesetter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Typesetter")
            .field("family", &self.family)
            .finish_non_exhaustive()
    }
}

impl Typesetter {
    /// Fonts from `assets/fonts` (when present next to the executable or in the
    /// working directory, or in `$ESTATION_FONT_DIR`) plus the installed system fonts.
    pub fn new() -> Result<Self, PrintError> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(dir) = std::env::var_os("ESTATION_FONT_DIR") {
            dirs.push(dir.into());
        }
        dirs.push(PathBuf::from("assets/fonts"));
        if let Ok(exe) = std::env::current_exe()
            && let Some(parent) = exe.parent()
        {
            dirs.push(parent.join("assets/fonts"));
        }
        dirs.push(Path::new(env!("CARGO_MANIFEST_DIR")).join("../assets/fonts"));
        Self::with_font_dirs(&dirs, true)
    }

    /// Loads fonts from `dirs` (missing ones are skipped) and, if asked, the system's.
    pub fn with_font_dirs(dirs: &[PathBuf], system_fonts: bool) -> Result<Self, PrintError> {
        let mut db = cosmic_text::fontdb::Database::new();
        for dir in dirs {
            if dir.is_dir() {
                db.load_fonts_dir(dir);
            }
        }
        if system_fonts {
            db.load_system_fonts();
        }
        let installed: Vec<String> = db
            .faces()
            .flat_map(|face| face.families.iter().map(|(name, _)| name.clone()))
            .collect();
        let family = PREFERRED_FAMILIES
            .iter()
            .find(|wanted| installed.iter().any(|name| name == *wanted))
            .map(|name| (*name).to_owned())
            .ok_or_else(|| {
                PrintError::NoFont(format!(
                    "none of {PREFERRED_FAMILIES:?} is installed ({} font faces found); install fonts-noto-cjk or put a CJK font in assets/fonts",
                    db.len()
                ))
            })?;
        let fonts = FontSystem::new_with_locale_and_db("zh-CN".to_owned(), db);
        Ok(Self {
            fonts,
            glyphs: SwashCache::new(),
            family,
        })
    }

    /// How many rendered glyphs are cached now (at most [`GLYPH_CACHE_LIMIT`]).
    pub fn cached_glyphs(&self) -> usize {
        self.glyphs.image_cache.len()
    }

    /// The font family used for all text.
    pub fn family(&self) -> &str {
        &self.family
    }

    /// Lays out and renders `document` for paper `width` dots wide.
    pub fn render(&mut self, document: &Document, width: u32) -> Result<Rendered, PrintError> {
        check_width(width)?;
        let metrics = PaperMetrics::for_width(width);
        let mut slices = Vec::new();
        let mut break_next = false;
        for block in &document.blocks {
            let start = slices.len();
            if let Block::PageBreak = block {
                break_next = true;
                continue;
            }
            self.layout_block(block, &metrics, &mut slices)?;
            if break_next && let Some(first) = slices.get_mut(start) {
                first.page_break_before = true;
                break_next = false;
            }
        }
        collapse_gaps_between_borders(&mut slices);
        let max_height = document
            .page_length_mm
            .map(|mm| mm.saturating_mul(DOTS_PER_MM).max(200));
        let pages = paginate(slices, max_height, &metrics);
        let pages = pages
            .into_iter()
            .map(|page| self.draw_page(page, width, &metrics))
            .collect();
        Ok(Rendered { width, pages })
    }

    /// Renders one line of text (no wrapping) into a raster `width` dots wide; used
    /// to show text-mode output in previews.
    pub fn render_text_line(
        &mut self,
        text: &str,
        size_px: f32,
        bold: bool,
        align: Align,
        width: u32,
    ) -> Raster {
        let lines = self.lines(text, size_px.clamp(4.0, 400.0), bold, Some(width), align);
        let height = lines.iter().map(|line| line.height).sum::<u32>().max(1);
        let mut raster = Raster::new(width, height);
        let mut top = 0i64;
        for line in &lines {
            for glyph in &line.glyphs {
                self.draw_glyph(
                    &mut raster,
                    &PlacedGlyph {
                        key: glyph.key,
                        x: glyph.x,
                        y: glyph.y,
                    },
                    top,
                );
            }
            top += i64::from(line.height);
        }
        raster
    }

    fn attrs(&self, bold: bool) -> Attrs<'_> {
        Attrs::new()
            .family(Family::Name(&self.family))
            .weight(if bold { Weight::BOLD } else { Weight::NORMAL })
    }

    /// Shapes `text` into lines. With `width` the text wraps (UAX #14, falling back
    /// to breaking inside a word only when a word is wider than the line).
    fn lines(
        &mut self,
        text: &str,
        size: f32,
        bold: bool,
        width: Option<u32>,
        align: Align,
    ) -> Vec<Line> {
        let line_height = (size * 1.4).round();
        let mut buffer = Buffer::new(&mut self.fonts, Metrics::new(size, line_height));
        buffer.set_wrap(Wrap::WordOrGlyph);
        buffer.set_size(width.map(|w| w as f32), None);
        let alignment = match align {
            Align::Left => cosmic_text::Align::Left,
            Align::Center => cosmic_text::Align::Center,
            Align::Right => cosmic_text::Align::Right,
        };
        let attrs = self.attrs(bold);
        buffer.set_text(text, &attrs, Shaping::Advanced, Some(alignment));
        buffer.shape_until_scroll(&mut self.fonts, false);
        let mut lines = Vec::new();
        for run in buffer.layout_runs() {
            let glyphs = run
                .glyphs
                .iter()
                .map(|glyph| {
                    let physical = glyph.physical((0.0, run.line_y - run.line_top), 1.0);
                    GlyphOp {
                        key: physical.cache_key,
                        x: physical.x,
                        y: physical.y,
                    }
                })
                .collect();
            lines.push(Line {
                height: run.line_height.round() as u32,
                width: run.line_w.ceil() as u32,
                glyphs,
            });
        }
        if lines.is_empty() {
            lines.push(Line {
                height: line_height as u32,
                width: 0,
                glyphs: Vec::new(),
            });
        }
        lines
    }

    /// Width of `text` on one line.
    fn natural_width(&mut self, text: &str, size: f32, bold: bool) -> u32 {
        self.lines(text, size, bold, None, Align::Left)
            .iter()
            .map(|line| line.width)
            .max()
            .unwrap_or(0)
    }

    /// Lays out a text block as one slice per line.
    fn text_slices(
        &mut self,
        text: &str,
        style: TextStyle,
        metrics: &PaperMetrics,
        out: &mut Vec<Slice>,
    ) {
        let size = metrics.font_size(style.size);
        for line in self.lines(
            text,
            size,
            style.bold,
            Some(metrics.content_width),
            style.align,
        ) {
            let mut slice = Slice::new(line.height);
            slice.add_line(&line, metrics.margin as i32, 0);
            out.push(slice);
        }
    }

    fn layout_block(
        &mut self,
        block: &Block,
        metrics: &PaperMetrics,
        out: &mut Vec<Slice>,
    ) -> Result<(), PrintError> {
        let body = metrics.font_size(TextSize::Normal);
        match block {
            Block::Title { text, subtitle } => {
                let start = out.len();
                let style = TextStyle::NORMAL.sized(TextSize::Huge).bold().centered();
                self.text_slices(text, style, metrics, out);
                if let Some(subtitle) = subtitle {
                    out.push(Slice::new((body * 0.3) as u32));
                    self.text_slices(subtitle, TextStyle::NORMAL.centered(), metrics, out);
                }
                for slice in &mut out[start..] {
                    slice.keep_with_next = true;
                }
                out.push(Slice::new((body * 0.8) as u32));
            }
            Block::Heading { text } => {
                out.push(Slice::new((body * 0.6) as u32));
                let start = out.len();
                self.text_slices(
                    text,
                    TextStyle::NORMAL.sized(TextSize::Large).bold(),
                    metrics,
                    out,
                );
                for slice in &mut out[start..] {
                    slice.keep_with_next = true;
                }
                out.push(Slice::new((body * 0.2) as u32).keeping_with_next());
            }
            Block::Paragraph { text, style } => self.text_slices(text, *style, metrics, out),
            Block::KeyValues { rows } => self.key_values(rows, metrics, out),
            Block::Table {
                caption,
                headers,
                rows,
                weights,
                small,
            } => {
                if let Some(caption) = caption {
                    let start = out.len();
                    self.text_slices(caption, TextStyle::NORMAL.bold(), metrics, out);
                    for slice in &mut out[start..] {
                        slice.keep_with_next = true;
                    }
                    out.push(Slice::new((body * 0.25) as u32).keeping_with_next());
                }
                let size = if *small {
                    metrics.font_size(TextSize::Small)
                } else {
                    body
                };
                self.table(headers, rows, weights.as_deref(), size, metrics, out)?;
                out.push(Slice::new((body * 0.5) as u32));
            }
            Block::Boxes {
                cells,
                min_height_mm,
            } => self.boxes(
                cells,
                min_height_mm.saturating_mul(DOTS_PER_MM).min(4000),
                metrics,
                out,
            ),
            Block::Qr {
                payload,
                caption,
                module_dots,
            } => self.qr(payload, caption.as_deref(), *module_dots, metrics, out)?,
            Block::Image {
                png_base64,
                width_mm,
                align,
            } => image_slice(png_base64, *width_mm, *align, metrics, out)?,
            Block::Rule { style } => out.push(rule_slice(*style, metrics)),
            Block::Spacing { mm } => out.push(Slice::new(mm.saturating_mul(DOTS_PER_MM).min(2000))),
            Block::PageBreak => {}
        }
        Ok(())
    }

    fn key_values(&mut self, rows: &[KeyValue], metrics: &PaperMetrics, out: &mut Vec<Slice>) {
        let size = metrics.font_size(TextSize::Normal);
        let gap = (size * 0.8) as u32;
        let widest_label = rows
            .iter()
            .map(|row| self.natural_width(&row.label, size, false))
            .max()
            .unwrap_or(0);
        let label_width = widest_label.min(metrics.content_width * 2 / 5).max(1);
        let value_width = metrics
            .content_width
            .saturating_sub(label_width + gap)
            .max(1);
        let row_gap = (size * 0.25) as u32;
        for row in rows {
            let labels = self.lines(&row.label, size, false, Some(label_width), Align::Left);
            // An ID number or code that would break mid-token goes under its label.
            let stacked = self.longest_unbreakable(&row.value, size, true) > value_width;
            let (value_x, value_top, width) = if stacked {
                let label_height: u32 = labels.iter().map(|line| line.height).sum();
                (
                    metrics.margin + gap,
                    label_height as i32,
                    metrics.content_width - gap,
                )
            } else {
                (metrics.margin + label_width + gap, 0, value_width)
            };
            let values = self.lines(&row.value, size, true, Some(width), Align::Left);
            let label_height: u32 = labels.iter().map(|line| line.height).sum();
            let value_height: u32 =
                values.iter().map(|line| line.height).sum::<u32>() + value_top as u32;
            let mut slice = Slice::new(label_height.max(value_height) + row_gap);
            let mut y = 0;
            for line in &labels {
                slice.add_line(line, metrics.margin as i32, y);
                y += line.height as i32;
            }
            let mut y = value_top;
            for line in &values {
                slice.add_line(line, value_x as i32, y);
                y += line.height as i32;
            }
            out.push(slice);
        }
    }

    /// Width of the widest run of `text` that line breaking may not split (a Latin
    /// word, a number, a code); CJK characters may break anywhere.
    fn longest_unbreakable(&mut self, text: &str, size: f32, bold: bool) -> u32 {
        let mut widest = 0;
        for run in unbreakable_runs(text) {
            widest = widest.max(self.natural_width(&run, size, bold));
        }
        widest
    }

    fn table(
        &mut self,
        headers: &[String],
        rows: &[Vec<String>],
        weights: Option<&[u32]>,
        size: f32,
        metrics: &PaperMetrics,
        out: &mut Vec<Slice>,
    ) -> Result<(), PrintError> {
        let columns = headers
            .len()
            .max(rows.iter().map(Vec::len).max().unwrap_or(0));
        if columns == 0 {
            return Ok(());
        }
        let border = metrics.border;
        let available = metrics
            .content_width
            .saturating_sub(border * (columns as u32 + 1));
        let mut size = size;
        let mut pad_x = (size * 0.3).round() as u32;
        let widths = match weights {
            Some(weights) if weights.len() == columns && weights.iter().any(|&w| w > 0) => {
                split_by_weights(available, weights)
            }
            Some(_) => {
                return Err(PrintError::InvalidDocument(format!(
                    "table weights must list {columns} columns, not all zero"
                )));
            }
            None => {
                let (mut natural, mut minimum) =
                    self.column_widths(headers, rows, columns, size, pad_x);
                // Narrow paper: a smaller face beats breaking numbers inside cells.
                let smallest = (metrics.body_size * 0.7).round();
                for smaller in [metrics.font_size(TextSize::Small), smallest] {
                    let fits = natural.iter().sum::<u32>() <= available
                        || (size <= metrics.font_size(TextSize::Small)
                            && minimum.iter().sum::<u32>() <= available);
                    if fits || smaller >= size {
                        continue;
                    }
                    size = smaller;
                    pad_x = (size * 0.3).round() as u32;
                    (natural, minimum) = self.column_widths(headers, rows, columns, size, pad_x);
                }
                fit_columns(&natural, &minimum, available)
            }
        };
        let pad_y = (size * 0.2).round() as u32;
        let empty = String::new();
        let emit_row = |this: &mut Self, cells: &[String], bold: bool, joins_above: bool| {
            let laid: Vec<Vec<Line>> = (0..columns)
                .map(|index| {
                    let text = cells.get(index).unwrap_or(&empty);
                    this.lines(
                        text,
                        size,
                        bold,
                        Some(widths[index].saturating_sub(2 * pad_x).max(1)),
                        Align::Left,
                    )
                })
                .collect();
            let content_height = laid
                .iter()
                .map(|lines| lines.iter().map(|line| line.height).sum::<u32>())
                .max()
                .unwrap_or(0);
            let height = content_height + 2 * pad_y + 2 * border;
            let mut slice = Slice::new(height);
            slice.bordered = true;
            slice.joins_above = joins_above;
            let left = metrics.margin as i32;
            let total_width = widths.iter().sum::<u32>() + border * (columns as u32 + 1);
            slice.rect(left, 0, total_width, border);
            slice.rect(left, height as i32 - border as i32, total_width, border);
            let mut x = left;
            for (index, lines) in laid.iter().enumerate() {
                slice.rect(x, 0, border, height);
                let mut y = (border + pad_y) as i32;
                for line in lines {
                    slice.add_line(line, x + (border + pad_x) as i32, y);
                    y += line.height as i32;
                }
                x += (border + widths[index]) as i32;
            }
            slice.rect(x, 0, border, height);
            slice
        };
        let mut joins_above = false;
        let mut repeated_header = None;
        if !headers.is_empty() {
            let mut header = emit_row(self, headers, true, false);
            header.keep_with_next = true;
            repeated_header = Some(std::rc::Rc::new(header.clone()));
            out.push(header);
            joins_above = true;
        }
        for row in rows {
            let mut slice = emit_row(self, row, false, joins_above);
            slice.table_header = repeated_header.clone();
            out.push(slice);
            joins_above = true;
        }
        Ok(())
    }

    /// Natural (one line) and minimum (longest unbreakable run) width of each column.
    fn column_widths(
        &mut self,
        headers: &[String],
        rows: &[Vec<String>],
        columns: usize,
        size: f32,
        pad_x: u32,
    ) -> (Vec<u32>, Vec<u32>) {
        let mut natural = vec![0u32; columns];
        let mut minimum = vec![0u32; columns];
        let cells =
            std::iter::once((headers, true)).chain(rows.iter().map(|row| (row.as_slice(), false)));
        for (cells, bold) in cells {
            for (index, cell) in cells.iter().enumerate() {
                natural[index] =
                    natural[index].max(self.natural_width(cell, size, bold) + 2 * pad_x);
                minimum[index] =
                    minimum[index].max(self.longest_unbreakable(cell, size, bold) + 2 * pad_x);
            }
        }
        (natural, minimum)
    }

    fn boxes(
        &mut self,
        cells: &[FormBox],
        min_height: u32,
        metrics: &PaperMetrics,
        out: &mut Vec<Slice>,
    ) {
        if cells.is_empty() {
            return;
        }
        let label_size = metrics.font_size(TextSize::Small);
        let body_size = metrics.font_size(TextSize::Normal);
        let border = metrics.border;
        let pad = (body_size * 0.35).round() as u32;
        let available = metrics
            .content_width
            .saturating_sub(border * (cells.len() as u32 + 1));
        let weights: Vec<u32> = cells.iter().map(|cell| cell.weight.max(1)).collect();
        let widths = split_by_weights(available, &weights);
        let mut laid = Vec::new();
        for (cell, width) in cells.iter().zip(&widths) {
            let inner = width.saturating_sub(2 * pad).max(1);
            let labels = self.lines(&cell.label, label_size, false, Some(inner), Align::Left);
            let body = if cell.text.is_empty() {
                Vec::new()
            } else {
                self.lines(&cell.text, body_size, false, Some(inner), Align::Left)
            };
            laid.push((labels, body));
        }
        let content = laid
            .iter()
            .map(|(labels, body)| {
                labels
                    .iter()
                    .chain(body)
                    .map(|line| line.height)
                    .sum::<u32>()
                    + (pad / 2)
            })
            .max()
            .unwrap_or(0);
        let height = (content + 2 * pad + 2 * border).max(min_height);
        let mut slice = Slice::new(height);
        slice.bordered = true;
        slice.joins_above = true;
        let left = metrics.margin as i32;
        slice.rect(left, 0, metrics.content_width, border);
        slice.rect(
            left,
            height as i32 - border as i32,
            metrics.content_width,
            border,
        );
        let mut x = left;
        for ((labels, body), width) in laid.iter().zip(&widths) {
            slice.rect(x, 0, border, height);
            let mut y = (border + pad) as i32;
            for line in labels {
                slice.add_line(line, x + (border + pad) as i32, y);
                y += line.height as i32;
            }
            y += (pad / 2) as i32;
            for line in body {
                slice.add_line(line, x + (border + pad) as i32, y);
                y += line.height as i32;
            }
            x += (border + width) as i32;
        }
        slice.rect(
            left + metrics.content_width as i32 - border as i32,
            0,
            border,
            height,
        );
        out.push(slice);
    }

    fn qr(
        &mut self,
        payload: &str,
        caption: Option<&str>,
        module_dots: Option<u32>,
        metrics: &PaperMetrics,
        out: &mut Vec<Slice>,
    ) -> Result<(), PrintError> {
        let code =
            qrcode::QrCode::with_error_correction_level(payload.as_bytes(), qrcode::EcLevel::M)
                .map_err(|error| PrintError::Qr(error.to_string()))?;
        let modules = code.width() as u32;
        let module = match module_dots {
            Some(dots) => dots.clamp(1, 16),
            None => (metrics.qr_target / modules).clamp(2, 8),
        };
        let side = modules * module;
        if side > metrics.content_width {
            return Err(PrintError::Qr(format!(
                "QR code of {modules} modules does not fit {} dots",
                metrics.content_width
            )));
        }
        // Four modules of quiet zone above and below (left and right are blank paper).
        let quiet = 4 * module;
        let mut slice = Slice::new(side + 2 * quiet);
        let left = ((metrics.width - side) / 2) as i32;
        let colors = code.to_colors();
        for (index, color) in colors.iter().enumerate() {
            if *color == qrcode::Color::Dark {
                let (column, row) = (index as u32 % modules, index as u32 / modules);
                slice.rect(
                    left + (column * module) as i32,
                    (quiet + row * module) as i32,
                    module,
                    module,
                );
            }
        }
        slice.qr = Some(QrMark {
            payload: payload.to_owned(),
            top: quiet,
            height: side,
            module_dots: module,
        });
        // A QR code is read together with what follows it (its caption, the
        // verification code): never leave it alone at the bottom of a page.
        slice.keep_with_next = true;
        out.push(slice);
        if let Some(caption) = caption {
            let start = out.len();
            self.text_slices(caption, TextStyle::small().centered(), metrics, out);
            for slice in &mut out[start..] {
                slice.keep_with_next = true;
            }
        }
        out.push(
            Slice::new((metrics.font_size(TextSize::Normal) * 0.5) as u32).keeping_with_next(),
        );
        Ok(())
    }

    fn draw_page(&mut self, page: Vec<Placed>, width: u32, metrics: &PaperMetrics) -> Page {
        let height = page
            .last()
            .map(|placed| placed.top + placed.slice.height)
            .unwrap_or(0)
            + metrics.bottom_margin;
        let mut raster = Raster::new(width, height);
        let mut qr_regions = Vec::new();
        for Placed { top, slice } in page {
            let top = top as i64;
            for op in &slice.ops {
                match op {
                    Op::Glyph(glyph) => self.draw_glyph(&mut raster, glyph, top),
                    Op::Rect {
                        x,
                        y,
                        width,
                        height,
                    } => raster.fill_rect(i64::from(*x), top + i64::from(*y), *width, *height),
                    Op::Bitmap { x, y, bitmap } => {
                        raster.blit(bitmap, i64::from(*x), top + i64::from(*y))
                    }
                }
            }
            if let Some(mark) = slice.qr {
                qr_regions.push(QrRegion {
                    payload: mark.payload,
                    top: top as u32 + mark.top,
                    height: mark.height,
                    module_dots: mark.module_dots,
                });
            }
        }
        Page { raster, qr_regions }
    }

    fn draw_glyph(&mut self, raster: &mut Raster, glyph: &PlacedGlyph, top: i64) {
        // The glyph cache keeps every glyph at every size and sub-pixel offset it
        // has drawn, and a kiosk prints residents' names and addresses for a
        // year: start it afresh at the limit (a receipt draws a few hundred).
        if self.glyphs.image_cache.len() >= GLYPH_CACHE_LIMIT {
            self.glyphs.image_cache.clear();
            self.glyphs.outline_command_cache.clear();
        }
        let Some(image) = self.glyphs.get_image(&mut self.fonts, glyph.key) else {
            return;
        };
        let origin_x = i64::from(glyph.x) + i64::from(image.placement.left);
        let origin_y = top + i64::from(glyph.y) - i64::from(image.placement.top);
        let (w, h) = (
            image.placement.width as usize,
            image.placement.height as usize,
        );
        let (channels, alpha_at) = match image.content {
            SwashContent::Mask => (1, 0),
            SwashContent::Color => (4, 3),
            SwashContent::SubpixelMask => (4, 1),
        };
        for row in 0..h {
            for column in 0..w {
                let index = (row * w + column) * channels + alpha_at;
                if image
                    .data
                    .get(index)
                    .is_some_and(|&alpha| alpha >= INK_THRESHOLD)
                {
                    raster.set(origin_x + column as i64, origin_y + row as i64);
                }
            }
        }
    }
}

/// Accepts the usual widths and anything sane a printer might report.
fn check_width(width: u32) -> Result<(), PrintError> {
    if (128..=2048).contains(&width) && width.is_multiple_of(8) {
        Ok(())
    } else {
        Err(PrintError::UnsupportedWidth(width))
    }
}

/// Sizes that depend on the paper width.
struct PaperMetrics {
    width: u32,
    margin: u32,
    content_width: u32,
    body_size: f32,
    border: u32,
    qr_target: u32,
    top_margin: u32,
    bottom_margin: u32,
}

impl PaperMetrics {
    fn for_width(width: u32) -> Self {
        let (margin, body_size, border, qr_target) = if width <= 400 {
            (8, 22.0, 2, 200)
        } else if width <= 800 {
            (16, 24.0, 2, 240)
        } else {
            (80, 30.0, 3, 300)
        };
        Self {
            width,
            margin,
            content_width: width - 2 * margin,
            body_size,
            border,
            qr_target,
            top_margin: 16,
            bottom_margin: 24,
        }
    }

    fn font_size(&self, size: TextSize) -> f32 {
        let scale = match size {
            TextSize::Small => 0.8,
            TextSize::Normal => 1.0,
            TextSize::Large => 1.25,
            TextSize::Huge => 1.6,
        };
        (self.body_size * scale).round()
    }
}

/// Splits `total` dots in proportion to `weights`, giving rounding leftovers to the last.
fn split_by_weights(total: u32, weights: &[u32]) -> Vec<u32> {
    let sum: u64 = weights.iter().map(|&w| u64::from(w)).sum::<u64>().max(1);
    let mut widths: Vec<u32> = weights
        .iter()
        .map(|&w| (u64::from(total) * u64::from(w) / sum) as u32)
        .collect();
    let used: u32 = widths.iter().sum();
    if let Some(last) = widths.last_mut() {
        *last += total.saturating_sub(used);
    }
    widths
}

/// Column widths from natural (one-line) and minimum (longest unbreakable run)
/// widths: when everything fits on one line the slack is shared so the table spans
/// the paper; otherwise every column gets its minimum and the rest is shared in
/// proportion to how much more each column would like.
fn fit_columns(natural: &[u32], minimum: &[u32], available: u32) -> Vec<u32> {
    let total: u32 = natural.iter().sum();
    if total <= available {
        let weights: Vec<u32> = natural.iter().map(|&w| w.max(1)).collect();
        return split_by_weights(available, &weights);
    }
    let minimum: Vec<u32> = minimum
        .iter()
        .zip(natural)
        .map(|(&min, &nat)| min.min(nat))
        .collect();
    let floor: u32 = minimum.iter().sum();
    if floor >= available {
        // Even the shortest words do not fit: share by minimum and let words break.
        let weights: Vec<u32> = minimum.iter().map(|&w| w.max(1)).collect();
        return split_by_weights(available, &weights);
    }
    let wants: Vec<u32> = natural
        .iter()
        .zip(&minimum)
        .map(|(&nat, &min)| nat - min)
        .collect();
    let extra = split_by_weights(available - floor, &wants);
    minimum
        .iter()
        .zip(extra)
        .map(|(min, extra)| min + extra)
        .collect()
}

/// Runs of text that should stay on one line: Latin words, numbers and codes, and
/// CJK characters in pairs (most Chinese words are two characters long, and a
/// column one character wide reads badly).
fn unbreakable_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut current = String::new();
    let mut cjk_in_current = 0;
    for c in text.chars() {
        if c.is_whitespace() {
            runs.push(std::mem::take(&mut current));
            cjk_in_current = 0;
        } else if is_cjk(c) {
            if cjk_in_current == 0 && !current.is_empty() || cjk_in_current == 2 {
                runs.push(std::mem::take(&mut current));
                cjk_in_current = 0;
            }
            current.push(c);
            cjk_in_current += 1;
        } else {
            if cjk_in_current > 0 {
                runs.push(std::mem::take(&mut current));
                cjk_in_current = 0;
            }
            current.push(c);
        }
    }
    runs.push(current);
    runs.retain(|run| !run.is_empty());
    runs
}

fn is_cjk(c: char) -> bool {
    matches!(c as u32, 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF | 0x20000..=0x3FFFF)
}

fn rule_slice(style: RuleStyle, metrics: &PaperMetrics) -> Slice {
    let pad = (metrics.body_size * 0.4) as u32;
    let thickness = metrics.border;
    let height = match style {
        RuleStyle::Double => 2 * pad + 3 * thickness,
        _ => 2 * pad + thickness,
    };
    let mut slice = Slice::new(height);
    let left = metrics.margin as i32;
    match style {
        RuleStyle::Solid => slice.rect(left, pad as i32, metrics.content_width, thickness),
        RuleStyle::Double => {
            slice.rect(left, pad as i32, metrics.content_width, thickness);
            slice.rect(
                left,
                (pad + 2 * thickness) as i32,
                metrics.content_width,
                thickness,
            );
        }
        RuleStyle::Dashed => {
            let mut x = 0;
            while x < metrics.content_width {
                slice.rect(
                    left + x as i32,
                    pad as i32,
                    12.min(metrics.content_width - x),
                    thickness,
                );
                x += 20;
            }
        }
    }
    slice
}

fn image_slice(
    png_base64: &str,
    width_mm: Option<u32>,
    align: Align,
    metrics: &PaperMetrics,
    out: &mut Vec<Slice>,
) -> Result<(), PrintError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(png_base64.trim())
        .map_err(|error| PrintError::Image(format!("not base64: {error}")))?;
    let bitmap = dither_png(
        &bytes,
        width_mm.map(|mm| mm.saturating_mul(DOTS_PER_MM)),
        metrics.content_width,
    )?;
    let x = match align {
        Align::Left => metrics.margin,
        Align::Center => (metrics.width - bitmap.width()) / 2,
        Align::Right => metrics.margin + metrics.content_width - bitmap.width(),
    };
    let pad = (metrics.body_size * 0.3) as u32;
    let mut slice = Slice::new(bitmap.height() + 2 * pad);
    slice.ops.push(Op::Bitmap {
        x: x as i32,
        y: pad as i32,
        bitmap,
    });
    out.push(slice);
    Ok(())
}

/// Decodes a PNG, flattens transparency onto white paper, scales it to `width`
/// (capped to `max_width`) and Floyd–Steinberg dithers it to black and white.
pub fn dither_png(bytes: &[u8], width: Option<u32>, max_width: u32) -> Result<Raster, PrintError> {
    let decoded =
        image::load_from_memory(bytes).map_err(|error| PrintError::Image(error.to_string()))?;
    let rgba = decoded.to_rgba8();
    let mut gray = image::GrayImage::new(rgba.width(), rgba.height());
    for (x, y, pixel) in rgba.enumerate_pixels() {
        let [r, g, b, a] = pixel.0;
        let luma = (u32::from(r) * 299 + u32::from(g) * 587 + u32::from(b) * 114) / 1000;
        let on_white = (luma * u32::from(a) + 255 * (255 - u32::from(a))) / 255;
        gray.put_pixel(x, y, image::Luma([on_white as u8]));
    }
    let target = width.unwrap_or(gray.width()).clamp(1, max_width.max(1));
    if target != gray.width() && gray.width() > 0 {
        let height =
            (u64::from(gray.height()) * u64::from(target) / u64::from(gray.width())).max(1) as u32;
        gray =
            image::imageops::resize(&gray, target, height, image::imageops::FilterType::Triangle);
    }
    image::imageops::dither(&mut gray, &image::imageops::colorops::BiLevel);
    Ok(Raster::from_gray_image(&gray, 128))
}

struct Line {
    height: u32,
    width: u32,
    glyphs: Vec<GlyphOp>,
}

struct GlyphOp {
    key: CacheKey,
    x: i32,
    y: i32,
}

#[derive(Clone)]
struct PlacedGlyph {
    key: CacheKey,
    x: i32,
    y: i32,
}

#[derive(Clone)]
enum Op {
    Glyph(PlacedGlyph),
    Rect {
        x: i32,
        y: i32,
        width: u32,
        height: u32,
    },
    Bitmap {
        x: i32,
        y: i32,
        bitmap: Raster,
    },
}

#[derive(Clone)]
struct QrMark {
    payload: String,
    top: u32,
    height: u32,
    module_dots: u32,
}

/// A horizontal strip that is never split across pages.
#[derive(Clone)]
struct Slice {
    height: u32,
    ops: Vec<Op>,
    qr: Option<QrMark>,
    /// Move to the next page together with the following slice (headings, captions).
    keep_with_next: bool,
    /// Starts a new page.
    page_break_before: bool,
    /// Has a border along its bottom edge.
    bordered: bool,
    /// Overlaps a bordered slice right above so the two share one border line.
    joins_above: bool,
    /// A table row's header, repeated when the row starts a new page.
    table_header: Option<std::rc::Rc<Slice>>,
}

impl Slice {
    fn new(height: u32) -> Self {
        Self {
            height,
            ops: Vec::new(),
            qr: None,
            keep_with_next: false,
            page_break_before: false,
            bordered: false,
            joins_above: false,
            table_header: None,
        }
    }

    fn keeping_with_next(mut self) -> Self {
        self.keep_with_next = true;
        self
    }

    fn add_line(&mut self, line: &Line, x: i32, y: i32) {
        for glyph in &line.glyphs {
            self.ops.push(Op::Glyph(PlacedGlyph {
                key: glyph.key,
                x: x + glyph.x,
                y: y + glyph.y,
            }));
        }
    }

    fn rect(&mut self, x: i32, y: i32, width: u32, height: u32) {
        self.ops.push(Op::Rect {
            x,
            y,
            width,
            height,
        });
    }
}

/// Drops blank slices between a bordered slice and one that joins it, so a table
/// followed by form boxes reads as one ruled form.
fn collapse_gaps_between_borders(slices: &mut Vec<Slice>) {
    let mut index = 1;
    while index + 1 < slices.len() {
        let blank = slices[index].ops.is_empty()
            && slices[index].qr.is_none()
            && !slices[index].page_break_before;
        if blank && slices[index - 1].bordered && slices[index + 1].joins_above {
            slices.remove(index);
        } else {
            index += 1;
        }
    }
}

struct Placed {
    top: u32,
    slice: Slice,
}

/// Packs slices into pages no taller than `max_height` (when given), keeping
/// headings with what follows, repeating table headers on a new page and letting
/// bordered rows share border lines.
fn paginate(
    slices: Vec<Slice>,
    max_height: Option<u32>,
    metrics: &PaperMetrics,
) -> Vec<Vec<Placed>> {
    let limit = max_height.map(|height| height.saturating_sub(metrics.bottom_margin));
    let mut pages: Vec<Vec<Placed>> = vec![Vec::new()];
    for slice in slices {
        let Some(page) = pages.last_mut() else { break };
        let top = next_top(page, &slice, metrics);
        let overflows = limit.is_some_and(|limit| top + slice.height > limit);
        let page_has_content = page.iter().any(|placed| !placed.slice.ops.is_empty());
        if !((slice.page_break_before || overflows) && page_has_content) {
            page.push(Placed { top, slice });
            continue;
        }
        // On overflow, carry trailing keep-with-next slices (a heading, a table
        // header) over, unless nothing printed would stay behind.
        let mut carried = Vec::new();
        if !slice.page_break_before {
            let keep_from = page
                .iter()
                .rposition(|placed| !placed.slice.keep_with_next)
                .map_or(0, |index| index + 1);
            let stays_printed = page[..keep_from]
                .iter()
                .any(|placed| !placed.slice.ops.is_empty());
            if stays_printed {
                carried = page.drain(keep_from..).map(|placed| placed.slice).collect();
                carried.reverse();
            }
        }
        carried.reverse();
        if carried.is_empty()
            && let Some(header) = &slice.table_header
        {
            carried.push((**header).clone());
        }
        let mut new_page = Vec::new();
        for carried_slice in carried.into_iter().chain(std::iter::once(slice)) {
            let top = next_top(&new_page, &carried_slice, metrics);
            new_page.push(Placed {
                top,
                slice: carried_slice,
            });
        }
        pages.push(new_page);
    }
    // Blank leading slices at the top of a page only waste paper.
    pages.retain(|page| page.iter().any(|placed| !placed.slice.ops.is_empty()));
    if pages.is_empty() {
        pages.push(Vec::new());
    }
    pages
}

/// Where `slice` goes on `page`: under the last slice, sharing its border if both
/// are ruled.
fn next_top(page: &[Placed], slice: &Slice, metrics: &PaperMetrics) -> u32 {
    match page.last() {
        None => metrics.top_margin,
        Some(previous) => {
            let bottom = previous.top + previous.slice.height;
            if slice.joins_above && previous.slice.bordered {
                bottom.saturating_sub(metrics.border)
            } else {
                bottom
            }
        }
    }
}

static SHARED: OnceLock<Result<Mutex<Typesetter>, String>> = OnceLock::new();

/// Runs `f` with the process-wide typesetter (created on first use).
pub fn with_typesetter<T>(
    f: impl FnOnce(&mut Typesetter) -> Result<T, PrintError>,
) -> Result<T, PrintError> {
    let shared = SHARED.get_or_init(|| {
        Typesetter::new()
            .map(Mutex::new)
            .map_err(|error| error.to_string())
    });
    match shared {
        Ok(mutex) => {
            let mut typesetter = mutex
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&mut typesetter)
        }
        Err(message) => Err(PrintError::NoFont(message.clone())),
    }
}

/// Renders `document` at `width` dots with the shared typesetter.
pub fn render(document: &Document, width: u32) -> Result<Rendered, PrintError> {
    with_typesetter(|typesetter| typesetter.render(document, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fill_the_width_and_never_exceed_it() {
        assert_eq!(
            fit_columns(&[100, 100], &[50, 50], 400).iter().sum::<u32>(),
            400
        );
        let widths = fit_columns(&[50, 600, 900], &[50, 100, 120], 500);
        assert_eq!(widths.iter().sum::<u32>(), 500);
        assert_eq!(
            widths[0], 50,
            "a column that wants no more than its minimum keeps it"
        );
        assert!(widths[1] >= 100 && widths[2] > widths[1]);
    }

    #[test]
    fn runs_keep_words_and_pair_cjk() {
        assert_eq!(
            unbreakable_runs("2024-01 正常补缴 ok"),
            vec!["2024-01", "正常", "补缴", "ok"]
        );
        assert_eq!(unbreakable_runs("缴费基数"), vec!["缴费", "基数"]);
    }

    #[test]
    fn weights_split_exactly() {
        assert_eq!(split_by_weights(100, &[1, 1, 1]), vec![33, 33, 34]);
    }

    #[test]
    fn odd_widths_are_refused() {
        assert!(matches!(
            check_width(100),
            Err(PrintError::UnsupportedWidth(100))
        ));
        assert!(
            check_width(WIDTH_58MM).is_ok()
                && check_width(WIDTH_80MM).is_ok()
                && check_width(WIDTH_A4).is_ok()
        );
    }
}
