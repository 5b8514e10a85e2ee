//! Command-line glue for the `courtscribe` binary: clap argument structs and `run` functions, so
//! the binary only forwards. Errors come back as [`Error`]; print them with `{:#}`.
//!
//! - `courtscribe diarize AUDIO [--rttm OUT] [--mode auto|channels|voice] [--room roles.toml]
//!   [--num-speakers N] [--min-speakers N] [--max-speakers N]` → [`DiarizeArgs`], [`run_diarize`]
//! - `courtscribe transcribe … --diarize [--room roles.toml] …` → flatten [`TranscribeDiarizeArgs`]
//!   into the transcribe arguments and call [`TranscribeDiarizeArgs::apply`] on the transcript
//! - `courtscribe speakers enroll NAME AUDIO | list | remove NAME | install-model` →
//!   [`SpeakersArgs`], [`run_speakers`]

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand, ValueEnum};
use courtscribe_transcriber::Transcript;

use crate::{
    Diarization, Error, Mode, Options, RoomProfile, SpeakerCount, install, known, merge, rttm,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// Channels for multi-channel recordings, voice otherwise.
    Auto,
    /// One microphone per seat.
    Channels,
    /// Voice clustering on the mixed signal.
    Voice,
}

impl From<ModeArg> for Mode {
    fn from(m: ModeArg) -> Self {
        match m {
            ModeArg::Auto => Mode::Auto,
            ModeArg::Channels => Mode::Channels,
            ModeArg::Voice => Mode::Voice,
        }
    }
}

/// Options shared by `diarize` and `transcribe --diarize`.
#[derive(Debug, Clone, Args)]
pub struct SpeakerOptions {
    /// Room profile naming each microphone channel's seat (roles.toml).
    #[arg(long, value_name = "TOML")]
    pub room: Option<PathBuf>,
    /// Exact number of speakers (voice mode).
    #[arg(long, value_name = "N")]
    pub num_speakers: Option<usize>,
    /// At least this many speakers (voice mode).
    #[arg(long, value_name = "N")]
    pub min_speakers: Option<usize>,
    /// At most this many speakers (voice mode).
    #[arg(long, value_name = "N")]
    pub max_speakers: Option<usize>,
    /// Do not name clusters after enrolled voices.
    #[arg(long)]
    pub no_known_voices: bool,
}

impl SpeakerOptions {
    /// Library options for `mode`.
    pub fn options(&self, mode: Mode) -> Result<Options, Error> {
        let mut o = Options {
            mode,
            ..Default::default()
        };
        o.room = self.room.as_deref().map(RoomProfile::load).transpose()?;
        o.voice.count = SpeakerCount {
            num: self.num_speakers,
            min: self.min_speakers,
            max: self.max_speakers,
        };
        o.voice.count.validate()?;
        o.voice.use_known_voices = !self.no_known_voices;
        Ok(o)
    }
}

/// `courtscribe diarize`.
#[derive(Debug, Clone, Args)]
pub struct DiarizeArgs {
    /// Recording (any format the transcriber reads).
    pub audio: PathBuf,
    /// Where to write RTTM (stdout when absent).
    #[arg(long, value_name = "OUT")]
    pub rttm: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub mode: ModeArg,
    #[command(flatten)]
    pub speakers: SpeakerOptions,
}

/// Runs `courtscribe diarize`: decodes, diarizes, writes RTTM; notes and a summary go to stderr.
pub fn run_diarize(args: &DiarizeArgs) -> Result<Diarization, Error> {
    let opts = args.speakers.options(args.mode.into())?;
    let audio = courtscribe_audio::decode_file_16k(&args.audio)?;
    let d = crate::diarize_16k(&audio.channels, &opts)?;
    let id = args
        .audio
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("audio");
    let text = rttm::to_rttm(id, &d.turns);
    match &args.rttm {
        Some(p) => install::write_atomically(p, text.as_bytes())?,
        None => print!("{text}"),
    }
    for n in &d.notes {
        eprintln!("note: {n}");
    }
    eprintln!(
        "{} speaker(s), {} turn(s), {:?} mode",
        d.speakers.len(),
        d.turns.len(),
        d.mode
    );
    Ok(d)
}

