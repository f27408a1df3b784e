//! 16-bit PCM audio and the WAV container. A small reader of its own rather than a
//! WAV crate: espeak-ng writes its WAV header before it knows the length, so the
//! RIFF and data sizes it declares are placeholders (0x7FFFF000 bytes). The reader
//! takes the samples that actually arrived and refuses anything that is not
//! 16-bit PCM, with a reason, never a panic.

use std::path::Path;

/// Decoded audio: interleaved 16-bit samples.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pcm {
    pub sample_rate: u32,
    pub channels: u16,
    pub samples: Vec<i16>,
}

/// Why bytes are not usable WAV audio.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WavError {
    #[error("not a RIFF/WAVE file")]
    NotWave,
    #[error("no fmt chunk before the audio data")]
    NoFormat,
    #[error("no data chunk")]
    NoData,
    #[error("unsupported audio format {format} with {bits} bits per sample (16-bit PCM expected)")]
    Unsupported { format: u16, bits: u16 },
    #[error("implausible audio layout: {channels} channels at {sample_rate} Hz")]
    Layout { channels: u16, sample_rate: u32 },
}

/// The RIFF header, the 16-byte fmt chunk and the data chunk's header.
pub const HEADER_LEN: usize = 44;

const FORMAT_PCM: u16 = 1;
const FORMAT_EXTENSIBLE: u16 = 0xFFFE;

fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

impl Pcm {
    /// Reads a WAV file's bytes. A data chunk longer than the bytes present (a
    /// streamed header, or a cut-off file) yields the samples present.
    pub fn from_wav(bytes: &[u8]) -> Result<Pcm, WavError> {
        if bytes.get(0..4) != Some(b"RIFF") || bytes.get(8..12) != Some(b"WAVE") {
            return Err(WavError::NotWave);
        }
        let mut at = 12;
        let mut format: Option<(u16, u32)> = None;
        while let (Some(id), Some(declared)) = (bytes.get(at..at + 4), u32_at(bytes, at + 4)) {
            let body = at + 8;
            let available = bytes.len().saturating_sub(body);
            let len = usize::try_from(declared).map_or(available, |d| d.min(available));
            match id {
                b"fmt " => {
                    let field = |offset| u16_at(bytes, body + offset).ok_or(WavError::NoFormat);
                    let tag = field(0)?;
                    let channels = field(2)?;
                    let sample_rate = u32_at(bytes, body + 4).ok_or(WavError::NoFormat)?;
                    let bits = field(14)?;
                    if !matches!(tag, FORMAT_PCM | FORMAT_EXTENSIBLE) || bits != 16 {
                        return Err(WavError::Unsupported { format: tag, bits });
                    }
                    if !(1..=8).contains(&channels) || !(4_000..=192_000).contains(&sample_rate) {
                        return Err(WavError::Layout {
                            channels,
                            sample_rate,
                        });
                    }
                    format = Some((channels, sample_rate));
                }
                b"data" => {
                    let (channels, sample_rate) = format.ok_or(WavError::NoFormat)?;
                    let data = &bytes[body..body + len];
                    let samples = data
                        .chunks_exact(2)
                        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
                        .collect();
                    return Ok(Pcm {
                        sample_rate,
                        channels,
                        samples,
                    });
                }
                _ => {}
            }
            // Chunks are padded to an even length.
            at = body + len + (len & 1);
        }
        Err(WavError::NoData)
    }

    /// The audio as a WAV file with true sizes.
    pub fn to_wav(&self) -> Vec<u8> {
        let data_len = u32::try_from(self.samples.len() * 2).unwrap_or(u32::MAX - 36);
        let block_align = self.channels * 2;
        let mut out = Vec::with_capacity(HEADER_LEN + self.samples.len() * 2);
        out.extend_from_slice(b"RIFF");
        out.extend_from_slice(&(36 + data_len).to_le_bytes());
        out.extend_from_slice(b"WAVEfmt ");
        out.extend_from_slice(&16u32.to_le_bytes());
        out.extend_from_slice(&FORMAT_PCM.to_le_bytes());
        out.extend_from_slice(&self.channels.to_le_bytes());
        out.extend_from_slice(&self.sample_rate.to_le_bytes());
        out.extend_from_slice(
            &self
                .sample_rate
                .saturating_mul(u32::from(block_align))
                .to_le_bytes(),
        );
        out.extend_from_slice(&block_align.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(b"data");
        out.extend_from_slice(&data_len.to_le_bytes());
        for sample in &self.samples {
            out.extend_from_slice(&sample.to_le_bytes());
        }
        out
    }

    pub fn write_wav(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_wav())
    }

