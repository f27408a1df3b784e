//! Voice guidance, checked on real outputs: the spoken text of every screen in every
//! locale (from the sample views `estation screenshot` draws), and real audio from
//! the espeak-ng engine (sample rate, length, energy).
//!
//! The audio tests need espeak-ng (scripts/setup.sh installs it). Without it they
//! fail when `CI=true` and skip loudly elsewhere.

use std::process::Command;

use estation::i18n::{Locale, Translator};
use estation::session::Screen;
use estation::speech::{
    EspeakEngine, Pcm, SpeechEngine, SpeechError, Utterance, VoiceSettings, screen_utterance,
};
use estation::ui_bridge::screens::{Samples, sample_view};

const BIN: &str = env!("CARGO_BIN_EXE_estation");

/// Words that only make sense to someone who sees the screen.
fn visual_words(locale: Locale) -> &'static [&'static str] {
    match locale {
        Locale::ZhCn => &[
            "点击",
            "点按",
            "轻点",
            "轻触",
            "看到",
            "看见",
            "查看屏幕",
            "上方",
            "下方",
            "左侧",
            "右侧",
            "上面",
            "下面",
            "图标",
            "绿色",
            "红色",
            "蓝色",
            "灰色",
            "高亮",
        ],
        Locale::ZhTw => &[
            "點擊", "點按", "輕點", "輕觸", "看到", "看見", "上方", "下方", "左側", "右側", "上面",
            "下面", "圖示", "綠色", "紅色", "藍色", "灰色", "反白",
        ],
        Locale::EnUs => &[
            "click",
            "tap",
            "see",
            "seen",
            "look",
            "below",
            "above",
            "on the left",
            "on the right",
            "to the left",
            "to the right",
            "at the top",
            "at the bottom",
            "shown",
            "icon",
            "green",
            "red",
            "blue",
            "grey",
            "highlighted",
        ],
    }
}

fn contains_word(text: &str, word: &str, locale: Locale) -> bool {
    if locale != Locale::EnUs {
        return text.contains(word);
    }
    if word.contains(' ') {
        return text.to_ascii_lowercase().contains(word);
    }
    text.split(|c: char| !c.is_ascii_alphabetic())
        .any(|token| token.eq_ignore_ascii_case(word))
}

struct Fixture {
    translator: Translator,
    samples: Samples,
}

impl Fixture {
    fn new() -> Self {
        Self {
            translator: Translator::new().expect("bundles load"),
            samples: Samples::new(),
        }
    }

    fn text(&self, screen: Screen, locale: Locale, elderly: bool) -> String {
        let view = sample_view(&self.samples, &self.translator, screen, locale, elderly);
        screen_utterance(&view, &self.translator)
    }
}

