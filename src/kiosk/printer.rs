//! The kiosk's printer: the driver's [`Printer`] plus its durable [`PrintJournal`],
//! so a certificate prints at most once per job id, across crashes.

use std::path::Path;

use estation_drivers::print::{
    Document, PrintError, PrintJournal, PrintOutcome, Printer, PrinterConfig,
};

use crate::kiosk::backend::PrintPort;

pub struct JournaledPrinter {
    printer: Printer,
    journal: PrintJournal,
}

impl JournaledPrinter {
    /// Opens the printer at `uri` and its journal. Jobs a previous process left half
    /// printed are reported here; they wait for a technician before printing again.
    pub fn open(
        uri: &str,
        width_dots: Option<u32>,
        journal_path: &Path,
    ) -> Result<Self, PrintError> {
        let mut config = PrinterConfig::new(uri.parse()?);
        if let Some(width) = width_dots {
            config.width_dots = width;
        }
        let printer = Printer::new(config);
        let journal = PrintJournal::open(journal_path)?;
        Ok(Self { printer, journal })
    }

    pub fn journal(&self) -> &PrintJournal {
        &self.journal
    }
}

impl PrintPort for JournaledPrinter {
    fn print(
        &self,
        job_id: &str,
        kind: &str,
        document: &Document,
        progress: &mut dyn FnMut(u8),
    ) -> Result<(), PrintError> {
        let outcome =
            self.printer
                .print_document(&self.journal, job_id, kind, document, &mut |p| {
                    progress(p.percent())
                })?;
        match outcome {
            PrintOutcome::Printed { warnings, .. } => {
                for warning in warnings {
                    tracing::warn!(?warning, job_id, "printer needs attention soon");
                }
            }
            PrintOutcome::AlreadyPrinted => {
                tracing::info!(job_id, "job printed before; not printed again");
            }
        }
        Ok(())
    }

    fn width_dots(&self) -> u32 {
        self.printer.config().width_dots
    }
}
