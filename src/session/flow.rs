//! What a service's flow may do with the session, as a trait the session's core
//! implements: the flow modules decide their own steps through it and never see the
//! session's fields, so they depend on this contract, not on the core.

use estation_drivers::card::Identity;

use super::fault::Fault;
use super::keypad::KeypadField;
use super::types::{ApplicationEntry, Effect, Screen, Work};
use crate::i18n::Locale;

pub(super) trait Cx {
    /// The screen showing now.
    fn screen(&self) -> Screen;
    fn go(&mut self, screen: Screen);
    fn effect(&mut self, effect: Effect);
    fn locale(&self) -> Locale;
    fn service_id(&self) -> Option<String>;
    /// The chosen service lets the resident choose a period.
    fn chooses_period(&self) -> bool;
    /// The identity read from the card, if it is still there.
    fn identity(&self) -> Option<Identity>;
    /// Asks for the card (or reads the one already in the reader).
    fn identify(&mut self);
    /// Shows the keypad for `field`, pre-filled with `value`.
    fn ask(&mut self, field: KeypadField, value: &str);
    fn work(&mut self, work: Work);
    fn set_applications(&mut self, applications: Vec<ApplicationEntry>);
    /// `number` is one of the applications listed for the resident.
    fn has_application(&self, number: &str) -> bool;
    fn fail(&mut self, fault: Fault, resume: Screen);
}
