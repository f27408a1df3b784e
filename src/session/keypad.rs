//! Fields typed on the on-screen keypad: what each accepts and when it is complete.

/// A value typed on the keypad. Each has its own screen (`keypad-…`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeypadField {
    /// Application numbers: two letters and 13 digits, e.g. `SQ2025060100012`.
    ApplicationNumber,
    /// Customs exporter code: 10 letters or digits (or an 18-character credit code).
    ExporterCode,
    HouseNumber,
    RoomNumber,
    /// A mainland mobile number: 11 digits starting with 1.
    Phone,
}

impl KeypadField {
    pub fn screen_name(self) -> &'static str {
        match self {
            KeypadField::ApplicationNumber => "keypad-application-number",
            KeypadField::ExporterCode => "keypad-exporter-code",
            KeypadField::HouseNumber => "keypad-house-number",
            KeypadField::RoomNumber => "keypad-room-number",
            KeypadField::Phone => "keypad-phone",
        }
    }

    /// Letters are offered (besides digits).
    pub fn takes_letters(self) -> bool {
        matches!(
            self,
            KeypadField::ApplicationNumber | KeypadField::ExporterCode
        )
    }

    pub fn max_len(self) -> usize {
        match self {
            KeypadField::ApplicationNumber => 15,
            KeypadField::ExporterCode => 18,
            KeypadField::HouseNumber | KeypadField::RoomNumber => 4,
            KeypadField::Phone => 11,
        }
    }

    pub fn accepts(self, key: char) -> bool {
        key.is_ascii_digit() || (self.takes_letters() && key.is_ascii_uppercase())
    }

    /// Whether `value` is complete and well-formed for this field.
    pub fn is_valid(self, value: &str) -> bool {
        let all_accepted = value.chars().all(|c| self.accepts(c));
        let len = value.chars().count();
        all_accepted
            && match self {
                KeypadField::ApplicationNumber => {
                    len == self.max_len()
                        && value.chars().take(2).all(|c| c.is_ascii_uppercase())
                        && value.chars().skip(2).all(|c| c.is_ascii_digit())
                }
                KeypadField::ExporterCode => len == 10 || len == 18,
                KeypadField::HouseNumber | KeypadField::RoomNumber => {
                    (1..=4).contains(&len) && !value.starts_with('0')
                }
                KeypadField::Phone => {
                    len == 11
                        && value.starts_with('1')
                        && !value.starts_with("10")
                        && !value.starts_with("11")
                        && !value.starts_with("12")
                }
            }
    }

    /// How many characters a complete value has, when that is one number (the
    /// screen counts towards it); `None` for fields of several lengths.
    pub fn needed(self) -> Option<usize> {
        match self {
            KeypadField::ApplicationNumber | KeypadField::Phone => Some(self.max_len()),
            KeypadField::ExporterCode | KeypadField::HouseNumber | KeypadField::RoomNumber => None,
        }
    }

    /// The value grouped for reading aloud and checking: `SQ20 2506 0100 012`,
    /// `138 0013 8000`.
    pub fn masked(self, value: &str) -> String {
        let groups: &[usize] = match self {
            KeypadField::Phone => &[3, 4, 4],
            KeypadField::ApplicationNumber | KeypadField::ExporterCode => &[4, 4, 4, 4, 4],
            KeypadField::HouseNumber | KeypadField::RoomNumber => &[],
        };
        if groups.is_empty() {
            return value.to_owned();
        }
        let mut out = String::new();
        let mut chars = value.chars();
        let mut taken = 0;
        for size in groups.iter().copied().chain(std::iter::repeat(4)) {
            let group: String = chars.by_ref().take(size).collect();
            if group.is_empty() {
                break;
            }
            if taken > 0 {
                out.push(' ');
            }
            taken += group.len();
            out.push_str(&group);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::KeypadField as F;

    #[test]
    fn validation() {
        assert!(F::ApplicationNumber.is_valid("SQ2025060100012"));
        assert!(
            !F::ApplicationNumber.is_valid("2025060100012"),
            "needs its letters"
        );
        assert!(!F::ApplicationNumber.is_valid("SQ12"), "too short");
        assert!(
            !F::ApplicationNumber.is_valid("SQ20250601000"),
            "two digits short"
        );
        assert!(
            !F::ApplicationNumber.is_valid("SQ20250601000AB"),
            "letters after the first two"
        );
        assert!(F::ExporterCode.is_valid("3301960001"));
        assert!(!F::ExporterCode.is_valid("330196000"));
        assert!(F::Phone.is_valid("13800138000"));
        assert!(!F::Phone.is_valid("12800138000"));
        assert!(!F::Phone.is_valid("1380013800"));
        assert!(F::HouseNumber.is_valid("12"));
        assert!(!F::HouseNumber.is_valid("012"));
        assert!(!F::HouseNumber.is_valid(""));
        assert!(!F::Phone.accepts('A'));
        assert!(F::ExporterCode.accepts('A'));
    }

    #[test]
    fn masks_group_digits() {
        assert_eq!(F::Phone.masked("13800138000"), "138 0013 8000");
        assert_eq!(F::Phone.masked("1380"), "138 0");
        assert_eq!(
            F::ApplicationNumber.masked("SQ2025060100012"),
            "SQ20 2506 0100 012"
        );
        assert_eq!(F::HouseNumber.masked("12"), "12");
        assert_eq!(F::Phone.masked(""), "");
    }
}
