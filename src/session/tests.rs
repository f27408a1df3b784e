use super::*;
use crate::i18n::Locale;
use crate::session::form::DISTRICTS;
use estation_drivers::card::{CardError, CardEvent, Identity, ProfileId};
use estation_drivers::scanner::{ScanError, ScanEvent, ScannedCode};
use zeroize::Zeroizing;

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

fn entry(id: &str, kind: FlowKind, needs_card: bool, chooses_period: bool) -> ServiceEntry {
    ServiceEntry {
        id: id.into(),
        kind,
        needs_card,
        chooses_period,
        available: true,
    }
}

fn catalogue() -> Vec<ServiceEntry> {
    vec![
        entry(SERVICE, FlowKind::Certificate, true, false),
        entry("household-proof", FlowKind::Certificate, true, false),
        entry("application-progress", FlowKind::Progress, false, false),
        entry("origin-certificate", FlowKind::OriginForm, false, false),
        entry("address-change", FlowKind::Submission, true, false),
        entry("si-period", FlowKind::Certificate, true, true),
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

fn document(kind: DocKind, min_width_dots: u32) -> DocumentSummary {
    DocumentSummary {
        document_id: "cert-1".into(),
        print_job_id: "job-cert-1".into(),
        kind,
        verification_code: "ABCD-1234".into(),
        min_width_dots,
        submission: None,
    }
}

fn certificate() -> DocumentSummary {
    document(DocKind::Certificate, 384)
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
    s.handle(Event::DocumentReady(Ok(certificate())), 7);
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));
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
    assert_eq!(s.services().map(<[_]>::len), Some(6));

    ui(&mut s, UiAction::ChooseService(SERVICE.into()), 4);
    assert_eq!(s.screen(), Screen::InsertCard);

    let effects = s.handle(inserted(), 5);
    assert_eq!(s.screen(), Screen::ReadingCard);
    assert!(matches!(&effects[..], [Effect::ReadCard { reader, pin: None }] if reader == READER));

    let effects = s.handle(Event::IdentityRead(Ok(identity())), 6);
    assert_eq!(s.screen(), Screen::Working(Work::Issuing));
    match &effects[..] {
        [
            Effect::IssueCertificate {
                service_id,
                identity: id,
                locale,
                period,
            },
        ] => {
            assert_eq!(service_id, SERVICE);
            assert_eq!(*period, None);
            assert_eq!(id.id_number, "110101195001011234");
            assert_eq!(*locale, Locale::ZhTw);
        }
        other => panic!("unexpected effects {other:?}"),
    }
    assert!(s.has_identity());

    s.handle(Event::DocumentReady(Ok(certificate())), 7);
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));

    let effects = ui(&mut s, UiAction::Print, 8);
    assert_eq!(s.screen(), Screen::Printing);
    assert!(
        matches!(&effects[..], [Effect::Print { job_id, kind: DocKind::Certificate }] if job_id == "job-cert-1")
    );
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
                document_id,
                score,
                reasons,
            },
        ] => {
            assert_eq!(service_id, SERVICE);
            assert_eq!(document_id.as_deref(), Some("cert-1"));
            assert_eq!(*score, Score::Good);
            assert!(reasons.is_empty());
        }
        other => panic!("unexpected effects {other:?}"),
    }

    // Goodbye returns to attract on its own, wiping everything.
    let effects = s.handle(Event::Tick, 12 + Timeouts::default().goodbye);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(matches!(&effects[..], [Effect::Wipe]));
    assert!(!s.has_identity());
    assert!(s.document().is_none());
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

fn scanned(text: &str) -> Event {
    Event::Scanner(ScanEvent::Scanned(ScannedCode::new(Zeroizing::new(
        text.to_owned(),
    ))))
}

fn phone_identity() -> Identity {
    let mut identity = identity();
    identity.profile = ProfileId::PhoneCode;
    identity
}

