//! The service list in pages, through real taps on the headless window (its own
//! hit-testing, no action calls): in elderly mode in English the fourth service
//! is not on the first page, and an elderly resident reaches it with the
//! "Next" button, not by knowing that a list can be swiped.

use crate::support::demo::demo_command;
use std::path::Path;

const BRAND: [u8; 3] = [0x0b, 0x5c, 0xad];
const TO_SERVICES: &str = "tap start\ntap language en-US\ntap elderly\nwait services\n";

/// Runs a script in the demo (pinned night time) and answers its stderr.
fn run(dir: &Path, name: &str, script: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    let output = demo_command(&path, &dir.join(format!("{name}.data")))
        .arg("--no-card-reader")
        .env("ESTATION_LOG", "info")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{name}: {stderr}");
    stderr
}

fn is_brand(p: &image::Rgb<u8>) -> bool {
    p.0.iter().zip(BRAND).all(|(a, b)| a.abs_diff(b) <= 6)
}

/// The centre of the brand-coloured pixels inside a box.
fn centre(page: &image::RgbImage, x: std::ops::Range<u32>, y: std::ops::Range<u32>) -> (u32, u32) {
    let points: Vec<(u32, u32)> = y
        .flat_map(|y| x.clone().map(move |x| (x, y)))
        .filter(|&(x, y)| is_brand(page.get_pixel(x, y)))
        .collect();
    assert!(points.len() > 100, "nothing brand-coloured there");
    let n = points.len() as u32;
    (
        points.iter().map(|p| p.0).sum::<u32>() / n,
        points.iter().map(|p| p.1).sum::<u32>() / n,
    )
}

/// The service badges (brand-coloured discs down the cards' left side), top to bottom.
fn badge_rows(page: &image::RgbImage) -> Vec<u32> {
    // Left of the letter each disc carries.
    let x = 95;
    let mut rows = Vec::new();
    let mut inside = false;
    let mut start = 0;
    for y in 500..1500 {
        let brand = is_brand(page.get_pixel(x, y));
        if brand && !inside {
            start = y;
        }
        if !brand && inside && y - start > 60 {
            rows.push((start + y) / 2);
        }
        inside = brand;
    }
    rows
}

fn chosen(stderr: &str) -> Vec<String> {
    stderr
        .lines()
        .filter(|l| l.contains("service chosen"))
        .filter_map(|l| l.split("service=").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
        .collect()
}

#[test]
fn an_elderly_resident_reaches_the_fourth_service_with_the_next_button() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    run(
        dir,
        "first",
        &format!("{TO_SERVICES}screenshot page1.png\n"),
    );
    let page1 = image::open(dir.join("page1.png")).unwrap().to_rgb8();
    let badges = badge_rows(&page1);
    assert_eq!(
        badges.len(),
        2,
        "two services a page in elderly English: {badges:?}"
    );
    // "Next" is the filled button at the right of the pager, above the nav bar.
    let next = centre(&page1, 760..1040, 1500..1680);

    // Next, then the second card of page 2: the fourth service.
    let stderr = run(
        dir,
        "second",
        &format!(
            "{TO_SERVICES}touch {} {}\nscreenshot page2.png\ntouch 540 {}\n",
            next.0, next.1, badges[1]
        ),
    );
    let page2 = image::open(dir.join("page2.png")).unwrap().to_rgb8();
    assert_ne!(page1, page2, "Next did not turn the page");
    let fourth = chosen(&stderr);
    assert_eq!(fourth.len(), 1, "{stderr}");

    // The same service, told apart from the first three by tapping them on page 1
    // and on page 2.
    let stderr = run(
        dir,
        "others",
        &format!(
            "{TO_SERVICES}touch 540 {}\ntap back\nwait services\ntouch 540 {}\ntap back\nwait services\ntouch {} {}\ntouch 540 {}\n",
            badges[0], badges[1], next.0, next.1, badges[0]
        ),
    );
    let first_three = chosen(&stderr);
    assert_eq!(first_three.len(), 3, "{stderr}");
    assert!(
        !first_three.contains(&fourth[0]),
        "{first_three:?} {fourth:?}"
    );
    let mut all = first_three.clone();
    all.push(fourth[0].clone());
    all.dedup();
    assert_eq!(all.len(), 4, "four different services: {all:?}");
}
