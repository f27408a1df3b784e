//! Operations: what technicians and administrators use to keep a kiosk in service.
//! Signed configuration bundles, technician authentication for maintenance mode,
//! the device self-test, and the heartbeat that reports health to the fleet.

pub mod bundle;
pub mod heartbeat;
pub mod maintenance;
pub mod maintenance_port;
pub mod retention;
pub mod selftest;
pub mod service;
