//! `estation screenshot`: every screen rendered headlessly with sample data.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use crate::i18n::{Locale, Translator};
use crate::session::Screen;
use crate::ui_bridge::headless::{HeadlessPlatform, HeadlessWindow};
use crate::ui_bridge::screens::{Samples, sample_view};
use crate::ui_bridge::{self, AppWindow};

#[derive(Args, Debug)]
pub struct ScreenshotArgs {
    /// Print every screen's name, one per line.
    #[arg(long)]
    pub list: bool,
    /// The screen to render (see --list).
    #[arg(long, required_unless_present_any = ["list", "all", "contact_sheets"])]
    pub screen: Option<String>,
    /// zh-CN, zh-TW or en-US.
    #[arg(long, default_value = "zh-CN")]
    pub locale: String,
    /// Render in elderly mode (larger type and targets, higher contrast).
    #[arg(long)]
    pub elderly: bool,
    /// The PNG to write.
    #[arg(long, required_unless_present_any = ["list", "all", "contact_sheets"])]
    pub out: Option<PathBuf>,
    /// Render every screen in every locale and both modes into this folder
    /// (`NAME.LOCALE[.elderly].png`).
    #[arg(long, conflicts_with_all = ["screen", "out"])]
    pub all: Option<PathBuf>,
    /// Write a contact sheet into this folder: every screen, small, in
    /// `--list` order, eight to a row, in `--locale` (and `--elderly`) at this
    /// size: `sheet.WxH.LOCALE[.elderly].png`.
    #[arg(long, conflicts_with_all = ["screen", "out", "all"])]
    pub contact_sheets: Option<PathBuf>,
    #[arg(long, default_value_t = 1080)]
    pub width: u32,
    #[arg(long, default_value_t = 1920)]
    pub height: u32,
    /// Physical pixels per logical pixel. By default the panel's own, from its
    /// size: 1 at 1080x1920 and 1920x1080, 0.71 at 1366x768.
    #[arg(long)]
    pub scale: Option<f32>,
}

pub fn run(args: ScreenshotArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        for screen in Screen::ALL {
            println!("{}", screen.name());
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.width < 320 || args.height < 320 || args.width > 8192 || args.height > 8192 {
        bail!("the size must be between 320 and 8192 pixels on each side");
    }
    if args
        .scale
        .is_some_and(|scale| !(0.25..=4.0).contains(&scale))
    {
        bail!("--scale must be between 0.25 and 4");
    }
    if let Some(folder) = &args.contact_sheets {
        return contact_sheet(&args, folder);
    }
    let mut jobs = Vec::new();
    if let Some(folder) = &args.all {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        for screen in Screen::ALL {
            for locale in Locale::ALL {
                for elderly in [false, true] {
                    let suffix = if elderly { ".elderly" } else { "" };
                    let file =
                        folder.join(format!("{}.{}{suffix}.png", screen.name(), locale.tag()));
                    jobs.push((screen, locale, elderly, file));
                }
            }
        }
    } else {
        let name = args.screen.as_deref().unwrap_or_default();
        let screen = Screen::from_name(name).with_context(|| {
            format!("unknown screen {name:?}; `estation screenshot --list` shows them")
        })?;
        let locale: Locale = args.locale.parse()?;
        let out = args.out.clone().context("--out is required")?;
        jobs.push((screen, locale, args.elderly, out));
    }

    let Rendering {
        window,
        translator,
        ui,
        samples,
    } = Rendering::new(&args)?;
    slint::ComponentHandle::show(&ui)?;
    let mut overflowing = Vec::new();
    let mut crossing_boxes = Vec::new();
    for (screen, locale, elderly, out) in jobs {
        let view = sample_view(&samples, &translator, screen, locale, elderly);
        ui_bridge::present(&ui, &view);
        let shot = window
            .save_png(&out)
            .with_context(|| format!("rendering {} ({locale})", screen.name()))?;
        let what = format!(
            "{} {locale}{}",
            screen.name(),
            if elderly { " elderly" } else { "" }
        );
        if ui.get_layout_overflow() {
            overflowing.push(what.clone());
        }
        let crossing = pixels_outside_boxes(&ui, &window, &shot)?;
        if crossing > 0 {
            crossing_boxes.push(format!("{what} ({crossing} pixels)"));
        }
        println!("{}", out.display());
    }
    for screen in &overflowing {
        eprintln!("estation: content does not fit the window: {screen}");
    }
    for screen in &crossing_boxes {
        eprintln!("estation: text drawn outside its box: {screen}");
    }
    if overflowing.is_empty() && crossing_boxes.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(3))
    }
}

/// A headless window at the requested size and scale, the window's component
/// with its translator, and the screens' sample data.
struct Rendering {
    window: HeadlessWindow,
    translator: Arc<Translator>,
    ui: AppWindow,
    samples: Samples,
}

