//! The central service's integration tests, one module per subject, linked into
//! one test binary (one link instead of one per file). cargo-nextest still runs
//! every test in its own process. Run one subject with, for example,
//! `cargo nextest run -p estation-central --test central identity_codes::`.

#[macro_use]
mod support;

mod api;
mod enrollment;
mod faults;
mod identity_codes;
mod migrate_store;
mod replicas;
mod resident_services;
mod schemathesis;
#[cfg(unix)]
mod secrets;
