//! Every screen renders headlessly in every locale and both modes, with real glyphs.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_estation");
const LOCALES: [&str; 3] = ["zh-CN", "zh-TW", "en-US"];

fn screen_names() -> Vec<String> {
    let output = Command::new(BIN)
        .args(["screenshot", "--list"])
        .output()
        .expect("estation runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .expect("utf-8")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn render_all(dir: &Path) {
    let output = Command::new(BIN)
        .args(["screenshot", "--all"])
        .arg(dir)
        .output()
        .expect("estation runs");
    assert!(
        output.status.success(),
        "screenshot --all failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

fn load(path: &Path) -> image::RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

/// Every third pixel of every third row: dense enough that no glyph stroke hides
/// between samples (strokes are 3 px and wider at these sizes), nine times cheaper.
fn samples(image: &image::RgbImage) -> impl Iterator<Item = [u8; 3]> + '_ {
    (0..image.height()).step_by(3).flat_map(move |y| {
        (0..image.width())
            .step_by(3)
            .map(move |x| image.get_pixel(x, y).0)
    })
}

/// Share of sampled pixels that differ clearly from the most common colour (the
/// background).
fn ink_ratio(image: &image::RgbImage) -> f64 {
    let mut counts = std::collections::HashMap::new();
    for p in samples(image) {
        *counts.entry(p).or_insert(0u64) += 1;
    }
    let background = counts
        .iter()
        .max_by_key(|(_, n)| **n)
        .map(|(c, _)| *c)
        .expect("pixels");
    let (mut ink, mut total) = (0usize, 0usize);
    for p in samples(image) {
        total += 1;
        let distance: i32 = p
            .iter()
            .zip(background)
            .map(|(a, b)| (i32::from(*a) - i32::from(b)).abs())
            .sum();
        if distance > 60 {
            ink += 1;
        }
    }
    ink as f64 / total as f64
}

/// Sampled pixels that differ between two pictures of the same size.
fn differing_pixels(a: &image::RgbImage, b: &image::RgbImage) -> usize {
    samples(a).zip(samples(b)).filter(|(x, y)| x != y).count()
}

#[test]
fn the_list_names_every_screen_once() {
    let names = screen_names();
    for expected in [
        "attract",
        "language",
        "services",
        "insert-card",
        "certificate-preview",
        "printing",
        "take-paper",
        "rating",
        "goodbye",
        "error",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} missing from {names:?}"
        );
    }
    let mut unique = names.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), names.len());
}

#[test]
fn every_screen_renders_in_every_locale_and_mode_with_real_glyphs() {
    let dir = tempfile::tempdir().expect("temp dir");
    render_all(dir.path());
    for name in screen_names() {
        for elderly in ["", ".elderly"] {
            let shots: Vec<_> = LOCALES
                .iter()
                .map(|locale| load(&dir.path().join(format!("{name}.{locale}{elderly}.png"))))
                .collect();
            for (shot, locale) in shots.iter().zip(LOCALES) {
                assert_eq!(
                    (shot.width(), shot.height()),
                    (1080, 1920),
                    "{name} {locale}"
                );
                let ink = ink_ratio(shot);
                assert!(
                    ink > 0.01,
                    "{name}{elderly} {locale} looks empty ({ink:.4})"
                );
            }
            // Simplified and traditional texts differ in glyphs but mostly not in
            // length: missing glyphs (tofu boxes) would draw both the same.
            let cn_tw = differing_pixels(&shots[0], &shots[1]);
            assert!(
                cn_tw > 500,
                "{name}{elderly}: zh-CN and zh-TW look the same ({cn_tw} px differ)"
            );
            let cn_en = differing_pixels(&shots[0], &shots[2]);
            assert!(
                cn_en > 2000,
                "{name}{elderly}: zh-CN and en-US look the same ({cn_en} px differ)"
            );
        }
    }
}

