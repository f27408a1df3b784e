//! Layout tests: golden PNGs of every real document, QR codes that decode from the
//! rendered paper, and JSON documents.

use crate::support::paper::qr_payloads;
use estation_drivers::print::{
    Block, Document, PrintError, WIDTH_58MM, WIDTH_80MM, WIDTH_A4, cli, layouts, render, samples,
};
use image::GrayImage;
use std::path::PathBuf;

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.png"))
}

/// Compares with the golden PNG; `UPDATE_GOLDEN=1` rewrites it. A small share of
/// differing pixels is allowed so a font package update does not fail the build;
/// a layout change moves far more than that.
fn check_golden(name: &str, image: &GrayImage) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image.save(&path).unwrap();
        return;
    }
    let golden = image::open(&path)
        .unwrap_or_else(|error| {
            panic!(
                "{}: {error}; run with UPDATE_GOLDEN=1 and review the PNG",
                path.display()
            )
        })
        .to_luma8();
    assert_eq!(
        golden.dimensions(),
        image.dimensions(),
        "{name}: size changed"
    );
    let differing = golden
        .pixels()
        .zip(image.pixels())
        .filter(|(a, b)| a != b)
        .count();
    let share = differing as f64 / (image.width() * image.height()) as f64;
    assert!(
        share < 0.002,
        "{name}: {differing} pixels ({:.3}%) differ from the golden",
        share * 100.0
    );
}

#[test]
fn social_insurance_certificate_matches_golden_and_its_qr_decodes() {
    let content = samples::social_insurance();
    let document = layouts::certificate(&content);
    for (width, name) in [
        (WIDTH_80MM, "social-insurance-80mm"),
        (WIDTH_58MM, "social-insurance-58mm"),
    ] {
        let rendered = render(&document, width).unwrap();
        assert_eq!(rendered.pages.len(), 1);
        let paper = rendered.paper_image();
        assert_eq!(paper.width(), width);
        assert_eq!(
            qr_payloads(&paper),
            vec![content.qr_payload.clone()],
            "{name}"
        );
        check_golden(name, &paper);
    }
}

#[test]
fn household_registration_proof_matches_golden() {
    let content = samples::household_registration();
    let paper = render(&layouts::certificate(&content), WIDTH_80MM)
        .unwrap()
        .paper_image();
    assert_eq!(qr_payloads(&paper), vec![content.qr_payload.clone()]);
    check_golden("household-registration-80mm", &paper);
}

#[test]
fn rcep_origin_form_fits_one_a4_page_and_matches_golden() {
    let content = samples::rcep_origin_form();
    let rendered = render(&layouts::origin_form(&content), WIDTH_A4).unwrap();
    assert_eq!(rendered.pages.len(), 1, "three item lines fit one A4 page");
    assert!(rendered.pages[0].raster.height() <= 297 * 8);
    let paper = rendered.paper_image();
    assert_eq!(qr_payloads(&paper), vec![content.qr_payload.clone()]);
    check_golden("rcep-origin-a4", &paper);
}

#[test]
fn long_origin_forms_paginate_within_a4_length() {
    let mut content = samples::rcep_origin_form();
    let item = content.items[0].clone();
    content.items = (0..40).map(|_| item.clone()).collect();
    let rendered = render(&layouts::origin_form(&content), WIDTH_A4).unwrap();
    assert!(
        rendered.pages.len() >= 2,
        "40 item lines need more than one page"
    );
    for page in &rendered.pages {
        assert!(
            page.raster.height() <= 297 * 8,
            "page of {} dots",
            page.raster.height()
        );
    }
    // The verification QR is on the last page, whole.
    let last = rendered.pages.last().unwrap().raster.to_gray_image();
    assert_eq!(qr_payloads(&last), vec![content.qr_payload]);
}

#[test]
fn submission_receipt_matches_golden() {
    let content = samples::submission_receipt();
    for (width, name) in [
        (WIDTH_80MM, "submission-receipt-80mm"),
        (WIDTH_58MM, "submission-receipt-58mm"),
    ] {
        let paper = render(&layouts::submission_receipt(&content), width)
            .unwrap()
            .paper_image();
        assert_eq!(
            qr_payloads(&paper),
            vec![content.qr_payload.clone().unwrap()]
        );
        check_golden(name, &paper);
    }
}

#[test]
fn test_page_matches_golden() {
    let paper = render(&layouts::test_page(&samples::test_page_info()), WIDTH_80MM)
        .unwrap()
        .paper_image();
    assert_eq!(
        qr_payloads(&paper),
        vec!["ESTATION TEST PAGE 0123456789".to_owned()]
    );
    check_golden("test-page-80mm", &paper);
}

