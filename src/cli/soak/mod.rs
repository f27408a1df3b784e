//! `estation soak`: a month of visits against the real kiosk, with faults, and
//! the proof that nothing was lost, repeated or grew (docs/reliability.md).

mod child;
mod env;
mod ledger;
mod link;
mod plan;
mod probe;
mod runner;

pub use probe::{BOUNDS, Bounds};
pub use runner::{Report, SoakArgs, run};
