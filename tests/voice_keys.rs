//! A resident who cannot see the screen gets a certificate alone: voice guidance
//! turned on with a key, the whole flow driven by keys (arrows, Enter, the number
//! keys for the PIN of a real card read through pcscd), and what voice guidance
//! said checked step by step: each screen, each focused element, "星号" for each
//! PIN digit and never the digit, the certificate's summary with its code spelled
//! out, and silence again after the visit. On a landscape panel the keypad keeps
//! the same focus order.

use crate::support::demo::{resident_card, run_script};
use estation_central::seed::DEMO_RESIDENTS;
use estation_drivers::card::virtual_card::harness::acquire_or_skip;
use estation_drivers::card::virtual_card::{InsertedCard, VirtualCardSpec};

const PIN: &str = "123456";

/// The `spoken:` lines after `mark NAME`, up to the next mark.
fn spoken_after<'a>(stdout: &'a str, mark: &str) -> Vec<&'a str> {
    stdout
        .lines()
        .skip_while(|l| *l != format!("mark {mark}"))
        .skip(1)
        .take_while(|l| !l.starts_with("mark "))
        .filter_map(|l| l.strip_prefix("spoken: "))
        .collect()
}

#[test]
fn a_certificate_with_keys_alone_and_every_step_spoken() {
    let Some(_pcscd) = acquire_or_skip("a_certificate_with_keys_alone_and_every_step_spoken")
    else {
        return;
    };
    let resident = &DEMO_RESIDENTS[0];
    let fixture = resident_card(resident, Some(PIN));
    let _card = InsertedCard::insert(VirtualCardSpec::social_security(fixture)).expect("card in");

    let run = run_script("voice-keys.script", &[]);
    let (stdout, stderr) = (run.stdout(), run.stderr());
    let data = &run.data;

    // F2 on the attract screen: voice on, and the language screen says itself.
    let language = spoken_after(&stdout, "language");
    assert_eq!(language.len(), 1, "{language:?}");
    assert!(language[0].contains("请选择语言"), "{}", language[0]);

    // The service list, then the first service as the focus reaches it.
    let services = spoken_after(&stdout, "services");
    assert!(
        services.iter().any(|s| s.contains("社保缴费证明")),
        "{services:?}"
    );

    // The PIN screen, then one "星号" per digit typed, never a digit.
    let pin = spoken_after(&stdout, "pin");
    assert!(pin.iter().any(|s| s.contains("密码")), "{pin:?}");
    let typed = spoken_after(&stdout, "pin-typed");
    assert_eq!(typed, vec!["星号"; 6], "{typed:?}");

    // The preview: what it is, for whom, and the verification code spelled out.
    let db_path = stdout
        .lines()
        .find_map(|l| l.strip_prefix("estation demo: central database "))
        .expect("database line");
    let db = rusqlite::Connection::open(db_path).expect("db");
    let code: String = db
        .query_row(
            "SELECT verification_code FROM issued_certificates",
            [],
            |r| r.get(0),
        )
        .expect("one certificate");
    let preview = spoken_after(&stdout, "preview");
    let summary = preview
        .iter()
        .find(|s| s.contains("验证码"))
        .unwrap_or_else(|| panic!("no summary in {preview:?}"));
    assert!(summary.contains(resident.name), "{summary}");
    let first_group: String = code
        .split('-')
        .next()
        .expect("a group")
        .chars()
        .map(String::from)
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        summary.contains(&first_group),
        "{summary} lacks {first_group}"
    );
    assert_eq!(spoken_after(&stdout, "print-focused").last(), Some(&"打印"));

    // The goodbye reminds of the card; after the visit voice is off again.
    let goodbye = spoken_after(&stdout, "goodbye");
    assert!(
        goodbye.iter().any(|s| s.contains("社会保障卡")),
        "{goodbye:?}"
    );
    assert!(spoken_after(&stdout, "after-visit").is_empty());

    // Nothing spoken holds the PIN.
    for line in stdout.lines().filter(|l| l.starts_with("spoken: ")) {
        assert!(!line.contains(PIN) && !line.contains("12345"), "{line}");
    }
    // No log line carries the spoken words (they can name the resident).
    assert!(!stderr.contains(resident.name), "{stderr}");

    // The focus ring is drawn: its yellow and black on the service card.
    let focus = image::open(data.path().join("script/shots/focus.png"))
        .expect("screenshot")
        .to_rgb8();
    let ring = focus.pixels().filter(|p| p.0 == [0xff, 0xcc, 0x00]).count();
    assert!(ring > 5_000, "focus ring pixels: {ring}");
}

/// On a landscape panel the keypad's OK stands left of the keys, yet the focus
/// goes through every key first, as on a portrait panel, then OK, then the
/// navigation; the delete key is spoken as a word, not as its symbol.
#[test]
fn a_landscape_keypad_is_tabbed_through_its_keys_before_ok() {
    let run = run_script(
        "keypad-keys-landscape.script",
        &["--no-card-reader", "--width", "1920", "--height", "1080"],
    );
    let stdout = run.stdout();
    let focused = spoken_after(&stdout, "keys");
    let position = |label: &str| {
        focused
            .iter()
            .position(|s| *s == label)
            .unwrap_or_else(|| panic!("{label} never focused: {focused:?}"))
    };
    assert_eq!(focused.first(), Some(&"A"), "{focused:?}");
    let ok = position("确定");
    for key in ["A", "Z", "1", "9", "0", "清空", "删除"] {
        assert!(position(key) < ok, "{key} after OK: {focused:?}");
    }
    assert!(
        ok < position("返回") && position("返回") < position("首页"),
        "{focused:?}"
    );
    assert!(!focused.contains(&"⌫"), "{focused:?}");
}