#[test]
fn a_scanned_phone_code_identifies_like_a_card() {
    let mut s = at_insert_card();
    assert!(!s.scanner_ready());
    s.handle(
        Event::Scanner(ScanEvent::Connected {
            device: "/dev/ttyACM0".into(),
            description: None,
        }),
        5,
    );
    assert!(s.scanner_ready(), "the screen offers the phone code now");
    let effects = s.handle(scanned("EID1:ABC"), 6);
    assert_eq!(s.screen(), Screen::Working(Work::CheckingCode));
    match &effects[..] {
        [Effect::VerifyCode { code }] => assert_eq!(code.as_str(), "EID1:ABC"),
        other => panic!("unexpected effects {other:?}"),
    }
    let effects = s.handle(Event::IdentityRead(Ok(phone_identity())), 7);
    assert_eq!(s.screen(), Screen::Working(Work::Issuing));
    assert_eq!(s.identified_by(), Some(IdentifiedBy::PhoneCode));
    assert!(
        matches!(&effects[..], [Effect::IssueCertificate { identity, .. }] if identity.profile == ProfileId::PhoneCode)
    );
    // A card pulled from the reader has nothing to do with this resident.
    s.handle(inserted(), 8);
    s.handle(removed(), 9);
    assert!(s.has_identity());
    s.handle(Event::DocumentReady(Ok(certificate())), 10);
    // "Back" from the document does not return to the identity screen.
    ui(&mut s, UiAction::Back, 11);
    assert_ne!(s.screen(), Screen::InsertCard);
}

#[test]
fn a_refused_code_explains_and_retry_asks_again() {
    let mut s = at_insert_card();
    s.handle(scanned("EID1:OLD"), 5);
    let used = Fault::new("code-error-used", "identity-code-used");
    s.handle(Event::IdentityRead(Err(used)), 6);
    assert_eq!(s.screen(), Screen::Error);
    assert_eq!(s.fault().map(|f| f.message_key), Some("code-error-used"));
    assert!(!s.has_identity());
    ui(&mut s, UiAction::Retry, 7);
    assert_eq!(s.screen(), Screen::InsertCard);
    // An unreadable scan on the identity screen is explained too.
    s.handle(
        Event::Scanner(ScanEvent::Rejected(ScanError::Garbage { length: 7 })),
        8,
    );
    assert_eq!(
        s.fault().map(|f| f.message_key),
        Some("scan-error-unreadable")
    );
}

#[test]
fn codes_scanned_where_no_flow_asks_for_identity_are_dropped() {
    // On the PIN screen: the PIN stays as typed, nothing is verified.
    let mut s = at_insert_card();
    s.handle(inserted(), 5);
    let pin_needed = Fault::from(&CardError::PinRequired {
        tries_left: Some(3),
    });
    s.handle(Event::IdentityRead(Err(pin_needed)), 6);
    assert_eq!(s.screen(), Screen::PinEntry);
    ui(&mut s, UiAction::PinDigit(1), 7);
    assert!(s.handle(scanned("123456"), 8).is_empty());
    assert!(
        s.handle(
            Event::Scanner(ScanEvent::Rejected(ScanError::Garbage { length: 3 })),
            8
        )
        .is_empty()
    );
    assert_eq!((s.screen(), s.pin_length()), (Screen::PinEntry, 1));

    // On attract, the service list, a document: ignored as well.
    let mut s = Session::new(Timeouts::default(), 0);
    assert!(s.handle(scanned("EID1:ABC"), 1).is_empty());
    assert_eq!(s.screen(), Screen::Attract);
    let mut s = at_preview();
    assert!(s.handle(scanned("EID1:ABC"), 9).is_empty());
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));
    // And a late answer after the visit moved on is dropped with its data.
    let mut s = at_insert_card();
    s.handle(scanned("EID1:ABC"), 5);
    ui(&mut s, UiAction::Home, 6);
    s.handle(Event::IdentityRead(Ok(phone_identity())), 7);
    assert!(!s.has_identity());
}

#[test]
fn the_wipe_forgets_how_the_resident_was_identified() {
    let mut s = at_insert_card();
    s.handle(scanned("EID1:ABC"), 5);
    s.handle(Event::IdentityRead(Ok(phone_identity())), 6);
    assert_eq!(s.identified_by(), Some(IdentifiedBy::PhoneCode));
    ui(&mut s, UiAction::Home, 7);
    assert_eq!(s.identified_by(), None);
    assert!(!s.has_identity());
}