#[test]
fn page_breaks_cut_the_paper() {
    let mut document = Document::new();
    document.push(Block::Heading { text: "一".into() });
    document.push(Block::PageBreak);
    document.push(Block::Heading { text: "二".into() });
    assert_eq!(render(&document, WIDTH_58MM).unwrap().pages.len(), 2);
}

#[test]
fn documents_round_trip_through_json_and_render_from_it() {
    let document = layouts::certificate(&samples::household_registration());
    let json = document.to_json();
    assert_eq!(Document::from_json(&json).unwrap(), document);
    let image = cli::render_document_json(&json, WIDTH_80MM).unwrap();
    assert_eq!(image, render(&document, WIDTH_80MM).unwrap().paper_image());
    let handwritten = r#"{"blocks": [
        {"type": "title", "text": "测试"},
        {"type": "paragraph", "text": "hello", "style": {"size": "large", "bold": true, "align": "center"}},
        {"type": "qr", "payload": "abc"},
        {"type": "rule", "style": "dashed"},
        {"type": "spacing", "mm": 3}
    ]}"#;
    let image = cli::render_document_json(handwritten, WIDTH_58MM).unwrap();
    assert_eq!(qr_payloads(&image), vec!["abc".to_owned()]);
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    assert!(matches!(
        cli::render_document_json("{", 576),
        Err(PrintError::InvalidDocument(_))
    ));
    assert!(matches!(
        render(&Document::new(), 577),
        Err(PrintError::UnsupportedWidth(577))
    ));
    let bad_image = Document {
        blocks: vec![Block::Image {
            png_base64: "!!".into(),
            width_mm: None,
            align: Default::default(),
        }],
        page_length_mm: None,
    };
    assert!(matches!(render(&bad_image, 576), Err(PrintError::Image(_))));
    let not_png = Document {
        blocks: vec![Block::Image {
            png_base64: "aGVsbG8=".into(),
            width_mm: None,
            align: Default::default(),
        }],
        page_length_mm: None,
    };
    assert!(matches!(render(&not_png, 576), Err(PrintError::Image(_))));
    let huge_qr = Document {
        blocks: vec![Block::Qr {
            payload: "x".repeat(2000),
            caption: None,
            module_dots: Some(8),
        }],
        page_length_mm: None,
    };
    assert!(matches!(render(&huge_qr, 384), Err(PrintError::Qr(_))));
    let ragged = Document {
        blocks: vec![Block::Table {
            caption: None,
            headers: vec![],
            rows: vec![vec!["a".into()], vec!["b".into(), "c".into(), "d".into()]],
            weights: None,
            small: false,
        }],
        page_length_mm: Some(0),
    };
    assert!(render(&ragged, 384).is_ok());
}

#[test]
fn debug_output_carries_no_personal_data() {
    let content = samples::social_insurance();
    let document = layouts::certificate(&content);
    for debug in [
        format!("{content:?}"),
        format!("{document:?}"),
        format!("{:?}", document.blocks),
    ] {
        assert!(
            !debug.contains("张三") && !debug.contains("330108199001011234"),
            "{debug}"
        );
    }
}

/// A kiosk prints residents' names and addresses for a year: the glyph cache
/// stays within its limit however many different characters it meets, and a
/// document drawn across a clearing is the same paper as one drawn fresh.
#[test]
fn the_glyph_cache_stays_bounded_and_clearing_it_changes_no_dot() {
    use estation_drivers::print::{GLYPH_CACHE_LIMIT, Typesetter};
    // More different CJK characters than the cache holds, a hundred to a line.
    let characters: Vec<char> = (0x4E00u32..0x4E00 + 6000)
        .filter_map(char::from_u32)
        .collect();
    let mut document = Document::new();
    for line in characters.chunks(100) {
        document.push(Block::Heading {
            text: line.iter().collect(),
        });
    }
    let mut typesetter = Typesetter::new().unwrap();
    let first = typesetter.render(&document, WIDTH_80MM).unwrap();
    assert!(
        typesetter.cached_glyphs() <= GLYPH_CACHE_LIMIT,
        "{} glyphs cached",
        typesetter.cached_glyphs()
    );
    assert!(typesetter.cached_glyphs() > 0);
    // Drawn again with a cache cleared (and refilled) along the way, and by a
    // fresh typesetter: the same dots.
    let again = typesetter.render(&document, WIDTH_80MM).unwrap();
    let fresh = Typesetter::new()
        .unwrap()
        .render(&document, WIDTH_80MM)
        .unwrap();
    assert_eq!(first.paper_image(), fresh.paper_image());
    assert_eq!(again.paper_image(), fresh.paper_image());
    assert!(first.paper_image().pixels().any(|p| p.0[0] < 128), "ink");
}
