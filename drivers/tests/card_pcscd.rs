//! Card reading through a real pcscd, with the vpcd virtual reader and the
//! project's virtual card. Each test takes the machine-wide vpcd lock.

use crate::support::vcard::MonitorThread;
use estation_drivers::card::virtual_card::{
    Behaviour, InsertedCard, SOCIAL_SECURITY_ATR, ServiceCardFixture, SocialSecurityFixture,
    VPCD_READER, VirtualCardSpec, harness,
};
use estation_drivers::card::{
    CardError, IdentityRecord, IdentitySource, PcscIdentitySource, Pin, ProfileId, ServiceRole,
    default_reader, list_readers,
};

fn insert(monitor: &MonitorThread, spec: VirtualCardSpec) -> InsertedCard {
    let card = InsertedCard::insert(spec).expect("connect to vpcd");
    monitor.expect_inserted();
    card
}

fn sample_with_pin(pin: &str, tries: u8) -> VirtualCardSpec {
    VirtualCardSpec::social_security(SocialSecurityFixture {
        pin: Some(pin.into()),
        pin_tries: tries,
        ..SocialSecurityFixture::sample()
    })
}

#[test]
fn reads_social_security_card_with_rare_gbk_name() {
    let Some(_pcscd) = harness::acquire_or_skip("reads_social_security_card_with_rare_gbk_name")
    else {
        return;
    };
    let monitor = MonitorThread::start();
    let fixture = SocialSecurityFixture {
        name: "李𠀾䶮".into(),
        gender_code: b'2',
        ..SocialSecurityFixture::sample()
    };
    let card = InsertedCard::insert(VirtualCardSpec::social_security(fixture)).unwrap();
    assert_eq!(monitor.expect_inserted(), SOCIAL_SECURITY_ATR);

    assert_eq!(default_reader().unwrap(), VPCD_READER);
    let readers = list_readers().unwrap();
    let vpcd = readers.iter().find(|r| r.name == VPCD_READER).unwrap();
    assert!(vpcd.card_present);
    assert_eq!(
        vpcd.atr_hex.as_deref(),
        Some(hex::encode_upper(SOCIAL_SECURITY_ATR).as_str())
    );

    let (identity, stats) = PcscIdentitySource::new()
        .read_identity_with_stats(VPCD_READER, None)
        .unwrap();
    assert_eq!(identity.profile, ProfileId::SocialSecurity);
    assert_eq!(identity.name, "李𠀾䶮");
    assert_eq!(identity.gender, "F");
    assert_eq!(stats.apdus, 8);
    assert_eq!(card.apdu_count(), 8);
    let json = serde_json::to_string(&IdentityRecord::from(&identity)).unwrap();
    assert_eq!(
        json,
        r#"{"profile":"social_security","card_number":"A01234567","id_number":"11010519491231002X","name":"李𠀾䶮","gender":"F","birth_date":"1949-12-31"}"#
    );

    card.remove();
    monitor.expect_removed();
    assert_eq!(
        PcscIdentitySource::new().read_identity(VPCD_READER, None),
        Err(CardError::NoCard(VPCD_READER.into()))
    );
    assert_eq!(default_reader(), Err(CardError::NoCard(VPCD_READER.into())));
}

#[test]
fn pin_required_wrong_then_right() {
    let Some(_pcscd) = harness::acquire_or_skip("pin_required_wrong_then_right") else {
        return;
    };
    let monitor = MonitorThread::start();
    let card = insert(&monitor, sample_with_pin("123456", 3));
    let source = PcscIdentitySource::new();
    assert_eq!(
        source.read_identity(VPCD_READER, None),
        Err(CardError::PinRequired {
            tries_left: Some(3)
        })
    );
    assert_eq!(
        source.read_identity(VPCD_READER, Some(&Pin::new("654321"))),
        Err(CardError::WrongPin {
            tries_left: Some(2)
        })
    );
    let identity = source
        .read_identity(VPCD_READER, Some(&Pin::new("123456")))
        .unwrap();
    assert_eq!(identity.name, "张三");
    // The card is reset after each read: the verified PIN does not linger.
    assert_eq!(
        source.read_identity(VPCD_READER, None),
        Err(CardError::PinRequired {
            tries_left: Some(3)
        })
    );
    assert_eq!(card.pin_tries(), 3);
}

#[test]
fn blocked_pin_is_reported() {
    let Some(_pcscd) = harness::acquire_or_skip("blocked_pin_is_reported") else {
        return;
    };
    let monitor = MonitorThread::start();
    let card = insert(&monitor, sample_with_pin("123456", 1));
    let source = PcscIdentitySource::new();
    assert_eq!(
        source.read_identity(VPCD_READER, Some(&Pin::new("000000"))),
        Err(CardError::PinBlocked)
    );
    assert_eq!(
        source.read_identity(VPCD_READER, None),
        Err(CardError::PinBlocked)
    );
    assert_eq!(
        source.read_identity(VPCD_READER, Some(&Pin::new("123456"))),
        Err(CardError::PinBlocked)
    );
    assert_eq!(card.pin_tries(), 0);
}

