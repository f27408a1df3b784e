//! What a speech engine does for the kiosk, whichever engine it is: render an
//! utterance to samples, or play it aloud until it ends or is stopped.

use std::fmt;

use super::wav::Pcm;
use crate::i18n::Locale;

/// How fast and how loud the kiosk speaks. The resident can change both during a
/// visit ("slower", "louder"); elderly mode starts slower.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VoiceSettings {
    /// Words per minute (espeak-ng counts Chinese syllables as words).
    pub rate_wpm: u16,
    /// Loudness in percent of the engine's normal level.
    pub volume_percent: u16,
}

impl VoiceSettings {
    pub const MIN_RATE: u16 = 80;
    pub const MAX_RATE: u16 = 260;
    pub const MIN_VOLUME: u16 = 20;
    pub const MAX_VOLUME: u16 = 200;
    const RATE_STEP: u16 = 20;
    const VOLUME_STEP: u16 = 20;

    /// The engine's normal pace: clear for most listeners.
    pub const NORMAL: VoiceSettings = VoiceSettings {
        rate_wpm: 160,
        volume_percent: 100,
    };
    /// Elderly mode: a slower pace, a little louder.
    pub const ELDERLY: VoiceSettings = VoiceSettings {
        rate_wpm: 130,
        volume_percent: 120,
    };

    pub fn for_mode(elderly: bool) -> Self {
        if elderly { Self::ELDERLY } else { Self::NORMAL }
    }

    pub fn slower(self) -> Self {
        self.with_rate(self.rate_wpm.saturating_sub(Self::RATE_STEP))
    }

    pub fn faster(self) -> Self {
        self.with_rate(self.rate_wpm.saturating_add(Self::RATE_STEP))
    }

    pub fn softer(self) -> Self {
        self.with_volume(self.volume_percent.saturating_sub(Self::VOLUME_STEP))
    }

    pub fn louder(self) -> Self {
        self.with_volume(self.volume_percent.saturating_add(Self::VOLUME_STEP))
    }

    fn with_rate(self, rate_wpm: u16) -> Self {
        Self {
            rate_wpm: rate_wpm.clamp(Self::MIN_RATE, Self::MAX_RATE),
            ..self
        }
    }

    fn with_volume(self, volume_percent: u16) -> Self {
        Self {
            volume_percent: volume_percent.clamp(Self::MIN_VOLUME, Self::MAX_VOLUME),
            ..self
        }
    }
}

impl Default for VoiceSettings {
    fn default() -> Self {
        Self::NORMAL
    }
}

/// Something to say: the text, the language to say it in, and how.
#[derive(Clone, PartialEq, Eq)]
pub struct Utterance {
    pub text: String,
    pub locale: Locale,
    pub settings: VoiceSettings,
}

impl Utterance {
    pub fn new(text: impl Into<String>, locale: Locale, settings: VoiceSettings) -> Self {
        Self {
            text: text.into(),
            locale,
            settings,
        }
    }
}

/// The text can name the resident or a document: it is never printed in logs.
impl fmt::Debug for Utterance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Utterance")
            .field("chars", &self.text.chars().count())
            .field("locale", &self.locale)
            .field("settings", &self.settings)
            .finish()
    }
}

/// Why speech did not happen. The kiosk goes on without voice in every case; the
/// self-test shows the error to the technician.
#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("the speech engine {program:?} is not installed (install the espeak-ng package)")]
    EngineMissing { program: String },
    #[error("the speech engine has no voice {voice:?} (install espeak-ng-data)")]
    VoiceMissing { voice: String },
    #[error("no audio output device: {detail}")]
    NoAudioDevice { detail: String },
    #[error("the speech engine failed ({status}): {detail}")]
    EngineFailed { status: String, detail: String },
    #[error("the speech engine's audio is not usable: {0}")]
    BadAudio(String),
    #[error("talking to the speech engine: {0}")]
    Io(#[from] std::io::Error),
}

/// What the self-test learns about an engine that works.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EngineStatus {
    /// The engine and its version, e.g. "eSpeak NG 1.51".
    pub engine: String,
    /// The voice for each locale.
    pub voices: Vec<(Locale, String)>,
    /// Where speech is played, or why it cannot be (speech can still be rendered).
    pub audio_output: Result<String, String>,
}

/// Speech being played. Dropping it stops it.
pub trait Playback: Send {
    /// Stops at once; nothing more is heard.
    fn stop(&mut self);
    /// Whether the engine is still speaking.
    fn is_playing(&mut self) -> bool;
    /// Waits until the utterance has been spoken, and says whether it was heard.
    fn wait(&mut self) -> Result<(), SpeechError>;
}

/// A text-to-speech engine. The kiosk holds it behind this trait so that a better
/// voice can replace the built-in one without touching the screens' texts.
pub trait SpeechEngine: Send + Sync + fmt::Debug {
    /// Whether the engine, its voices and an audio output are there.
    fn status(&self) -> Result<EngineStatus, SpeechError>;
    /// The utterance as samples, without playing it.
    fn render(&self, utterance: &Utterance) -> Result<Pcm, SpeechError>;
    /// Starts playing the utterance on the audio output and returns at once.
    fn speak(&self, utterance: &Utterance) -> Result<Box<dyn Playback>, SpeechError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_step_and_stay_within_bounds() {
        let normal = VoiceSettings::NORMAL;
        assert!(normal.slower().rate_wpm < normal.rate_wpm);
        assert!(normal.faster().rate_wpm > normal.rate_wpm);
        assert!(normal.louder().volume_percent > normal.volume_percent);
        assert!(normal.softer().volume_percent < normal.volume_percent);
        let mut slowest = normal;
        let mut loudest = normal;
        for _ in 0..50 {
            slowest = slowest.slower();
            loudest = loudest.louder();
        }
        assert_eq!(slowest.rate_wpm, VoiceSettings::MIN_RATE);
        assert_eq!(loudest.volume_percent, VoiceSettings::MAX_VOLUME);
        assert!(VoiceSettings::for_mode(true).rate_wpm < VoiceSettings::for_mode(false).rate_wpm);
    }

    #[test]
    fn an_utterance_never_shows_its_text_in_debug() {
        let utterance = Utterance::new("张三 8K3F", Locale::ZhCn, VoiceSettings::NORMAL);
        let shown = format!("{utterance:?}");
        assert!(
            !shown.contains("张三") && !shown.contains("8K3F"),
            "{shown}"
        );
    }
}
