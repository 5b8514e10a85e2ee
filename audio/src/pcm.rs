//! The decoded recording and what callers ask of it: length, a mono mix, and the canonical PCM hash.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::Error;

/// A whole recording, decoded: one `Vec` per channel at the source's native rate.
#[derive(Debug, Clone)]
pub struct DecodedAudio {
    /// Native sample rate of the source, in Hz.
    pub sample_rate: u32,
    /// One `Vec` per channel, all the same length, samples in `[-1, 1]`.
    pub channels: Vec<Vec<f32>>,
    /// symphonia's short codec name: "pcm_s16le", "flac", "mp3", "vorbis", "aac", ...
    pub codec: String,
}

impl DecodedAudio {
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Samples per channel.
    pub fn frames(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    /// Length in seconds.
    pub fn duration(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.frames() as f64 / f64::from(self.sample_rate)
    }

    /// The mean of all channels, at the native rate.
    pub fn mono(&self) -> Vec<f32> {
        mix(&self.channels)
    }

    /// sha256 (lowercase hex) of the interleaved signed 16-bit little-endian PCM at the native rate
    /// and channel count. Bit-exact for 16-bit sources: decoding maps `i16` to `i16 / 32768` and
    /// [`f32_to_i16`] maps it back exactly, so a WAV or FLAC of s16 samples hashes to the sha256 of
    /// its raw sample bytes. The same recording in another container therefore gets the same hash.
    pub fn pcm_sha256(&self) -> String {
        let mut digest = PcmDigest::default();
        digest.add(self.frames(), self.channels.len(), |frame, channel| {
            // A hand-built value may have ragged channels; hash the gap as silence, never panic.
            self.channels[channel].get(frame).copied().unwrap_or(0.0)
        });
        digest.finish()
    }

    /// Every channel resampled to [`crate::WHISPER_SAMPLE_RATE`] (16 kHz).
    pub fn to_16k(&self) -> Result<Vec<Vec<f32>>, Error> {
        crate::resample::resample_channels(
            &self.channels,
            self.sample_rate,
            crate::WHISPER_SAMPLE_RATE,
        )
    }
}

/// A recording decoded for the recogniser: every channel at [`crate::WHISPER_SAMPLE_RATE`], and what
/// the source was. [`crate::decode_file_16k`] builds it without ever holding the native-rate
/// samples, so a 48 kHz recording takes a third of the memory of a [`DecodedAudio`].
#[derive(Debug, Clone)]
pub struct Decoded16k {
    /// The source as decoded: native rate, channel count, length, codec, `pcm_sha256`.
    pub source: AudioSummary,
    /// One `Vec` per channel at 16 kHz, all the same length, as [`DecodedAudio::to_16k`] gives.
    pub channels: Vec<Vec<f32>>,
}

impl Decoded16k {
    /// The mean of all channels, at 16 kHz; a one-channel recording is lent, not copied (an hour
    /// of it is 230 MB).
    pub fn mono(&self) -> Cow<'_, [f32]> {
        match self.channels.as_slice() {
            [only] => Cow::Borrowed(only),
            channels => Cow::Owned(mix(channels)),
        }
    }
}

/// The mean of equally long channels.
fn mix(channels: &[Vec<f32>]) -> Vec<f32> {
    match channels {
        [] => Vec::new(),
        [only] => only.clone(),
        [first, rest @ ..] => {
            let mut sum = first.clone();
            for channel in rest {
                for (s, x) in sum.iter_mut().zip(channel) {
                    *s += x;
                }
            }
            let scale = 1.0 / channels.len() as f32;
            sum.iter_mut().for_each(|s| *s *= scale);
            sum
        }
    }
}

/// What an upload needs to know of a recording, found by [`crate::inspect_file`] without keeping
/// its samples: the same length, layout and `pcm_sha256` as the [`DecodedAudio`] of the same file.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioSummary {
    /// Native sample rate of the source, in Hz.
    pub sample_rate: u32,
    pub channels: usize,
    /// Samples per channel.
    pub frames: u64,
    /// symphonia's short codec name, as in [`DecodedAudio::codec`].
    pub codec: String,
    /// As [`DecodedAudio::pcm_sha256`].
    pub pcm_sha256: String,
}

impl AudioSummary {
    /// Length in seconds.
    pub fn duration(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.frames as f64 / f64::from(self.sample_rate)
    }
}

/// The running `pcm_sha256`: frames in, interleaved little-endian s16 hashed through a small
/// buffer (never a second copy of the recording).
#[derive(Default)]
pub(crate) struct PcmDigest {
    hasher: Sha256,
    buf: Vec<u8>,
}

impl PcmDigest {
    const FLUSH_BYTES: usize = 8192;

    /// Adds `frames` frames of `channels` samples each; `sample(frame, channel)` gives one.
    pub(crate) fn add(
        &mut self,
        frames: usize,
        channels: usize,
        sample: impl Fn(usize, usize) -> f32,
    ) {
        for frame in 0..frames {
            for channel in 0..channels {
                let s = f32_to_i16(sample(frame, channel));
                self.buf.extend_from_slice(&s.to_le_bytes());
            }
            if self.buf.len() >= Self::FLUSH_BYTES {
                self.hasher.update(&self.buf);
                self.buf.clear();
            }
        }
    }

    /// Lowercase hex sha256 of everything added.
    pub(crate) fn finish(mut self) -> String {
        self.hasher.update(&self.buf);
        hex::encode(self.hasher.finalize())
    }
}

/// `[-1, 1]` float to s16, rounding to nearest and clamping; the inverse of `i16 / 32768`.
pub(crate) fn f32_to_i16(x: f32) -> i16 {
    // `as` saturates (and maps NaN to 0), so the clamp only documents intent.
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

/// sha256 (lowercase hex) of a file's bytes, read in 64 KiB pieces.
pub fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}
