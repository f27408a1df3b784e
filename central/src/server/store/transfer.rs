//! `estation-central migrate-store`: a SQLite deployment's rows copied into
//! PostgreSQL (the tables and column kinds are in [`super::migrate`]).

use crate::server::error::StoreError;

/// Copies a SQLite database into an empty PostgreSQL database (creating its
/// schema), then checks that every table has as many rows on both sides.
/// Answers the rows per table.
pub async fn sqlite_to_postgres(
    from: &std::path::Path,
    to: &str,
) -> Result<Vec<(&'static str, i64)>, StoreError> {
    if !from.is_file() {
        return Err(StoreError::Config(format!(
            "{}: no such file",
            from.display()
        )));
    }
    #[cfg(feature = "postgres")]
    {
        let sqlite = super::sqlite::SqliteStore::open(from).await?;
        if !sqlite.legacy_signing_keys().await?.is_empty() {
            return Err(StoreError::Config(
                "the SQLite database still holds the signing keys: move them to a key directory \
                 first (`estation-central keys --db FILE --key-dir DIR`)"
                    .into(),
            ));
        }
        let dump = sqlite.dump().await?;
        let postgres = super::postgres::PgStore::open(to, 2).await?;
        postgres.import(&dump).await?;
        let counts = postgres.row_counts().await?;
        for (table, rows) in &counts {
            let expected = dump.rows(table);
            if usize::try_from(*rows).ok() != Some(expected) {
                return Err(StoreError::Corrupt(format!(
                    "{table}: {expected} rows read, {rows} in PostgreSQL"
                )));
            }
        }
        Ok(counts)
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = to;
        Err(StoreError::Unsupported(
            "this build has no PostgreSQL support (feature `postgres`)".into(),
        ))
    }
}
