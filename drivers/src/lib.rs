//! Device drivers for estation kiosks: smart-card readers over PC/SC, receipt
//! printers over ESC/POS, and QR/barcode scanners (serial or USB keyboard wedge)
//! for the identity codes residents show on their phones. This crate knows nothing
//! about screens or HTTP: it turns device bytes into typed values and typed values
//! into device bytes.

pub mod card;
pub mod print;
pub mod scanner;