#[test]
fn voice_from_the_attract_screen_starts_the_visit_and_ends_with_it() {
    let mut s = Session::new(Timeouts::default(), 0);
    ui(&mut s, UiAction::ToggleVoice, 1);
    assert_eq!((s.screen(), s.voice()), (Screen::Language, true));
    ui(&mut s, UiAction::ToggleVoice, 2);
    assert!(!s.voice(), "the same key turns it off");
    ui(&mut s, UiAction::ToggleVoice, 3);
    ui(&mut s, UiAction::Home, 4);
    assert_eq!((s.screen(), s.voice()), (Screen::Attract, false));
}

#[test]
fn voice_mode_gets_the_longer_time_and_more_time_doubles_it_on_the_screen() {
    let timeouts = Timeouts::default();
    let idle = timeouts.idle;
    let factor = timeouts.elderly_factor;
    let mut s = at_insert_card();
    ui(&mut s, UiAction::ToggleVoice, 10);
    // Still here just before the longer limit, gone after it.
    s.handle(Event::Tick, 10 + idle * factor - 1);
    assert_eq!(s.screen(), Screen::InsertCard);
    s.handle(Event::Tick, 10 + idle * factor);
    assert_eq!(s.screen(), Screen::Attract);

    let mut s = at_insert_card();
    let warned_at = idle - timeouts.idle_warning + 4;
    s.handle(Event::Tick, warned_at);
    assert!(s.idle_countdown(warned_at).is_some());
    ui(&mut s, UiAction::MoreTime, warned_at);
    assert_eq!(s.idle_countdown(warned_at), None);
    s.handle(Event::Tick, warned_at + 2 * idle - 1);
    assert_eq!(
        s.screen(),
        Screen::InsertCard,
        "twice the time on this screen"
    );
    s.handle(Event::Tick, warned_at + 2 * idle);
    assert_eq!(s.screen(), Screen::Attract);
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
    assert_eq!(s.screen(), Screen::Working(Work::Issuing));
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
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));
    assert!(s.document().is_some());
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
        Event::DocumentReady(Err(Fault::new("central-error-unreachable", "timeout"))),
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
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));
    assert!(s.document().is_some());
}

#[test]
fn after_paper_out_the_certificate_can_still_go_to_the_phone() {
    let mut s = at_preview();
    ui(&mut s, UiAction::Print, 8);
    s.handle(
        Event::PrintFinished(Err(Fault::new("print-error-paper-out", "paper end"))),
        9,
    );
    let effects = ui(&mut s, UiAction::ShowPhoneLink, 10);
    assert_eq!(s.screen(), Screen::PhoneLink);
    assert!(
        matches!(&effects[..], [Effect::RequestPhoneLink { document_id }] if document_id == "cert-1")
    );
    // Done with the phone: back to the certificate, which can be printed again.
    ui(&mut s, UiAction::ClosePhoneLink, 11);
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));
    // A card holder is reminded of the card.
    assert_eq!(s.identified_by(), Some(IdentifiedBy::Card));
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
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));

    // A touch restarts the countdown.
    ui(&mut s, UiAction::Touch, warn_at);
    assert_eq!(s.idle_countdown(warn_at + 1), None);

    let effects = s.handle(Event::Tick, warn_at + timeouts.idle);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(matches!(&effects[..], [Effect::Wipe]));
    assert!(!s.has_identity());
    assert!(s.document().is_none());
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
    assert_eq!(
        (s.screen(), s.locale()),
        (Screen::Preview(DocKind::Certificate), Locale::ZhTw)
    );
    assert!(s.document().is_some());
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
    s.handle(Event::DocumentReady(Ok(certificate())), 6);
    s.handle(Event::PrintFinished(Ok(())), 6);
    s.handle(Event::IdentityRead(Ok(identity())), 6);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(s.document().is_none());
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
    assert!(!s.rated());
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
    assert!(Screen::from_name("keypad-application-number").is_some());
    let mut names: Vec<_> = Screen::ALL.iter().map(|s| s.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), Screen::ALL.len());
}