    /// How long the audio plays.
    pub fn duration(&self) -> std::time::Duration {
        let frames = self.samples.len() as f64 / f64::from(self.channels.max(1));
        std::time::Duration::from_secs_f64(frames / f64::from(self.sample_rate.max(1)))
    }

    /// Root-mean-square level, 0.0 (silence) to 1.0 (full scale).
    pub fn rms(&self) -> f64 {
        if self.samples.is_empty() {
            return 0.0;
        }
        let sum: f64 = self
            .samples
            .iter()
            .map(|&s| {
                let x = f64::from(s) / 32768.0;
                x * x
            })
            .sum();
        (sum / self.samples.len() as f64).sqrt()
    }

    /// Share of 20 ms windows whose level is above `floor` (0.0 to 1.0): speech
    /// has many, silence or a click has none or a few.
    pub fn voiced_share(&self, floor: f64) -> f64 {
        let window = (self.sample_rate as usize / 50).max(1) * usize::from(self.channels.max(1));
        let windows: Vec<_> = self.samples.chunks(window).collect();
        if windows.is_empty() {
            return 0.0;
        }
        let voiced = windows
            .iter()
            .filter(|w| {
                let sum: f64 = w.iter().map(|&s| (f64::from(s) / 32768.0).powi(2)).sum();
                (sum / w.len() as f64).sqrt() > floor
            })
            .count();
        voiced as f64 / windows.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(len: usize) -> Pcm {
        Pcm {
            sample_rate: 22_050,
            channels: 1,
            samples: (0..len)
                .map(|i| ((i as f64 * 0.1).sin() * 8000.0) as i16)
                .collect(),
        }
    }

    #[test]
    fn round_trips_through_wav() {
        let pcm = tone(22_050);
        let bytes = pcm.to_wav();
        assert_eq!(&bytes[0..4], b"RIFF");
        assert_eq!(Pcm::from_wav(&bytes), Ok(pcm.clone()));
        assert_eq!(pcm.duration().as_millis(), 1000);
        assert!(pcm.rms() > 0.1 && pcm.voiced_share(0.01) > 0.9);
    }

    #[test]
    fn reads_a_streamed_header_with_placeholder_sizes() {
        let mut bytes = tone(1000).to_wav();
        bytes[4..8].copy_from_slice(&0x7FFF_F024u32.to_le_bytes());
        bytes[40..44].copy_from_slice(&0x7FFF_F000u32.to_le_bytes());
        // A stream cut in the middle of a sample keeps the whole samples.
        bytes.push(0x7F);
        let pcm = Pcm::from_wav(&bytes).expect("readable");
        assert_eq!(pcm.samples.len(), 1000);
    }

    #[test]
    fn refuses_what_it_cannot_read_without_panicking() {
        assert_eq!(Pcm::from_wav(b""), Err(WavError::NotWave));
        assert_eq!(Pcm::from_wav(b"RIFF\0\0\0\0WAVE"), Err(WavError::NoData));
        let mut eight_bit = tone(10).to_wav();
        eight_bit[34] = 8;
        assert!(matches!(
            Pcm::from_wav(&eight_bit),
            Err(WavError::Unsupported { bits: 8, .. })
        ));
        let whole = tone(10).to_wav();
        for cut in 0..whole.len() {
            let _ = Pcm::from_wav(&whole[..cut]);
        }
        let silent = Pcm {
            samples: vec![0; 500],
            ..tone(0)
        };
        assert_eq!(silent.rms(), 0.0);
        assert_eq!(silent.voiced_share(0.001), 0.0);
    }
}
