//! The built-in engine: the `espeak-ng` program from Debian's packages, offline.
//!
//! Voices. zh-CN and zh-TW both speak Mandarin with `cmn-latn-pinyin`: the plain
//! `cmn` voice of espeak-ng 1.51 (Debian 12) treats Latin letters as English and so
//! reads the tone digits of its own internal pinyin aloud in English ("你 three 好
//! three"); the pinyin variant has the same Mandarin phonemes and dictionary and
//! reads Han characters correctly, and the Chinese speech texts hold no English
//! words (codes are spelled letter by letter, which it reads as Chinese letter
//! names). zh-TW is Traditional Chinese as written in Taiwan, where people speak
//! Mandarin, not Cantonese (`yue`); the Mandarin dictionary covers Traditional
//! characters. en-US speaks `en-us`.
//!
//! Text goes to the program on stdin, never on its command line (no length limit, no
//! option injection, not visible in the process list). Rendering asks for WAV on
//! stdout; playing lets espeak-ng open the audio device itself.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::engine::{EngineStatus, Playback, SpeechEngine, SpeechError, Utterance};
use super::wav::{HEADER_LEN, Pcm};
use crate::i18n::Locale;

/// The espeak-ng voice for a locale.
pub fn voice_for(locale: Locale) -> &'static str {
    match locale {
        Locale::ZhCn | Locale::ZhTw => "cmn-latn-pinyin",
        Locale::EnUs => "en-us",
    }
}

/// The `espeak-ng` program as a [`SpeechEngine`].
#[derive(Clone, Debug)]
pub struct EspeakEngine {
    program: PathBuf,
}

/// How long rendering took: until the first audio sample arrived, and in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderTiming {
    pub first_audio: Duration,
    pub total: Duration,
}

impl Default for EspeakEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl EspeakEngine {
    pub fn new() -> Self {
        Self::with_program("espeak-ng")
    }

    /// A program other than the one on `PATH` (tests, unusual installations).
    pub fn with_program(program: impl Into<PathBuf>) -> Self {
        Self {
            program: program.into(),
        }
    }

