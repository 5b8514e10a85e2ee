//! What the threads share, the agent's messages on stderr, and the status line: per-channel
//! level meters, clipping, the silent-microphone alarm, connection state, backlog and spool free
//! space.
//!
//! Messages are lines on stderr (`courtscribe-capture: …`) whether or not the status line is on;
//! the status line is one line redrawn in place twice a second, only when stderr is a terminal and
//! `--quiet` is not given, so logs of an unattended station stay clean.

use std::io::{IsTerminal as _, Write as _};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// A channel whose RMS stays below this (dBFS) counts as silent.
pub const SILENCE_DBFS: f32 = -60.0;

/// Levels of one microphone over the last ~100 ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct ChannelLevel {
    /// Peak, dBFS.
    pub peak_db: f32,
    /// RMS, dBFS.
    pub rms_db: f32,
    /// Sample frames (since the start of the session) at which it last clipped.
    pub clipped_at: Option<u64>,
    /// Sample frames since which the channel has been silent (`None`: it has signal).
    pub silent_since: Option<u64>,
}

/// Connection state shown on the status line.
#[derive(Debug, Clone, PartialEq)]
pub enum Link {
    /// No `--server`: recording locally only.
    Off,
    Connecting,
    Online,
    /// Waiting to reconnect; the reason.
    Offline(String),
    Verified,
}

/// State shared by the source, the writer, the uplink and the status line.
#[derive(Debug)]
pub struct Shared {
    pub channels: usize,
    pub sample_rate: u32,
    /// Sample frames synced to the spool (offered to the uplink).
    pub durable_frames: AtomicU64,
    /// Sample frames taken from the ring buffer: the recording's current position.
    pub recorded_frames: AtomicU64,
    /// Sample frames the server has acknowledged.
    pub acked_frames: AtomicU64,
    /// The recording is complete and its length is in the spool (`ended.json`).
    pub ended: AtomicBool,
    /// The source has delivered its last sample.
    pub source_done: AtomicBool,
    /// Stop recording (Ctrl-C, SIGTERM, `/end`).
    pub stop: AtomicBool,
    /// Samples a device delivered that did not fit in the ring buffer (lost: the writer fell
    /// behind by more than the ring's length).
    pub dropped_samples: AtomicU64,
    /// Bytes of audio held in memory because the spool cannot be written.
    pub held_bytes: AtomicU64,
    /// Free bytes on the spool's filesystem (last look).
    pub free_bytes: AtomicU64,
    pub disk_error: Mutex<Option<String>>,
    pub link: Mutex<Link>,
    pub levels: Mutex<Vec<ChannelLevel>>,
    status_line: AtomicBool,
}

impl Shared {
    pub fn new(channels: usize, sample_rate: u32) -> Shared {
        Shared {
            channels,
            sample_rate,
            durable_frames: AtomicU64::new(0),
            recorded_frames: AtomicU64::new(0),
            acked_frames: AtomicU64::new(0),
            ended: AtomicBool::new(false),
            source_done: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            dropped_samples: AtomicU64::new(0),
            held_bytes: AtomicU64::new(0),
            free_bytes: AtomicU64::new(u64::MAX),
            disk_error: Mutex::new(None),
            link: Mutex::new(Link::Off),
            levels: Mutex::new(vec![ChannelLevel::default(); channels]),
            status_line: AtomicBool::new(false),
        }
    }

    /// One message line on stderr (clearing the status line first when it is shown).
    pub fn log(&self, msg: impl AsRef<str>) {
        let clear = if self.status_line.load(Ordering::Relaxed) {
            "\r\x1b[K"
        } else {
            ""
        };
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{clear}courtscribe-capture: {}", msg.as_ref());
    }

    pub fn set_link(&self, link: Link) {
        if let Ok(mut l) = self.link.lock() {
            *l = link;
        }
    }

    pub fn secs(&self, frames: u64) -> f64 {
        frames as f64 / f64::from(self.sample_rate.max(1))
    }

    /// Audio recorded but not yet acknowledged by the server, seconds.
    pub fn backlog_secs(&self) -> f64 {
        let recorded = self.recorded_frames.load(Ordering::Relaxed);
        let acked = self.acked_frames.load(Ordering::Relaxed);
        self.secs(recorded.saturating_sub(acked))
    }

