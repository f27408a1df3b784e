//! The estation kiosk: resident flows, the central-service client, the durable
//! outbox and the bridge to the Slint UI.
