//! The resident session: a pure state machine.
//!
//! Devices, the central service and the UI produce [`Event`]s; [`Session::handle`]
//! decides the next [`Screen`] and returns the [`Effect`]s the runtime must carry out.
//! Nothing here does I/O or reads a clock: the caller passes the time in, so every
//! transition, the idle timeout and the wipe are unit-testable without a window.
//!
//! The parts every service shares live here: language, catalogue, card
//! identification (insert, read, PIN), the keypad, the back stack, the document tail
//! (preview, print, take the paper, rate, goodbye), errors, the idle timeout and the
//! wipe. Each service is a flow module ([`certificate`], [`origin`], [`progress`],
//! [`submission`]) that decides only its own steps; adding a service is one more
//! module, one [`FlowKind`] and its screens.

mod certificate;
mod fault;
mod flow;
mod form;
mod keypad;
mod machine;
mod origin;
mod progress;
mod submission;
#[cfg(test)]
mod tests;
mod types;

pub use fault::Fault;
pub use form::{AddressChangeForm, DISTRICT_KEYS, DISTRICTS, FormField, district_key};
pub use keypad::KeypadField;
pub use machine::Session;
pub use types::*;
