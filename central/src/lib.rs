//! The reference central service for estation kiosks, and the wire types shared by
//! the service and the kiosk's client.

pub mod wire;
