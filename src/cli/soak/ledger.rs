//! The three ledgers of a soak run and their reconciliation: what the kiosk told
//! residents (receipts, printed documents, ratings), what the central service
//! stored, and what the printer emulator printed and the print journal recorded.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;

use crate::kiosk::backend::reference_from_key;

/// What residents were told, as the runner saw it on the screens.
#[derive(Debug, Default)]
pub struct KioskLedger {
    /// Receipts shown as accepted, by receipt number.
    pub accepted: Vec<String>,
    /// Receipts shown as stored and not yet sent, by the kiosk's reference.
    pub queued: Vec<String>,
    /// Ratings the resident sent (the goodbye screen followed).
    pub ratings: u64,
    /// Verification codes of certificates that came out of the printer.
    pub certificates_printed: Vec<String>,
    /// Every job that ended on "take your paper".
    pub jobs_printed: u64,
    /// Print jobs that failed in front of the resident, with their message key.
    pub print_failures: u64,
    /// Heartbeats the kiosk queued.
    pub heartbeats: u64,
}

/// What the printer emulator decoded.
#[derive(Debug, Default, Serialize)]
pub struct PrinterLedger {
    pub pages: u64,
    pub cuts: u64,
    pub unknown_bytes: u64,
    pub truncated_streams: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct CentralLedger {
    pub submissions: u64,
    pub ratings: u64,
    pub issued_certificates: u64,
    pub heartbeats: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct JournalLedger {
    /// Jobs checked in the journal right after they ended (the journal is pruned
    /// by retention, so each job is checked while it is recent).
    pub checked: u64,
    pub printed: u64,
    pub failed: u64,
}

/// Checks the central database against what residents were told; returns
/// mismatches (empty when the ledgers agree).
pub fn reconcile_central(
    kiosk: &KioskLedger,
    central_db: &Path,
    ledger: &mut CentralLedger,
) -> Result<Vec<String>, rusqlite::Error> {
    let db = rusqlite::Connection::open_with_flags(
        central_db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut mismatches = Vec::new();

    let mut statement = db.prepare("SELECT receipt_number, idempotency_key FROM submissions")?;
    let rows: Vec<(String, String)> = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    ledger.submissions = rows.len() as u64;
    let mut by_receipt: HashMap<&str, u64> = HashMap::new();
    let mut by_reference: HashMap<String, u64> = HashMap::new();
    for (receipt, key) in &rows {
        *by_receipt.entry(receipt.as_str()).or_default() += 1;
        *by_reference.entry(reference_from_key(key)).or_default() += 1;
    }
    for receipt in &kiosk.accepted {
        let found = by_receipt.get(receipt.as_str()).copied().unwrap_or(0);
        if found != 1 {
            mismatches.push(format!(
                "accepted receipt {receipt}: {found} rows in the central service, 1 expected"
            ));
        }
    }
    for reference in &kiosk.queued {
        let found = by_reference.get(reference).copied().unwrap_or(0);
        if found != 1 {
            mismatches.push(format!(
                "queued submission {reference}: {found} rows in the central service, 1 expected"
            ));
        }
    }
    let told = (kiosk.accepted.len() + kiosk.queued.len()) as u64;
    if ledger.submissions != told {
        mismatches.push(format!(
            "the central service holds {} submissions, residents were given {told} receipts",
            ledger.submissions
        ));
    }

    let (ratings, keys): (u64, u64) = db.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM ratings",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    ledger.ratings = ratings;
    if ratings != keys {
        mismatches.push(format!(
            "{} ratings stored twice in the central service",
            ratings - keys
        ));
    }
    if ratings != kiosk.ratings {
        mismatches.push(format!(
            "the central service holds {ratings} ratings, residents sent {}",
            kiosk.ratings
        ));
    }

    let (heartbeats, keys): (u64, u64) = db.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT idempotency_key) FROM heartbeats",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    ledger.heartbeats = heartbeats;
    if heartbeats != keys || heartbeats != kiosk.heartbeats {
        mismatches.push(format!(
            "the central service holds {heartbeats} heartbeats ({keys} distinct), the kiosk queued {}",
            kiosk.heartbeats
        ));
    }

    let mut statement = db.prepare("SELECT verification_code FROM issued_certificates")?;
    let codes: Vec<String> = statement
        .query_map([], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    ledger.issued_certificates = codes.len() as u64;
    let issued: HashSet<&str> = codes.iter().map(String::as_str).collect();
    let mut seen = HashSet::new();
    for code in &kiosk.certificates_printed {
        if !seen.insert(code.as_str()) {
            mismatches.push(format!("certificate {code} printed twice"));
        }
        if !issued.contains(code.as_str()) {
            mismatches.push(format!(
                "certificate {code} printed but not issued by the central service"
            ));
        }
    }
    Ok(mismatches)
}

/// Checks the printer's output against the jobs residents took paper from.
pub fn reconcile_printer(kiosk: &KioskLedger, printer: &PrinterLedger) -> Vec<String> {
    let mut mismatches = Vec::new();
    if printer.cuts != kiosk.jobs_printed {
        mismatches.push(format!(
            "the printer cut {} times, residents took paper {} times",
            printer.cuts, kiosk.jobs_printed
        ));
    }
    if printer.unknown_bytes > 0 {
        mismatches.push(format!(
            "the printer saw {} bytes that are no command",
            printer.unknown_bytes
        ));
    }
    mismatches
}

/// A job as the print journal holds it.
#[derive(Debug)]
pub struct JournalRow {
    pub state: String,
    pub error_key: Option<String>,
}

/// The newest job in the print journal.
pub fn newest_job(journal: &rusqlite::Connection) -> Result<Option<JournalRow>, rusqlite::Error> {
    use rusqlite::OptionalExtension;
    journal
        .query_row(
            "SELECT state, error_key FROM print_jobs ORDER BY rowid DESC LIMIT 1",
            [],
            |row| {
                Ok(JournalRow {
                    state: row.get(0)?,
                    error_key: row.get(1)?,
                })
            },
        )
        .optional()
}
