//! The courtroom capture agent (`courtscribe-capture`): records every microphone of a courtroom into
//! a crash-safe local spool — the record of truth — and streams it to `courtscribe serve` over the
//! live ingest protocol v1 (`docs/protocol.md`), so that a network cut, a server crash or a crash
//! of the station itself never loses or duplicates a sample. It never links whisper.cpp: it
//! depends on `courtscribe-audio` and general crates only.
//!
//! Flow: a [`source::Source`] (a cpal device, or a recording replayed as one) pushes interleaved
//! `i16` sample frames into a lock-free ring buffer (`rtrb`); the [`writer`] thread takes them,
//! meters them, and appends them to fixed-length WAV segments in the [`spool`], synced every
//! 200 ms; the [`uplink`] reads synced audio back from the spool and sends it, numbered by its
//! position in the spool, resuming wherever the server's `ready.next_seq` says. The session counts
//! as delivered only when the server's `done.pcm_sha256` equals the sha256 of the spooled PCM;
//! audio is deleted only after that and a retention period. [`markers`] turns the clerk's typed
//! lines into protocol markers; [`status`] draws the status line and holds what the threads share.
//!
//! # Usage
//!
//! ```text
//! courtscribe-capture --list-devices
//! courtscribe-capture --server http://10.0.0.5:8080 --token TOKEN --hearing 12 \
//!     --station phong-xu-1 --spool /var/lib/courtscribe-capture \
//!     [--device NAME] [--channels 5] [--rate 48000]
//! courtscribe-capture --config /etc/courtscribe/capture.toml          # the same settings as TOML
//! courtscribe-capture ... --input hearing.wav --realtime [--speed 4]   # replay instead of a device
//! courtscribe-capture --spool DIR --server URL --token TOKEN --upload-only
//! ```
//!
//! The token can also come from `COURTSCRIBE_TOKEN` or the config file's `token_file`. While it
//! runs, every line typed on stdin (or written to `--marker-fifo PATH`) becomes a clerk's marker at
//! the current position ("Bắt đầu xét hỏi", "Tạm nghỉ"); `/end` (or Ctrl-C, SIGTERM) ends the
//! recording. A replay ends by itself at the end of the file.
//!
//! Restarting with the same `--spool` (after `kill -9` or a power cut) resumes the hearing's
//! unfinished session: the spool is repaired, a replay continues where the spool ends, and the
//! uplink resends from the server's `next_seq`. If the server is unreachable at start, recording
//! starts locally anyway and the backlog is sent when it comes back.
//!
//! Devices: `--list-devices` lists what cpal's default host (ALSA on Linux) offers; the device
//! is opened with the asked channel count and native rate (i16, f32 or u16 samples) or refused
//! with what it offers instead. Without a sound card (CI, containers) ALSA has no device; an
//! `.asoundrc` with `pcm.!default { type null }` gives a device that opens and records, but the
//! `null` plugin has no clock (it delivers silence as fast as it is read), so real-time behaviour
//! can only be tested with the replay input or on real hardware.
//!
//! Limits: one session holds at most 4 GiB of PCM on the server (≈ 1.5 h of 8 channels at
//! 48 kHz); the agent warns at 90 % but does not yet roll over to a new session by itself. TLS
//! (`https://`) is not built in.
//!
//! Exit status: 0 when the recording ended and the server confirmed every sample (its
//! `pcm_sha256` equals the spool's); 1 when it did not (the audio stays in the spool, and
//! `--upload-only` sends it later); 2 for bad input (unknown device, unsupported rate, unreadable
//! file, bad URL), with one line on stderr.

pub mod config;
pub mod markers;
pub mod source;
pub mod spool;
pub mod status;
pub mod uplink;
pub mod writer;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::config::Config;
use crate::source::Source;
use crate::spool::{SessionMeta, Spool, unix_now};
use crate::status::{Link, Shared};

/// The ring buffer between the source and the writer holds this much audio, seconds: more than any
/// pause of the writer (an fsync on a busy disk) should last.
pub const RING_SECS: usize = 4;

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// The server confirmed the whole session.
    Confirmed { session: String, recording: i64 },
    /// Recorded, but not (yet) confirmed: the audio is kept in the spool.
    Kept { session: String, why: String },
    /// `--list-devices`, `--upload-only`: nothing recorded.
    Listed,
}

/// Bad input: the caller should exit 2 with the message.
#[derive(Debug, thiserror::Error)]
#[error("{0:#}")]
pub struct BadInput(pub anyhow::Error);

pub fn list_devices() -> anyhow::Result<String> {
    source::list_devices()
}

