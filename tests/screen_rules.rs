//! Rules of the screens that a program can check on their pixels, in both
//! modes: elderly keys are never smaller than standard ones, a disabled button
//! stays legible, a spinner stands out, and the navigation bar is one layout.

use std::path::{Path, PathBuf};
use std::process::Command;

fn shot(dir: &Path, screen: &str, locale: &str, elderly: bool) -> image::RgbImage {
    let out: PathBuf = dir.join(format!("{screen}.{locale}.{elderly}.png"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_estation"));
    command.args([
        "screenshot",
        "--screen",
        screen,
        "--locale",
        locale,
        "--out",
    ]);
    command.arg(&out);
    if elderly {
        command.arg("--elderly");
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{screen} {locale} elderly={elderly}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    image::open(&out).unwrap().to_rgb8()
}

fn is_white(p: &image::Rgb<u8>) -> bool {
    p.0.iter().all(|&c| c >= 250)
}

/// The tallest run of white pixels in column `x` between `from` and `to`: the
/// inside of the tallest white key there.
fn tallest_white_run(page: &image::RgbImage, x: u32, from: u32, to: u32) -> u32 {
    let (mut best, mut run) = (0, 0);
    for y in from..to {
        if is_white(page.get_pixel(x, y)) {
            run += 1;
            best = best.max(run);
        } else {
            run = 0;
        }
    }
    best
}

fn luminance(p: &image::Rgb<u8>) -> f64 {
    let channel = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.039_28 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(p.0[0]) + 0.7152 * channel(p.0[1]) + 0.0722 * channel(p.0[2])
}

/// WCAG contrast between the most common colour of a box (its background) and
/// the colour furthest from it (its text).
fn contrast_in(page: &image::RgbImage, x: std::ops::Range<u32>, y: std::ops::Range<u32>) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for yy in y.clone() {
        for xx in x.clone() {
            *counts.entry(page.get_pixel(xx, yy).0).or_insert(0u32) += 1;
        }
    }
    let background = image::Rgb(*counts.iter().max_by_key(|(_, n)| **n).unwrap().0);
    let lb = luminance(&background);
    let ratio = |l: f64| (lb.max(l) + 0.05) / (lb.min(l) + 0.05);
    counts
        .keys()
        .map(|c| ratio(luminance(&image::Rgb(*c))))
        .fold(1.0, f64::max)
}

#[test]
fn elderly_keys_are_never_smaller_than_standard_ones() {
    let dir = tempfile::tempdir().unwrap();
    for screen in ["keypad-application-number", "keypad-house-number"] {
        for locale in ["zh-CN", "en-US"] {
            // The left column of keys ("1", "4", "7", "Clear") is crossed at x = 80.
            let key = |elderly| {
                tallest_white_run(&shot(dir.path(), screen, locale, elderly), 80, 600, 1700)
            };
            let (standard, elderly) = (key(false), key(true));
            assert!(
                standard >= 60,
                "{screen} {locale}: no key found ({standard} px)"
            );
            assert!(
                elderly >= standard,
                "{screen} {locale}: elderly keys {elderly} px, standard {standard} px"
            );
        }
    }
}

#[test]
fn a_disabled_button_is_legible() {
    let dir = tempfile::tempdir().unwrap();
    for elderly in [false, true] {
        // On the first page of services, "Previous" is disabled: bottom left, above the nav bar.
        let page = shot(dir.path(), "services", "en-US", elderly);
        let ratio = contrast_in(&page, 60..400, 1540..1650);
        assert!(
            ratio >= 4.5,
            "disabled button contrast {ratio:.1}:1 (elderly={elderly})"
        );
    }
}

#[test]
fn a_waiting_screen_shows_a_spinner_that_stands_out() {
    let dir = tempfile::tempdir().unwrap();
    for elderly in [false, true] {
        let page = shot(dir.path(), "issuing", "zh-CN", elderly);
        // The spinner sits above the centre of the screen.
        let ratio = contrast_in(&page, 400..680, 760..1040);
        assert!(
            ratio >= 3.0,
            "spinner contrast {ratio:.1}:1 (elderly={elderly})"
        );
    }
}

/// One layout rule for the navigation bar: on every screen that has one, Home
/// is the same button in the same place (bottom right), and the place to its
/// left holds either the same Back button or nothing; no screen moves Home or
/// widens it. The screens without the bar are the waiting screens, the error
/// screen (its own buttons) and goodbye, and attract, which is the home.
#[test]
fn the_navigation_bar_is_one_layout_on_every_screen() {
    const WITHOUT_BAR: [&str; 12] = [
        "attract",
        "reading-card",
        "checking-code",
        "issuing",
        "fetching-origin-form",
        "fetching-progress",
        "submitting",
        "printing",
        "checking-technician",
        "running-selftest",
        "error",
        "goodbye",
    ];
    let list = Command::new(env!("CARGO_BIN_EXE_estation"))
        .args(["screenshot", "--list"])
        .output()
        .unwrap();
    let screens: Vec<String> = String::from_utf8(list.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(screens.len() > 30, "{screens:?}");
    let dir = tempfile::tempdir().unwrap();
    for elderly in [false, true] {
        // "services" has both buttons.
        let reference = shot(dir.path(), "services", "en-US", elderly);
        let (back, home) = (button_box(&reference, true), button_box(&reference, false));
        let (Some(back), Some(home)) = (back, home) else {
            panic!("the reference shows no Back or Home: {back:?} {home:?}");
        };
        assert!(home.0 > back.2, "Home is right of Back: {back:?} {home:?}");
        for screen in &screens {
            let page = shot(dir.path(), screen, "en-US", elderly);
            let (left, right) = (button_box(&page, true), button_box(&page, false));
            if WITHOUT_BAR.contains(&screen.as_str()) {
                assert_ne!(
                    right,
                    Some(home),
                    "{screen} (elderly={elderly}) is listed without the bar but shows it"
                );
                continue;
            }
            assert_eq!(
                right,
                Some(home),
                "{screen} (elderly={elderly}): Home is not where the bar puts it"
            );
            assert!(
                left == Some(back) || left.is_none(),
                "{screen} (elderly={elderly}): left of Home is {left:?}, neither Back {back:?} nor empty"
            );
        }
    }
}

/// The box (left, top, right, bottom) of what is drawn in one half of the
/// navigation bar (the bottom 200 px), inside the bar's one-pixel border: a
/// button's outline, or `None` when that half is empty.
fn button_box(page: &image::RgbImage, left_half: bool) -> Option<(u32, u32, u32, u32)> {
    let (width, height) = (page.width(), page.height());
    let xs = if left_half {
        2..width / 2
    } else {
        width / 2..width - 2
    };
    let ys = height - 198..height - 2;
    let background = *page.get_pixel(xs.start + 1, ys.start + 1);
    let ink = |x: u32, y: u32| {
        let p = page.get_pixel(x, y);
        p.0.iter()
            .zip(background.0)
            .map(|(a, b)| a.abs_diff(b))
            .max()
            .unwrap_or(0)
            > 60
    };
    let mut found: Option<(u32, u32, u32, u32)> = None;
    for y in ys {
        for x in xs.clone() {
            if ink(x, y) {
                found = Some(match found {
                    None => (x, y, x, y),
                    Some((l, t, r, b)) => (l.min(x), t.min(y), r.max(x), b.max(y)),
                });
            }
        }
    }
    found
}

/// The panel check (`[display] width_mm`) counts on the layouts' smallest
/// touch targets; they are the theme's, in both modes.
#[test]
fn the_panel_check_knows_the_themes_smallest_targets() {
    use estation::ui_bridge::panel::{TOUCH_MIN_ELDERLY_PX, TOUCH_MIN_STANDARD_PX};
    use estation::ui_bridge::{AppWindow, Theme};
    use slint::ComponentHandle as _;
    let _window = estation::ui_bridge::headless::HeadlessPlatform::install(1080, 1920).unwrap();
    let ui = AppWindow::new().unwrap();
    let theme = ui.global::<Theme>();
    theme.set_elderly(false);
    assert_eq!(theme.get_touch_min(), TOUCH_MIN_STANDARD_PX);
    theme.set_elderly(true);
    assert_eq!(theme.get_touch_min(), TOUCH_MIN_ELDERLY_PX);
}