fn at_services_with(traits: KioskTraits) -> Session {
    let mut s = Session::with_traits(Timeouts::default(), traits, 0);
    ui(&mut s, UiAction::Start, 1);
    ui(&mut s, UiAction::ChooseLanguage(Locale::ZhCn), 2);
    s.handle(Event::CatalogueLoaded(Ok(catalogue())), 3);
    s
}

fn type_text(s: &mut Session, text: &str) {
    for c in text.chars() {
        ui(s, UiAction::Key(c), 10);
    }
}

#[test]
fn origin_form_on_an_a4_printer() {
    let mut s = at_services_with(KioskTraits {
        printer_width_dots: 1728,
    });
    ui(
        &mut s,
        UiAction::ChooseService("origin-certificate".into()),
        4,
    );
    assert_eq!(s.screen(), Screen::Keypad(KeypadField::ApplicationNumber));
    type_text(&mut s, "sq12");
    ui(&mut s, UiAction::KeySubmit, 11);
    assert!(s.keypad_invalid(), "too short: stays with a hint");
    assert_eq!(s.screen(), Screen::Keypad(KeypadField::ApplicationNumber));
    ui(&mut s, UiAction::KeyClear, 12);
    type_text(&mut s, "CO2025330100001");
    ui(&mut s, UiAction::KeySubmit, 13);
    assert_eq!(s.screen(), Screen::Keypad(KeypadField::ExporterCode));
    // Back returns to the application number, which is kept by the flow.
    ui(&mut s, UiAction::Back, 14);
    assert_eq!(s.screen(), Screen::Keypad(KeypadField::ApplicationNumber));
    ui(&mut s, UiAction::KeyClear, 14);
    type_text(&mut s, "CO2025330100001");
    ui(&mut s, UiAction::KeySubmit, 15);
    type_text(&mut s, "3301960001");
    let effects = ui(&mut s, UiAction::KeySubmit, 16);
    match &effects[..] {
        [
            Effect::FetchOriginForm {
                application_number,
                exporter_code,
                ..
            },
        ] => {
            assert_eq!(application_number, "CO2025330100001");
            assert_eq!(exporter_code, "3301960001");
        }
        other => panic!("unexpected effects {other:?}"),
    }
    assert_eq!(s.screen(), Screen::Working(Work::FetchingOriginForm));
    s.handle(
        Event::DocumentReady(Ok(document(DocKind::OriginForm, 1728))),
        17,
    );
    assert_eq!(s.screen(), Screen::Preview(DocKind::OriginForm));
    let effects = ui(&mut s, UiAction::Print, 18);
    assert!(matches!(
        &effects[..],
        [Effect::Print {
            kind: DocKind::OriginForm,
            ..
        }]
    ));
}

#[test]
fn origin_form_on_a_receipt_printer_says_it_cannot() {
    let mut s = at_services_with(KioskTraits {
        printer_width_dots: 576,
    });
    ui(
        &mut s,
        UiAction::ChooseService("origin-certificate".into()),
        4,
    );
    type_text(&mut s, "CO2025330100001");
    ui(&mut s, UiAction::KeySubmit, 5);
    type_text(&mut s, "3301960001");
    ui(&mut s, UiAction::KeySubmit, 6);
    s.handle(
        Event::DocumentReady(Ok(document(DocKind::OriginForm, 1728))),
        7,
    );
    assert_eq!(s.screen(), Screen::OriginUnsupported);
    assert!(ui(&mut s, UiAction::Print, 8).is_empty(), "nothing prints");
    ui(&mut s, UiAction::Finish, 9);
    assert_eq!(s.screen(), Screen::Rating);
}

#[test]
fn wrong_application_number_explains_and_returns_to_the_keypad() {
    let mut s = at_services_with(KioskTraits::default());
    ui(
        &mut s,
        UiAction::ChooseService("origin-certificate".into()),
        4,
    );
    type_text(&mut s, "CO2025330100099");
    ui(&mut s, UiAction::KeySubmit, 5);
    type_text(&mut s, "3301960001");
    ui(&mut s, UiAction::KeySubmit, 6);
    s.handle(
        Event::DocumentReady(Err(Fault::new("central-error-origin-not-found", "404"))),
        7,
    );
    assert_eq!(s.screen(), Screen::Error);
    ui(&mut s, UiAction::Retry, 8);
    assert_eq!(s.screen(), Screen::Keypad(KeypadField::ApplicationNumber));
}

