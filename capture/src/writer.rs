//! The writer thread: ring buffer → spool segments, plus level metering, the silent-microphone
//! alarm and the disk-space guard.
//!
//! It never stops taking audio from the ring buffer because of the disk: when a write fails (a
//! full disk, an I/O error) the audio is held in memory, up to `max_held_bytes`, and written when
//! the spool accepts it again. Only when that memory is full does the ring buffer fill up, and
//! only then does a device lose samples (counted and reported; a replay waits instead).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt as _;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::spool::{Ended, Spool, sync_dir, unix_now};
use crate::status::{ChannelLevel, SILENCE_DBFS, Shared};

/// How often the open segment is synced (and its frames offered to the uplink).
pub const SYNC_INTERVAL: Duration = Duration::from_millis(200);
/// How often free space on the spool's filesystem is looked at.
const DISK_CHECK_INTERVAL: Duration = Duration::from_secs(5);
/// While the spool is short of space, the warning is repeated this often.
const DISK_WARN_REPEAT: Duration = Duration::from_secs(300);
/// While the spool cannot be written, the error is repeated this often.
const ERROR_REPEAT: Duration = Duration::from_secs(10);
/// Writes must succeed this long before the spool counts as writable again.
const RECOVERED_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct WriterConfig {
    /// Audio held in memory while the spool cannot be written, bytes.
    pub max_held_bytes: u64,
    /// A channel silent this long (seconds of audio) raises the alarm.
    pub silence_alarm_secs: f64,
    /// Warn when the spool has room for less than this much recording, seconds.
    pub warn_free_secs: u64,
}