    fn command(&self, utterance: &Utterance) -> Command {
        let mut command = Command::new(&self.program);
        // -b 1: the input is UTF-8. Amplitude 100 is espeak-ng's normal level.
        command
            .arg("-b")
            .arg("1")
            .arg("-v")
            .arg(voice_for(utterance.locale))
            .arg("-s")
            .arg(utterance.settings.rate_wpm.to_string())
            .arg("-a")
            .arg(utterance.settings.volume_percent.to_string())
            .stdin(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    fn spawn(&self, mut command: Command) -> Result<Child, SpeechError> {
        command.spawn().map_err(|error| match error.kind() {
            std::io::ErrorKind::NotFound => SpeechError::EngineMissing {
                program: self.program.display().to_string(),
            },
            _ => SpeechError::Io(error),
        })
    }

    /// Renders and reports how long the first sample took to arrive (the
    /// benchmark's figure) and the whole rendering.
    pub fn render_timed(&self, utterance: &Utterance) -> Result<(Pcm, RenderTiming), SpeechError> {
        let mut command = self.command(utterance);
        command.arg("--stdout").stdout(Stdio::piped());
        let started = Instant::now();
        let mut child = self.spawn(command)?;
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let text = utterance_input(utterance);
        let outcome = std::thread::scope(|scope| {
            // The text is written and the errors read on their own threads so that
            // no pipe fills up while this one reads the audio.
            let writer = scope.spawn(move || write_input(stdin, &text));
            let errors = scope.spawn(move || read_errors(stderr));
            let audio = read_audio(stdout, started);
            let written = writer.join().unwrap_or(Ok(()));
            let errors = errors.join().unwrap_or_default();
            (audio, written, errors)
        });
        let status = child.wait()?;
        let (audio, written, errors) = outcome;
        check_exit(status, &errors)?;
        written?;
        let (bytes, first_audio) = audio?;
        let pcm = Pcm::from_wav(&bytes).map_err(|e| SpeechError::BadAudio(e.to_string()))?;
        let timing = RenderTiming {
            first_audio: first_audio.unwrap_or_else(|| started.elapsed()),
            total: started.elapsed(),
        };
        Ok((pcm, timing))
    }

    /// The phonemes espeak-ng would speak, in its own notation; a language switch
    /// shows as `(en)`. For tests of the voices.
    pub fn phonemes(&self, utterance: &Utterance) -> Result<String, SpeechError> {
        let mut command = self.command(utterance);
        command.arg("-q").arg("-x").stdout(Stdio::piped());
        let mut child = self.spawn(command)?;
        let (stdin, stdout, stderr) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take());
        let text = utterance_input(utterance);
        let (written, errors, out) = std::thread::scope(|scope| {
            let writer = scope.spawn(move || write_input(stdin, &text));
            let errors = scope.spawn(move || read_errors(stderr));
            let mut out = String::new();
            let read = match stdout {
                Some(mut stdout) => stdout.read_to_string(&mut out).map(|_| ()),
                None => Ok(()),
            };
            (
                writer.join().unwrap_or(Ok(())),
                errors.join().unwrap_or_default(),
                read.map(|()| out),
            )
        });
        let status = child.wait()?;
        check_exit(status, &errors)?;
        written?;
        Ok(out?)
    }

    fn version(&self) -> Result<String, SpeechError> {
        let output = Command::new(&self.program)
            .arg("--version")
            .stdin(Stdio::null())
            .output()
            .map_err(|error| match error.kind() {
                std::io::ErrorKind::NotFound => SpeechError::EngineMissing {
                    program: self.program.display().to_string(),
                },
                _ => SpeechError::Io(error),
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        // "eSpeak NG text-to-speech: 1.51  Data at: ..." -> "eSpeak NG 1.51"
        let version = text
            .split_once("text-to-speech:")
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .unwrap_or("unknown version");
        Ok(format!("eSpeak NG {version}"))
    }

    fn voice_installed(&self, voice: &str) -> Result<bool, SpeechError> {
        let output = Command::new(&self.program)
            .arg("--voices")
            .stdin(Stdio::null())
            .output()?;
        let listing = String::from_utf8_lossy(&output.stdout).to_ascii_lowercase();
        Ok(listing
            .lines()
            .filter_map(|line| line.split_whitespace().nth(1))
            .any(|name| name == voice))
    }
}

impl SpeechEngine for EspeakEngine {
    fn status(&self) -> Result<EngineStatus, SpeechError> {
        let engine = self.version()?;
        let mut voices = Vec::new();
        for locale in Locale::ALL {
            let voice = voice_for(locale);
            if !self.voice_installed(voice)? {
                return Err(SpeechError::VoiceMissing {
                    voice: voice.to_owned(),
                });
            }
            voices.push((locale, voice.to_owned()));
        }
        Ok(EngineStatus {
            engine,
            voices,
            audio_output: audio_output(),
        })
    }

    fn render(&self, utterance: &Utterance) -> Result<Pcm, SpeechError> {
        self.render_timed(utterance).map(|(pcm, _)| pcm)
    }

    fn speak(&self, utterance: &Utterance) -> Result<Box<dyn Playback>, SpeechError> {
        if let Err(detail) = audio_output() {
            return Err(SpeechError::NoAudioDevice { detail });
        }
        let mut command = self.command(utterance);
        command.stdout(Stdio::null());
        let mut child = self.spawn(command)?;
        let stdin = child.stdin.take();
        let stderr = child.stderr.take();
        // Short: the pipe takes it at once, and espeak-ng reads it all before it
        // speaks, so writing here cannot block on the audio.
        write_input(stdin, &utterance_input(utterance))?;
        Ok(Box::new(EspeakPlayback {
            child: Some(child),
            stderr,
        }))
    }
}

/// The text as espeak-ng reads it from stdin: one line, so that a line break in
/// a message does not become a long pause.
fn utterance_input(utterance: &Utterance) -> String {
    let mut text: String = utterance
        .text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    text.push('\n');
    text
}

fn write_input(stdin: Option<std::process::ChildStdin>, text: &str) -> Result<(), SpeechError> {
    let Some(mut stdin) = stdin else {
        return Ok(());
    };
    match stdin.write_all(text.as_bytes()) {
        // The engine ended early; its exit status tells why.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(SpeechError::Io),
    }
}

/// The engine's complaints, at most a few lines: they describe the engine and the
/// device, never the text.
fn read_errors(stderr: Option<ChildStderr>) -> String {
    let mut text = String::new();
    if let Some(stderr) = stderr {
        let _ = stderr.take(16 * 1024).read_to_string(&mut text);
    }
    text
}

/// Reads the WAV stream and notes when the first bytes after the header arrived.
fn read_audio(
    stdout: Option<std::process::ChildStdout>,
    started: Instant,
) -> Result<(Vec<u8>, Option<Duration>), SpeechError> {
    let Some(mut stdout) = stdout else {
        return Ok((Vec::new(), None));
    };
    let mut bytes = Vec::new();
    let mut first_audio = None;
    let mut buffer = [0u8; 16 * 1024];
    loop {
        let n = match stdout.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(SpeechError::Io(error)),
        };
        bytes.extend_from_slice(&buffer[..n]);
        if first_audio.is_none() && bytes.len() > HEADER_LEN {
            first_audio = Some(started.elapsed());
        }
    }
    Ok((bytes, first_audio))
}

fn summary(errors: &str) -> String {
    let line = errors
        .lines()
        .map(str::trim)
        .rfind(|line| !line.is_empty())
        .unwrap_or("no message");
    line.chars().take(200).collect()
}

fn check_exit(status: ExitStatus, errors: &str) -> Result<(), SpeechError> {
    if status.success() {
        return Ok(());
    }
    if errors.contains("voice does not exist") || errors.contains("Failed to read voice") {
        return Err(SpeechError::VoiceMissing {
            voice: summary(errors),
        });
    }
    Err(SpeechError::EngineFailed {
        status: status.to_string(),
        detail: summary(errors),
    })
}

/// Whether espeak-ng's audio library (PulseAudio first, then ALSA) has somewhere
/// to play: a sound server's socket or an ALSA playback device.
pub fn audio_output() -> Result<String, String> {
    if let Some(server) = std::env::var_os("PULSE_SERVER") {
        return Ok(format!("PulseAudio server {}", server.to_string_lossy()));
    }
    if let Some(runtime) = std::env::var_os("XDG_RUNTIME_DIR") {
        let runtime = Path::new(&runtime);
        for socket in ["pulse/native", "pipewire-0"] {
            if runtime.join(socket).exists() {
                return Ok(format!("sound server ({socket})"));
            }
        }
    }
    let playback = std::fs::read_dir("/dev/snd")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| name.starts_with("pcmC") && name.ends_with('p'))
        .min();
    match playback {
        Some(device) => Ok(format!("ALSA device {device}")),
        None => Err("no sound server and no ALSA playback device (/dev/snd)".to_owned()),
    }
}

/// espeak-ng speaking on the audio device.
struct EspeakPlayback {
    child: Option<Child>,
    stderr: Option<ChildStderr>,
}

impl Playback for EspeakPlayback {
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // Killing the process closes the device at once; reaping it leaves no
            // zombie behind.
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn is_playing(&mut self) -> bool {
        match &mut self.child {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn wait(&mut self) -> Result<(), SpeechError> {
        let Some(mut child) = self.child.take() else {
            return Ok(());
        };
        let errors = read_errors(self.stderr.take());
        let status = child.wait()?;
        check_exit(status, &errors)?;
        // espeak-ng exits 0 when it cannot open the device; it only complains.
        if errors.contains("ALSA lib") || errors.lines().any(|l| l.starts_with("error:")) {
            return Err(SpeechError::NoAudioDevice {
                detail: summary(&errors),
            });
        }
        Ok(())
    }
}

impl Drop for EspeakPlayback {
    fn drop(&mut self) {
        self.stop();
    }
}
