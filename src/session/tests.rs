use super::*;
use estation_drivers::card::{CardError, ProfileId};

const SERVICE: &str = "si-payment-certificate";
const READER: &str = "Reader 0";

fn identity() -> Identity {
    Identity {
        profile: ProfileId::SocialSecurity,
        card_number: "A12345678".into(),
        id_number: "110101195001011234".into(),
        name: "张三".into(),
        gender: "M".into(),
        birth_date: "1950-01-01".into(),
    }
}

fn catalogue() -> Vec<ServiceEntry> {
    vec![
        ServiceEntry {
            id: SERVICE.into(),
            needs_card: true,
        },
        ServiceEntry {
            id: "progress".into(),
            needs_card: false,
        },
    ]
}

fn ui(session: &mut Session, action: UiAction, now: Millis) -> Vec<Effect> {
    session.handle(Event::Ui(action), now)
}

fn inserted() -> Event {
    Event::Card(CardEvent::CardInserted {
        reader: READER.into(),
        atr: vec![0x3b],
    })
}

fn removed() -> Event {
    Event::Card(CardEvent::CardRemoved {
        reader: READER.into(),
    })
}

fn certificate() -> IssuedCertificate {
    IssuedCertificate {
        certificate_id: "cert-1".into(),
        verification_code: "ABCD-1234".into(),
    }
}

/// Walks a fresh session to the screen asking for the card.
fn at_insert_card() -> Session {
    let mut s = Session::new(Timeouts::default(), 0);
    ui(&mut s, UiAction::Start, 1);
    let effects = ui(&mut s, UiAction::ChooseLanguage(Locale::EnUs), 2);
    assert!(matches!(effects.as_slice(), [Effect::LoadCatalogue]));
    s.handle(Event::CatalogueLoaded(Ok(catalogue())), 3);
    ui(&mut s, UiAction::ChooseService(SERVICE.into()), 4);
    assert_eq!(s.screen(), Screen::InsertCard);
    s
}

fn at_preview() -> Session {
    let mut s = at_insert_card();
    s.handle(inserted(), 5);
    s.handle(Event::IdentityRead(Ok(identity())), 6);
    s.handle(Event::CertificateIssued(Ok(certificate())), 7);
    assert_eq!(s.screen(), Screen::Preview);
    s
}

#[test]
fn the_whole_certificate_flow() {
    let mut s = Session::new(Timeouts::default(), 0);
    assert_eq!(s.screen(), Screen::Attract);
    ui(&mut s, UiAction::Start, 1);
    assert_eq!(s.screen(), Screen::Language);
    ui(&mut s, UiAction::ChooseLanguage(Locale::ZhTw), 2);
    assert_eq!((s.screen(), s.locale()), (Screen::Services, Locale::ZhTw));
    assert!(s.services().is_none(), "catalogue not loaded yet");
    s.handle(Event::CatalogueLoaded(Ok(catalogue())), 3);
    assert_eq!(s.services().map(<[_]>::len), Some(2));

    ui(&mut s, UiAction::ChooseService(SERVICE.into()), 4);
    assert_eq!(s.screen(), Screen::InsertCard);

    let effects = s.handle(inserted(), 5);
    assert_eq!(s.screen(), Screen::ReadingCard);
    assert!(matches!(&effects[..], [Effect::ReadCard { reader, pin: None }] if reader == READER));

    let effects = s.handle(Event::IdentityRead(Ok(identity())), 6);
    assert_eq!(s.screen(), Screen::Issuing);
    match &effects[..] {
        [
            Effect::IssueCertificate {
                service_id,
                identity: id,
                locale,
            },
        ] => {
            assert_eq!(service_id, SERVICE);
            assert_eq!(id.id_number, "110101195001011234");
            assert_eq!(*locale, Locale::ZhTw);
        }
        other => panic!("unexpected effects {other:?}"),
    }
    assert!(s.has_identity());

    s.handle(Event::CertificateIssued(Ok(certificate())), 7);
    assert_eq!(s.screen(), Screen::Preview);

    let effects = ui(&mut s, UiAction::Print, 8);
    assert_eq!(s.screen(), Screen::Printing);
    assert!(matches!(&effects[..], [Effect::Print { job_id }] if job_id == "cert-1"));
    s.handle(Event::PrintProgress(40), 9);
    assert_eq!(s.print_progress(), 40);
    s.handle(Event::PrintFinished(Ok(())), 10);
    assert_eq!(s.screen(), Screen::TakePaper);

    ui(&mut s, UiAction::PaperTaken, 11);
    assert_eq!(s.screen(), Screen::Rating);
    let effects = ui(&mut s, UiAction::Rate(Score::Good), 12);
    assert_eq!(s.screen(), Screen::Goodbye);
    match &effects[..] {
        [
            Effect::SubmitRating {
                service_id,
                certificate_id,
                score,
            },
        ] => {
            assert_eq!(service_id, SERVICE);
            assert_eq!(certificate_id.as_deref(), Some("cert-1"));
            assert_eq!(*score, Score::Good);
        }
        other => panic!("unexpected effects {other:?}"),
    }

    // Goodbye returns to attract on its own, wiping everything.
    let effects = s.handle(Event::Tick, 12 + Timeouts::default().goodbye);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(matches!(&effects[..], [Effect::Wipe]));
    assert!(!s.has_identity());
    assert!(s.certificate().is_none());
    assert_eq!(
        s.locale(),
        Locale::ZhCn,
        "the next resident starts in the default language"
    );
}

