//! Property tests at the kiosk's edges, where bytes from outside come in: the
//! printer's status bytes, signed configuration bundles, the central service's
//! JSON replies, and headless scripts. No input may panic; what is produced
//! must read back the same. The case count follows `PROPTEST_CASES` (the long
//! run is documented in docs/reliability.md).

use proptest::prelude::*;

use estation::ops::bundle::{KeyPair, TrustAnchors, sign_bundle, verify_signed};
use estation::ui_bridge::script;
use estation_central::wire;
use estation_drivers::print::PrinterStatus;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(256),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn status() -> impl Strategy<Value = PrinterStatus> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(offline, cover_open, paper_end, paper_near_end, cutter, unrecoverable, auto)| {
                PrinterStatus {
                    offline,
                    cover_open,
                    paper_end,
                    paper_near_end,
                    cutter_error: cutter,
                    unrecoverable_error: unrecoverable,
                    auto_recoverable_error: auto,
                }
            },
        )
}

/// A serialized sample of every reply type the client parses, to mutate.
fn wire_samples() -> Vec<String> {
    let catalogue = wire::Catalogue {
        categories: estation_central::seed::categories(),
        services: estation_central::seed::services(),
    };
    vec![
        serde_json::to_string(&catalogue).unwrap_or_default(),
        r#"{"type":"about:blank","title":"closed","status":409,"code":"service_closed","detail":"x"}"#
            .to_owned(),
        r#"{"receipt_number":"RC20261207-000001","received_at":"2026-12-07T03:00:00Z","status":"received"}"#
            .to_owned(),
    ]
}

/// Parses `text` as every reply type the client accepts; none may panic.
fn parse_as_every_reply(text: &str) {
    let _ = serde_json::from_str::<wire::Catalogue>(text);
    let _ = serde_json::from_str::<wire::IssuedCertificate>(text);
    let _ = serde_json::from_str::<wire::ApplicationProgress>(text);
    let _ = serde_json::from_str::<wire::ResidentApplications>(text);
    let _ = serde_json::from_str::<wire::SubmissionReceipt>(text);
    let _ = serde_json::from_str::<wire::OriginCertificateSummary>(text);
    let _ = serde_json::from_str::<wire::CodeIdentity>(text);
    let _ = serde_json::from_str::<wire::Problem>(text);
    let _ = serde_json::from_str::<wire::ConfigBundle>(text);
    let _ = wire::QrPayload::parse(text);
}

