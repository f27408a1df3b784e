//! What `estation print test-page|status|render` calls: thin, blocking functions.

use super::PrintError;
use super::document::Document;
use super::encode::encode;
use super::layout::render;
use super::layouts::{TestPageInfo, test_page};
use super::printer::{Printer, PrinterConfig, Progress, SendReport};
use super::status::PrinterStatus;
use image::GrayImage;

/// Prints a test page at `width_dots`. Asks for the status first: with the paper
/// out or the cover open nothing is sent and the error says why.
pub fn print_test_page(
    uri: &str,
    width_dots: u32,
    info: &TestPageInfo,
) -> Result<SendReport, PrintError> {
    let mut config = PrinterConfig::new(uri.parse()?);
    config.width_dots = width_dots;
    let printer = Printer::new(config);
    // Check before rendering so an unreachable printer fails fast.
    printer.status()?.check_ready()?;
    let rendered = render(&test_page(info), width_dots)?;
    let job = encode(&rendered, &printer.config().encode)?;
    // One name per page, so a file printer keeps every page a technician printed.
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    printer.send(&format!("test-page-{millis}"), &job, &mut |_: Progress| {})
}

/// The printer's real-time status.
pub fn status(uri: &str) -> Result<PrinterStatus, PrintError> {
    Printer::from_uri(uri)?.status()
}

/// Renders a JSON [`Document`] to the paper image (pages stacked with cut marks).
pub fn render_document_json(json: &str, width_dots: u32) -> Result<GrayImage, PrintError> {
    let document = Document::from_json(json)?;
    Ok(render(&document, width_dots)?.paper_image())
}
