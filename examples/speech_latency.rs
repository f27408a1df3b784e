//! Voice guidance figures: how long from asking espeak-ng to speak a screen to its
//! first audio sample (the first bytes after the WAV header on its stdout), and the
//! engine process's peak memory. Medians over several runs per locale.
//!
//!     cargo run --release --example speech_latency [-- RUNS]
//!
//! Needs espeak-ng (scripts/setup.sh) and GNU time (/usr/bin/time, Debian's `time`)
//! for the memory figure.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use estation::i18n::{Locale, Translator};
use estation::session::{DocKind, Screen};
use estation::speech::espeak::voice_for;
use estation::speech::{EspeakEngine, Utterance, VoiceSettings, screen_utterance};
use estation::ui_bridge::screens::{Samples, sample_view};

const SCREENS: [Screen; 4] = [
    Screen::Attract,
    Screen::PinEntry,
    Screen::Preview(DocKind::Certificate),
    Screen::Error,
];

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values.get(values.len() / 2).copied().unwrap_or_default()
}

/// Renders `text` once under GNU time and returns espeak-ng's peak resident set
/// in KiB. Measured from a small parent on purpose: a process started straight
/// from this one would count this process's memory too (the kernel carries the
/// parent's peak across `exec` into `ru_maxrss`).
fn peak_rss_kib(text: &str, locale: Locale) -> Result<u64, Box<dyn std::error::Error>> {
    let report = tempfile::NamedTempFile::new()?;
    let mut child = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(report.path())
        .args(["espeak-ng", "-b", "1", "-v", voice_for(locale), "--stdout"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(text.as_bytes())?;
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("/usr/bin/time espeak-ng: {status}").into());
    }
    let kib = std::fs::read_to_string(report.path())?.trim().parse()?;
    Ok(kib)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runs: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(9);
    let translator = Translator::new()?;
    let samples = Samples::new();
    let engine = EspeakEngine::new();
    println!("runs per screen: {runs}; screens: attract, pin-entry, certificate-preview, error");
    println!(
        "locale  voice            first audio (median)  whole render (median)  audio  peak RSS"
    );
    for locale in Locale::ALL {
        let mut first = Vec::new();
        let mut total = Vec::new();
        let mut audio = Duration::ZERO;
        let mut peak = 0;
        for screen in SCREENS {
            let view = sample_view(&samples, &translator, screen, locale, false);
            let text = screen_utterance(&view, &translator);
            let utterance = Utterance::new(text.clone(), locale, VoiceSettings::NORMAL);
            // One unmeasured run so that the voice data is in the page cache, as
            // on a kiosk that has spoken before.
            engine.render_timed(&utterance)?;
            for _ in 0..runs {
                let (pcm, timing) = engine.render_timed(&utterance)?;
                first.push(timing.first_audio);
                total.push(timing.total);
                audio = audio.max(pcm.duration());
            }
            peak = peak.max(peak_rss_kib(&text, locale)?);
        }
        println!(
            "{:<7} {:<16} {:>10.1} ms {:>20.1} ms {:>9.1} s {:>6.1} MiB",
            locale.tag(),
            voice_for(locale),
            median(first).as_secs_f64() * 1000.0,
            median(total).as_secs_f64() * 1000.0,
            audio.as_secs_f64(),
            peak as f64 / 1024.0
        );
    }
    Ok(())
}