#[test]
fn every_screen_speaks_in_every_locale_without_keys_placeholders_or_visual_words() {
    let fixture = Fixture::new();
    let mut problems = Vec::new();
    for locale in Locale::ALL {
        let keys: Vec<String> = Translator::keys(locale)
            .into_iter()
            .map(|k| k.split('.').next().unwrap_or_default().to_owned())
            .filter(|k| k.contains('-'))
            .collect();
        for screen in Screen::ALL {
            for elderly in [false, true] {
                let text = fixture.text(screen, locale, elderly);
                let at = format!("{} {locale}", screen.name());
                if text.chars().filter(|c| c.is_alphanumeric()).count() < 10 {
                    problems.push(format!("{at}: almost nothing said: {text:?}"));
                }
                if text.contains('{') || text.contains('}') {
                    problems.push(format!("{at}: placeholder left: {text}"));
                }
                let tokens: Vec<&str> = text
                    .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '.'))
                    .collect();
                if let Some(key) = keys.iter().find(|k| tokens.contains(&k.as_str())) {
                    problems.push(format!("{at}: untranslated key {key}: {text}"));
                }
                for word in visual_words(locale) {
                    if contains_word(&text, word, locale) {
                        problems.push(format!("{at}: visual word {word:?}: {text}"));
                    }
                }
                if locale == Locale::EnUs
                    && text.chars().any(|c| ('\u{3400}'..='\u{9FFF}').contains(&c))
                {
                    problems.push(format!(
                        "{at}: Chinese the English voice cannot read: {text}"
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_screen_says_how_to_answer() {
    let fixture = Fixture::new();
    for locale in Locale::ALL {
        for screen in Screen::ALL {
            let text = fixture.text(screen, locale, false);
            let how = match locale {
                Locale::EnUs => ["Press", "wait", "press"].iter().any(|w| text.contains(w)),
                _ => ["按", "稍候"].iter().any(|w| text.contains(w)),
            };
            assert!(
                how,
                "{} {locale} never says how to go on: {text}",
                screen.name()
            );
        }
    }
}

#[test]
fn the_pin_screen_never_says_a_digit_the_resident_typed() {
    let fixture = Fixture::new();
    for locale in Locale::ALL {
        let star = fixture.translator.text(locale, "speech-pin-star");
        for screen in [Screen::PinEntry, Screen::MaintenanceLogin] {
            let view = sample_view(&fixture.samples, &fixture.translator, screen, locale, false);
            let text = screen_utterance(&view, &fixture.translator);
            let entered = fixture.translator.text_with(
                locale,
                "speech-pin-entered",
                &[
                    ("count", view.pin_length.into()),
                    (
                        "stars",
                        vec![star.clone(); view.pin_length]
                            .join(if locale == Locale::EnUs { ", " } else { " " })
                            .into(),
                    ),
                ],
            );
            assert!(view.pin_length > 0);
            assert!(text.contains(&entered), "{locale}: {text}");
            // The only digits are the screen's own: its rules and tries left.
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            assert!(digits.len() <= 4, "{locale} {}: {text}", screen.name());
        }
    }
}

#[test]
fn codes_and_numbers_are_spelled_one_character_at_a_time() {
    let fixture = Fixture::new();
    let preview = Screen::Preview(estation::session::DocKind::Certificate);
    let zh = fixture.text(preview, Locale::ZhCn, false);
    assert!(zh.contains("8 K 3 F，2 Q 7 M，X W 4 D"), "{zh}");
    let en = fixture.text(preview, Locale::EnUs, false);
    assert!(en.contains("8, K, 3, F; 2, Q, 7, M; X, W, 4, D"), "{en}");
    let list = fixture.text(Screen::ProgressList, Locale::ZhCn, false);
    let first = estation_central::seed::applications()[0].application_number;
    let spelled = estation::speech::spell(first, Locale::ZhCn);
    assert!(list.contains(&spelled), "{list}");
    assert!(!list.contains(first), "{list}");
}

#[test]
fn the_certificate_preview_says_what_it_is_for_whom_and_its_code() {
    let fixture = Fixture::new();
    let text = fixture.text(
        Screen::Preview(estation::session::DocKind::Certificate),
        Locale::ZhCn,
        false,
    );
    let resident = estation_central::seed::DEMO_RESIDENTS[0].name;
    for part in ["社会保险参保缴费证明", resident, "验证码", "打印"] {
        assert!(text.contains(part), "{part:?} missing: {text}");
    }
    let title = text.find("社会保险参保缴费证明").unwrap_or(usize::MAX);
    let code = text.find("验证码").unwrap_or(0);
    assert!(title < code, "the document comes before its code: {text}");
}

#[test]
fn every_error_speaks_its_message_and_what_to_do() {
    let translator = Translator::new().expect("bundles load");
    for locale in Locale::ALL {
        let errors: Vec<String> = Translator::keys(locale)
            .into_iter()
            .filter_map(|k| k.strip_suffix(".action").map(str::to_owned))
            .collect();
        assert!(errors.len() > 20, "{errors:?}");
        for key in errors {
            let mut view = estation::view::View::new(Screen::Error, locale);
            view.error_key = key.clone();
            let text = screen_utterance(&view, &translator);
            let message = translator.text(locale, &key);
            let action = translator.text(locale, &format!("{key}.action"));
            assert!(
                text.contains(message.trim_end_matches(['。', '.'])),
                "{key}: {text}"
            );
            assert!(
                text.contains(action.trim_end_matches(['。', '.'])),
                "{key}: {text}"
            );
        }
    }
}

/// The engine, or `None` (with a loud note) where espeak-ng is not installed and
/// this is not CI.
fn engine() -> Option<EspeakEngine> {
    let engine = EspeakEngine::new();
    match engine.status() {
        Ok(status) => {
            eprintln!("speech engine: {} {:?}", status.engine, status.voices);
            Some(engine)
        }
        Err(error) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("espeak-ng is required in CI (scripts/setup.sh installs it): {error}")
        }
        Err(error) => {
            eprintln!("SKIPPED: no speech engine here ({error}); run scripts/setup.sh");
            None
        }
    }
}

/// Syllables (Han characters) and Latin words or characters: roughly what the
/// voice says one after the other.
fn spoken_units(text: &str) -> usize {
    let han = text
        .chars()
        .filter(|c| ('\u{3400}'..='\u{9FFF}').contains(c))
        .count();
    let latin = text
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .count();
    han + latin
}

fn assert_real_speech(pcm: &Pcm, text: &str, settings: VoiceSettings, at: &str) {
    assert!(
        (8_000..=48_000).contains(&pcm.sample_rate),
        "{at}: sample rate {}",
        pcm.sample_rate
    );
    assert_eq!(pcm.channels, 1, "{at}");
    // At `rate_wpm` units a minute, give or take pauses and long English words.
    let expected = spoken_units(text) as f64 * 60.0 / f64::from(settings.rate_wpm);
    let seconds = pcm.duration().as_secs_f64();
    assert!(
        seconds > expected * 0.4 && seconds < expected * 2.5,
        "{at}: {seconds:.1} s of audio for {} units (about {expected:.1} s expected)",
        spoken_units(text)
    );
    assert!(pcm.rms() > 0.02, "{at}: too quiet, RMS {:.4}", pcm.rms());
    let voiced = pcm.voiced_share(0.01);
    assert!(
        voiced > 0.4,
        "{at}: mostly silence, {:.0}% voiced",
        voiced * 100.0
    );
}

#[test]
fn the_engine_renders_screens_to_real_speech_in_every_locale() {
    let Some(engine) = engine() else { return };
    let fixture = Fixture::new();
    let screens = [
        Screen::Attract,
        Screen::PinEntry,
        Screen::Preview(estation::session::DocKind::Certificate),
        Screen::Error,
    ];
    for locale in Locale::ALL {
        for screen in screens {
            let text = fixture.text(screen, locale, false);
            let settings = VoiceSettings::NORMAL;
            let pcm = engine
                .render(&Utterance::new(text.clone(), locale, settings))
                .unwrap_or_else(|e| panic!("{} {locale}: {e}", screen.name()));
            assert_real_speech(
                &pcm,
                &text,
                settings,
                &format!("{} {locale}", screen.name()),
            );
        }
    }
}

#[test]
fn the_chinese_voices_read_chinese_and_never_switch_to_english() {
    let Some(engine) = engine() else { return };
    let fixture = Fixture::new();
    for locale in [Locale::ZhCn, Locale::ZhTw] {
        for screen in Screen::ALL {
            let text = fixture.text(screen, locale, false);
            let phonemes = engine
                .phonemes(&Utterance::new(text, locale, VoiceSettings::NORMAL))
                .expect("phonemes");
            assert!(
                !phonemes.contains("(en)"),
                "{} {locale} switches to English: {phonemes}",
                screen.name()
            );
        }
    }
}

#[test]
fn slower_is_longer_and_louder_is_louder() {
    let Some(engine) = engine() else { return };
    let text = "请插入社会保障卡，芯片朝上。";
    let render = |settings| {
        engine
            .render(&Utterance::new(text, Locale::ZhCn, settings))
            .expect("rendered")
    };
    let normal = render(VoiceSettings::NORMAL);
    let slow = render(VoiceSettings::NORMAL.slower().slower());
    let loud = render(VoiceSettings::NORMAL.louder().louder());
    assert!(
        slow.duration() > normal.duration(),
        "{:?} vs {:?}",
        slow.duration(),
        normal.duration()
    );
    assert!(
        loud.rms() > normal.rms() * 1.1,
        "{} vs {}",
        loud.rms(),
        normal.rms()
    );
}

#[test]
fn a_missing_engine_is_a_typed_error() {
    let engine = EspeakEngine::with_program("/nonexistent/espeak-ng");
    let utterance = Utterance::new("测试", Locale::ZhCn, VoiceSettings::NORMAL);
    assert!(matches!(
        engine.render(&utterance),
        Err(SpeechError::EngineMissing { .. })
    ));
    assert!(matches!(
        engine.status(),
        Err(SpeechError::EngineMissing { .. })
    ));
}

#[test]
fn speak_prints_the_text_and_writes_a_wav_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("take-paper.wav");
    let run = |path: Option<&str>| {
        let mut command = Command::new(BIN);
        command.args([
            "speak",
            "--screen",
            "take-paper",
            "--locale",
            "zh-TW",
            "--elderly",
        ]);
        command.arg("--out").arg(&out);
        if let Some(path) = path {
            command.env("PATH", path);
        }
        command.output().expect("estation runs")
    };
    // Without the engine on PATH: a clear error, not a panic.
    let missing = run(Some("/nonexistent"));
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("espeak-ng") && stderr.contains("not installed"),
        "{stderr}"
    );

    let Some(_) = engine() else { return };
    let output = run(None);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("utf-8");
    assert!(
        text.contains("請取走") && text.contains("我已取走"),
        "{text}"
    );
    let pcm = Pcm::from_wav(&std::fs::read(&out).expect("wav written")).expect("valid wav");
    assert_real_speech(
        &pcm,
        text.trim(),
        VoiceSettings::ELDERLY,
        "speak take-paper zh-TW",
    );
}

#[test]
fn the_selftest_shows_a_missing_engine_as_a_warning_and_the_kiosk_goes_on() {
    use std::sync::Arc;

    use estation::ops::selftest::{SelftestContext, Status, run_selftest};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let report = runtime.block_on(run_selftest(&SelftestContext {
        kiosk_id: "voice-test".into(),
        voice: Some(Arc::new(EspeakEngine::with_program(
            "/nonexistent/espeak-ng",
        ))),
        ..SelftestContext::default()
    }));
    let check = report.check("voice").expect("a voice check");
    assert_eq!(check.status, Status::Warn, "{check:?}");
    assert_eq!(check.code, "no-engine", "{check:?}");
    assert!(check.reason.contains("not installed"), "{check:?}");

    let Some(engine) = engine() else { return };
    let report = runtime.block_on(run_selftest(&SelftestContext {
        kiosk_id: "voice-test".into(),
        voice: Some(Arc::new(engine)),
        ..SelftestContext::default()
    }));
    let check = report.check("voice").expect("a voice check");
    // The engine works here; whether it can play depends on the machine's sound.
    assert!(
        check.reason.contains("cmn-latn-pinyin") && check.reason.contains("en-us"),
        "{check:?}"
    );
    match estation::speech::espeak::audio_output() {
        Ok(_) => assert_eq!(check.status, Status::Pass, "{check:?}"),
        Err(_) => assert_eq!(check.code, "no-audio-device", "{check:?}"),
    }
}

#[test]
fn the_idle_warning_speaks_the_countdown_and_how_to_stay() {
    let translator = Translator::new().expect("bundles load");
    for locale in Locale::ALL {
        let mut view = estation::view::View::new(Screen::ChoosePeriod, locale);
        assert_eq!(estation::speech::idle_warning(&view, &translator), None);
        view.countdown = Some(17);
        let text = estation::speech::idle_warning(&view, &translator).expect("a warning");
        assert!(text.contains("17"), "{locale}: {text}");
        let continue_label = translator.text(locale, "idle-more-time");
        assert!(text.contains(&continue_label), "{locale}: {text}");
        for word in visual_words(locale) {
            assert!(
                !contains_word(&text, word, locale),
                "{locale}: {word}: {text}"
            );
        }
    }
}