#[test]
fn a_card_already_inserted_is_read_when_the_service_is_chosen() {
    let mut s = Session::new(Timeouts::default(), 0);
    s.handle(inserted(), 0);
    ui(&mut s, UiAction::Start, 1);
    ui(&mut s, UiAction::ChooseLanguage(Locale::ZhCn), 2);
    s.handle(Event::CatalogueLoaded(Ok(catalogue())), 3);
    let effects = ui(&mut s, UiAction::ChooseService(SERVICE.into()), 4);
    assert_eq!(s.screen(), Screen::ReadingCard);
    assert!(matches!(&effects[..], [Effect::ReadCard { .. }]));
}

#[test]
fn unknown_service_ids_are_ignored() {
    let mut s = at_insert_card();
    ui(&mut s, UiAction::Back, 5);
    assert_eq!(s.screen(), Screen::Services);
    s.handle(Event::CatalogueLoaded(Ok(catalogue())), 6);
    ui(&mut s, UiAction::ChooseService("no-such-service".into()), 7);
    assert_eq!(s.screen(), Screen::Services);
}

#[test]
fn pin_flow_wrong_pin_then_right_pin() {
    let mut s = at_insert_card();
    s.handle(inserted(), 5);
    let pin_needed = Fault::from(&CardError::PinRequired {
        tries_left: Some(3),
    });
    s.handle(Event::IdentityRead(Err(pin_needed)), 6);
    assert_eq!(s.screen(), Screen::PinEntry);
    assert!(!s.pin_was_wrong());

    // Too short: submit does nothing.
    for d in [1, 2, 3] {
        ui(&mut s, UiAction::PinDigit(d), 7);
    }
    assert!(ui(&mut s, UiAction::PinSubmit, 8).is_empty());
    ui(&mut s, UiAction::PinDigit(4), 9);
    ui(&mut s, UiAction::PinDigit(42), 9); // not a digit: ignored
    assert_eq!(s.pin_length(), 4);
    ui(&mut s, UiAction::PinBackspace, 9);
    ui(&mut s, UiAction::PinDigit(9), 9);
    let effects = ui(&mut s, UiAction::PinSubmit, 10);
    match &effects[..] {
        [Effect::ReadCard { pin: Some(pin), .. }] => assert_eq!(pin.digits(), "1239"),
        other => panic!("unexpected effects {other:?}"),
    }
    assert_eq!(
        s.pin_length(),
        0,
        "the typed PIN is cleared once handed over"
    );
    assert_eq!(s.screen(), Screen::ReadingCard);

    let wrong = Fault::from(&CardError::WrongPin {
        tries_left: Some(2),
    });
    s.handle(Event::IdentityRead(Err(wrong)), 11);
    assert_eq!(s.screen(), Screen::PinEntry);
    assert!(s.pin_was_wrong());
    assert_eq!(s.pin_tries_left(), Some(2));

    for d in [4, 3, 2, 1] {
        ui(&mut s, UiAction::PinDigit(d), 12);
    }
    ui(&mut s, UiAction::PinSubmit, 13);
    s.handle(Event::IdentityRead(Ok(identity())), 14);
    assert_eq!(s.screen(), Screen::Issuing);
}

#[test]
fn pin_digits_stop_at_the_maximum() {
    let mut s = at_insert_card();
    s.handle(inserted(), 5);
    s.handle(
        Event::IdentityRead(Err(Fault::from(&CardError::PinRequired {
            tries_left: None,
        }))),
        6,
    );
    for _ in 0..20 {
        ui(&mut s, UiAction::PinDigit(1), 7);
    }
    assert_eq!(s.pin_length(), PIN_MAX_DIGITS);
}

