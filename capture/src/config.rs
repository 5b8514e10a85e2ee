//! Command line and station config file (`--config FILE`, TOML, the same names in snake_case);
//! a flag given on the command line wins over the file.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use serde::Deserialize;

/// Default retention of acknowledged audio in the spool: 7 days.
pub const DEFAULT_RETENTION_SECS: u64 = 7 * 24 * 3600;

#[derive(Debug, Default, clap::Parser)]
#[command(
    name = "courtscribe-capture",
    version,
    about = "Courtroom capture agent: records every microphone into a crash-safe local spool and streams it to `courtscribe serve`"
)]
pub struct Args {
    /// Station config file (TOML); command-line flags win over it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The server's base URL, e.g. http://10.0.0.5:8080 (live ingest at /api/ingest).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token of a `station` (or secretary/admin) account.
    #[arg(long, env = "COURTSCRIBE_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// The hearing this recording belongs to.
    #[arg(long, value_name = "ID")]
    pub hearing: Option<i64>,
    /// Session id (1–64 of A–Z a–z 0–9 - _). Default: resume this hearing's unfinished session in
    /// the spool, else STATION-YYYYMMDDTHHMMSSZ.
    #[arg(long, value_name = "ID")]
    pub session: Option<String>,
    /// This station's name (default: the host name).
    #[arg(long, value_name = "NAME")]
    pub station: Option<String>,
    /// The local spool folder (the record of truth until the server confirms).
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// Replay a recording instead of a device, through the same ring buffer, spool and uplink.
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Replay at the recording's own pace (default: as fast as the spool takes it).
    #[arg(long)]
    pub realtime: bool,
    /// Replay pace: X times real time (implies --realtime).
    #[arg(long, value_name = "X")]
    pub speed: Option<f64>,
    /// Input device name (see --list-devices; default: the system's default input).
    #[arg(long, value_name = "NAME")]
    pub device: Option<String>,
    /// Channels to record from the device (default: the device's default).
    #[arg(long, value_name = "N")]
    pub channels: Option<u16>,
    /// Sample rate, Hz (default: the device's native rate).
    #[arg(long, value_name = "HZ")]
    pub rate: Option<u32>,
    /// Length of one spool segment file, seconds (default 60).
    #[arg(long, value_name = "SECS")]
    pub segment_secs: Option<u64>,
    /// Keep audio this long after the server confirmed it (default 604800 = 7 days).
    #[arg(long, value_name = "SECS")]
    pub retention_secs: Option<u64>,
    /// Warn when the spool has room for less recording than this, seconds (default 3600).
    #[arg(long, value_name = "SECS")]
    pub warn_free_secs: Option<u64>,
    /// Alarm when a microphone is silent this long, seconds (default 30).
    #[arg(long, value_name = "SECS")]
    pub silence_alarm_secs: Option<f64>,
    /// After the recording ends, wait this long for the server to confirm it, seconds (default 120).
    #[arg(long, value_name = "SECS")]
    pub drain_secs: Option<u64>,
    /// Audio held in memory while the spool cannot be written, MB (default 512).
    #[arg(long, value_name = "MB")]
    pub max_held_mb: Option<u64>,
    /// Also read clerk commands from this FIFO (one a line: marker text, or /end).
    #[arg(long, value_name = "PATH")]
    pub marker_fifo: Option<PathBuf>,
    /// No status line (messages still go to stderr).
    #[arg(long)]
    pub quiet: bool,
    /// List input devices and exit.
    #[arg(long)]
    pub list_devices: bool,
    /// Record nothing: send every ended, unconfirmed session in the spool, then exit.
    #[arg(long)]
    pub upload_only: bool,
}

/// The config file: the same settings as the flags.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    server: Option<String>,
    token: Option<String>,
    token_file: Option<PathBuf>,
    hearing: Option<i64>,
    session: Option<String>,
    station: Option<String>,
    spool: Option<PathBuf>,
    input: Option<PathBuf>,
    realtime: Option<bool>,
    speed: Option<f64>,
    device: Option<String>,
    channels: Option<u16>,
    rate: Option<u32>,
    segment_secs: Option<u64>,
    retention_secs: Option<u64>,
    warn_free_secs: Option<u64>,
    silence_alarm_secs: Option<f64>,
    drain_secs: Option<u64>,
    max_held_mb: Option<u64>,
    marker_fifo: Option<PathBuf>,
    quiet: Option<bool>,
}