/// Runs the agent as configured until the recording ends and the uplink has finished (or given up
/// after `drain_secs`).
pub fn run(config: Config) -> anyhow::Result<Outcome> {
    let ingest = match &config.server {
        Some(s) => Some(uplink::ingest_url(s).map_err(|e| BadInput(anyhow::anyhow!(e)))?),
        None => None,
    };
    std::fs::create_dir_all(&config.spool)
        .with_context(|| format!("cannot create the spool {}", config.spool.display()))
        .map_err(BadInput)?;
    // One agent per spool: two writers would interleave segments. The kernel drops the lock when
    // the process dies, so a `kill -9` never leaves the spool locked.
    let lock_path = config.spool.join(".lock");
    let lock = std::fs::File::create(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))
        .map_err(BadInput)?;
    if !fs4::fs_std::FileExt::try_lock_exclusive(&lock).unwrap_or(false) {
        return Err(BadInput(anyhow::anyhow!(
            "another courtscribe-capture is using the spool {}",
            config.spool.display()
        ))
        .into());
    }
    let logger = Shared::new(1, 1);
    clean_up(&config.spool, config.retention_secs, &logger);
    if config.upload_only {
        return upload_only(&config, ingest);
    }

    let source: Box<dyn Source> = match &config.input {
        Some(path) => Box::new(source::Replay::open(path, config.speed).map_err(BadInput)?),
        None => Box::new(
            source::Device::open(config.device.as_deref(), config.channels, config.rate)
                .map_err(BadInput)?,
        ),
    };
    let (spool, start) = choose_session(&config, source.as_ref(), &logger).map_err(BadInput)?;
    let meta = spool.meta.clone();
    let shared = Arc::new(Shared::new(usize::from(meta.channels), meta.sample_rate));
    shared.durable_frames.store(start, Ordering::Release);
    shared.recorded_frames.store(start, Ordering::Relaxed);
    let already_ended = spool.ended()?;
    for other in spool::sessions(&config.spool)? {
        if other != spool.dir
            && let Ok(s) = Spool::load(&other)
            && s.ended().ok().flatten().is_some()
            && s.uplink_state().ok().is_none_or(|u| u.done.is_none())
        {
            shared.log(format!(
                "session {} in the spool is not confirmed by the server yet; `--upload-only` sends it",
                s.meta.session
            ));
        }
    }

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let (notify_tx, notify_rx) = tokio::sync::mpsc::unbounded_channel();
    let clerk = Arc::new(markers::Clerk::new(
        spool.clone(),
        shared.clone(),
        notify_tx,
    ));
    {
        let clerk = clerk.clone();
        std::thread::Builder::new()
            .name("stdin".into())
            .spawn(move || clerk.read(std::io::stdin().lock()))?;
    }
    if let Some(fifo) = config.marker_fifo.clone() {
        let clerk = clerk.clone();
        std::thread::Builder::new()
            .name("fifo".into())
            .spawn(move || clerk.read_fifo(&fifo))?;
    }

    // Recording: source → ring → writer → spool. A session that already ended records nothing.
    let writer = match already_ended {
        Some(ended) => {
            shared.durable_frames.store(ended.frames, Ordering::Release);
            shared
                .recorded_frames
                .store(ended.frames, Ordering::Relaxed);
            shared.ended.store(true, Ordering::Release);
            shared.log(format!(
                "session {} has ended ({:.1} s); sending what the server lacks",
                meta.session,
                meta.secs(ended.frames)
            ));
            None
        }
        None => {
            let mut source = source;
            source.skip(start);
            let (producer, consumer) =
                rtrb::RingBuffer::new(RING_SECS * shared.channels * meta.sample_rate as usize);
            let writer_config = writer::WriterConfig {
                max_held_bytes: config.max_held_bytes,
                silence_alarm_secs: config.silence_alarm_secs,
                warn_free_secs: config.warn_free_secs,
            };
            let (s, sh) = (spool.clone(), shared.clone());
            let writer = std::thread::Builder::new()
                .name("writer".into())
                .spawn(move || writer::run(s, start, consumer, sh, writer_config))?;
            source.start(producer, shared.clone()).map_err(BadInput)?;
            Some(writer)
        }
    };

    let drawing = Arc::new(AtomicBool::new(false));
    let status_thread = status::status_wanted(config.quiet).then(|| {
        let (sh, stop) = (shared.clone(), drawing.clone());
        std::thread::spawn(move || status::run_status_line(&sh, &stop))
    });

    let result = runtime.block_on(async {
        let mut uplink = ingest.map(|url| {
            shared.set_link(Link::Connecting);
            tokio::spawn(uplink::run(
                spool.clone(),
                shared.clone(),
                uplink::UplinkConfig {
                    url,
                    token: config.token.clone(),
                },
                notify_rx,
            ))
        });
        if uplink.is_none() {
            shared.log("no --server: recording locally only");
        }
        let mut fatal: Option<String> = None;
        let mut recording = writer.map(|w| tokio::task::spawn_blocking(move || w.join()));
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        // Recording phase: until the source ends (file done, /end, Ctrl-C, SIGTERM).
        while let Some(r) = recording.as_mut() {
            tokio::select! {
                j = r => {
                    if j.is_err() || j.is_ok_and(|r| r.is_err()) {
                        bail!("the writer thread crashed; the spool keeps what it had synced");
                    }
                    recording = None;
                }
                _ = tokio::signal::ctrl_c() => stop_or_quit(&shared),
                _ = term.recv() => stop_or_quit(&shared),
                u = async { uplink.as_mut().expect("guarded by the branch condition").await }, if uplink.is_some() => {
                    uplink = None;
                    let why = match u {
                        Ok(Err(f)) => f.to_string(),
                        Ok(Ok(_)) => "confirmed before the recording ended".into(),
                        Err(e) => format!("uplink crashed: {e}"),
                    };
                    shared.log(format!("UPLINK STOPPED: {why}; recording continues locally"));
                    fatal = Some(why);
                }
            }
        }
        let total = shared.durable_frames.load(Ordering::Acquire);
        let Some(uplink) = uplink else {
            return Ok(Err(fatal.unwrap_or_else(|| "no --server was given".into())));
        };
        shared.log(format!(
            "recording complete: {:.1} s; waiting up to {} s for the server to confirm it",
            meta.secs(total),
            config.drain_secs
        ));
        let drain = tokio::time::timeout(Duration::from_secs(config.drain_secs), uplink);
        tokio::select! {
            r = drain => Ok(match r {
                Ok(Ok(Ok(done))) => Ok(done),
                Ok(Ok(Err(f))) => Err(f.to_string()),
                Ok(Err(e)) => Err(format!("uplink crashed: {e}")),
                Err(_) => Err(format!(
                    "the server did not confirm it within {} s ({:.1} s unacknowledged)",
                    config.drain_secs,
                    shared.backlog_secs()
                )),
            }),
            _ = tokio::signal::ctrl_c() => Ok(Err("interrupted while waiting for the server".into())),
            _ = term.recv() => Ok(Err("terminated while waiting for the server".into())),
        }
    });
    drawing.store(true, Ordering::Relaxed);
    if let Some(t) = status_thread {
        let _ = t.join();
    }
    let outcome = result?;
    drop(lock);
    match outcome {
        Ok(done) => {
            shared.log(format!(
                "session {}: {:.1} s confirmed by the server (recording {}, pcm_sha256 {})",
                meta.session,
                shared.secs(shared.durable_frames.load(Ordering::Acquire)),
                done.recording,
                done.pcm_sha256
            ));
            clean_up(&config.spool, config.retention_secs, &shared);
            Ok(Outcome::Confirmed {
                session: meta.session,
                recording: done.recording,
            })
        }
        Err(why) => Ok(Outcome::Kept {
            why: format!(
                "{why}; the audio is kept in {} (`--upload-only` sends it)",
                spool.dir.display()
            ),
            session: meta.session,
        }),
    }
}