#[test]
fn keypad_rejects_keys_the_field_does_not_take() {
    let mut s = at_services_with(KioskTraits::default());
    ui(&mut s, UiAction::ChooseService("address-change".into()), 4);
    s.handle(inserted(), 5);
    s.handle(Event::IdentityRead(Ok(identity())), 6);
    ui(&mut s, UiAction::EditField(FormField::Phone), 7);
    assert_eq!(s.screen(), Screen::Keypad(KeypadField::Phone));
    type_text(&mut s, "1A38001380001234");
    assert_eq!(
        s.keypad_text(),
        "13800138000",
        "letters dropped, length capped"
    );
}

#[test]
fn progress_by_number() {
    let mut s = at_services_with(KioskTraits::default());
    ui(
        &mut s,
        UiAction::ChooseService("application-progress".into()),
        4,
    );
    assert_eq!(s.screen(), Screen::ProgressChoice);
    ui(&mut s, UiAction::ProgressByNumber, 5);
    type_text(&mut s, "SQ2025060100012");
    let effects = ui(&mut s, UiAction::KeySubmit, 6);
    assert!(matches!(
        &effects[..],
        [Effect::FetchProgress { query: ProgressQuery::ByNumber(n), .. }] if n == "SQ2025060100012"
    ));
    s.handle(
        Event::DocumentReady(Ok(document(DocKind::Progress, 384))),
        7,
    );
    assert_eq!(s.screen(), Screen::Preview(DocKind::Progress));
    // Printing is optional: finishing goes to the rating.
    ui(&mut s, UiAction::Finish, 8);
    assert_eq!(s.screen(), Screen::Rating);
}

#[test]
fn progress_by_card_lists_the_residents_applications() {
    let mut s = at_services_with(KioskTraits::default());
    ui(
        &mut s,
        UiAction::ChooseService("application-progress".into()),
        4,
    );
    ui(&mut s, UiAction::ProgressByCard, 5);
    assert_eq!(s.screen(), Screen::InsertCard);
    s.handle(inserted(), 6);
    let effects = s.handle(Event::IdentityRead(Ok(identity())), 7);
    assert!(matches!(
        &effects[..],
        [Effect::FetchProgress {
            query: ProgressQuery::ByCard(_),
            ..
        }]
    ));
    let list = vec![
        ApplicationEntry {
            application_number: "SQ1".into(),
        },
        ApplicationEntry {
            application_number: "SQ2".into(),
        },
    ];
    s.handle(Event::ApplicationsListed(Ok(list)), 8);
    assert_eq!(s.screen(), Screen::ProgressList);
    assert!(ui(&mut s, UiAction::ChooseApplication("SQ9".into()), 9).is_empty());
    let effects = ui(&mut s, UiAction::ChooseApplication("SQ2".into()), 9);
    assert!(matches!(
        &effects[..],
        [Effect::FetchProgress { query: ProgressQuery::ByNumber(n), .. }] if n == "SQ2"
    ));
}

#[test]
fn progress_by_card_with_nothing_to_show_says_so() {
    let mut s = at_services_with(KioskTraits::default());
    ui(
        &mut s,
        UiAction::ChooseService("application-progress".into()),
        4,
    );
    ui(&mut s, UiAction::ProgressByCard, 5);
    s.handle(inserted(), 6);
    s.handle(Event::IdentityRead(Ok(identity())), 7);
    s.handle(Event::ApplicationsListed(Ok(Vec::new())), 8);
    assert_eq!(s.screen(), Screen::Error);
    assert_eq!(
        s.fault().map(|f| f.message_key),
        Some("flow-error-no-applications")
    );
    ui(&mut s, UiAction::Retry, 9);
    assert_eq!(s.screen(), Screen::ProgressChoice);
}

