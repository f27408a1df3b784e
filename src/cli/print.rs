//! `estation print test-page|status|render`: the printer from a technician's terminal.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Subcommand;
use estation_drivers::print::{self, PrintError, PrinterStatus, layouts::TestPageInfo};

#[derive(Subcommand, Debug)]
pub enum PrintCommand {
    /// Print a test page; with the paper out or the cover open nothing is sent.
    TestPage {
        #[arg(long)]
        printer: String,
        /// Paper width in dots: 384 (58 mm), 576 (80 mm) or 1728 (A4-wide).
        #[arg(long, default_value_t = print::WIDTH_80MM)]
        width: u32,
        /// The kiosk id printed on the page.
        #[arg(long, default_value = "unconfigured")]
        kiosk_id: String,
    },
    /// Ask the printer for its real-time status.
    Status {
        #[arg(long)]
        printer: String,
    },
    /// Render a JSON document to a PNG of the paper (previews, docs, tests).
    Render {
        #[arg(long)]
        document: PathBuf,
        #[arg(long, default_value_t = print::WIDTH_80MM)]
        width: u32,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(command: PrintCommand) -> anyhow::Result<ExitCode> {
    match command {
        PrintCommand::TestPage {
            printer,
            width,
            kiosk_id,
        } => {
            let now = time::OffsetDateTime::now_utc();
            let info = TestPageInfo {
                title: "estation test page".into(),
                rows: vec![
                    ("kiosk".into(), kiosk_id),
                    ("printer".into(), printer.clone()),
                    ("width".into(), format!("{width} dots")),
                    ("version".into(), env!("CARGO_PKG_VERSION").into()),
                    (
                        "time (UTC)".into(),
                        format!(
                            "{:04}-{:02}-{:02} {:02}:{:02}",
                            now.year(),
                            u8::from(now.month()),
                            now.day(),
                            now.hour(),
                            now.minute()
                        ),
                    ),
                ],
            };
            match print::cli::print_test_page(&printer, width, &info) {
                Ok(report) => {
                    println!("test page sent: {} bytes", report.bytes_sent);
                    if let Some(status) = report.status_after {
                        println!("status after: {}", describe(&status));
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => Ok(fail(&error)),
            }
        }
        PrintCommand::Status { printer } => match print::cli::status(&printer) {
            Ok(status) => {
                println!("{}", describe(&status));
                Ok(if status.check_ready().is_ok() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                })
            }
            Err(error) => Ok(fail(&error)),
        },
        PrintCommand::Render {
            document,
            width,
            out,
        } => {
            let json = std::fs::read_to_string(&document)
                .with_context(|| format!("reading {}", document.display()))?;
            let image = match print::cli::render_document_json(&json, width) {
                Ok(image) => image,
                Err(error) => return Ok(fail(&error)),
            };
            image
                .save(&out)
                .with_context(|| format!("writing {}", out.display()))?;
            println!("{}", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// One line a technician can read: `ready` or the conditions that hold.
fn describe(status: &PrinterStatus) -> String {
    let flags = [
        (status.offline, "offline"),
        (status.cover_open, "cover open"),
        (status.paper_end, "paper end"),
        (status.paper_near_end, "paper near end"),
        (status.cutter_error, "cutter error"),
        (status.unrecoverable_error, "unrecoverable error"),
        (status.auto_recoverable_error, "recoverable error"),
    ];
    let held: Vec<&str> = flags
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, name)| *name)
        .collect();
    if held.is_empty() {
        "ready".into()
    } else {
        held.join(", ")
    }
}

fn fail(error: &PrintError) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::FAILURE
}