/// First Ctrl-C/SIGTERM ends the recording cleanly; a second one exits at once (the spool is
/// already safe: everything synced is kept, the rest was never acknowledged to anyone).
fn stop_or_quit(shared: &Shared) {
    if shared.stop.swap(true, Ordering::Relaxed) {
        shared.log("interrupted again: exiting now; the spool keeps the audio");
        std::process::exit(1);
    }
    shared.log("stopping: ending the recording (again to exit at once)");
}

/// The session to record into, and the sample frames it already holds.
fn choose_session(
    config: &Config,
    source: &dyn Source,
    log: &Shared,
) -> anyhow::Result<(Spool, u64)> {
    let (channels, rate) = (source.channels(), source.sample_rate());
    if !(8_000..=192_000).contains(&rate) {
        bail!("sample rate {rate} Hz is not supported (8000–192000 Hz)");
    }
    if !(1..=32).contains(&channels) {
        bail!("{channels} channels are not supported (1–32)");
    }
    let matches = |m: &SessionMeta| {
        if m.channels != channels || m.sample_rate != rate {
            bail!(
                "session {} in the spool is {} channel(s) at {} Hz but the input is {channels} at {rate} Hz; choose another --session",
                m.session,
                m.channels,
                m.sample_rate
            );
        }
        if config.hearing.is_some_and(|h| h != m.hearing) {
            bail!(
                "session {} in the spool belongs to hearing {}, not {}",
                m.session,
                m.hearing,
                config.hearing.unwrap_or_default()
            );
        }
        Ok(())
    };
    let existing = match &config.session {
        Some(id) => {
            let dir = config.spool.join(id);
            dir.join("session.json").is_file().then_some(dir)
        }
        // The hearing's latest unfinished session of this station: a restart continues it.
        None => spool::sessions(&config.spool)?
            .into_iter()
            .rev()
            .find(|dir| {
                Spool::load(dir).is_ok_and(|s| {
                    s.ended().ok().flatten().is_none()
                        && Some(s.meta.hearing) == config.hearing
                        && s.meta.station == config.station
                        && s.meta.channels == channels
                        && s.meta.sample_rate == rate
                })
            }),
    };
    if let Some(dir) = existing {
        let (spool, recovery) =
            Spool::open(&dir).with_context(|| format!("cannot recover {}", dir.display()))?;
        matches(&spool.meta)?;
        log.log(format!(
            "resuming session {} (hearing {}) at {:.1} s{}",
            spool.meta.session,
            spool.meta.hearing,
            spool.meta.secs(recovery.frames),
            if recovery.repaired {
                format!(
                    "; repaired its last segment (cut {} byte(s) of a torn sample frame, header fixed)",
                    recovery.cut_bytes
                )
            } else {
                String::new()
            }
        ));
        return Ok((spool, recovery.frames));
    }
    let hearing = config
        .hearing
        .context("--hearing ID is required (the hearing this recording belongs to)")?;
    let id = config
        .session
        .clone()
        .unwrap_or_else(|| config::new_session_id(&config.station));
    let meta = SessionMeta::new(
        &id,
        hearing,
        &config.station,
        channels,
        rate,
        config.segment_secs,
        &source.describe(),
    );
    let spool = Spool::create(&config.spool, meta)
        .with_context(|| format!("cannot create session {id} in {}", config.spool.display()))?;
    log.log(format!(
        "recording session {id} (hearing {hearing}, {channels} channel(s) at {rate} Hz) from {} into {}",
        source.describe(),
        spool.dir.display()
    ));
    Ok((spool, 0))
}