#[test]
fn submission_form_fill_review_submit() {
    let mut s = at_services_with(KioskTraits::default());
    ui(&mut s, UiAction::ChooseService("address-change".into()), 4);
    assert_eq!(s.screen(), Screen::InsertCard);
    s.handle(inserted(), 5);
    s.handle(Event::IdentityRead(Ok(identity())), 6);
    assert_eq!(s.screen(), Screen::SubmissionForm);
    // Incomplete: review does nothing.
    ui(&mut s, UiAction::ReviewSubmission, 7);
    assert_eq!(s.screen(), Screen::SubmissionForm);
    ui(&mut s, UiAction::EditField(FormField::District), 8);
    assert_eq!(s.screen(), Screen::SubmissionDistrict);
    ui(&mut s, UiAction::ChooseDistrict(DISTRICTS.len()), 8);
    assert_eq!(
        s.screen(),
        Screen::SubmissionDistrict,
        "out of range ignored"
    );
    ui(&mut s, UiAction::ChooseDistrict(1), 9);
    assert_eq!(s.screen(), Screen::SubmissionForm);
    for (field, keys) in [
        (FormField::House, "90"),
        (FormField::Room, "501"),
        (FormField::Phone, "13800138000"),
    ] {
        ui(&mut s, UiAction::EditField(field), 10);
        type_text(&mut s, keys);
        ui(&mut s, UiAction::KeySubmit, 11);
        assert_eq!(s.screen(), Screen::SubmissionForm);
    }
    assert!(s.form().is_some_and(AddressChangeForm::is_complete));
    // Back from the form's review returns to the form, not to the card.
    ui(&mut s, UiAction::ReviewSubmission, 12);
    assert_eq!(s.screen(), Screen::SubmissionConfirm);
    ui(&mut s, UiAction::Back, 12);
    assert_eq!(s.screen(), Screen::SubmissionForm);
    ui(&mut s, UiAction::ReviewSubmission, 12);
    let effects = ui(&mut s, UiAction::Submit, 13);
    match &effects[..] {
        [
            Effect::Submit {
                form, service_id, ..
            },
        ] => {
            assert_eq!(service_id, "address-change");
            assert_eq!(
                form.new_address().as_deref(),
                Some("西湖区 天目山路 90号 501室")
            );
        }
        other => panic!("unexpected effects {other:?}"),
    }
    assert_eq!(s.screen(), Screen::Working(Work::Submitting));
    let mut receipt = document(DocKind::Receipt, 384);
    receipt.submission = Some(SubmissionState::Queued);
    s.handle(Event::DocumentReady(Ok(receipt)), 14);
    assert_eq!(s.screen(), Screen::Preview(DocKind::Receipt));
    assert!(
        s.document()
            .is_some_and(|d| d.submission == Some(SubmissionState::Queued))
    );
    let effects = ui(&mut s, UiAction::Print, 15);
    assert!(matches!(
        &effects[..],
        [Effect::Print {
            kind: DocKind::Receipt,
            ..
        }]
    ));
}

#[test]
fn submission_after_the_card_left_asks_for_it_again() {
    let mut s = at_services_with(KioskTraits::default());
    ui(&mut s, UiAction::ChooseService("address-change".into()), 4);
    s.handle(inserted(), 5);
    s.handle(Event::IdentityRead(Ok(identity())), 6);
    ui(&mut s, UiAction::EditField(FormField::District), 7);
    ui(&mut s, UiAction::ChooseDistrict(0), 7);
    for (field, keys) in [
        (FormField::House, "1"),
        (FormField::Room, "2"),
        (FormField::Phone, "13900139000"),
    ] {
        ui(&mut s, UiAction::EditField(field), 8);
        type_text(&mut s, keys);
        ui(&mut s, UiAction::KeySubmit, 8);
    }
    ui(&mut s, UiAction::ReviewSubmission, 9);
    s.handle(removed(), 10);
    let effects = ui(&mut s, UiAction::Submit, 11);
    assert!(effects.is_empty());
    assert_eq!(s.screen(), Screen::InsertCard);
    assert!(
        s.form().is_some_and(AddressChangeForm::is_complete),
        "the form is kept"
    );
}

