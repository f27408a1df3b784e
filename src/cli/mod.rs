//! Subcommands of the `estation` binary. Each is a thin layer over the library.

pub mod admin;
pub mod card;
pub mod config;
pub mod demo;
pub mod demo_env;
pub mod enroll;
pub mod memory;
pub mod print;
pub mod run;
pub mod screenshot;
pub mod selftest;
pub mod soak;
pub mod speak;
