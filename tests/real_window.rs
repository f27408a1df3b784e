//! The kiosk's real window with its real event loop, on real display servers: an
//! Xvfb screen in portrait and in landscape, and the cage Wayland kiosk compositor.
//! What the display shows is captured (`xwd`, `grim`) and must equal the headless
//! rendering of the same screen at the same size, before and after taps.
//!
//! A window whose size hints followed the current screen's layout drew 350 rows and
//! left the rest of the panel black; these tests would have caught it.

use crate::support::display;

use display::{Cage, Xvfb, headless_reference, tools_present, wait_for_picture};

/// The headless script of the walk the X11 tests tap through.
const WALK: &str = "\
screenshot attract.png
tap start
wait language
screenshot language.png
tap language zh-CN
wait services
screenshot services.png
tap back
wait language
screenshot language-again.png
";

/// Where a resident's finger lands on each step of the walk, for a screen size.
struct Taps {
    /// Anywhere on the attract screen starts a visit.
    start: (u32, u32),
    /// The first language button (简体中文).
    first_language: (u32, u32),
    /// The navigation bar's Back button.
    back: (u32, u32),
}

/// Taps through the walk on an Xvfb screen of `screen` pixels. The kiosk fills the
/// screen, or with `window` opens a window of that size in the top-left corner (no
/// window manager places it elsewhere), and only that part is compared.
fn walk_on_xvfb(test: &str, screen: (u32, u32), window: Option<(u32, u32)>, taps: Taps) {
    if !tools_present(test, &["Xvfb", "xwd", "xdotool"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (width, height) = window.unwrap_or(screen);
    let expected = headless_reference(
        dir.path(),
        width,
        height,
        WALK,
        &[
            "attract.png",
            "language.png",
            "services.png",
            "language-again.png",
        ],
    );
    let mut xvfb = Xvfb::start(screen.0, screen.1);
    let size_args = window
        .map(|(w, h)| {
            vec![
                "--width".to_owned(),
                w.to_string(),
                "--height".to_owned(),
                h.to_string(),
            ]
        })
        .unwrap_or_default();
    let size_args: Vec<&str> = size_args.iter().map(String::as_str).collect();
    let mut kiosk = xvfb.start_kiosk(&dir.path().join("kiosk-data"), &size_args);
    let mut check = |what: &str, picture: &image::RgbImage| {
        wait_for_picture(&format!("{test} {what}"), picture, || {
            kiosk.assert_running("estation demo");
            let screen = xvfb.capture();
            Some(image::imageops::crop_imm(&screen, 0, 0, width, height).to_image())
        });
    };
    check("attract", &expected[0]);
    xvfb.tap(taps.start.0, taps.start.1);
    check("language", &expected[1]);
    xvfb.tap(taps.first_language.0, taps.first_language.1);
    check("services", &expected[2]);
    xvfb.tap(taps.back.0, taps.back.1);
    check("language again", &expected[3]);
    xvfb.assert_running();
}

#[test]
fn portrait_xvfb_shows_every_pixel_of_the_window_and_follows_taps() {
    walk_on_xvfb(
        "portrait_xvfb",
        (1080, 1920),
        None,
        Taps {
            start: (540, 960),
            first_language: (540, 520),
            back: (270, 1820),
        },
    );
}

#[test]
fn landscape_xvfb_shows_every_pixel_of_the_window_and_follows_taps() {
    walk_on_xvfb(
        "landscape_xvfb",
        (1920, 1080),
        None,
        Taps {
            start: (960, 540),
            // Landscape: the languages stand in a row; the first is on the left.
            first_language: (300, 500),
            // Landscape: Back is in the navigation column on the right, above Home.
            back: (1770, 844),
        },
    );
}

/// A window of a given size keeps that size on every screen: its size hints do not
/// follow the layout of the screen it shows.
#[test]
fn a_window_keeps_its_size_on_every_screen() {
    walk_on_xvfb(
        "window_540x960",
        (1080, 1920),
        Some((540, 960)),
        // A half-size panel shows the portrait layout at half scale: the
        // portrait walk's taps, halved.
        Taps {
            start: (270, 480),
            first_language: (270, 260),
            back: (135, 910),
        },
    );
}

/// cage fills its output with the kiosk. Debian 12's cage (0.1.4, wlroots 0.15)
/// hands an unrotated full-output client buffer to direct scan-out, which the
/// headless backend accepts and screen capture cannot read back; a turned output
/// is always composited, so the captures here are of turned outputs (the
/// rotation a floor kiosk's panel uses, and its upside-down twin).
fn cage_fills_output(test: &str, rotations: usize, width: u32, height: u32) {
    if !tools_present(test, &["cage", "grim", "Xwayland"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let expected = headless_reference(
        dir.path(),
        width,
        height,
        "screenshot attract.png\n",
        &["attract.png"],
    );
    let mut cage = Cage::start_kiosk(&dir.path().join("cage"), rotations, &[]);
    wait_for_picture(&format!("{test} attract"), &expected[0], || cage.capture());
}

#[test]
fn cage_landscape_output_is_filled_by_the_kiosk() {
    cage_fills_output("cage_landscape", 2, 1280, 720);
}

#[test]
fn cage_portrait_output_is_filled_by_the_kiosk() {
    cage_fills_output("cage_portrait", 1, 720, 1280);
}
