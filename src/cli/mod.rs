//! Subcommands of the `estation` binary. Each is a thin layer over the library.

pub mod demo;
pub mod run;
pub mod screenshot;