    /// Bytes of spool one second of audio takes.
    pub fn bytes_per_sec(&self) -> u64 {
        2 * self.channels as u64 * u64::from(self.sample_rate)
    }
}

/// Whether the status line should be drawn.
pub fn status_wanted(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Draws the status line until `shared.ended` and the link is settled, or `stop_drawing` is set.
pub fn run_status_line(shared: &Shared, stop_drawing: &AtomicBool) {
    shared.status_line.store(true, Ordering::Relaxed);
    while !stop_drawing.load(Ordering::Relaxed) {
        let line = render(shared);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{line}");
        let _ = err.flush();
        drop(err);
        std::thread::sleep(Duration::from_millis(500));
    }
    let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
    shared.status_line.store(false, Ordering::Relaxed);
}

/// The status line's text (no escape sequences).
pub fn render(shared: &Shared) -> String {
    let recorded = shared.recorded_frames.load(Ordering::Relaxed);
    let t = shared.secs(recorded) as u64;
    let mut line = format!("REC {:02}:{:02}:{:02} ", t / 3600, t / 60 % 60, t % 60);
    let levels = shared.levels.lock().map(|l| l.clone()).unwrap_or_default();
    let clip_window = u64::from(shared.sample_rate) * 2;
    let mut alarms = Vec::new();
    for (i, l) in levels.iter().enumerate() {
        const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
        let clipping = l.clipped_at.is_some_and(|at| recorded < at + clip_window);
        let c = if clipping {
            '!'
        } else if l.silent_since.is_some() {
            '·'
        } else {
            // -60 dBFS .. 0 dBFS over eight bars.
            let step = ((l.peak_db + 60.0) / 7.5).clamp(0.0, 7.0) as usize;
            BARS[step]
        };
        line.push(c);
        if clipping {
            alarms.push(format!("ch{} CLIP", i + 1));
        }
        if let Some(since) = l.silent_since {
            let secs = shared.secs(recorded.saturating_sub(since));
            if secs >= 5.0 {
                alarms.push(format!("ch{} silent {secs:.0}s", i + 1));
            }
        }
    }
    let link = shared
        .link
        .lock()
        .map(|l| l.clone())
        .unwrap_or(Link::Connecting);
    let link = match link {
        Link::Off => "local only".to_string(),
        Link::Connecting => "connecting".to_string(),
        Link::Online => "online".to_string(),
        Link::Offline(why) => format!("OFFLINE ({why})"),
        Link::Verified => "verified".to_string(),
    };
    line.push_str(&format!(" │ {link}, backlog {:.1}s", shared.backlog_secs()));
    let free = shared.free_bytes.load(Ordering::Relaxed);
    if free != u64::MAX {
        let hours = free as f64 / shared.bytes_per_sec().max(1) as f64 / 3600.0;
        line.push_str(&format!(
            " │ spool {:.1} GB free ({hours:.1} h)",
            free as f64 / 1e9
        ));
    }
    if let Ok(Some(e)) = shared.disk_error.lock().as_deref() {
        alarms.push(format!("DISK: {e}"));
    }
    let dropped = shared.dropped_samples.load(Ordering::Relaxed);
    if dropped > 0 {
        alarms.push(format!("{dropped} samples LOST"));
    }
    if !alarms.is_empty() {
        line.push_str(" │ ");
        line.push_str(&alarms.join(", "));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_line_shows_levels_clipping_silence_link_and_backlog() {
        let shared = Shared::new(3, 16_000);
        shared.recorded_frames.store(16_000 * 40, Ordering::Relaxed);
        shared.acked_frames.store(16_000 * 38, Ordering::Relaxed);
        shared.set_link(Link::Offline("no answer".into()));
        if let Ok(mut l) = shared.levels.lock() {
            l[0].peak_db = -6.0;
            l[1].clipped_at = Some(16_000 * 40);
            l[2].silent_since = Some(16_000 * 5);
        }
        let line = render(&shared);
        assert!(line.starts_with("REC 00:00:40 █!·"), "{line}");
        assert!(line.contains("OFFLINE (no answer), backlog 2.0s"), "{line}");
        assert!(line.contains("ch2 CLIP"), "{line}");
        assert!(line.contains("ch3 silent 35s"), "{line}");
    }
}
