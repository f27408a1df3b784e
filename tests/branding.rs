//! A bundle's branding reaches the screens and the paper: its station name in
//! the header and on the attract screen, its accent colour, its help line under
//! errors, and its name, footer and help line at the foot of printed documents.

use std::sync::Arc;

use estation::i18n::{Locale, Translator};
use estation::kiosk::documents::add_branding;
use estation::ops::bundle::BundleSource;
use estation::session::Screen;
use estation::ui_bridge::headless::HeadlessPlatform;
use estation::ui_bridge::screens::{Samples, sample_view};
use estation::ui_bridge::{self, AppWindow};
use estation::view::BrandingView;
use estation_drivers::print::{self, Block};

const EXAMPLE: &str = include_str!("../assets/config/example.toml");

fn pixels_near(image: &image::RgbImage, colour: [u8; 3]) -> usize {
    image
        .pixels()
        .filter(|p| p.0.iter().zip(colour).all(|(a, b)| a.abs_diff(b) <= 8))
        .count()
}

/// Rows of `a` and `b` that differ, as a range (first, last).
fn differing_rows(a: &image::RgbImage, b: &image::RgbImage) -> Option<(u32, u32)> {
    let rows: Vec<u32> = (0..a.height())
        .filter(|&y| (0..a.width()).any(|x| a.get_pixel(x, y) != b.get_pixel(x, y)))
        .collect();
    Some((*rows.first()?, *rows.last()?))
}

#[test]
fn the_bundles_name_colour_and_help_line_reach_the_screens() {
    let window = HeadlessPlatform::install(1080, 1920).unwrap();
    let translator = Arc::new(Translator::new().unwrap());
    let ui = AppWindow::new().unwrap();
    ui_bridge::install_translator(&ui, translator.clone());
    slint::ComponentHandle::show(&ui).unwrap();
    let samples = Samples::new();
    let render = |view: &estation::view::View| {
        ui_bridge::present(&ui, view);
        window.render().unwrap()
    };
    let green = [0x11, 0xc0, 0x22];
    let branding = BrandingView {
        station_name: "西湖区文三路 24 小时政务服务站".into(),
        help_phone: "0571-96110".into(),
        accent: Some(green),
    };

    // The attract screen: the name and the emblem's accent colour.
    let plain = sample_view(&samples, &translator, Screen::Attract, Locale::ZhCn, false);
    let mut branded = plain.clone();
    branded.branding = branding.clone();
    let before = render(&plain);
    let after = render(&branded);
    assert_eq!(pixels_near(&before, green), 0);
    assert!(
        pixels_near(&after, green) > 50,
        "the accent colour is not used"
    );
    let (top, _) = differing_rows(&before, &after).expect("the name changed nothing");
    assert!(
        top < 400,
        "the name is not at the top of the attract screen"
    );

    // A screen with the header: the name is in the header bar.
    let plain = sample_view(&samples, &translator, Screen::Services, Locale::EnUs, false);
    let mut branded = plain.clone();
    branded.branding = BrandingView {
        accent: None,
        ..branding.clone()
    };
    let (top, bottom) =
        differing_rows(&render(&plain), &render(&branded)).expect("the header did not change");
    assert!(bottom < 150, "only the header changes ({top}..{bottom})");

    // An error: the help line is there (the content is centred, so it all
    // moves), the header stays, and nothing leaves its box.
    let plain = sample_view(&samples, &translator, Screen::Error, Locale::ZhCn, true);
    let mut branded = plain.clone();
    branded.branding = BrandingView {
        help_phone: branding.help_phone.clone(),
        ..BrandingView::default()
    };
    let before = render(&plain);
    let after = render(&branded);
    let (top, _) = differing_rows(&before, &after).expect("no help line on the error screen");
    assert!(top >= 150, "the header changed ({top})");
    assert!(
        !ui.get_layout_overflow(),
        "the help line pushed the screen out of its box"
    );
    let out = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("branding");
    std::fs::create_dir_all(&out).unwrap();
    after.save(out.join("error-with-help-line.png")).unwrap();
}

#[test]
fn printed_documents_end_with_the_station_its_footer_and_help_line() {
    let bundle = BundleSource::from_toml(EXAMPLE)
        .unwrap()
        .into_bundle(time::OffsetDateTime::now_utc())
        .unwrap();
    let mut document = print::Document {
        blocks: vec![Block::Title {
            text: "Receipt".into(),
            subtitle: None,
        }],
        page_length_mm: None,
    };
    let plain = print::render(&document, print::WIDTH_80MM).unwrap();
    add_branding(&mut document, &bundle, Locale::EnUs);
    let Some(Block::Paragraph { text, .. }) = document.blocks.last() else {
        panic!("no branding block: {:?}", document.blocks.len());
    };
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines,
        [
            "Binjiang 24-hour service e-station",
            "Questions? Call 12345"
        ],
        "the help line is not repeated when the footer names it"
    );
    let branded = print::render(&document, print::WIDTH_80MM).unwrap();
    let height = |r: &print::Rendered| r.pages[0].raster.to_gray_image().height();
    assert!(height(&branded) > height(&plain), "the paper got no longer");

    // zh-TW text, and a help line of its own when the footer does not name it.
    let mut bundle = bundle;
    bundle.branding.receipt_footer = None;
    let mut document = print::Document {
        blocks: Vec::new(),
        page_length_mm: None,
    };
    add_branding(&mut document, &bundle, Locale::ZhTw);
    let Some(Block::Paragraph { text, .. }) = document.blocks.last() else {
        panic!("no branding block");
    };
    assert_eq!(text, "濱江區 24 小時政務服務 e 站\n☎ 12345");
}
