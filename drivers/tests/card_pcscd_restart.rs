//! The monitor across pcscd going away and coming back, and the error when
//! pcscd is not running at all.

use crate::support::vcard::MonitorThread;
use estation_drivers::card::virtual_card::{
    InsertedCard, SocialSecurityFixture, VPCD_READER, VirtualCardSpec, harness,
};
use estation_drivers::card::{
    CardError, CardEvent, IdentitySource, PcscIdentitySource, list_readers,
};

#[test]
fn monitor_survives_pcscd_restart_and_service_loss_is_typed() {
    let Some(mut pcscd) = harness::acquire_or_skip("monitor_survives_pcscd_restart") else {
        return;
    };
    let monitor = MonitorThread::start();
    let card = InsertedCard::insert(VirtualCardSpec::social_security(
        SocialSecurityFixture::sample(),
    ))
    .unwrap();
    monitor.expect_inserted();

    pcscd.stop();
    let (_, before) = monitor
        .expect(|e| matches!(e, CardEvent::ReaderRemoved { reader } if reader == VPCD_READER));
    assert!(
        before.contains(&CardEvent::CardRemoved {
            reader: VPCD_READER.into()
        }),
        "card removal must precede reader removal: {before:?}"
    );
    assert!(matches!(
        list_readers(),
        Err(CardError::ServiceUnavailable(_))
    ));
    assert!(matches!(
        PcscIdentitySource::new().read_identity(VPCD_READER, None),
        Err(CardError::ServiceUnavailable(_))
    ));
    drop(card);

    pcscd.restart().unwrap();
    monitor.expect(|e| matches!(e, CardEvent::ReaderAdded { reader } if reader == VPCD_READER));
    let _card = InsertedCard::insert(VirtualCardSpec::social_security(
        SocialSecurityFixture::sample(),
    ))
    .unwrap();
    monitor.expect_inserted();
    let identity = PcscIdentitySource::new()
        .read_identity(VPCD_READER, None)
        .unwrap();
    assert_eq!(identity.card_number, "A01234567");
    monitor.stop();
}