#[test]
fn period_is_chosen_before_the_card() {
    let mut s = at_services_with(KioskTraits::default());
    ui(&mut s, UiAction::ChooseService("si-period".into()), 4);
    assert_eq!(s.screen(), Screen::ChoosePeriod);
    ui(&mut s, UiAction::ChoosePeriod(PeriodChoice::LastYear), 5);
    assert_eq!(s.screen(), Screen::InsertCard);
    ui(&mut s, UiAction::Back, 6);
    assert_eq!(s.screen(), Screen::ChoosePeriod);
    ui(
        &mut s,
        UiAction::ChoosePeriod(PeriodChoice::Last24Months),
        7,
    );
    s.handle(inserted(), 8);
    let effects = s.handle(Event::IdentityRead(Ok(identity())), 9);
    assert!(matches!(
        &effects[..],
        [Effect::IssueCertificate {
            period: Some(PeriodChoice::Last24Months),
            ..
        }]
    ));
}

#[test]
fn bad_rating_asks_for_reasons() {
    let mut s = at_preview();
    ui(&mut s, UiAction::Finish, 8);
    assert_eq!(s.screen(), Screen::Rating);
    ui(&mut s, UiAction::Rate(Score::Bad), 9);
    assert_eq!(s.screen(), Screen::RatingReasons);
    ui(&mut s, UiAction::ToggleReason("too-slow".into()), 10);
    ui(&mut s, UiAction::ToggleReason("not-a-reason".into()), 10);
    ui(&mut s, UiAction::ToggleReason("printer-problem".into()), 10);
    ui(&mut s, UiAction::ToggleReason("too-slow".into()), 10);
    assert_eq!(s.reasons(), ["printer-problem".to_owned()]);
    let effects = ui(&mut s, UiAction::SendRating, 11);
    match &effects[..] {
        [Effect::SubmitRating { score, reasons, .. }] => {
            assert_eq!(*score, Score::Bad);
            assert_eq!(reasons, &vec!["printer-problem".to_owned()]);
        }
        other => panic!("unexpected effects {other:?}"),
    }
    assert_eq!(s.screen(), Screen::Goodbye);
    // "Received" only once the rating is stored; not if storing it failed.
    assert!(!s.rated());
    s.handle(Event::RatingQueued(Ok(())), 12);
    assert!(s.rated());
}

#[test]
fn a_rating_that_could_not_be_stored_is_not_thanked_for() {
    let mut s = at_preview();
    ui(&mut s, UiAction::Finish, 8);
    ui(&mut s, UiAction::Rate(Score::Good), 9);
    assert_eq!(s.screen(), Screen::Goodbye);
    s.handle(
        Event::RatingQueued(Err(Fault::new("outbox-error-failed", "disk full"))),
        10,
    );
    assert!(!s.rated());
}

#[test]
fn phone_link_from_the_certificate_preview() {
    let mut s = at_preview();
    let effects = ui(&mut s, UiAction::ShowPhoneLink, 8);
    assert!(
        matches!(&effects[..], [Effect::RequestPhoneLink { document_id }] if document_id == "cert-1")
    );
    assert_eq!(s.screen(), Screen::PhoneLink);
    ui(&mut s, UiAction::ClosePhoneLink, 9);
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));
    ui(&mut s, UiAction::ShowPhoneLink, 10);
    s.handle(
        Event::PhoneLinkReady(Err(Fault::new("central-error-unreachable", "down"))),
        11,
    );
    assert_eq!(s.screen(), Screen::Error);
    ui(&mut s, UiAction::Retry, 12);
    assert_eq!(s.screen(), Screen::Preview(DocKind::Certificate));
}

#[test]
fn every_new_screen_times_out_and_wipes() {
    let timeouts = Timeouts::default();
    let mut s = at_services_with(KioskTraits::default());
    ui(&mut s, UiAction::ChooseService("address-change".into()), 4);
    s.handle(inserted(), 5);
    s.handle(Event::IdentityRead(Ok(identity())), 6);
    ui(&mut s, UiAction::EditField(FormField::Phone), 7);
    type_text(&mut s, "138");
    let effects = s.handle(Event::Tick, 10 + timeouts.idle);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(matches!(&effects[..], [Effect::Wipe]));
    assert!(s.form().is_none());
    assert_eq!(s.keypad_text(), "");
    assert!(!s.has_identity());
}

