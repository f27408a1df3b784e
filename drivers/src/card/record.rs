//! The identity as a record with stable field names, for `estation card read
//! --json` and anything else that serializes an identity.

use std::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::identity::{Identity, ProfileId};

/// An [`Identity`] with stable JSON field names. Fields a profile does not have
/// are left out of the JSON rather than written empty.
///
/// JSON (`estation card read --json`), one object on one line:
///
/// ```json
/// {"profile":"social_security","card_number":"A01234567","id_number":"11010519491231002X","name":"张三","gender":"M","birth_date":"1949-12-31"}
/// ```
///
/// Recommended human output (`estation card read`), one `key: value` per line
/// in this order, keys padded to the same width, absent fields omitted:
///
/// ```text
/// profile:      social_security
/// card_number:  A01234567
/// id_number:    11010519491231002X
/// name:         张三
/// gender:       M
/// birth_date:   1949-12-31
/// ```
///
/// On failure print `error: {error}` (the technician detail) to stderr and exit
/// with status 1; `PinRequired` is the one case worth a hint (`--pin` prompt).
#[derive(Clone, PartialEq, Eq, serde::Serialize, Zeroize, ZeroizeOnDrop)]
pub struct IdentityRecord {
    #[zeroize(skip)]
    pub profile: ProfileId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gender: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub birth_date: Option<String>,
}

impl fmt::Debug for IdentityRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IdentityRecord")
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

impl IdentityRecord {
    /// The fields in display order, as (stable name, value), absent ones skipped.
    pub fn fields(&self) -> Vec<(&'static str, &str)> {
        let profile = match self.profile {
            ProfileId::SocialSecurity => "social_security",
            ProfileId::ServiceCard => "service_card",
            ProfileId::Simulated => "simulated",
            ProfileId::PhoneCode => "phone_code",
        };
        let mut out = vec![("profile", profile)];
        for (key, value) in [
            ("card_number", &self.card_number),
            ("id_number", &self.id_number),
            ("name", &self.name),
            ("gender", &self.gender),
            ("birth_date", &self.birth_date),
        ] {
            if let Some(value) = value {
                out.push((key, value.as_str()));
            }
        }
        out
    }
}

impl From<&Identity> for IdentityRecord {
    fn from(identity: &Identity) -> Self {
        let present = |value: &String| (!value.is_empty()).then(|| value.clone());
        Self {
            profile: identity.profile,
            card_number: present(&identity.card_number),
            id_number: present(&identity.id_number),
            name: present(&identity.name),
            gender: present(&identity.gender),
            birth_date: present(&identity.birth_date),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity() -> Identity {
        Identity {
            profile: ProfileId::SocialSecurity,
            card_number: "A01234567".into(),
            id_number: "11010519491231002X".into(),
            name: "张三".into(),
            gender: "M".into(),
            birth_date: String::new(),
        }
    }

    #[test]
    fn json_uses_stable_names_and_omits_absent_fields() {
        let record = IdentityRecord::from(&identity());
        let json = serde_json::to_string(&record).unwrap();
        assert_eq!(
            json,
            r#"{"profile":"social_security","card_number":"A01234567","id_number":"11010519491231002X","name":"张三","gender":"M"}"#
        );
        let keys: Vec<_> = record.fields().iter().map(|(k, _)| *k).collect();
        assert_eq!(
            keys,
            ["profile", "card_number", "id_number", "name", "gender"]
        );
    }

    #[test]
    fn debug_shows_no_personal_data() {
        let shown = format!("{:?} {:?}", IdentityRecord::from(&identity()), identity());
        for secret in ["A01234567", "11010519491231002X", "张三"] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }
}
