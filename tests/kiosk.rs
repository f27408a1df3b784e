//! The kiosk's integration tests, one module per subject, linked into one test
//! binary: one link of the kiosk and its dependencies instead of one per file
//! keeps a cold build fast and its disk footprint small. cargo-nextest still runs
//! every test in its own process. Run one subject with, for example,
//! `cargo nextest run -p estation --test kiosk card_flow::`.

mod support;

mod architecture;
mod branding;
mod bundle_signed;
mod card_flow;
mod central_client;
mod central_faults;
mod central_resident_client;
mod demo_flow;
#[cfg(unix)]
mod enroll;
mod fleet_admin;
mod flows;
mod fuzz_edges;
mod i18n_keys;
mod outbox_delivery;
#[cfg(unix)]
mod outbox_encryption;
mod outbox_kill;
#[cfg(unix)]
mod package;
#[cfg(unix)]
mod phone_identity;
#[cfg(unix)]
mod real_window;
mod restart;
mod screen_rules;
mod screens;
#[cfg(unix)]
mod selftest_devices;
#[cfg(unix)]
mod service_notify;
mod service_pages;
mod soak;
mod speech;
mod voice_keys;
