//! Audio in, samples out: decodes recordings (wav, flac, mp3, ogg/vorbis, m4a/aac, the audio track of
//! mp4/mkv) into per-channel `f32` samples at their native rate, resamples to 16 kHz for the
//! recogniser, and hashes the canonical PCM (`pcm_sha256`). Shared by the transcriber, the server and
//! the capture agent; it never links whisper.cpp.
//!
//! The entry points are [`decode_file`] and [`decode_bytes`], which return a [`DecodedAudio`] (one
//! `Vec<f32>` per channel, because in a courtroom each microphone is a speaker and channels must not
//! be mixed before diarization), and [`resample`] / [`DecodedAudio::to_16k`] for whisper's
//! [`WHISPER_SAMPLE_RATE`]. [`decode_file_16k`] resamples while it decodes, for the recogniser and
//! diarization: a [`Decoded16k`] never holds the native-rate samples. [`inspect_file`] decodes with the same checks but keeps no samples: an
//! [`AudioSummary`] (length, layout, `pcm_sha256`), which is all an upload is checked by. The
//! container is recognised from the bytes, never from the file name.
//! Bad input never panics: every failure is an [`Error`] variant that says what to do next (send the
//! file again after an interrupted upload ([`Error::Truncated`]), convert it
//! ([`Error::UnsupportedFormat`]), split it ([`Error::TooLong`]), ...). [`write_wav_s16`] writes
//! 16-bit WAV files for the capture agent and for tests.
//!
//! Modules: `sniff` (content recognition), `decode` (symphonia), `pcm` (the decoded value and its
//! hash), `resample` (rubato), `wav` (the writer), `error`.

mod decode;
mod error;
mod pcm;
mod resample;
mod sniff;
mod wav;

pub use decode::{
    DecodeOptions, MAX_DURATION_SECS, decode_bytes, decode_bytes_with, decode_file,
    decode_file_16k, decode_file_with, inspect_file,
};
pub use error::Error;
pub use pcm::{AudioSummary, Decoded16k, DecodedAudio, sha256_file};
pub use resample::resample;
pub use wav::{MAX_WAV_DATA_BYTES, wav_header_s16, write_wav_s16};

/// Sample rate whisper expects, in Hz.
pub const WHISPER_SAMPLE_RATE: u32 = 16_000;