#[test]
fn card_pulled_mid_read_is_card_removed() {
    let Some(_pcscd) = harness::acquire_or_skip("card_pulled_mid_read_is_card_removed") else {
        return;
    };
    let monitor = MonitorThread::start();
    let spec = VirtualCardSpec::social_security(SocialSecurityFixture::sample()).with_behaviour(
        Behaviour {
            vanish_at_apdu: Some(5),
            ..Behaviour::default()
        },
    );
    let card = insert(&monitor, spec);
    let result = PcscIdentitySource::new().read_identity(VPCD_READER, None);
    assert_eq!(result, Err(CardError::CardRemoved));
    assert_eq!(card.wait_vanished(), 5);
    monitor.expect_removed();
}

#[test]
fn slow_card_still_reads() {
    let Some(_pcscd) = harness::acquire_or_skip("slow_card_still_reads") else {
        return;
    };
    let monitor = MonitorThread::start();
    let spec = VirtualCardSpec::social_security(SocialSecurityFixture::sample()).with_behaviour(
        Behaviour {
            response_delay: std::time::Duration::from_millis(300),
            chain_responses: true,
            ..Behaviour::default()
        },
    );
    let _card = insert(&monitor, spec);
    let identity = PcscIdentitySource::new()
        .read_identity(VPCD_READER, None)
        .unwrap();
    assert_eq!(identity.id_number, "11010519491231002X");
}

#[test]
fn garbage_answers_are_malformed() {
    let Some(_pcscd) = harness::acquire_or_skip("garbage_answers_are_malformed") else {
        return;
    };
    let monitor = MonitorThread::start();
    let spec = VirtualCardSpec::social_security(SocialSecurityFixture::sample()).with_behaviour(
        Behaviour {
            garbage_from_apdu: Some(2),
            ..Behaviour::default()
        },
    );
    let _card = insert(&monitor, spec);
    let result = PcscIdentitySource::new().read_identity(VPCD_READER, None);
    assert!(matches!(result, Err(CardError::Malformed(_))), "{result:?}");
}

#[test]
fn unknown_and_mute_cards_are_told_apart() {
    let Some(_pcscd) = harness::acquire_or_skip("unknown_and_mute_cards_are_told_apart") else {
        return;
    };
    let monitor = MonitorThread::start();
    let card = insert(&monitor, VirtualCardSpec::foreign());
    assert_eq!(
        PcscIdentitySource::new().read_identity(VPCD_READER, None),
        Err(CardError::UnknownCard("3B021450".into()))
    );
    card.remove();
    monitor.expect_removed();

    // An answer-to-reset that is not one (no valid TS byte).
    let mute = VirtualCardSpec {
        atr: vec![0x00, 0x00],
        ..VirtualCardSpec::foreign()
    };
    let _card = insert(&monitor, mute);
    assert_eq!(
        PcscIdentitySource::new().read_identity(VPCD_READER, None),
        Err(CardError::MuteCard)
    );
}

#[test]
fn service_card_reads_with_pin() {
    let Some(_pcscd) = harness::acquire_or_skip("service_card_reads_with_pin") else {
        return;
    };
    let monitor = MonitorThread::start();
    let _card = insert(
        &monitor,
        VirtualCardSpec::service_card(ServiceCardFixture::sample()),
    );
    let source = PcscIdentitySource::new();
    assert_eq!(
        source.read_identity(VPCD_READER, None),
        Err(CardError::PinRequired {
            tries_left: Some(5)
        })
    );
    let identity = source
        .read_identity(VPCD_READER, Some(&Pin::new("2468")))
        .unwrap();
    assert_eq!(identity.profile, ProfileId::ServiceCard);
    assert_eq!(identity.id_number, "T-0042");
    let credential = source
        .read_service_credential(VPCD_READER, &Pin::new("2468"))
        .unwrap();
    assert_eq!(credential.role, ServiceRole::Technician);
    assert_eq!(credential.name, "王工程师");
}

#[test]
fn sharing_violation_and_unknown_reader() {
    let Some(_pcscd) = harness::acquire_or_skip("sharing_violation_and_unknown_reader") else {
        return;
    };
    let monitor = MonitorThread::start();
    let _card = insert(
        &monitor,
        VirtualCardSpec::social_security(SocialSecurityFixture::sample()),
    );
    let context = pcsc::Context::establish(pcsc::Scope::System).unwrap();
    let reader = std::ffi::CString::new(VPCD_READER).unwrap();
    let holder = context
        .connect(&reader, pcsc::ShareMode::Exclusive, pcsc::Protocols::ANY)
        .unwrap();
    assert_eq!(
        PcscIdentitySource::new().read_identity(VPCD_READER, None),
        Err(CardError::SharingViolation)
    );
    drop(holder);
    assert!(
        PcscIdentitySource::new()
            .read_identity(VPCD_READER, None)
            .is_ok()
    );
    assert_eq!(
        PcscIdentitySource::new().read_identity("No Such Reader 00 00", None),
        Err(CardError::ReaderUnplugged)
    );
}

#[test]
fn monitor_reports_a_card_present_at_start() {
    let Some(_pcscd) = harness::acquire_or_skip("monitor_reports_a_card_present_at_start") else {
        return;
    };
    let first = MonitorThread::start();
    let _card = insert(
        &first,
        VirtualCardSpec::service_card(ServiceCardFixture::sample()),
    );
    first.stop();
    // A kiosk started with a card already in the reader still hears about it.
    let second = MonitorThread::start();
    let atr = second.expect_inserted();
    assert_eq!(atr, estation_drivers::card::profile::service_card::ATR);
}
