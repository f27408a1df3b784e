//! Device drivers for estation kiosks: smart-card readers over PC/SC and receipt
//! printers over ESC/POS. This crate knows nothing about screens or HTTP: it turns
//! device bytes into typed values and typed values into device bytes.

pub mod card;
pub mod print;