#[test]
fn card_errors_show_a_message_and_retry_reads_again() {
    let mut s = at_insert_card();
    s.handle(inserted(), 5);
    s.handle(
        Event::IdentityRead(Err(Fault::from(&CardError::MuteCard))),
        6,
    );
    assert_eq!(s.screen(), Screen::Error);
    assert_eq!(
        s.fault().map(|f| f.message_key),
        Some("card-error-unreadable")
    );
    let effects = ui(&mut s, UiAction::Retry, 7);
    assert_eq!(
        s.screen(),
        Screen::ReadingCard,
        "the card is still in: read again"
    );
    assert!(matches!(&effects[..], [Effect::ReadCard { .. }]));
}

#[test]
fn removing_the_card_mid_read_is_an_error_and_drops_the_identity() {
    let mut s = at_insert_card();
    s.handle(inserted(), 5);
    s.handle(removed(), 6);
    assert_eq!(s.screen(), Screen::Error);
    assert_eq!(s.fault().map(|f| f.message_key), Some("card-error-removed"));
    // The late answer of the read is dropped.
    s.handle(Event::IdentityRead(Ok(identity())), 7);
    assert!(!s.has_identity());
    assert_eq!(s.screen(), Screen::Error);
    let effects = ui(&mut s, UiAction::Retry, 8);
    assert_eq!(
        s.screen(),
        Screen::InsertCard,
        "card is out: ask for it again"
    );
    assert!(effects.is_empty());
}

#[test]
fn removing_the_card_after_issuing_keeps_the_certificate_but_drops_the_identity() {
    let mut s = at_preview();
    assert!(s.has_identity());
    s.handle(removed(), 8);
    assert!(!s.has_identity());
    assert_eq!(s.screen(), Screen::Preview);
    assert!(s.certificate().is_some());
}

#[test]
fn removal_from_another_reader_is_ignored() {
    let mut s = at_insert_card();
    s.handle(inserted(), 5);
    s.handle(
        Event::Card(CardEvent::CardRemoved {
            reader: "Other".into(),
        }),
        6,
    );
    assert_eq!(s.screen(), Screen::ReadingCard);
}

#[test]
fn central_failure_while_issuing_wipes_and_explains() {
    let mut s = at_insert_card();
    s.handle(inserted(), 5);
    s.handle(Event::IdentityRead(Ok(identity())), 6);
    let effects = s.handle(
        Event::CertificateIssued(Err(Fault::new("central-error-unreachable", "timeout"))),
        7,
    );
    assert!(matches!(&effects[..], [Effect::Wipe]));
    assert!(!s.has_identity());
    assert_eq!(s.screen(), Screen::Error);
    let effects = ui(&mut s, UiAction::Retry, 8);
    assert_eq!(s.screen(), Screen::Services);
    assert!(matches!(&effects[..], [Effect::LoadCatalogue]));
}

#[test]
fn catalogue_failure_is_an_error_with_retry() {
    let mut s = Session::new(Timeouts::default(), 0);
    ui(&mut s, UiAction::Start, 1);
    ui(&mut s, UiAction::ChooseLanguage(Locale::ZhCn), 2);
    s.handle(
        Event::CatalogueLoaded(Err(Fault::new("central-error-unreachable", "refused"))),
        3,
    );
    assert_eq!(s.screen(), Screen::Error);
    let effects = ui(&mut s, UiAction::Retry, 4);
    assert!(matches!(&effects[..], [Effect::LoadCatalogue]));
    assert_eq!(s.screen(), Screen::Services);
}

#[test]
fn paper_out_keeps_the_certificate_and_retry_returns_to_preview() {
    let mut s = at_preview();
    ui(&mut s, UiAction::Print, 8);
    s.handle(
        Event::PrintFinished(Err(Fault::new("print-error-paper-out", "paper end"))),
        9,
    );
    assert_eq!(s.screen(), Screen::Error);
    assert_eq!(
        s.fault().map(|f| f.message_key),
        Some("print-error-paper-out")
    );
    ui(&mut s, UiAction::Retry, 10);
    assert_eq!(s.screen(), Screen::Preview);
    assert!(s.certificate().is_some());
}