/// Flags to flatten into `courtscribe transcribe`.
#[derive(Debug, Clone, Args)]
pub struct TranscribeDiarizeArgs {
    /// Say who spoke: speaker on every segment and word, a speaker list in the transcript.
    #[arg(long)]
    pub diarize: bool,
    /// How to find speakers with --diarize.
    #[arg(long, value_enum, default_value = "auto", value_name = "MODE")]
    pub diarize_mode: ModeArg,
    #[command(flatten)]
    pub speakers: SpeakerOptions,
}

impl TranscribeDiarizeArgs {
    /// Checks the options before any decoding (a malformed room profile fails fast).
    pub fn validate(&self) -> Result<(), Error> {
        if !self.diarize && (self.speakers.room.is_some() || self.speakers.num_speakers.is_some()) {
            return Err(Error::Request(
                "--room and --num-speakers need --diarize".into(),
            ));
        }
        self.speakers.options(self.diarize_mode.into()).map(|_| ())
    }

    /// With `--diarize`: diarizes the recording's 16 kHz `channels` and writes the speakers into
    /// `transcript`.
    pub fn apply(
        &self,
        channels: &[Vec<f32>],
        transcript: &mut Transcript,
    ) -> Result<Option<Diarization>, Error> {
        if !self.diarize {
            return Ok(None);
        }
        let opts = self.speakers.options(self.diarize_mode.into())?;
        let d = crate::diarize_16k(channels, &opts)?;
        for n in &d.notes {
            eprintln!("note: {n}");
        }
        merge::apply(transcript, &d);
        Ok(Some(d))
    }
}

/// `courtscribe speakers …`.
#[derive(Debug, Clone, Args)]
pub struct SpeakersArgs {
    #[command(subcommand)]
    pub command: SpeakersCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SpeakersCommand {
    /// Enrol a voice from a recording of that person speaking alone (≥ 3 s of speech).
    Enroll {
        /// Name as it should appear in the minutes.
        name: String,
        audio: PathBuf,
        /// Role code to attach (e.g. CHU_TOA).
        #[arg(long)]
        role: Option<String>,
    },
    /// List enrolled voices.
    List,
    /// Remove an enrolled voice.
    Remove { name: String },
    /// Install the CAM++ speaker model now (otherwise done on first use).
    InstallModel,
}

/// Runs `courtscribe speakers …`, printing results on stdout.
pub fn run_speakers(args: &SpeakersArgs) -> Result<(), Error> {
    let home = crate::home_dir()?;
    run_speakers_in(&home, args)
}

/// [`run_speakers`] with an explicit home folder.
pub fn run_speakers_in(home: &Path, args: &SpeakersArgs) -> Result<(), Error> {
    match &args.command {
        SpeakersCommand::Enroll { name, audio, role } => {
            let recording = courtscribe_audio::decode_file_16k(audio)?;
            let mono = recording.mono();
            let manifest = install::ensure_installed(home)?;
            let model = install::load(home)?;
            let mut p = known::make_profile(name, &mono, &model, &manifest.sha256)?;
            p.role = role.clone();
            let path = known::save(home, &p)?;
            println!(
                "enrolled `{}` from {:.1} s of speech ({})",
                p.name,
                p.speech_secs,
                path.display()
            );
        }
        SpeakersCommand::List => {
            for p in known::list(home)? {
                println!(
                    "{}\t{}\t{:.1} s",
                    p.name,
                    p.role.as_deref().unwrap_or("-"),
                    p.speech_secs
                );
            }
        }
        SpeakersCommand::Remove { name } => {
            known::remove(home, name)?;
            println!("removed `{name}`");
        }
        SpeakersCommand::InstallModel => {
            let m = install::ensure_installed(home)?;
            println!(
                "{} installed ({})",
                m.name,
                install::model_path(home).display()
            );
        }
    }
    Ok(())
}
