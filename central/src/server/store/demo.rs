//! The demo data of a database, as records both stores write: the first seed,
//! and what every start adds to keep it current. Only rows of demo residents,
//! demo applications and demo certificates of origin that are present change.
//!
//! Contribution histories are relative to the service's current month (see
//! [`crate::seed::ContributionPlan`]): a database created months ago gets the
//! months since then, so a demo certificate for "the last 12 months" is never
//! empty. Gaps stay where they were, since only the spans that run up to last
//! month are extended.

use time::OffsetDateTime;

use super::model::{ApplicationRecord, ContributionRow, OriginRecord, ResidentRow, ServiceRecord};
use crate::seed;
use crate::wire::{Category, OriginCertificateSummary};

/// Personal share of the base: pension 8 %, medical 2 %, unemployment 0.5 %.
const PERSONAL_PER_MILLE: i64 = 105;
/// Employer share of the base.
const EMPLOYER_PER_MILLE: i64 = 235;

/// What a new database starts with.
pub struct DemoSeed {
    pub categories: Vec<Category>,
    pub services: Vec<ServiceRecord>,
    pub residents: Vec<ResidentRow>,
    pub applications: Vec<ApplicationRecord>,
    pub origins: Vec<OriginRecord>,
}

pub fn seed() -> DemoSeed {
    let services = seed::services()
        .into_iter()
        .map(|s| ServiceRecord {
            id: s.id,
            category: s.category,
            kind: s.kind,
            needs_card: s.needs_card,
            name: s.name,
            description: s.description,
            opening_hours: s.opening_hours,
        })
        .collect();
    let residents = seed::DEMO_RESIDENTS
        .iter()
        .filter_map(|resident| {
            let record = seed::RESIDENT_RECORDS
                .iter()
                .find(|r| r.card_number == resident.card_number)?;
            Some(ResidentRow {
                card_number: resident.card_number.into(),
                id_number: resident.id_number.into(),
                name: resident.name.into(),
                gender: super::model::gender_from_text(resident.gender),
                birth_date: resident.birth_date.into(),
                address: record.address.into(),
                household_head: record.household_head.into(),
                relationship: record.relationship.to_text(),
            })
        })
        .collect();
    let applications = seed::applications()
        .into_iter()
        .map(|app| ApplicationRecord {
            application_number: app.application_number.into(),
            service_name: app.service_name,
            status: app.status,
            submitted_on: app.submitted_on.into(),
            expected_completion: app.expected_completion.map(str::to_owned),
            steps: app.steps,
            missing: app.missing,
            applicant_id_number: Some(app.applicant_id_number.into()),
        })
        .collect();
    let origins = seed::origin_certificates()
        .into_iter()
        .map(|origin| OriginRecord {
            summary: OriginCertificateSummary {
                application_number: origin.application_number.into(),
                exporter_code: origin.exporter_code.into(),
                exporter_name: origin.exporter_name.into(),
                agreement: origin.agreement.into(),
                form_name: origin.form_name.clone(),
                status: origin.status,
                certificate_number: origin.certificate_number.map(str::to_owned),
                approved_on: origin.approved_on.map(str::to_owned),
            },
            exporter_address: origin.exporter_address.into(),
            consignee: origin.consignee.into(),
            transport: origin.transport.into(),
            goods: origin
                .goods
                .iter()
                .map(|g| {
                    [
                        g.hs_code.into(),
                        g.description.into(),
                        g.quantity.into(),
                        g.origin_criterion.into(),
                    ]
                })
                .collect(),
            producer: origin.producer.into(),
            invoice: origin.invoice.into(),
            verification_code: origin
                .certificate_number
                .map(|_| crate::server::codes::new_verification_code()),
        })
        .collect();
    DemoSeed {
        categories: seed::categories(),
        services,
        residents,
        applications,
        origins,
    }
}

/// A demo resident whose contribution history grows with time.
pub struct ContributionPlanOf {
    pub card_number: &'static str,
    pub id_number: &'static str,
    pub plan: seed::ContributionPlan,
}

/// The demo residents that have a contribution plan.
pub fn contribution_plans() -> Vec<ContributionPlanOf> {
    seed::DEMO_RESIDENTS
        .iter()
        .filter_map(|resident| {
            let plan = seed::RESIDENT_RECORDS
                .iter()
                .find(|r| r.card_number == resident.card_number)
                .and_then(|r| r.contributions)?;
            Some(ContributionPlanOf {
                card_number: resident.card_number,
                id_number: resident.id_number,
                plan,
            })
        })
        .collect()
}

/// The months to add to a history whose newest month on record is `newest`:
/// the whole plan for a first seed, later only the months after the newest one
/// of an ongoing history, so a gap never fills in. `now` is in the service
/// centre's offset.
pub fn contributions_to_add(
    plan: &seed::ContributionPlan,
    newest: Option<&str>,
    now: OffsetDateTime,
) -> Vec<ContributionRow> {
    let base_cents = plan.base_yuan * 100;
    let ongoing = plan.spans.iter().any(|s| s.to <= 1);
    plan.months(now.date())
        .into_iter()
        .filter(|month| match newest {
            None => true,
            Some(newest) => ongoing && month.as_str() > newest,
        })
        .map(|month| ContributionRow {
            month,
            employer: plan.employer.into(),
            base_cents,
            personal_cents: base_cents * PERSONAL_PER_MILLE / 1000,
            employer_cents: base_cents * EMPLOYER_PER_MILLE / 1000,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::model::Store;
    use super::super::sqlite::SqliteStore;
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

    async fn open_at(db: &std::path::Path, now: time::OffsetDateTime) {
        let store = SqliteStore::open(db).await.unwrap();
        store.prepare_demo_data(now).await.unwrap();
    }

    #[tokio::test]
    async fn a_database_opened_months_later_gets_the_new_months_and_keeps_its_gaps() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("central.sqlite3");
        let first = crate::seed::DEMO_RESIDENTS[0].id_number;
        let gapped = crate::seed::DEMO_RESIDENTS[1].id_number;
        open_at(&db, datetime!(2025-06-10 12:00 +8)).await;
        let before = months(&db, first);
        assert_eq!(before.last().unwrap(), "2025-05");
        assert_eq!(before.len(), 60);
        let gap_before = months(&db, gapped);
        assert!(!gap_before.contains(&"2024-10".to_owned()));

        let stopped = crate::seed::DEMO_RESIDENTS[3].id_number;
        let stopped_before = months(&db, stopped);
        open_at(&db, datetime!(2025-09-02 09:00 +8)).await;
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
