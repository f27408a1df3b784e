use estation_drivers::card::CardError;

/// Something went wrong on the resident's way: a translated message for them
/// (`message_key` names a Fluent message whose `.action` attribute says what to do
/// next) and a detail for the technician's log, which never holds personal data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fault {
    pub message_key: &'static str,
    pub detail: String,
    /// The card asks for a PIN (first time or after a wrong one).
    pub pin_prompt: bool,
    pub tries_left: Option<u8>,
}

impl Fault {
    pub fn new(message_key: &'static str, detail: impl Into<String>) -> Self {
        Self {
            message_key,
            detail: detail.into(),
            pin_prompt: false,
            tries_left: None,
        }
    }
}

impl From<&CardError> for Fault {
    fn from(error: &CardError) -> Self {
        let mut fault = Fault::new(error.message_key(), error.to_string());
        match error {
            CardError::PinRequired { tries_left } | CardError::WrongPin { tries_left } => {
                fault.pin_prompt = true;
                fault.tries_left = *tries_left;
            }
            _ => {}
        }
        fault
    }
}
