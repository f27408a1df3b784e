//! Layout + render + encode time and bytes sent, for every layout at every paper
//! width. Run: `cargo bench -p estation-drivers --bench print_pipeline`.
//! Prints medians over many runs with a warm typesetter (as in a running kiosk).

use estation_drivers::print::{
    Document, EncodeOptions, QrMode, WIDTH_58MM, WIDTH_80MM, WIDTH_A4, encode, layouts, render,
    samples,
};
use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let documents: Vec<(&str, Document)> = vec![
        (
            "social-insurance",
            layouts::certificate(&samples::social_insurance()),
        ),
        (
            "household-reg",
            layouts::certificate(&samples::household_registration()),
        ),
        (
            "rcep-origin",
            layouts::origin_form(&samples::rcep_origin_form()),
        ),
        (
            "receipt",
            layouts::submission_receipt(&samples::submission_receipt()),
        ),
        ("test-page", layouts::test_page(&samples::test_page_info())),
    ];
    let runs: usize = std::env::args()
        .filter_map(|arg| arg.parse().ok())
        .next()
        .unwrap_or(31);
    // The first render scans the installed fonts; report it apart.
    let cold = Instant::now();
    let _ = render(&documents[0].1, WIDTH_80MM);
    println!(
        "first render, including font scan: {:.1} ms",
        cold.elapsed().as_secs_f64() * 1000.0
    );
    println!(
        "{:<17} {:>5} {:>5} {:>11} {:>11} {:>11} {:>9} {:>6} {:>10}",
        "layout", "width", "pages", "layout+ras", "encode", "total", "bytes", "chunks", "bytes(qr)"
    );
    for (name, document) in &documents {
        for width in [WIDTH_58MM, WIDTH_80MM, WIDTH_A4] {
            let mut render_times = Vec::new();
            let mut encode_times = Vec::new();
            let mut totals = Vec::new();
            let mut last = None;
            for _ in 0..runs {
                let start = Instant::now();
                let Ok(rendered) = render(document, width) else {
                    println!("{name:<17} {width:>5} does not fit");
                    break;
                };
                let rendered_at = Instant::now();
                let Ok(job) = encode(&rendered, &EncodeOptions::default()) else {
                    break;
                };
                let done = Instant::now();
                render_times.push(rendered_at - start);
                encode_times.push(done - rendered_at);
                totals.push(done - start);
                last = Some((rendered, job));
            }
            let Some((rendered, job)) = last else {
                continue;
            };
            let native = encode(
                &rendered,
                &EncodeOptions {
                    qr: QrMode::Native,
                    ..EncodeOptions::default()
                },
            )
            .map(|job| job.bytes.len())
            .unwrap_or(0);
            let ms = |duration: Duration| format!("{:.2} ms", duration.as_secs_f64() * 1000.0);
            println!(
                "{:<17} {:>5} {:>5} {:>11} {:>11} {:>11} {:>9} {:>6} {:>10}",
                name,
                width,
                rendered.pages.len(),
                ms(median(render_times)),
                ms(median(encode_times)),
                ms(median(totals)),
                job.bytes.len(),
                job.chunk_ends.len(),
                native
            );
        }
    }
}