/// Runs until the source is done and everything is in the spool; returns the recording's length.
pub fn run(
    spool: Spool,
    start_frames: u64,
    mut ring: rtrb::Consumer<i16>,
    shared: Arc<Shared>,
    config: WriterConfig,
) -> Ended {
    let mut w = Writer::new(spool, start_frames, shared.clone(), config);
    loop {
        let mut took = 0;
        if (w.pending.len() as u64) < w.config.max_held_bytes {
            let n = ring.slots() / w.channels * w.channels;
            if n > 0
                && let Ok(chunk) = ring.read_chunk(n)
            {
                let (a, b) = chunk.as_slices();
                w.take(a);
                w.take(b);
                chunk.commit_all();
                took = n;
            }
        }
        w.flush();
        let finishing = shared.source_done.load(Ordering::Acquire) && ring.is_empty();
        if w.last_sync.elapsed() >= SYNC_INTERVAL || finishing {
            w.sync();
        }
        w.check_disk();
        if finishing && w.pending.is_empty() && w.synced_all() {
            break;
        }
        if took == 0 {
            std::thread::sleep(Duration::from_millis(if w.error.is_some() {
                200
            } else {
                10
            }));
        }
    }
    let ended = Ended {
        frames: w.durable(),
        at: unix_now(),
    };
    // The end of the recording must reach the disk too; a full disk gets the same patience as audio.
    let mut warned = false;
    while let Err(e) = w.spool.set_ended(ended) {
        if !warned {
            shared.log(format!(
                "cannot mark the recording complete in the spool ({e}); retrying"
            ));
            warned = true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    shared.ended.store(true, Ordering::Release);
    ended
}

struct Writer {
    spool: Spool,
    shared: Arc<Shared>,
    config: WriterConfig,
    channels: usize,
    block: u64,
    header_len: u64,
    segment_bytes: u64,
    /// Current segment and its data bytes written (possibly ending in a partial sample frame).
    seg: u64,
    seg_bytes: u64,
    synced_bytes: u64,
    file: Option<File>,
    /// Audio taken from the ring, not yet written, as s16le bytes.
    pending: Vec<u8>,
    last_sync: Instant,
    error: Option<String>,
    error_logged: Option<Instant>,
    recovered_at: Option<Instant>,
    meter: Meter,
    last_disk_check: Option<Instant>,
    low_warned: Option<Instant>,
    limit_warned: Option<Instant>,
    dropped_seen: u64,
    dropped_logged: Option<Instant>,
}

impl Writer {
    fn new(spool: Spool, start: u64, shared: Arc<Shared>, config: WriterConfig) -> Writer {
        let meta = spool.meta.clone();
        let block = meta.block();
        shared.recorded_frames.store(start, Ordering::Relaxed);
        shared.durable_frames.store(start, Ordering::Release);
        let seg_bytes = start % meta.segment_frames * block;
        Writer {
            channels: usize::from(meta.channels),
            block,
            header_len: meta.header_len(),
            segment_bytes: meta.segment_frames * block,
            seg: start / meta.segment_frames,
            seg_bytes,
            synced_bytes: seg_bytes,
            file: None,
            pending: Vec::with_capacity(1 << 16),
            last_sync: Instant::now(),
            error: None,
            error_logged: None,
            recovered_at: None,
            meter: Meter::new(usize::from(meta.channels), meta.sample_rate, start, &config),
            last_disk_check: None,
            low_warned: None,
            limit_warned: None,
            dropped_seen: 0,
            dropped_logged: None,
            spool,
            shared,
            config,
        }
    }

    fn durable(&self) -> u64 {
        self.seg * self.spool.meta.segment_frames + self.synced_bytes / self.block
    }

    fn synced_all(&self) -> bool {
        self.synced_bytes / self.block == self.seg_bytes / self.block && self.error.is_none()
    }

    /// Takes samples from the ring: meters them and queues them for the spool.
    fn take(&mut self, samples: &[i16]) {
        if samples.is_empty() {
            return;
        }
        self.meter.push(samples, &self.shared);
        self.pending
            .extend(samples.iter().flat_map(|s| s.to_le_bytes()));
        let frames = (samples.len() / self.channels) as u64;
        self.shared
            .recorded_frames
            .fetch_add(frames, Ordering::Relaxed);
        self.shared
            .held_bytes
            .store(self.pending.len() as u64, Ordering::Relaxed);
    }

    /// Writes as much pending audio as the spool takes.
    fn flush(&mut self) {
        let result = self.write_pending();
        self.shared
            .held_bytes
            .store(self.pending.len() as u64, Ordering::Relaxed);
        match result {
            Ok(()) => {
                // A nearly full filesystem takes a few bytes now and then; call it recovered only
                // once writes have kept succeeding for a while.
                let since = *self.recovered_at.get_or_insert_with(Instant::now);
                if self.error.is_some() && since.elapsed() >= RECOVERED_AFTER {
                    let e = self.error.take().unwrap_or_default();
                    self.shared.log(format!(
                        "spool writable again (after: {e}); audio held in memory is now on disk"
                    ));
                    self.set_disk_error(None);
                    self.error_logged = None;
                }
            }
            Err(e) => {
                self.recovered_at = None;
                self.failed(e);
            }
        }
    }

    fn failed(&mut self, e: std::io::Error) {
        let msg = e.to_string();
        let held = self.pending.len() as f64 / self.shared.bytes_per_sec() as f64;
        if self
            .error_logged
            .is_none_or(|t| t.elapsed() >= ERROR_REPEAT)
        {
            self.shared.log(format!(
                "cannot write the spool {} ({msg}); recording continues: {held:.1} s held in memory (room for {:.0} s), retrying — free space there",
                self.spool.dir.display(),
                self.config.max_held_bytes as f64 / self.shared.bytes_per_sec() as f64,
            ));
            self.error_logged = Some(Instant::now());
        }
        self.set_disk_error(Some(msg.clone()));
        self.error = Some(msg);
    }

    fn set_disk_error(&self, e: Option<String>) {
        if let Ok(mut d) = self.shared.disk_error.lock() {
            *d = e;
        }
    }

    fn write_pending(&mut self) -> std::io::Result<()> {
        while !self.pending.is_empty() || self.seg_bytes == self.segment_bytes {
            if self.seg_bytes == self.segment_bytes {
                self.close_segment()?;
                continue;
            }
            self.open_segment()?;
            let file = self.file.as_ref().ok_or_else(not_open)?;
            let n = (self.segment_bytes - self.seg_bytes).min(self.pending.len() as u64) as usize;
            let written = file.write_at(&self.pending[..n], self.header_len + self.seg_bytes)?;
            if written == 0 {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::WriteZero,
                    "the spool took no bytes",
                ));
            }
            self.pending.drain(..written);
            self.seg_bytes += written as u64;
        }
        Ok(())
    }

    fn open_segment(&mut self) -> std::io::Result<()> {
        if self.file.is_none() {
            let path = self.spool.segment_path(self.seg);
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)?;
            if file.metadata()?.len() < self.header_len {
                file.write_all_at(&self.spool.header(self.seg_bytes), 0)?;
                file.sync_all()?;
                sync_dir(&self.spool.dir)?;
            }
            self.file = Some(file);
        }
        Ok(())
    }

    /// A full segment: final header, synced, indexed; the next write opens the next one.
    fn close_segment(&mut self) -> std::io::Result<()> {
        self.sync_file()?;
        self.spool.append_index(self.seg)?;
        self.file = None;
        self.seg += 1;
        self.seg_bytes = 0;
        self.synced_bytes = 0;
        self.publish();
        Ok(())
    }

    /// Header rewritten for the whole frames written, data synced.
    fn sync_file(&mut self) -> std::io::Result<()> {
        let whole = self.seg_bytes / self.block * self.block;
        let header = self.spool.header(whole);
        self.open_segment()?;
        let file = self.file.as_ref().ok_or_else(not_open)?;
        file.write_all_at(&header, 0)?;
        file.sync_data()?;
        self.synced_bytes = whole;
        Ok(())
    }

    fn sync(&mut self) {
        self.last_sync = Instant::now();
        if self.synced_bytes == self.seg_bytes / self.block * self.block {
            return;
        }
        match self.sync_file() {
            Ok(()) => self.publish(),
            Err(e) => self.failed(e),
        }
    }

    fn publish(&self) {
        self.shared
            .durable_frames
            .store(self.durable(), Ordering::Release);
    }

    fn check_disk(&mut self) {
        let dropped = self.shared.dropped_samples.load(Ordering::Relaxed);
        if dropped > self.dropped_seen
            && self
                .dropped_logged
                .is_none_or(|t| t.elapsed() >= ERROR_REPEAT)
        {
            self.dropped_logged = Some(Instant::now());
            self.shared.log(format!(
                "AUDIO LOST: {} s did not fit in the ring buffer (the writer fell behind the device)",
                self.shared.secs((dropped - self.dropped_seen) / self.channels as u64)
            ));
            self.dropped_seen = dropped;
        }
        if self
            .last_disk_check
            .is_some_and(|t| t.elapsed() < DISK_CHECK_INTERVAL)
        {
            return;
        }
        self.last_disk_check = Some(Instant::now());
        // The server holds at most 4 GiB of PCM per session (docs/protocol.md): say so well before.
        let bytes = self.durable() * self.block;
        let limit = u64::from(courtscribe_audio::MAX_WAV_DATA_BYTES);
        if bytes > limit / 10 * 9
            && self
                .limit_warned
                .is_none_or(|t| t.elapsed() >= DISK_WARN_REPEAT)
        {
            self.shared.log(format!(
                "SESSION LIMIT: {:.0} of the server's {:.0} MB per session used ({:.0} s left); end this session (/end) and start a new one",
                bytes as f64 / 1e6,
                limit as f64 / 1e6,
                limit.saturating_sub(bytes) as f64 / self.shared.bytes_per_sec() as f64
            ));
            self.limit_warned = Some(Instant::now());
        }
        let Ok(free) = fs4::available_space(&self.spool.dir) else {
            return;
        };
        self.shared.free_bytes.store(free, Ordering::Relaxed);
        let secs = free / self.shared.bytes_per_sec().max(1);
        if secs < self.config.warn_free_secs {
            if self
                .low_warned
                .is_none_or(|t| t.elapsed() >= DISK_WARN_REPEAT)
            {
                self.shared.log(format!(
                    "LOW SPOOL SPACE: {} has {:.1} MB free, room for {secs} s of recording (warning below {} s); free space or move the spool",
                    self.spool.dir.display(),
                    free as f64 / 1e6,
                    self.config.warn_free_secs
                ));
                self.low_warned = Some(Instant::now());
            }
        } else {
            self.low_warned = None;
        }
    }
}