fn type_pin(s: &mut Session, pin: &str) {
    for d in pin.bytes() {
        ui(s, UiAction::PinDigit(d - b'0'), 20);
    }
}

#[test]
fn maintenance_opens_only_from_attract_and_only_with_a_granted_pin() {
    let mut s = at_insert_card();
    assert!(ui(&mut s, UiAction::EnterMaintenance, 5).is_empty());
    assert_eq!(
        s.screen(),
        Screen::InsertCard,
        "residents cannot reach it mid-visit"
    );

    let mut s = Session::new(Timeouts::default(), 0);
    s.handle(inserted(), 0);
    ui(&mut s, UiAction::EnterMaintenance, 1);
    assert_eq!(s.screen(), Screen::MaintenanceLogin);
    type_pin(&mut s, "111111");
    let effects = ui(&mut s, UiAction::PinSubmit, 21);
    match &effects[..] {
        [Effect::CheckTechnician { reader, pin }] => {
            assert_eq!(
                reader.as_deref(),
                Some(READER),
                "the service card in the reader is used"
            );
            assert_eq!(pin.digits(), "111111");
        }
        other => panic!("unexpected effects {other:?}"),
    }
    assert_eq!(s.screen(), Screen::Working(Work::CheckingTechnician));
    let mut denied = Fault::new("maintenance-error-denied", "wrong");
    denied.tries_left = Some(4);
    s.handle(Event::TechnicianChecked(Err(denied)), 22);
    assert_eq!(s.screen(), Screen::MaintenanceLogin);
    assert_eq!(s.login_fault().and_then(|f| f.tries_left), Some(4));
    assert_eq!(s.pin_length(), 0);

    type_pin(&mut s, "246810");
    ui(&mut s, UiAction::PinSubmit, 23);
    s.handle(Event::TechnicianChecked(Ok("DEMO-TECH".into())), 24);
    assert_eq!(s.screen(), Screen::MaintenanceMenu);
    assert_eq!(s.technician(), Some("DEMO-TECH"));

    ui(&mut s, UiAction::OpenDisplayTest, 25);
    assert_eq!(s.screen(), Screen::DisplayTest);
    ui(&mut s, UiAction::DisplayChecked(true), 26);
    assert_eq!(s.screen(), Screen::MaintenanceMenu);
    let effects = ui(&mut s, UiAction::RunSelfTest, 27);
    assert!(matches!(
        &effects[..],
        [Effect::RunSelfTest {
            display: Some(true)
        }]
    ));
    s.handle(Event::SelfTestFinished, 28);
    assert_eq!(s.screen(), Screen::SelfTestReport);

    let effects = ui(&mut s, UiAction::Home, 29);
    assert_eq!(s.screen(), Screen::Attract);
    assert!(matches!(&effects[..], [Effect::Wipe]));
    assert_eq!(s.technician(), None);
}

#[test]
fn maintenance_idles_back_to_attract() {
    let mut s = Session::new(Timeouts::default(), 0);
    ui(&mut s, UiAction::EnterMaintenance, 1);
    type_pin(&mut s, "246810");
    ui(&mut s, UiAction::PinSubmit, 2);
    s.handle(Event::TechnicianChecked(Ok("T".into())), 3);
    s.handle(Event::Tick, 3 + Timeouts::default().idle);
    assert_eq!(s.screen(), Screen::Attract);
    assert_eq!(s.technician(), None);
}

#[test]
fn unavailable_services_cannot_be_chosen() {
    let mut s = Session::new(Timeouts::default(), 0);
    ui(&mut s, UiAction::Start, 1);
    ui(&mut s, UiAction::ChooseLanguage(Locale::ZhCn), 2);
    let mut list = catalogue();
    list[0].available = false;
    s.handle(Event::CatalogueLoaded(Ok(list)), 3);
    ui(&mut s, UiAction::ChooseService(SERVICE.into()), 4);
    assert_eq!(s.screen(), Screen::Services);
    ui(&mut s, UiAction::ChooseService("address-change".into()), 5);
    assert_eq!(s.screen(), Screen::InsertCard);
}
