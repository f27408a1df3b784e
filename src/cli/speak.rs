//! `estation speak`: a screen's voice guidance, as text on stdout and as a WAV file,
//! from the same sample views `estation screenshot` draws. For tests, reviewers and
//! translators.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Args;

use crate::i18n::{Locale, Translator};
use crate::session::Screen;
use crate::speech::{EspeakEngine, SpeechEngine, SpeechError, Utterance, VoiceSettings};
use crate::ui_bridge::screens::{Samples, sample_view};

#[derive(Args, Debug)]
pub struct SpeakArgs {
    /// The screen whose speech to produce (`estation screenshot --list` names them).
    #[arg(long)]
    pub screen: String,
    /// zh-CN, zh-TW or en-US.
    #[arg(long, default_value = "zh-CN")]
    pub locale: String,
    /// Elderly mode: the slower, louder voice.
    #[arg(long)]
    pub elderly: bool,
    /// Words per minute, instead of the mode's pace.
    #[arg(long, value_parser = clap::value_parser!(u16).range(i64::from(VoiceSettings::MIN_RATE)..=i64::from(VoiceSettings::MAX_RATE)))]
    pub rate: Option<u16>,
    /// Loudness in percent of normal, instead of the mode's.
    #[arg(long, value_parser = clap::value_parser!(u16).range(i64::from(VoiceSettings::MIN_VOLUME)..=i64::from(VoiceSettings::MAX_VOLUME)))]
    pub volume: Option<u16>,
    /// The WAV file to write; without it only the text is printed.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: SpeakArgs) -> anyhow::Result<ExitCode> {
    let screen = Screen::from_name(&args.screen).with_context(|| {
        format!(
            "unknown screen {:?}; `estation screenshot --list` shows them",
            args.screen
        )
    })?;
    let locale: Locale = args.locale.parse()?;
    let translator = Translator::new()?;
    let samples = Samples::new();
    let view = sample_view(&samples, &translator, screen, locale, args.elderly);
    let text = crate::speech::screen_utterance(&view, &translator);
    println!("{text}");
    let Some(out) = &args.out else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut settings = VoiceSettings::for_mode(args.elderly);
    settings.rate_wpm = args.rate.unwrap_or(settings.rate_wpm);
    settings.volume_percent = args.volume.unwrap_or(settings.volume_percent);
    let engine = EspeakEngine::new();
    let pcm = match engine.render(&Utterance::new(text, locale, settings)) {
        Ok(pcm) => pcm,
        Err(error @ SpeechError::EngineMissing { .. }) => {
            bail!("{error}; scripts/setup.sh installs it")
        }
        Err(error) => return Err(error).context("rendering the speech"),
    };
    pcm.write_wav(out)
        .with_context(|| format!("writing {}", out.display()))?;
    eprintln!(
        "estation: {} ({:.1} s, {} Hz)",
        out.display(),
        pcm.duration().as_secs_f64(),
        pcm.sample_rate
    );
    Ok(ExitCode::SUCCESS)
}
