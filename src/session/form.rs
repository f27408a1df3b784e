//! The address-change form as data: the streets to choose from, the fields, and
//! the form as filled in (personal data: zeroized on drop).

use zeroize::{Zeroize, ZeroizeOnDrop};

use super::keypad::KeypadField;

/// The streets residents can move to in the demo district; a real deployment's list
/// comes with the service's form from the central service.
pub const DISTRICTS: [&str; 6] = [
    "西湖区 文三路",
    "西湖区 天目山路",
    "拱墅区 湖墅南路",
    "上城区 解放路",
    "滨江区 江南大道",
    "余杭区 文一西路",
];

/// The message keys that name [`DISTRICTS`] on screen and in speech, in the same
/// order: the official (Chinese) name is what is submitted and printed, each
/// locale shows its own (traditional characters, an English name).
pub const DISTRICT_KEYS: [&str; 6] = [
    "street-xihu-wensan",
    "street-xihu-tianmushan",
    "street-gongshu-hushu-south",
    "street-shangcheng-jiefang",
    "street-binjiang-jiangnan",
    "street-yuhang-wenyi-west",
];

/// The message key naming `official`, one of [`DISTRICTS`].
pub fn district_key(official: &str) -> Option<&'static str> {
    DISTRICTS
        .iter()
        .position(|district| *district == official)
        .map(|index| DISTRICT_KEYS[index])
}

/// The fields of the address-change form, in screen order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FormField {
    District,
    House,
    Room,
    Phone,
}

impl FormField {
    pub const ALL: [FormField; 4] = [
        FormField::District,
        FormField::House,
        FormField::Room,
        FormField::Phone,
    ];

    pub fn id(self) -> &'static str {
        match self {
            FormField::District => "district",
            FormField::House => "house",
            FormField::Room => "room",
            FormField::Phone => "phone",
        }
    }

    pub fn from_id(id: &str) -> Option<FormField> {
        FormField::ALL.into_iter().find(|f| f.id() == id)
    }
}

/// The form as filled in. The phone number is personal data: zeroized on drop.
#[derive(Clone, Debug, Default, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct AddressChangeForm {
    pub district: Option<usize>,
    pub house: String,
    pub room: String,
    pub phone: String,
}

impl AddressChangeForm {
    pub fn is_complete(&self) -> bool {
        self.district.is_some_and(|d| d < DISTRICTS.len())
            && KeypadField::HouseNumber.is_valid(&self.house)
            && KeypadField::RoomNumber.is_valid(&self.room)
            && KeypadField::Phone.is_valid(&self.phone)
    }

    /// The new address as one line, e.g. `西湖区 文三路 90号 501室`.
    pub fn new_address(&self) -> Option<String> {
        let street = DISTRICTS.get(self.district?)?;
        Some(format!("{street} {}号 {}室", self.house, self.room))
    }
}
