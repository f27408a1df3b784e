//! 1-bit page rasters in the printer's own format: rows of packed bytes, most
//! significant bit leftmost, 1 = black dot (exactly what `GS v 0` carries).

use image::{GrayImage, Luma};

/// A black-and-white bitmap, `width` dots wide.
#[derive(Clone, PartialEq, Eq)]
pub struct Raster {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Raster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raster({}x{})", self.width, self.height)
    }
}

impl Raster {
    pub fn new(width: u32, height: u32) -> Self {
        let stride = width.div_ceil(8) as usize;
        Self {
            width,
            height,
            data: vec![0; stride * height as usize],
        }
    }

    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    /// Bytes per row.
    pub fn stride(&self) -> usize {
        self.width.div_ceil(8) as usize
    }
    /// Packed rows, top to bottom.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
    pub fn row(&self, y: u32) -> &[u8] {
        let stride = self.stride();
        let start = y as usize * stride;
        &self.data[start..start + stride]
    }

    pub fn is_row_blank(&self, y: u32) -> bool {
        self.row(y).iter().all(|&byte| byte == 0)
    }

    /// Builds a raster from packed rows; `None` when the byte count does not match.
    pub fn from_packed(width: u32, height: u32, data: Vec<u8>) -> Option<Self> {
        let expected = width.div_ceil(8) as usize * height as usize;
        (data.len() == expected).then_some(Self {
            width,
            height,
            data,
        })
    }

    pub fn get(&self, x: u32, y: u32) -> bool {
        if x >= self.width || y >= self.height {
            return false;
        }
        let index = y as usize * self.stride() + (x / 8) as usize;
        self.data[index] & (0x80 >> (x % 8)) != 0
    }

    pub fn set(&mut self, x: i64, y: i64) {
        if x < 0 || y < 0 || x >= i64::from(self.width) || y >= i64::from(self.height) {
            return;
        }
        let (x, y) = (x as u32, y as u32);
        let index = y as usize * self.stride() + (x / 8) as usize;
        self.data[index] |= 0x80 >> (x % 8);
    }

    /// Fills a rectangle, clipped to the raster.
    pub fn fill_rect(&mut self, x: i64, y: i64, width: u32, height: u32) {
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x + i64::from(width)).min(i64::from(self.width));
        let y1 = (y + i64::from(height)).min(i64::from(self.height));
        for row in y0..y1 {
            for column in x0..x1 {
                self.set(column, row);
            }
        }
    }

    /// ORs `other` into this raster with its top-left corner at (x, y).
    pub fn blit(&mut self, other: &Raster, x: i64, y: i64) {
        for row in 0..other.height {
            for column in 0..other.width {
                if other.get(column, row) {
                    self.set(x + i64::from(column), y + i64::from(row));
                }
            }
        }
    }

    /// Copies rows `[start, end)` into a new raster.
    pub fn rows(&self, start: u32, end: u32) -> Raster {
        let end = end.min(self.height);
        let start = start.min(end);
        let stride = self.stride();
        let data = self.data[start as usize * stride..end as usize * stride].to_vec();
        Raster {
            width: self.width,
            height: end - start,
            data,
        }
    }

    /// Appends rows of another raster of the same width (narrower ones are padded).
    pub fn append(&mut self, other: &Raster) {
        if other.width == self.width {
            self.data.extend_from_slice(&other.data);
            self.height += other.height;
        } else {
            let top = self.height;
            self.extend_blank(other.height);
            self.blit(other, 0, i64::from(top));
        }
    }

    pub fn extend_blank(&mut self, rows: u32) {
        self.data
            .resize(self.data.len() + self.stride() * rows as usize, 0);
        self.height += rows;
    }

    /// Black ink on white paper, as a grey image for previews and PNG files.
    pub fn to_gray_image(&self) -> GrayImage {
        let mut image = GrayImage::from_pixel(self.width, self.height, Luma([255]));
        for y in 0..self.height {
            let row = self.row(y);
            for x in 0..self.width {
                if row[(x / 8) as usize] & (0x80 >> (x % 8)) != 0 {
                    image.put_pixel(x, y, Luma([0]));
                }
            }
        }
        image
    }

    /// Thresholds a grey image (dark below `threshold` becomes a dot).
    pub fn from_gray_image(image: &GrayImage, threshold: u8) -> Raster {
        let mut raster = Raster::new(image.width(), image.height());
        for (x, y, pixel) in image.enumerate_pixels() {
            if pixel.0[0] < threshold {
                raster.set(i64::from(x), i64::from(y));
            }
        }
        raster
    }

    /// Number of black dots (thermal head energy; also handy in tests).
    pub fn black_dots(&self) -> u64 {
        self.data
            .iter()
            .map(|byte| u64::from(byte.count_ones()))
            .sum()
    }
}

/// Where a QR symbol sits on a page, so the encoder can send the printer's native
/// `GS ( k` command instead of raster rows when asked to.
#[derive(Clone, PartialEq, Eq)]
pub struct QrRegion {
    pub payload: String,
    /// Top row of the symbol on the page.
    pub top: u32,
    /// Symbol height in dots (modules x module size; no quiet zone).
    pub height: u32,
    pub module_dots: u32,
}

impl std::fmt::Debug for QrRegion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrRegion")
            .field("top", &self.top)
            .field("height", &self.height)
            .field("module_dots", &self.module_dots)
            .finish_non_exhaustive()
    }
}

/// One page: printed, then cut.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    pub raster: Raster,
    pub qr_regions: Vec<QrRegion>,
}

/// A rendered document: pages at one paper width.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub width: u32,
    pub pages: Vec<Page>,
}

impl Rendered {
    /// The printed paper as one image: pages stacked, with a dashed cut line
    /// between them (the kiosk's print preview).
    pub fn paper_image(&self) -> GrayImage {
        stack_pages(
            self.width,
            self.pages
                .iter()
                .map(|page| page.raster.to_gray_image())
                .collect(),
        )
    }

    pub fn total_height(&self) -> u32 {
        self.pages.iter().map(|page| page.raster.height()).sum()
    }
}

/// Gap drawn between pages in previews, in dots.
pub(crate) const CUT_GAP: u32 = 24;

/// Stacks page images vertically with a grey gap and a dashed cut mark between pages.
pub fn stack_pages(width: u32, pages: Vec<GrayImage>) -> GrayImage {
    let gaps = pages.len().saturating_sub(1) as u32 * CUT_GAP;
    let height = pages.iter().map(|page| page.height()).sum::<u32>() + gaps;
    let mut paper = GrayImage::from_pixel(width, height.max(1), Luma([255]));
    let mut top = 0;
    for (index, page) in pages.iter().enumerate() {
        if index > 0 {
            for y in top..top + CUT_GAP {
                for x in 0..width {
                    let on_cut_line = y == top + CUT_GAP / 2 && (x / 8).is_multiple_of(2);
                    paper.put_pixel(x, y, Luma([if on_cut_line { 0 } else { 200 }]));
                }
            }
            top += CUT_GAP;
        }
        image::imageops::replace(&mut paper, page, 0, i64::from(top));
        top += page.height();
    }
    paper
}