/// Sends every ended, unconfirmed session in the spool.
fn upload_only(config: &Config, ingest: Option<String>) -> anyhow::Result<Outcome> {
    let url = ingest
        .context("--upload-only needs --server")
        .map_err(BadInput)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut failed = Vec::new();
    for dir in spool::sessions(&config.spool)? {
        let (spool, _) = Spool::open(&dir)?;
        let Some(ended) = spool.ended()? else {
            continue;
        };
        if spool.uplink_state()?.done.is_some() {
            continue;
        }
        let shared = Arc::new(Shared::new(
            usize::from(spool.meta.channels),
            spool.meta.sample_rate,
        ));
        shared.durable_frames.store(ended.frames, Ordering::Release);
        shared
            .recorded_frames
            .store(ended.frames, Ordering::Relaxed);
        shared.ended.store(true, Ordering::Release);
        let (_tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let run = uplink::run(
            spool.clone(),
            shared.clone(),
            uplink::UplinkConfig {
                url: url.clone(),
                token: config.token.clone(),
            },
            rx,
        );
        match runtime.block_on(tokio::time::timeout(
            Duration::from_secs(config.drain_secs),
            run,
        )) {
            Ok(Ok(done)) => shared.log(format!(
                "session {} confirmed by the server (recording {})",
                spool.meta.session, done.recording
            )),
            Ok(Err(e)) => failed.push(format!("{}: {e}", spool.meta.session)),
            Err(_) => failed.push(format!("{}: not confirmed in time", spool.meta.session)),
        }
    }
    if failed.is_empty() {
        Ok(Outcome::Listed)
    } else {
        Ok(Outcome::Kept {
            session: String::new(),
            why: failed.join("; "),
        })
    }
}

/// Deletes sessions the server confirmed more than `retention_secs` ago. Nothing else is ever
/// deleted: an unconfirmed session stays until it is confirmed.
fn clean_up(root: &Path, retention_secs: u64, log: &Shared) {
    let Ok(sessions) = spool::sessions(root) else {
        return;
    };
    let now = unix_now();
    for dir in sessions {
        let Ok(spool) = Spool::load(&dir) else {
            continue;
        };
        let Ok(state) = spool.uplink_state() else {
            continue;
        };
        if let Some(done) = state.done
            && done.verified_at.saturating_add(retention_secs) <= now
        {
            match std::fs::remove_dir_all(&dir) {
                Ok(()) => log.log(format!(
                    "deleted session {} from the spool (confirmed by the server, retention {} s passed)",
                    spool.meta.session, retention_secs
                )),
                Err(e) => log.log(format!("cannot delete {}: {e}", dir.display())),
            }
        }
    }
}