fn not_open() -> std::io::Error {
    std::io::Error::other("segment not open")
}

/// Per-channel peak and RMS over ~100 ms windows, clipping, and the silent-microphone alarm. It
/// runs on audio time (sample frames), so a replay at 4× raises the alarm after the same stretch
/// of recording as a device would.
struct Meter {
    channels: usize,
    rate: u32,
    window: u64,
    /// Position of the next sample frame.
    at: u64,
    count: u64,
    peak: Vec<u16>,
    sum_sq: Vec<f64>,
    clipped: Vec<bool>,
    alarm_frames: u64,
    alarmed: Vec<bool>,
    levels: Vec<ChannelLevel>,
}

impl Meter {
    fn new(channels: usize, rate: u32, at: u64, config: &WriterConfig) -> Meter {
        Meter {
            channels,
            rate,
            window: u64::from(rate / 10).max(1),
            at,
            count: 0,
            peak: vec![0; channels],
            sum_sq: vec![0.0; channels],
            clipped: vec![false; channels],
            alarm_frames: (config.silence_alarm_secs * f64::from(rate)) as u64,
            alarmed: vec![false; channels],
            levels: vec![ChannelLevel::default(); channels],
        }
    }

    fn push(&mut self, samples: &[i16], shared: &Shared) {
        for frame in samples.chunks_exact(self.channels) {
            for (c, &s) in frame.iter().enumerate() {
                let a = s.unsigned_abs();
                self.peak[c] = self.peak[c].max(a);
                self.sum_sq[c] += f64::from(s) * f64::from(s);
                self.clipped[c] |= a >= 32767;
            }
            self.count += 1;
            self.at += 1;
            if self.count == self.window {
                self.publish(shared);
            }
        }
    }

