//! The drivers' integration tests, one module per subject, linked into one test
//! binary (one link instead of one per file). cargo-nextest still runs every test
//! in its own process. Run one subject with, for example,
//! `cargo nextest run -p estation-drivers --test drivers card_pcscd::`.

mod support;

mod card_parsers_prop;
mod card_pcscd;
mod card_pcscd_restart;
mod print_escpos;
mod print_layout;
mod print_printer;
#[cfg(unix)]
mod print_serial;
mod scanner_decoding_prop;
#[cfg(unix)]
mod scanner_hid;
#[cfg(unix)]
mod scanner_serial;
