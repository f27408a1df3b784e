//! Keeps the demo data of a database current. Runs at every start, after the
//! migrations and the first seed, and only touches rows of demo residents,
//! demo applications and demo certificates of origin that are present.
//!
//! Contribution histories are relative to the service's current month (see
//! [`crate::seed::ContributionPlan`]): a database created months ago gets the
//! months since then, so a demo certificate for "the last 12 months" is never
//! empty. Gaps stay where they were, since only the spans that run up to last
//! month are extended.

use rusqlite::{OptionalExtension, Transaction, params};
use time::OffsetDateTime;

use super::error::StoreError;
use crate::seed;

/// Personal share of the base: pension 8 %, medical 2 %, unemployment 0.5 %.
const PERSONAL_PER_MILLE: i64 = 105;
/// Employer share of the base.
const EMPLOYER_PER_MILLE: i64 = 235;

/// Brings the demo rows up to date; `now` is in the service centre's offset.
pub fn refresh_demo_data(tx: &Transaction<'_>, now: OffsetDateTime) -> Result<(), StoreError> {
    let today = now.date();
    for resident in seed::DEMO_RESIDENTS {
        let present: Option<String> = tx
            .query_row(
                "SELECT id_number FROM residents WHERE card_number = ?1",
                params![resident.card_number],
                |r| r.get(0),
            )
            .optional()?;
        if present.as_deref() != Some(resident.id_number) {
            continue;
        }
        let Some(plan) = seed::RESIDENT_RECORDS
            .iter()
            .find(|r| r.card_number == resident.card_number)
            .and_then(|r| r.contributions)
        else {
            continue;
        };
        let base_cents = plan.base_yuan * 100;
        let mut insert = tx.prepare_cached(
            "INSERT OR IGNORE INTO contributions (id_number, month, employer, base_cents,
                                                  personal_cents, employer_cents)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        let newest: Option<String> = tx.query_row(
            "SELECT MAX(month) FROM contributions WHERE id_number = ?1",
            params![resident.id_number],
            |r| r.get(0),
        )?;
        let months = plan.months(today);
        // A first seed writes the whole plan; later starts add only the months
        // after the newest one on record, so a gap never fills in.
        let ongoing = plan.spans.iter().any(|s| s.to <= 1);
        for month in months {
            let add = match &newest {
                None => true,
                Some(newest) => ongoing && month > *newest,
            };
            if add {
                insert.execute(params![
                    resident.id_number,
                    month,
                    plan.employer,
                    base_cents,
                    base_cents * PERSONAL_PER_MILLE / 1000,
                    base_cents * EMPLOYER_PER_MILLE / 1000,
                ])?;
            }
        }
    }
    for app in seed::applications() {
        tx.execute(
            "UPDATE applications SET applicant_id_number = ?2
             WHERE application_number = ?1 AND applicant_id_number IS NULL",
            params![app.application_number, app.applicant_id_number],
        )?;
    }
    for origin in seed::origin_certificates() {
        tx.execute(
            "UPDATE origin_certificates SET producer = COALESCE(producer, ?3),
                                            invoice = COALESCE(invoice, ?4)
             WHERE application_number = ?1 AND exporter_code = ?2",
            params![
                origin.application_number,
                origin.exporter_code,
                origin.producer,
                origin.invoice
            ],
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::store::Store;
    use rusqlite::Connection;
    use time::macros::datetime;

    fn months(db: &std::path::Path, id_number: &str) -> Vec<String> {
        let conn = Connection::open(db).unwrap();
        let mut stmt = conn
            .prepare("SELECT month FROM contributions WHERE id_number = ?1 ORDER BY month")
            .unwrap();
        stmt.query_map([id_number], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn a_database_opened_months_later_gets_the_new_months_and_keeps_its_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("central.sqlite3");
        let first = crate::seed::DEMO_RESIDENTS[0].id_number;
        let gapped = crate::seed::DEMO_RESIDENTS[1].id_number;
        drop(Store::open(&db, datetime!(2025-06-10 12:00 +8)).unwrap());
        let before = months(&db, first);
        assert_eq!(before.last().unwrap(), "2025-05");
        assert_eq!(before.len(), 60);
        let gap_before = months(&db, gapped);
        assert!(!gap_before.contains(&"2024-10".to_owned()));

        let stopped = crate::seed::DEMO_RESIDENTS[3].id_number;
        let stopped_before = months(&db, stopped);
        drop(Store::open(&db, datetime!(2025-09-02 09:00 +8)).unwrap());
        let after = months(&db, first);
        assert_eq!(after.len(), 63);
        assert_eq!(&after[60..], ["2025-06", "2025-07", "2025-08"]);
        let gap_after = months(&db, gapped);
        assert!(!gap_after.contains(&"2024-10".to_owned()));
        assert_eq!(gap_after.len(), gap_before.len() + 3);
        // Stopped payers get nothing new.
        assert_eq!(months(&db, stopped), stopped_before);
    }
}
