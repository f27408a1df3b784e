//! The estation kiosk: resident flows, the central-service client, the durable
//! outbox and the bridge to the Slint UI.
//!
//! Data flows one way: devices and the central service produce events, the pure
//! [`session`] decides, [`kiosk`] carries out the effects through [`backend`] and
//! derives a view, and [`bridge`] pushes it into the window.

pub mod app;
pub mod backend;
pub mod bridge;
pub mod bundle;
pub mod central;
pub mod cli;
pub mod config;
pub mod demo;
pub mod documents;
pub mod headless;
pub mod heartbeat;
pub mod i18n;
pub mod kiosk;
pub mod maintenance;
pub mod maintenance_port;
pub mod outbox;
pub mod printer;
pub mod runtime;
pub mod screens;
pub mod script;
pub mod selftest;
pub mod session;
