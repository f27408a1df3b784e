//! Profiles driven straight against the card simulator: the protocol logic,
//! without pcscd. The same paths through real pcscd are in drivers/tests/.

use super::profile::{self, service_card};
use super::session::CardSession;
use super::virtual_card::{
    Behaviour, CardSimulator, ServiceCardFixture, SocialSecurityFixture, VirtualCardSpec,
};
use super::{CardError, Identity, Pin, ProfileId};

fn read(spec: VirtualCardSpec, pin: Option<&Pin>) -> (Result<Identity, CardError>, usize) {
    let atr = spec.atr.clone();
    let mut card = CardSimulator::new(spec);
    let mut session = CardSession::new(&mut card);
    let result = profile::read_identity(&mut session, &atr, pin);
    let apdus = session.apdu_count();
    (result, apdus)
}

#[test]
fn social_security_card_reads_completely() {
    let (identity, apdus) = read(
        VirtualCardSpec::social_security(SocialSecurityFixture::sample()),
        None,
    );
    let identity = identity.unwrap();
    assert_eq!(identity.profile, ProfileId::SocialSecurity);
    assert_eq!(identity.card_number, "A01234567");
    assert_eq!(identity.id_number, "11010519491231002X");
    assert_eq!(identity.name, "张三");
    assert_eq!(identity.gender, "M");
    assert_eq!(identity.birth_date, "1949-12-31");
    // SELECT DF, SELECT EF05, card number, SELECT EF06, 4 records.
    assert_eq!(apdus, 8);
}

#[test]
fn first_generation_layout_and_missing_birth_record_are_handled() {
    let fixture = SocialSecurityFixture {
        first_generation: true,
        gender_code: b'2',
        birth_date_bcd: None,
        id_number: "44030619850704002X".into(),
        ..SocialSecurityFixture::sample()
    };
    let (identity, _) = read(VirtualCardSpec::social_security(fixture), None);
    let identity = identity.unwrap();
    assert_eq!(identity.gender, "F");
    assert_eq!(identity.birth_date, "1985-07-04");
}

#[test]
fn chained_and_exact_length_answers_are_followed() {
    let chained = VirtualCardSpec::social_security(SocialSecurityFixture::sample()).with_behaviour(
        Behaviour {
            chain_responses: true,
            ..Behaviour::default()
        },
    );
    let (identity, apdus) = read(chained, None);
    assert_eq!(identity.unwrap().name, "张三");
    // Records longer than 8 bytes come in pieces: id (20 bytes) and name (32).
    assert!(apdus > 8 + 4, "GET RESPONSE rounds expected, got {apdus}");

    // A card number longer than the usual nine makes the card answer 6Cxx.
    let fixture = SocialSecurityFixture {
        card_number: "A0123456789".into(),
        ..SocialSecurityFixture::sample()
    };
    let exact = VirtualCardSpec::social_security(fixture).with_behaviour(Behaviour {
        demand_exact_le: true,
        ..Behaviour::default()
    });
    let (identity, apdus) = read(exact, None);
    assert_eq!(identity.unwrap().card_number, "A0123456789");
    assert_eq!(apdus, 9, "one resend expected");
}

#[test]
fn pin_flows_on_social_security_cards() {
    let fixture = SocialSecurityFixture {
        pin: Some("123456".into()),
        ..SocialSecurityFixture::sample()
    };
    let spec = VirtualCardSpec::social_security(fixture);
    assert_eq!(
        read(spec.clone(), None).0,
        Err(CardError::PinRequired {
            tries_left: Some(3)
        })
    );
    assert_eq!(
        read(spec.clone(), Some(&Pin::new("000000"))).0,
        Err(CardError::WrongPin {
            tries_left: Some(2)
        })
    );
    assert_eq!(
        read(spec.clone(), Some(&Pin::new("123456")))
            .0
            .unwrap()
            .name,
        "张三"
    );
    assert_eq!(
        read(spec.clone(), Some(&Pin::new("12ab56"))).0,
        Err(CardError::WrongPin { tries_left: None })
    );
}

#[test]
fn blocked_pins_are_reported_as_blocked() {
    let fixture = SocialSecurityFixture {
        pin: Some("123456".into()),
        pin_tries: 1,
        ..SocialSecurityFixture::sample()
    };
    let mut card = CardSimulator::new(VirtualCardSpec::social_security(fixture));
    let atr = card.atr().to_vec();
    let mut session = CardSession::new(&mut card);
    assert_eq!(
        profile::read_identity(&mut session, &atr, Some(&Pin::new("999999"))),
        Err(CardError::PinBlocked)
    );
    assert_eq!(
        profile::read_identity(&mut session, &atr, None),
        Err(CardError::PinBlocked)
    );
}

#[test]
fn service_card_needs_its_pin() {
    let spec = VirtualCardSpec::service_card(ServiceCardFixture::sample());
    assert_eq!(
        read(spec.clone(), None).0,
        Err(CardError::PinRequired {
            tries_left: Some(5)
        })
    );
    assert_eq!(
        read(spec.clone(), Some(&Pin::new("1111"))).0,
        Err(CardError::WrongPin {
            tries_left: Some(4)
        })
    );
    let identity = read(spec.clone(), Some(&Pin::new("2468"))).0.unwrap();
    assert_eq!(identity.profile, ProfileId::ServiceCard);
    assert_eq!(identity.id_number, "T-0042");
    assert_eq!(identity.name, "王工程师");
    let mut card = CardSimulator::new(spec);
    let mut session = CardSession::new(&mut card);
    assert!(profile::CardProfile::select(&service_card::ServiceCardProfile, &mut session).unwrap());
    let credential = service_card::read_credential(&mut session, Some(&Pin::new("2468"))).unwrap();
    assert_eq!(credential.role, service_card::ServiceRole::Technician);
}

#[test]
fn foreign_and_garbage_cards_fail_cleanly() {
    let (result, _) = read(VirtualCardSpec::foreign(), None);
    assert_eq!(result, Err(CardError::UnknownCard("3B021450".into())));
    let spec = VirtualCardSpec::social_security(SocialSecurityFixture::sample()).with_behaviour(
        Behaviour {
            garbage_from_apdu: Some(3),
            ..Behaviour::default()
        },
    );
    assert!(matches!(read(spec, None).0, Err(CardError::Malformed(_))));
    let spec = VirtualCardSpec::social_security(SocialSecurityFixture::sample()).with_behaviour(
        Behaviour {
            vanish_at_apdu: Some(5),
            ..Behaviour::default()
        },
    );
    assert_eq!(read(spec, None).0, Err(CardError::CardRemoved));
}

#[test]
fn malformed_errors_carry_no_personal_data() {
    let fixture = SocialSecurityFixture {
        id_number: "11010519491231002?".into(),
        ..SocialSecurityFixture::sample()
    };
    let (result, _) = read(VirtualCardSpec::social_security(fixture), None);
    let shown = format!("{:?} {}", result, result.clone().unwrap_err());
    assert!(!shown.contains("110105"), "{shown}");
}