proptest! {
    #![proptest_config(config())]

    /// What a printer in any state answers to `DLE EOT n` and `GS r 1` reads
    /// back as that state.
    #[test]
    fn printer_status_replies_read_back(state in status()) {
        let mut read = PrinterStatus::READY;
        for request in 1..=4u8 {
            read.apply_dle_eot(request, state.dle_eot_reply(request)).expect("a reply");
        }
        read.apply_gs_r_paper(state.gs_r_paper_reply()).expect("a paper reply");
        // A printer whose cover is open or whose paper ran out is offline too.
        prop_assert_eq!(read.offline, state.offline || state.cover_open || state.paper_end);
        prop_assert_eq!(read.cover_open, state.cover_open);
        prop_assert_eq!(read.paper_end, state.paper_end);
        prop_assert_eq!(read.cutter_error, state.cutter_error);
        prop_assert_eq!(read.unrecoverable_error, state.unrecoverable_error);
    }

    /// Any byte for any request: an answer or an error, never a panic, and a
    /// byte without the fixed bits is refused.
    #[test]
    fn printer_status_bytes_never_panic(request in any::<u8>(), reply in any::<u8>()) {
        let mut read = PrinterStatus::READY;
        let result = read.apply_dle_eot(request, reply);
        if !estation_drivers::print::is_dle_eot_reply(reply) {
            prop_assert!(result.is_err());
        }
        let _ = read.apply_gs_r_paper(reply);
    }

    /// Arbitrary bytes as a bundle file: refused with a reason, never a panic.
    #[test]
    fn bundle_files_of_any_bytes_are_refused(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let trust = TrustAnchors::new(vec![KeyPair::generate().verifying_key()]);
        prop_assert!(verify_signed(&bytes, &trust).is_err());
    }

    /// A signed bundle with one byte changed is refused or reads as itself.
    #[test]
    fn a_changed_byte_breaks_the_bundle(index in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let key = KeyPair::generate();
        let bundle = estation::ops::bundle::BundleSource::from_toml(include_str!("../assets/config/example.toml"))
            .and_then(|source| source.into_bundle(time::OffsetDateTime::now_utc()))
            .expect("the example bundle");
        let signed = sign_bundle(&bundle, &key).expect("signs");
        let mut bytes = serde_json::to_vec(&signed).expect("serializes");
        let at = index.index(bytes.len());
        let changed = bytes[at] != byte;
        bytes[at] = byte;
        let trust = TrustAnchors::new(vec![key.verifying_key()]);
        match verify_signed(&bytes, &trust) {
            Ok((_, read)) => prop_assert!(!changed || read == bundle, "a changed bundle verified as another"),
            Err(_) => prop_assert!(changed, "the untouched bundle was refused"),
        }
    }

    /// The central service's replies with bytes changed: every reply type
    /// parses or fails, and what parses writes back and reads the same.
    #[test]
    fn wire_replies_with_changed_bytes(which in 0..3usize, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6)) {
        let samples = wire_samples();
        let mut bytes = samples[which % samples.len()].clone().into_bytes();
        for (index, byte) in edits {
            let at = index.index(bytes.len().max(1));
            if at < bytes.len() {
                bytes[at] = byte;
            }
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        parse_as_every_reply(&text);
        if let Ok(catalogue) = serde_json::from_str::<wire::Catalogue>(&text) {
            let again = serde_json::to_string(&catalogue).expect("writes");
            prop_assert_eq!(serde_json::from_str::<wire::Catalogue>(&again).ok(), Some(catalogue));
        }
    }

    /// Any text as JSON for every reply type: never a panic.
    #[test]
    fn wire_replies_of_any_text(text in ".{0,512}") {
        parse_as_every_reply(&text);
    }

    /// Any text as a headless script: parsed or refused with a line number
    /// inside the text.
    #[test]
    fn scripts_of_any_text(text in "(([a-z-]{0,12}( [a-z0-9.-]{0,8}){0,3})?(#.{0,10})?\n){0,12}|.{0,200}") {
        match script::parse(&text) {
            Ok(commands) => prop_assert!(commands.len() <= text.lines().count()),
            Err(script::ScriptError::Parse { line, .. }) => {
                prop_assert!(line >= 1 && line <= text.lines().count().max(1));
            }
            Err(other) => prop_assert!(false, "parsing gave {other:?}"),
        }
    }

    /// Well-formed scripts parse to one command per line.
    #[test]
    fn well_formed_scripts_parse(lines in proptest::collection::vec(prop_oneof![
        "[a-z-]{1,12}".prop_map(|verb| format!("tap {verb}")),
        ("[a-z-]{1,12}", "[a-zA-Z0-9-]{1,8}").prop_map(|(verb, arg)| format!("tap {verb} {arg}")),
        (0u32..100_000).prop_map(|s| format!("advance {s}")),
        (0u32..1000).prop_map(|s| format!("hold {s}")),
        Just("card insert".to_owned()),
        Just("network down".to_owned()),
        Just("wait services 5".to_owned()),
        ((0u32..2000), (0u32..2000)).prop_map(|(x, y)| format!("touch {x} {y}")),
    ], 0..20)) {
        let text = lines.join("\n");
        let commands = script::parse(&text).expect("a well-formed script");
        prop_assert_eq!(commands.len(), lines.len());
    }
}
