//! Voice guidance during a visit: speaks each screen when it appears, stops the
//! speech when the screen changes, repeats, and changes pace and loudness on
//! request. The kiosk keeps working when the engine cannot speak: the error is
//! kept for the self-test and the visit goes on in silence.

use std::sync::Arc;

use super::engine::{Playback, SpeechEngine, SpeechError, Utterance, VoiceSettings};
use super::text::{idle_warning, screen_utterance, spell};
use crate::i18n::{Locale, Translator};
use crate::session::Screen;
use crate::view::View;

pub struct VoiceGuide {
    engine: Arc<dyn SpeechEngine>,
    settings: VoiceSettings,
    playing: Option<Box<dyn Playback>>,
    /// The screen and language last spoken, and what was said (for "repeat").
    last: Option<(Screen, Locale, String)>,
    /// What the screen showed when last seen: typing and the idle warning are
    /// spoken as they change.
    seen: Seen,
    /// What was given to the engine to say, oldest first (bounded; emptied by
    /// [`VoiceGuide::take_spoken`]). It can name the resident: memory only.
    spoken: Vec<String>,
    last_error: Option<SpeechError>,
}

#[derive(Default)]
struct Seen {
    services_loading: bool,
    pin_length: usize,
    keypad_text: String,
    countdown: Option<u64>,
}

/// Utterances kept for [`VoiceGuide::take_spoken`] before the oldest go.
const SPOKEN_KEPT: usize = 64;

impl VoiceGuide {
    pub fn new(engine: Arc<dyn SpeechEngine>, elderly: bool) -> Self {
        Self {
            engine,
            settings: VoiceSettings::for_mode(elderly),
            playing: None,
            last: None,
            seen: Seen::default(),
            spoken: Vec::new(),
            last_error: None,
        }
    }

    pub fn settings(&self) -> VoiceSettings {
        self.settings
    }

    /// Why the last utterance could not be spoken, if it could not.
    pub fn last_error(&self) -> Option<&SpeechError> {
        self.last_error.as_ref()
    }

    /// Called with every new view: a new screen (or language) stops what is being
    /// said and speaks the new screen; the same screen again says nothing.
    ///
    /// On the same screen, what changes is spoken on its own: a PIN digit typed
    /// as "asterisk" (never the digit), a character typed on the keypad, the idle
    /// warning with its countdown when it appears.
    pub fn show(&mut self, view: &View, tr: &Translator) {
        let same = self
            .last
            .as_ref()
            .is_some_and(|(screen, locale, _)| *screen == view.screen && *locale == view.locale);
        let seen = Seen {
            services_loading: view.services_loading,
            pin_length: view.pin_length,
            keypad_text: view.keypad_text.clone(),
            countdown: view.countdown,
        };
        let before = std::mem::replace(&mut self.seen, seen);
        // The list arrived: the screen is said again, now with its services.
        let loaded =
            view.screen == Screen::Services && before.services_loading && !view.services_loading;
        if !same || loaded {
            let text = screen_utterance(view, tr);
            self.last = Some((view.screen, view.locale, text));
            self.say_last();
            return;
        }
        if view.countdown.is_some() && before.countdown.is_none() {
            if let Some(warning) = idle_warning(view, tr) {
                self.say(warning, view.locale);
            }
            return;
        }
        if view.pin_length > before.pin_length {
            self.say(tr.text(view.locale, "speech-pin-star"), view.locale);
        } else if view.keypad_text.len() > before.keypad_text.len()
            && view.keypad_text.starts_with(before.keypad_text.as_str())
        {
            let typed = &view.keypad_text[before.keypad_text.len()..];
            self.say(spell(typed, view.locale), view.locale);
        }
    }

    /// Says the element keyboard focus moved to.
    pub fn focused(&mut self, label: &str, locale: Locale) {
        if !label.trim().is_empty() {
            self.say(label.to_owned(), locale);
        }
    }

    /// What was given to the engine to say since the last call, oldest first.
    pub fn take_spoken(&mut self) -> Vec<String> {
        std::mem::take(&mut self.spoken)
    }

    /// Says the current screen again.
    pub fn repeat(&mut self) {
        self.say_last();
    }

    pub fn slower(&mut self) {
        self.settings = self.settings.slower();
        self.say_last();
    }

    pub fn faster(&mut self) {
        self.settings = self.settings.faster();
        self.say_last();
    }

    pub fn louder(&mut self) {
        self.settings = self.settings.louder();
        self.say_last();
    }

    pub fn softer(&mut self) {
        self.settings = self.settings.softer();
        self.say_last();
    }

    /// Silence now (the visit ended, or voice was turned off).
    pub fn stop(&mut self) {
        if let Some(mut playing) = self.playing.take() {
            playing.stop();
        }
    }

    fn say_last(&mut self) {
        let Some((_, locale, text)) = &self.last else {
            return;
        };
        let (text, locale) = (text.clone(), *locale);
        self.say(text, locale);
    }

