//! Speech output: what each screen says (`text`, from Fluent), the engine that says
//! it behind a small trait (`engine`; `espeak` is the built-in one), the audio it
//! produces (`wav`) and voice guidance during a visit (`guide`). Knows no UI.

pub mod engine;
pub mod espeak;
pub mod guide;
pub mod text;
pub mod wav;

pub use engine::{EngineStatus, Playback, SpeechEngine, SpeechError, Utterance, VoiceSettings};
pub use espeak::{EspeakEngine, RenderTiming};
pub use guide::VoiceGuide;
pub use text::{idle_warning, screen_phrases, screen_utterance, spell};
pub use wav::{Pcm, WavError};