#[test]
fn elderly_mode_draws_larger_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    for (flag, file) in [(false, "normal.png"), (true, "elderly.png")] {
        let mut command = Command::new(BIN);
        command.args([
            "screenshot",
            "--screen",
            "rating",
            "--locale",
            "en-US",
            "--out",
        ]);
        command.arg(dir.path().join(file));
        if flag {
            command.arg("--elderly");
        }
        let status = command.status().expect("estation runs");
        assert!(status.success());
    }
    let normal = ink_ratio(&load(&dir.path().join("normal.png")));
    let elderly = ink_ratio(&load(&dir.path().join("elderly.png")));
    assert!(
        elderly > normal * 1.1,
        "elderly ink {elderly:.4} vs normal {normal:.4}"
    );
}

#[test]
fn bad_arguments_fail_with_a_message() {
    for args in [
        vec!["screenshot", "--screen", "nowhere", "--out", "x.png"],
        vec![
            "screenshot",
            "--screen",
            "attract",
            "--locale",
            "fr-FR",
            "--out",
            "x.png",
        ],
        vec![
            "screenshot",
            "--screen",
            "attract",
            "--out",
            "x.png",
            "--width",
            "10",
        ],
    ] {
        let output = Command::new(BIN)
            .args(&args)
            .output()
            .expect("estation runs");
        assert!(!output.status.success(), "{args:?} succeeded");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains("estation:") || stderr.contains("error"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn a_window_too_short_for_a_screen_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(BIN)
        .args([
            "screenshot",
            "--screen",
            "rating",
            "--locale",
            "en-US",
            "--elderly",
            "--height",
            "1000",
            // At the panel's own scale every screen fits (it is drawn at the
            // landscape layout's size); at 1 the window is 1000 logical pixels tall.
            "--scale",
            "1",
            "--out",
        ])
        .arg(dir.path().join("short.png"))
        .output()
        .expect("estation runs");
    assert_eq!(
        output.status.code(),
        Some(3),
        "overflow must fail the command"
    );
    assert!(String::from_utf8_lossy(&output.stderr).contains("rating en-US elderly"));
}

/// Every screen fits a panel of `width` x `height` in every locale and both
/// modes: the contact sheet frames a screen that does not and names it.
fn every_screen_fits(width: u32, height: u32) {
    let dir = tempfile::tempdir().expect("temp dir");
    for locale in LOCALES {
        for elderly in [false, true] {
            let mut command = Command::new(BIN);
            command
                .args(["screenshot", "--contact-sheets"])
                .arg(dir.path())
                .args([
                    "--width",
                    &width.to_string(),
                    "--height",
                    &height.to_string(),
                ])
                .args(["--locale", locale]);
            if elderly {
                command.arg("--elderly");
            }
            let output = command.output().expect("estation runs");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(output.status.success(), "{stderr}");
            assert!(
                !stderr.contains("framed red"),
                "{width}x{height} {locale} elderly={elderly}: {stderr}"
            );
            let suffix = if elderly { ".elderly" } else { "" };
            let sheet = load(
                &dir.path()
                    .join(format!("sheet.{width}x{height}.{locale}{suffix}.png")),
            );
            assert!(ink_ratio(&sheet) > 0.05, "an empty sheet");
        }
    }
}

#[test]
fn every_screen_fits_a_1920x1080_landscape_panel() {
    every_screen_fits(1920, 1080);
}

#[test]
fn every_screen_fits_a_1366x768_landscape_panel() {
    every_screen_fits(1366, 768);
}

#[test]
fn every_screen_fits_a_768x1366_portrait_panel() {
    every_screen_fits(768, 1366);
}

/// The check finds text drawn across its box: in a window only 640 logical
/// pixels wide (`--scale 1`), the rating's words in elderly English do not fit
/// their cards, and the command says so and fails.
#[test]
fn text_drawn_outside_its_box_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let output = Command::new(BIN)
        .args([
            "screenshot",
            "--screen",
            "rating",
            "--locale",
            "en-US",
            "--elderly",
            "--width",
            "640",
            "--height",
            "1920",
            "--scale",
            "1",
            "--out",
        ])
        .arg(dir.path().join("narrow.png"))
        .output()
        .expect("estation runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("text drawn outside its box: rating en-US elderly"),
        "{stderr}"
    );
}