    /// Stops what is being said and says `text`.
    fn say(&mut self, text: String, locale: Locale) {
        self.stop();
        if self.spoken.len() == SPOKEN_KEPT {
            self.spoken.remove(0);
        }
        self.spoken.push(text.clone());
        let utterance = Utterance::new(text, locale, self.settings);
        match self.engine.speak(&utterance) {
            Ok(playing) => {
                self.playing = Some(playing);
                self.last_error = None;
            }
            Err(error) => {
                // The reason, never the text: it can name the resident. Once per
                // reason: a kiosk without a loudspeaker would say it every screen.
                let new_reason = self
                    .last_error
                    .as_ref()
                    .is_none_or(|last| last.to_string() != error.to_string());
                if new_reason {
                    tracing::warn!(%error, "voice guidance could not speak");
                }
                self.last_error = Some(error);
            }
        }
    }
}

impl Drop for VoiceGuide {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::speech::engine::EngineStatus;
    use crate::speech::wav::Pcm;

    /// Records what it was asked to say and which playbacks were stopped.
    #[derive(Debug, Default)]
    struct Recorder {
        log: Arc<Mutex<Vec<String>>>,
        refuse: bool,
    }

    struct Recorded {
        id: usize,
        log: Arc<Mutex<Vec<String>>>,
        stopped: bool,
    }

    impl Playback for Recorded {
        fn stop(&mut self) {
            if !self.stopped {
                self.stopped = true;
                self.log.lock().unwrap().push(format!("stop {}", self.id));
            }
        }
        fn is_playing(&mut self) -> bool {
            !self.stopped
        }
        fn wait(&mut self) -> Result<(), SpeechError> {
            Ok(())
        }
    }

    impl SpeechEngine for Recorder {
        fn status(&self) -> Result<EngineStatus, SpeechError> {
            Err(SpeechError::EngineMissing {
                program: "recorder".into(),
            })
        }
        fn render(&self, _: &Utterance) -> Result<Pcm, SpeechError> {
            Err(SpeechError::BadAudio("not rendered".into()))
        }
        fn speak(&self, utterance: &Utterance) -> Result<Box<dyn Playback>, SpeechError> {
            if self.refuse {
                return Err(SpeechError::NoAudioDevice {
                    detail: "none".into(),
                });
            }
            let mut log = self.log.lock().unwrap();
            let id = log.iter().filter(|l| l.starts_with("speak")).count() + 1;
            log.push(format!(
                "speak {id} {} {}",
                utterance.settings.rate_wpm, utterance.text
            ));
            Ok(Box::new(Recorded {
                id,
                log: self.log.clone(),
                stopped: false,
            }))
        }
    }

    fn guide(refuse: bool) -> (VoiceGuide, Arc<Mutex<Vec<String>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let engine = Recorder {
            log: log.clone(),
            refuse,
        };
        (VoiceGuide::new(Arc::new(engine), false), log)
    }

    #[test]
    fn a_new_screen_stops_the_old_speech_and_speaks_once() {
        let tr = Translator::new().expect("bundles load");
        let (mut guide, log) = guide(false);
        let attract = View::new(Screen::Attract, Locale::ZhCn);
        guide.show(&attract, &tr);
        guide.show(&attract, &tr);
        guide.show(&View::new(Screen::InsertCard, Locale::ZhCn), &tr);
        let log = log.lock().unwrap().clone();
        assert_eq!(log.len(), 3, "{log:#?}");
        assert!(log[0].starts_with("speak 1"));
        assert_eq!(log[1], "stop 1");
        assert!(
            log[2].starts_with("speak 2") && log[2].contains("社会保障卡"),
            "{}",
            log[2]
        );
    }

    #[test]
    fn repeat_and_pace_say_the_same_screen_again() {
        let tr = Translator::new().expect("bundles load");
        let (mut guide, log) = guide(false);
        guide.show(&View::new(Screen::Rating, Locale::EnUs), &tr);
        guide.repeat();
        guide.slower();
        drop(guide);
        let log = log.lock().unwrap().clone();
        let spoken: Vec<_> = log.iter().filter(|l| l.starts_with("speak")).collect();
        assert_eq!(spoken.len(), 3, "{log:#?}");
        let normal = VoiceSettings::NORMAL.rate_wpm.to_string();
        let slower = VoiceSettings::NORMAL.slower().rate_wpm.to_string();
        assert!(spoken[1].contains(&format!(" {normal} ")));
        assert!(spoken[2].contains(&format!(" {slower} ")));
        assert_eq!(
            log.last().map(String::as_str),
            Some("stop 3"),
            "dropping stops"
        );
    }

    #[test]
    fn without_audio_the_guide_keeps_the_reason_and_carries_on() {
        let tr = Translator::new().expect("bundles load");
        let (mut guide, _) = guide(true);
        guide.show(&View::new(Screen::Attract, Locale::ZhCn), &tr);
        assert!(matches!(
            guide.last_error(),
            Some(SpeechError::NoAudioDevice { .. })
        ));
        guide.show(&View::new(Screen::Language, Locale::ZhCn), &tr);
    }
}
