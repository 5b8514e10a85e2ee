//! The one error type of this crate. Each variant says what went wrong in words a clerk can act on,
//! and its doc says what the caller should do next.

/// Why a recording could not be turned into samples.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input has no bytes at all. Usually an upload that never started; ask for it again.
    #[error("the audio file is empty (0 bytes)")]
    Empty,

    /// The bytes are not a container or codec we can decode (or not audio at all, such as a text
    /// file renamed to `.mp3`). Retrying will not help; convert the file to WAV or FLAC.
    #[error("unsupported audio format: {detail}")]
    UnsupportedFormat { detail: String },

    /// The container was recognised but its contents are damaged. Retrying will not help; ask for
    /// another copy of the recording.
    #[error("corrupt audio: {detail}")]
    Corrupt { detail: String },

    /// The header promises more audio than the file holds: an interrupted upload or copy. Send the
    /// file again; `found_secs` is what could be decoded.
    #[error(
        "truncated audio: the header declares {declared_secs:.2} s but only {found_secs:.2} s is \
         present (interrupted upload or copy?)"
    )]
    Truncated { declared_secs: f64, found_secs: f64 },

    /// The container holds tracks, but none of them is audio (a video-only file, for example).
    #[error("the file contains no audio track")]
    NoAudioTrack,

    /// The recording is longer than the limit (see [`crate::DecodeOptions::max_duration_secs`]).
    /// Split it before uploading. `secs` is the declared length, or a lower bound when decoding
    /// was stopped at the limit.
    #[error("the audio is {secs:.0} s long, over the limit of {max_secs:.0} s; split it")]
    TooLong { secs: f64, max_secs: f64 },

    /// A resampling request that cannot be met (a zero sample rate, for example). A bug in the
    /// caller, not in the data.
    #[error("cannot resample: {detail}")]
    Resample { detail: String },

    /// Reading the file failed (missing, permissions, disk error). Retrying may succeed.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}