    fn publish(&mut self, shared: &Shared) {
        let db = |x: f64| (20.0 * (x.max(1e-9) / 32768.0).log10()) as f32;
        for c in 0..self.channels {
            let l = &mut self.levels[c];
            l.peak_db = db(f64::from(self.peak[c]));
            l.rms_db = db((self.sum_sq[c] / self.count as f64).sqrt());
            if self.clipped[c] {
                l.clipped_at = Some(self.at);
            }
            if l.rms_db < SILENCE_DBFS {
                let since = *l.silent_since.get_or_insert(self.at - self.count);
                if !self.alarmed[c] && self.at - since >= self.alarm_frames {
                    self.alarmed[c] = true;
                    let how = if self.peak[c] == 0 {
                        "digital silence: unplugged or dead?"
                    } else {
                        "muted?"
                    };
                    shared.log(format!(
                        "ALARM: microphone {} silent for {:.0} s ({how})",
                        c + 1,
                        (self.at - since) as f64 / f64::from(self.rate)
                    ));
                }
            } else {
                if self.alarmed[c] {
                    shared.log(format!("microphone {} has signal again", c + 1));
                    self.alarmed[c] = false;
                }
                l.silent_since = None;
            }
            self.peak[c] = 0;
            self.sum_sq[c] = 0.0;
            self.clipped[c] = false;
        }
        self.count = 0;
        if let Ok(mut levels) = shared.levels.lock() {
            levels.clone_from(&self.levels);
        }
    }
}