#[test]
fn idle_timeout_counts_down_then_returns_to_attract_and_wipes() {
    let timeouts = Timeouts::default();
    let mut s = at_preview();
    let last = 7;
    assert_eq!(s.idle_countdown(last + 1000), None);
    let warn_at = last + timeouts.idle - timeouts.idle_warning;
    assert_eq!(
        s.idle_countdown(warn_at),
        Some(timeouts.idle_warning / 1000)
    );
    assert!(s.handle(Event::Tick, warn_at).is_empty());
    assert_eq!(s.screen(), Screen::Preview);

    // A touch restarts the countdown.
    ui(&mut s, UiAction::Touch, warn_at);
    assert_eq!(s.idle_countdown(warn_at + 1), None);

    let effects = s.handle(Event::Tick, warn_at + timeouts.idle);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(matches!(&effects[..], [Effect::Wipe]));
    assert!(!s.has_identity());
    assert!(s.certificate().is_none());
}

#[test]
fn idle_timeout_waits_while_the_kiosk_is_busy() {
    let timeouts = Timeouts::default();
    let mut s = at_preview();
    ui(&mut s, UiAction::Print, 8);
    assert_eq!(s.idle_countdown(8 + timeouts.idle), None);
    s.handle(Event::Tick, 8 + 10 * timeouts.idle);
    assert_eq!(s.screen(), Screen::Printing);
    // Once printing ends, the resident gets a full idle period again.
    s.handle(Event::PrintFinished(Ok(())), 8 + 10 * timeouts.idle);
    s.handle(Event::Tick, 8 + 10 * timeouts.idle + timeouts.idle - 1);
    assert_eq!(s.screen(), Screen::TakePaper);
}

#[test]
fn elderly_mode_doubles_the_idle_time_and_ends_with_the_visit() {
    let timeouts = Timeouts::default();
    let mut s = at_insert_card();
    ui(&mut s, UiAction::ToggleElderly, 10);
    assert!(s.elderly());
    s.handle(Event::Tick, 10 + timeouts.idle);
    assert_eq!(s.screen(), Screen::InsertCard);
    s.handle(Event::Tick, 10 + 2 * timeouts.idle);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(!s.elderly());
}

#[test]
fn switching_language_keeps_the_place() {
    let mut s = at_preview();
    ui(&mut s, UiAction::SwitchLanguage(Locale::ZhTw), 8);
    assert_eq!((s.screen(), s.locale()), (Screen::Preview, Locale::ZhTw));
    assert!(s.certificate().is_some());
}

#[test]
fn home_from_anywhere_wipes() {
    let mut s = at_preview();
    let effects = ui(&mut s, UiAction::Home, 8);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(matches!(&effects[..], [Effect::Wipe]));
    assert!(!s.has_identity());
}

#[test]
fn attract_ignores_everything_but_start() {
    let mut s = Session::new(Timeouts::default(), 0);
    for action in [
        UiAction::Print,
        UiAction::Back,
        UiAction::Home,
        UiAction::PaperTaken,
    ] {
        assert!(ui(&mut s, action, 1).is_empty());
        assert_eq!(s.screen(), Screen::Attract);
    }
    s.handle(Event::Tick, 10_000_000);
    assert_eq!(s.screen(), Screen::Attract);
}

#[test]
fn late_results_for_other_screens_are_dropped() {
    let mut s = at_insert_card();
    ui(&mut s, UiAction::Home, 5);
    s.handle(Event::CertificateIssued(Ok(certificate())), 6);
    s.handle(Event::PrintFinished(Ok(())), 6);
    s.handle(Event::IdentityRead(Ok(identity())), 6);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(s.certificate().is_none());
    assert!(!s.has_identity());
}

#[test]
fn skipping_the_rating_sends_nothing() {
    let mut s = at_preview();
    ui(&mut s, UiAction::Print, 8);
    s.handle(Event::PrintFinished(Ok(())), 9);
    ui(&mut s, UiAction::PaperTaken, 10);
    assert!(ui(&mut s, UiAction::SkipRating, 11).is_empty());
    assert_eq!(s.screen(), Screen::Goodbye);
    assert_eq!(s.rated(), None);
}

#[test]
fn back_navigation() {
    let mut s = at_insert_card();
    let effects = ui(&mut s, UiAction::Back, 5);
    assert_eq!(s.screen(), Screen::Services);
    assert!(matches!(&effects[..], [Effect::LoadCatalogue]));
    ui(&mut s, UiAction::Back, 6);
    assert_eq!(s.screen(), Screen::Language);
    ui(&mut s, UiAction::Back, 7);
    assert_eq!(s.screen(), Screen::Attract);
}

#[test]
fn screen_names_are_unique_and_round_trip() {
    for screen in Screen::ALL {
        assert_eq!(Screen::from_name(screen.name()), Some(screen));
    }
    let mut names: Vec<_> = Screen::ALL.iter().map(|s| s.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Screen::ALL.len());
}