/// Everything resolved: flags over file over defaults.
#[derive(Debug, Clone)]
pub struct Config {
    pub server: Option<String>,
    pub token: Option<String>,
    pub hearing: Option<i64>,
    pub session: Option<String>,
    pub station: String,
    pub spool: PathBuf,
    pub input: Option<PathBuf>,
    /// `None`: replay as fast as possible.
    pub speed: Option<f64>,
    pub device: Option<String>,
    pub channels: Option<u16>,
    pub rate: Option<u32>,
    pub segment_secs: u64,
    pub retention_secs: u64,
    pub warn_free_secs: u64,
    pub silence_alarm_secs: f64,
    pub drain_secs: u64,
    pub max_held_bytes: u64,
    pub marker_fifo: Option<PathBuf>,
    pub quiet: bool,
    pub upload_only: bool,
}

impl Config {
    pub fn resolve(args: Args) -> anyhow::Result<Config> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let token = match (args.token, file.token, &file.token_file) {
            (Some(t), _, _) | (None, Some(t), _) => Some(t),
            (None, None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read token_file {}", path.display()))?
                    .trim()
                    .to_string(),
            ),
            (None, None, None) => None,
        };
        let station = args
            .station
            .or(file.station)
            .or_else(|| {
                std::fs::read_to_string("/etc/hostname")
                    .ok()
                    .map(|h| h.trim().to_string())
            })
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "station".into());
        let speed = match (
            args.speed.or(file.speed),
            args.realtime || file.realtime == Some(true),
        ) {
            (Some(s), _) => Some(s),
            (None, true) => Some(1.0),
            (None, false) => None,
        };
        if let Some(s) = speed
            && !(s.is_finite() && s > 0.0)
        {
            bail!("--speed must be a positive number, not {s}");
        }
        let spool = args
            .spool
            .or(file.spool)
            .context("--spool DIR is required (the local folder that keeps the audio until the server confirms it)")?;
        let segment_secs = args.segment_secs.or(file.segment_secs).unwrap_or(60);
        if segment_secs == 0 {
            bail!("--segment-secs must be at least 1");
        }
        if let Some(s) = args.session.as_ref().or(file.session.as_ref())
            && !valid_session(s)
        {
            bail!("session `{s}` must be 1–64 characters of A–Z, a–z, 0–9, - or _");
        }
        Ok(Config {
            server: args.server.or(file.server),
            token,
            hearing: args.hearing.or(file.hearing),
            session: args.session.or(file.session),
            station,
            spool,
            input: args.input.or(file.input),
            speed,
            device: args.device.or(file.device),
            channels: args.channels.or(file.channels),
            rate: args.rate.or(file.rate),
            segment_secs,
            retention_secs: args
                .retention_secs
                .or(file.retention_secs)
                .unwrap_or(DEFAULT_RETENTION_SECS),
            warn_free_secs: args.warn_free_secs.or(file.warn_free_secs).unwrap_or(3600),
            silence_alarm_secs: args
                .silence_alarm_secs
                .or(file.silence_alarm_secs)
                .unwrap_or(30.0),
            drain_secs: args.drain_secs.or(file.drain_secs).unwrap_or(120),
            max_held_bytes: args.max_held_mb.or(file.max_held_mb).unwrap_or(512) << 20,
            marker_fifo: args.marker_fifo.or(file.marker_fifo),
            quiet: args.quiet || file.quiet == Some(true),
            upload_only: args.upload_only,
        })
    }
}

fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read config {}", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        // toml's own rendering spans several lines; a station log wants one.
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].lines().count().max(1)
        });
        anyhow::anyhow!("config {} line {line}: {}", path.display(), e.message())
    })
}

pub fn valid_session(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `STATION-YYYYMMDDTHHMMSSZ` (UTC), with the station name cut to characters a session id allows.
pub fn new_session_id(station: &str) -> String {
    let t = time::OffsetDateTime::now_utc();
    let clean: String = station
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!(
        "{clean}-{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}