impl Rendering {
    fn new(args: &ScreenshotArgs) -> anyhow::Result<Self> {
        let window = HeadlessPlatform::install_at(args.width, args.height, args.scale)?;
        let translator = Arc::new(Translator::new()?);
        let ui = AppWindow::new()?;
        ui_bridge::install_translator(&ui, translator.clone());
        Ok(Self {
            window,
            translator,
            ui,
            samples: Samples::new(),
        })
    }
}

/// How many pixels of the screen just rendered (`shot`) change when every box
/// clips its content to its own bounds: none, unless something (text that does
/// not fit, mostly) is drawn across a box's border.
fn pixels_outside_boxes(
    ui: &AppWindow,
    window: &HeadlessWindow,
    shot: &image::RgbImage,
) -> anyhow::Result<usize> {
    let theme = slint::ComponentHandle::global::<crate::ui_bridge::Theme>(ui);
    theme.set_clip_boxes(true);
    let clipped = window.render_now();
    theme.set_clip_boxes(false);
    let clipped = clipped.context("rendering with boxes clipped")?;
    Ok(shot
        .pixels()
        .zip(clipped.pixels())
        .filter(|(a, b)| a != b)
        .count())
}

/// Thumbnails per row of a contact sheet.
const SHEET_COLUMNS: u32 = 8;
/// The long side of a thumbnail, in pixels.
const THUMB_LONG_SIDE: u32 = 180;

/// Every screen at the given size, small, on one sheet: a reviewer sees them all
/// at a glance. A red frame marks a screen whose content does not fit the window.
fn contact_sheet(args: &ScreenshotArgs, folder: &std::path::Path) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    let locale: Locale = args.locale.parse()?;
    let Rendering {
        window,
        translator,
        ui,
        samples,
    } = Rendering::new(args)?;
    slint::ComponentHandle::show(&ui)?;
    let long = args.width.max(args.height);
    let (thumb_w, thumb_h) = (
        args.width * THUMB_LONG_SIDE / long,
        args.height * THUMB_LONG_SIDE / long,
    );
    let gap = 6;
    let rows = (Screen::ALL.len() as u32).div_ceil(SHEET_COLUMNS);
    let mut sheet = image::RgbImage::from_pixel(
        SHEET_COLUMNS * (thumb_w + gap) + gap,
        rows * (thumb_h + gap) + gap,
        image::Rgb([200, 200, 200]),
    );
    let mut overflowing = Vec::new();
    let mut crossing_boxes = Vec::new();
    for (i, screen) in Screen::ALL.iter().enumerate() {
        let view = sample_view(&samples, &translator, *screen, locale, args.elderly);
        ui_bridge::present(&ui, &view);
        let shot = window
            .render()
            .with_context(|| format!("rendering {} ({locale})", screen.name()))?;
        let thumb = image::imageops::resize(
            &shot,
            thumb_w,
            thumb_h,
            image::imageops::FilterType::Triangle,
        );
        let (col, row) = (i as u32 % SHEET_COLUMNS, i as u32 / SHEET_COLUMNS);
        let (x, y) = (gap + col * (thumb_w + gap), gap + row * (thumb_h + gap));
        let crossing = pixels_outside_boxes(&ui, &window, &shot)?;
        if crossing > 0 {
            crossing_boxes.push(format!("{} ({crossing} pixels)", screen.name()));
        }
        if ui.get_layout_overflow() || crossing > 0 {
            if ui.get_layout_overflow() {
                overflowing.push(screen.name());
            }
            for dy in 0..thumb_h + 6 {
                for dx in 0..thumb_w + 6 {
                    if let Some(p) = sheet.get_pixel_mut_checked(
                        (x + dx).saturating_sub(3),
                        (y + dy).saturating_sub(3),
                    ) {
                        *p = image::Rgb([220, 0, 0]);
                    }
                }
            }
        }
        image::imageops::replace(&mut sheet, &thumb, i64::from(x), i64::from(y));
    }
    let suffix = if args.elderly { ".elderly" } else { "" };
    let out = folder.join(format!(
        "sheet.{}x{}.{}{suffix}.png",
        args.width,
        args.height,
        locale.tag()
    ));
    sheet
        .save(&out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!("{}", out.display());
    if !overflowing.is_empty() {
        eprintln!(
            "framed red, too tall for {}x{}: {}",
            args.width,
            args.height,
            overflowing.join(", ")
        );
    }
    if !crossing_boxes.is_empty() {
        eprintln!(
            "framed red, text drawn outside its box at {}x{}: {}",
            args.width,
            args.height,
            crossing_boxes.join(", ")
        );
    }
    Ok(ExitCode::SUCCESS)
}
