//! ESC/POS round trips: what the encoder sends decodes back to the same paper.

use crate::support::paper::qr_payloads;
use estation_drivers::print::{
    Align, EncodeOptions, QrMode, TextLine, TextReceipt, WIDTH_58MM, WIDTH_80MM, WIDTH_A4, decode,
    encode, encode_text_receipt, layouts, render, samples,
};

/// Walks the stream and returns the size of every `GS v 0` band.
fn band_sizes(bytes: &[u8]) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut index = 0;
    while index + 8 <= bytes.len() {
        if bytes[index..].starts_with(&[0x1D, b'v', b'0', 0]) {
            let stride = u16::from_le_bytes([bytes[index + 4], bytes[index + 5]]) as usize;
            let rows = u16::from_le_bytes([bytes[index + 6], bytes[index + 7]]) as usize;
            sizes.push(stride * rows);
            index += 8 + stride * rows;
        } else {
            index += 1;
        }
    }
    sizes
}

#[test]
fn raster_jobs_decode_to_exactly_the_rendered_pages() {
    let cases = [
        (
            layouts::certificate(&samples::social_insurance()),
            WIDTH_58MM,
        ),
        (
            layouts::certificate(&samples::household_registration()),
            WIDTH_80MM,
        ),
        (layouts::origin_form(&samples::rcep_origin_form()), WIDTH_A4),
        (layouts::test_page(&samples::test_page_info()), WIDTH_80MM),
    ];
    for (document, width) in cases {
        let rendered = render(&document, width).unwrap();
        let job = encode(&rendered, &EncodeOptions::default()).unwrap();
        let decoded = decode(&job.bytes, width);
        assert_eq!(decoded.cuts, rendered.pages.len());
        assert_eq!(decoded.unknown_bytes, 0);
        assert!(!decoded.truncated);
        assert_eq!(decoded.pages.len(), rendered.pages.len());
        for (page, image) in rendered.pages.iter().zip(&decoded.pages) {
            assert_eq!(
                image,
                &page.raster.to_gray_image(),
                "width {width}: decoded paper differs from the raster"
            );
        }
        for size in band_sizes(&job.bytes) {
            assert!(
                size <= 4096,
                "band of {size} bytes overflows a 4 KiB buffer"
            );
        }
        assert_eq!(
            job.chunks().map(<[u8]>::len).sum::<usize>(),
            job.bytes.len()
        );
    }
}

#[test]
fn smaller_buffers_get_smaller_bands_and_the_same_paper() {
    let rendered = render(
        &layouts::certificate(&samples::household_registration()),
        WIDTH_80MM,
    )
    .unwrap();
    let small = EncodeOptions {
        max_band_bytes: 1024,
        ..EncodeOptions::default()
    };
    let job = encode(&rendered, &small).unwrap();
    assert!(band_sizes(&job.bytes).iter().all(|&size| size <= 1024));
    assert_eq!(
        decode(&job.bytes, WIDTH_80MM).pages[0],
        rendered.pages[0].raster.to_gray_image()
    );
}

#[test]
fn native_qr_mode_sends_gs_k_and_prints_a_scannable_code() {
    let content = samples::household_registration();
    let rendered = render(&layouts::certificate(&content), WIDTH_80MM).unwrap();
    let native = encode(
        &rendered,
        &EncodeOptions {
            qr: QrMode::Native,
            ..EncodeOptions::default()
        },
    )
    .unwrap();
    let raster = encode(&rendered, &EncodeOptions::default()).unwrap();
    assert!(
        native.bytes.len() < raster.bytes.len(),
        "the QR is not also sent as raster"
    );
    let decoded = decode(&native.bytes, WIDTH_80MM);
    assert_eq!(decoded.qr_payloads, vec![content.qr_payload.clone()]);
    assert_eq!(
        qr_payloads(&decoded.pages[0]),
        vec![content.qr_payload.clone()]
    );
    // Same module size, same place: the paper is as long as the raster version.
    assert_eq!(decoded.pages[0].height(), rendered.pages[0].raster.height());
}

#[test]
fn text_receipts_use_gb18030_in_chinese_mode() {
    let receipt = TextReceipt {
        lines: vec![
            TextLine {
                text: "材料提交回执".into(),
                align: Align::Center,
                bold: true,
                double: true,
            },
            TextLine::new("受理编号 2025031800731"),
            TextLine::new("繁體 ＆ English"),
        ],
        cut: true,
    };
    let job = encode_text_receipt(&receipt).unwrap();
    let (gb, _, _) = encoding_rs::GB18030.encode("材料提交回执");
    assert!(
        job.bytes.windows(gb.len()).any(|window| window == &gb[..]),
        "GB18030 bytes on the wire"
    );
    assert!(
        job.bytes.windows(2).any(|window| window == [0x1C, b'&']),
        "FS & selects Chinese mode"
    );
    let decoded = decode(&job.bytes, WIDTH_80MM);
    assert_eq!(
        decoded.text_lines,
        vec!["材料提交回执", "受理编号 2025031800731", "繁體 ＆ English"]
    );
    assert_eq!(decoded.cuts, 1);
    let page = &decoded.pages[0];
    let black = page.pixels().filter(|pixel| pixel.0[0] == 0).count();
    assert!(black > 500, "the text was drawn on the preview");
}
