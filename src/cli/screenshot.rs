//! `estation screenshot`: every screen rendered headlessly with sample data.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;

use crate::i18n::{Locale, Translator};
use crate::session::Screen;
use crate::ui_bridge::headless::HeadlessPlatform;
use crate::ui_bridge::screens::{Samples, sample_view};
use crate::ui_bridge::{self, AppWindow};

#[derive(Args, Debug)]
pub struct ScreenshotArgs {
    /// Print every screen's name, one per line.
    #[arg(long)]
    pub list: bool,
    /// The screen to render (see --list).
    #[arg(long, required_unless_present_any = ["list", "all"])]
    pub screen: Option<String>,
    /// zh-CN, zh-TW or en-US.
    #[arg(long, default_value = "zh-CN")]
    pub locale: String,
    /// Render in elderly mode (larger type and targets, higher contrast).
    #[arg(long)]
    pub elderly: bool,
    /// The PNG to write.
    #[arg(long, required_unless_present_any = ["list", "all"])]
    pub out: Option<PathBuf>,
    /// Render every screen in every locale and both modes into this folder
    /// (`NAME.LOCALE[.elderly].png`).
    #[arg(long, conflicts_with_all = ["screen", "out"])]
    pub all: Option<PathBuf>,
    #[arg(long, default_value_t = 1080)]
    pub width: u32,
    #[arg(long, default_value_t = 1920)]
    pub height: u32,
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

    let window = HeadlessPlatform::install(args.width, args.height)?;
    let translator = Arc::new(Translator::new()?);
    let ui = AppWindow::new()?;
    ui_bridge::install_translator(&ui, translator.clone());
    let samples = Samples::new();
    slint::ComponentHandle::show(&ui)?;
    let mut overflowing = Vec::new();
    for (screen, locale, elderly, out) in jobs {
        let view = sample_view(&samples, &translator, screen, locale, elderly);
        ui_bridge::present(&ui, &view);
        window
            .save_png(&out)
            .with_context(|| format!("rendering {} ({locale})", screen.name()))?;
        if ui.get_layout_overflow() {
            overflowing.push(format!(
                "{} {locale}{}",
                screen.name(),
                if elderly { " elderly" } else { "" }
            ));
        }
        println!("{}", out.display());
    }
    if overflowing.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for screen in &overflowing {
            eprintln!("estation: content does not fit the window: {screen}");
        }
        Ok(ExitCode::from(3))
    }
}
