//! The local spool, the station's record of truth: one folder per session under `--spool DIR`,
//! holding the audio as fixed-length WAV segments and small JSON files that say what the server
//! has confirmed.
//!
//! ```text
//! SPOOL/SESSION/session.json      what was recorded: hearing, channels, rate, frame and segment sizes
//! SPOOL/SESSION/seg-000000.wav    sample frames [0, S), then seg-000001.wav [S, 2S), …
//! SPOOL/SESSION/index.jsonl       one line per closed segment: frames and sha256 of its PCM
//! SPOOL/SESSION/ended.json        the recording is complete: total sample frames
//! SPOOL/SESSION/uplink.json       the server's cumulative ack; `done` once the server's hash matched
//! SPOOL/SESSION/markers.jsonl     clerk markers; markers-acked.txt: the ids the server stored
//! ```
//!
//! Segment `i` holds sample frames `[i·S, (i+1)·S)` of the session, so a position in the session
//! is a position in the spool without any lookup, and uplink sequence number `k` is always sample
//! frames `[k·F, (k+1)·F)`: a restarted agent and the server agree on what frame `k` holds.
//!
//! Crash safety: audio is appended, the open segment's WAV header rewritten and the file
//! `fdatasync`'d every sync interval; only synced frames are offered to the uplink. After `kill -9`
//! [`Spool::open`] keeps every closed segment and repairs the open one (cut to whole sample frames,
//! header fixed). After a power loss the filesystem decides what survived of the last sync
//! interval; it is repaired the same way. Metadata files are replaced atomically (temp file, fsync,
//! rename, fsync of the folder).

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// Largest binary frame the server accepts, bytes (sequence number included).
pub const MAX_FRAME_BYTES: u64 = 1 << 20;
/// One uplink frame is this many milliseconds of audio (the protocol suggests 100–500 ms).
pub const FRAME_MS: u64 = 200;

/// What a session is: fixed when it is created, never changed (a restart must number frames the
/// same way).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SessionMeta {
    pub session: String,
    pub hearing: i64,
    pub station: String,
    pub channels: u16,
    pub sample_rate: u32,
    /// Sample frames per uplink frame (`seq`).
    pub frame_frames: u64,
    /// Sample frames per segment file.
    pub segment_frames: u64,
    /// Unix seconds when recording started.
    pub created: u64,
    /// `device NAME` or `replay FILE`.
    pub source: String,
}

impl SessionMeta {
    pub fn new(
        session: &str,
        hearing: i64,
        station: &str,
        channels: u16,
        sample_rate: u32,
        segment_secs: u64,
        source: &str,
    ) -> SessionMeta {
        let block = 2 * u64::from(channels);
        let by_time = (u64::from(sample_rate) * FRAME_MS / 1000).max(1);
        let by_size = (MAX_FRAME_BYTES - 8) / block;
        SessionMeta {
            session: session.to_string(),
            hearing,
            station: station.to_string(),
            channels,
            sample_rate,
            frame_frames: by_time.min(by_size),
            segment_frames: (segment_secs.max(1) * u64::from(sample_rate)).max(1),
            created: unix_now(),
            source: source.to_string(),
        }
    }

    /// Bytes per sample frame.
    pub fn block(&self) -> u64 {
        2 * u64::from(self.channels)
    }

    pub fn header_len(&self) -> u64 {
        courtscribe_audio::wav_header_s16(self.channels, self.sample_rate, 0).len() as u64
    }

    pub fn secs(&self, frames: u64) -> f64 {
        frames as f64 / f64::from(self.sample_rate)
    }

    /// Uplink frames needed for `frames` sample frames (the last one may be short).
    pub fn seq_count(&self, frames: u64) -> u64 {
        frames.div_ceil(self.frame_frames)
    }
}

/// The recording is complete.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Ended {
    pub frames: u64,
    /// Unix seconds.
    pub at: u64,
}

/// What the server has confirmed.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UplinkState {
    /// Frames `0..acked_next` are on the server's disk (its cumulative ack + 1).
    pub acked_next: u64,
    pub done: Option<Done>,
}

/// The server's answer to `end`, checked against the spool.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Done {
    pub recording: i64,
    pub pcm_sha256: String,
    /// Unix seconds when the server's hash was found equal to the spool's.
    pub verified_at: u64,
}

/// A clerk's marker (ghi chú của thư ký), kept until the server stored it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Marker {
    pub id: String,
    /// Seconds from the start of the session.
    pub offset: f64,
    pub text: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct IndexLine {
    segment: u64,
    frames: u64,
    pcm_sha256: String,
}

/// What [`Spool::open`] found and did.
#[derive(Debug, Default, Clone)]
pub struct Recovery {
    /// Sample frames in the spool.
    pub frames: u64,
    /// Bytes cut from a torn last segment (a partial sample frame).
    pub cut_bytes: u64,
    /// The last segment's header was rewritten.
    pub repaired: bool,
}

/// One session's folder.
#[derive(Debug, Clone)]
pub struct Spool {
    pub dir: PathBuf,
    pub meta: SessionMeta,
}

impl Spool {
    /// Creates a new session folder under `root`.
    pub fn create(root: &Path, meta: SessionMeta) -> std::io::Result<Spool> {
        let dir = root.join(&meta.session);
        std::fs::create_dir_all(&dir)?;
        write_json_atomically(&dir.join("session.json"), &meta)?;
        sync_dir(root)?;
        Ok(Spool { dir, meta })
    }

    /// Opens an existing session folder and repairs it after a crash: closed segments are checked
    /// against their expected length, the last one is cut to whole sample frames and its header
    /// rewritten.
    pub fn open(dir: &Path) -> std::io::Result<(Spool, Recovery)> {
        let spool = Spool::load(dir)?;
        let recovery = spool.repair()?;
        Ok((spool, recovery))
    }

    /// Reads a session folder's description without touching its audio (for looking around).
    pub fn load(dir: &Path) -> std::io::Result<Spool> {
        let meta: SessionMeta = read_json(&dir.join("session.json"))?.ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("{} has no session.json", dir.display()),
            )
        })?;
        Ok(Spool {
            dir: dir.to_path_buf(),
            meta,
        })
    }

    pub fn segment_path(&self, index: u64) -> PathBuf {
        self.dir.join(format!("seg-{index:06}.wav"))
    }

    /// Segment numbers present, in order.
    fn segments(&self) -> std::io::Result<Vec<u64>> {
        let mut found = Vec::new();
        for entry in std::fs::read_dir(&self.dir)? {
            let name = entry?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_prefix("seg-")
                .and_then(|r| r.strip_suffix(".wav"))
                .and_then(|n| n.parse::<u64>().ok())
            {
                found.push(n);
            }
        }
        found.sort_unstable();
        Ok(found)
    }

    fn repair(&self) -> std::io::Result<Recovery> {
        let segments = self.segments()?;
        let mut recovery = Recovery::default();
        let (header_len, block) = (self.meta.header_len(), self.meta.block());
        let full_bytes = self.meta.segment_frames * block;
        let indexed: HashSet<u64> = self.index()?.iter().map(|l| l.segment).collect();
        for (pos, &seg) in segments.iter().enumerate() {
            if seg != pos as u64 {
                return Err(corrupt(format!(
                    "{}: segment {pos} is missing",
                    self.dir.display()
                )));
            }
            let path = self.segment_path(seg);
            let len = std::fs::metadata(&path)?.len();
            let data = len.saturating_sub(header_len);
            let last = pos + 1 == segments.len();
            if !last && data != full_bytes {
                return Err(corrupt(format!(
                    "{} holds {data} bytes of audio; a closed segment holds {full_bytes}",
                    path.display()
                )));
            }
            if last {
                let whole = (data / block * block).min(full_bytes);
                let file = OpenOptions::new().read(true).write(true).open(&path)?;
                let mut head = vec![0u8; header_len as usize];
                let header_ok = len >= header_len
                    && file.read_exact_at(&mut head, 0).is_ok()
                    && head == self.header(whole);
                if whole + header_len != len || !header_ok {
                    recovery.cut_bytes = data - whole;
                    recovery.repaired = true;
                    file.set_len(header_len + whole)?;
                    file.write_all_at(&self.header(whole), 0)?;
                    file.sync_all()?;
                }
                if whole == full_bytes && !indexed.contains(&seg) {
                    self.append_index(seg)?;
                }
                recovery.frames = seg * self.meta.segment_frames + whole / block;
            }
        }
        Ok(recovery)
    }

    /// The WAV header of a segment holding `data_bytes` of PCM.
    pub fn header(&self, data_bytes: u64) -> Vec<u8> {
        let len = u32::try_from(data_bytes).unwrap_or(u32::MAX);
        courtscribe_audio::wav_header_s16(self.meta.channels, self.meta.sample_rate, len)
    }

    fn index(&self) -> std::io::Result<Vec<IndexLine>> {
        // A line torn by a crash is ignored; the segment it described is indexed again on open.
        read_jsonl(&self.dir.join("index.jsonl"))
    }

    /// Records a closed segment in the index (hashing its PCM), durably.
    pub fn append_index(&self, segment: u64) -> std::io::Result<()> {
        let mut file = File::open(self.segment_path(segment))?;
        let mut head = vec![0u8; self.meta.header_len() as usize];
        file.read_exact(&mut head)?;
        let mut hasher = Sha256::new();
        std::io::copy(&mut file, &mut hasher)?;
        let line = IndexLine {
            segment,
            frames: self.meta.segment_frames,
            pcm_sha256: hex::encode(hasher.finalize()),
        };
        append_line(
            &self.dir.join("index.jsonl"),
            &serde_json::to_string(&line)?,
        )
    }

    pub fn ended(&self) -> std::io::Result<Option<Ended>> {
        read_json(&self.dir.join("ended.json"))
    }

    pub fn set_ended(&self, ended: Ended) -> std::io::Result<()> {
        write_json_atomically(&self.dir.join("ended.json"), &ended)
    }

    pub fn uplink_state(&self) -> std::io::Result<UplinkState> {
        Ok(read_json(&self.dir.join("uplink.json"))?.unwrap_or_default())
    }

    pub fn set_uplink_state(&self, state: &UplinkState) -> std::io::Result<()> {
        write_json_atomically(&self.dir.join("uplink.json"), state)
    }

    /// Every marker, in the order they were made.
    pub fn markers(&self) -> std::io::Result<Vec<Marker>> {
        read_jsonl(&self.dir.join("markers.jsonl"))
    }

    pub fn add_marker(&self, marker: &Marker) -> std::io::Result<()> {
        append_line(
            &self.dir.join("markers.jsonl"),
            &serde_json::to_string(marker)?,
        )
    }

    pub fn acked_markers(&self) -> std::io::Result<HashSet<String>> {
        match std::fs::read_to_string(self.dir.join("markers-acked.txt")) {
            Ok(s) => Ok(s.lines().map(str::to_string).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(HashSet::new()),
            Err(e) => Err(e),
        }
    }

    pub fn ack_marker(&self, id: &str) -> std::io::Result<()> {
        append_line(&self.dir.join("markers-acked.txt"), id)
    }

    /// sha256 of the first `frames` sample frames (the session's PCM as the server hashes it).
    pub fn pcm_sha256(&self, frames: u64) -> std::io::Result<String> {
        let mut reader = SpoolReader::new(self.clone());
        let mut hasher = Sha256::new();
        let step = self.meta.segment_frames.min(1 << 16);
        let mut at = 0;
        while at < frames {
            let n = step.min(frames - at);
            hasher.update(reader.read(at, n)?);
            at += n;
        }
        Ok(hex::encode(hasher.finalize()))
    }
}

/// Reads sample frames back from the segments (for the uplink and for hashing), keeping the last
/// segment it touched open.
#[derive(Debug)]
pub struct SpoolReader {
    spool: Spool,
    open: Option<(u64, File)>,
}

impl SpoolReader {
    pub fn new(spool: Spool) -> SpoolReader {
        SpoolReader { spool, open: None }
    }

    /// Interleaved s16le bytes of sample frames `[start, start + count)`.
    pub fn read(&mut self, start: u64, count: u64) -> std::io::Result<Vec<u8>> {
        let meta = &self.spool.meta;
        let (block, seg_frames, header_len) =
            (meta.block(), meta.segment_frames, meta.header_len());
        let mut out = vec![0u8; (count * block) as usize];
        let mut done = 0u64;
        while done < count {
            let at = start + done;
            let (seg, within) = (at / seg_frames, at % seg_frames);
            let n = (seg_frames - within).min(count - done);
            if self.open.as_ref().map(|(s, _)| *s) != Some(seg) {
                self.open = None;
            }
            if self.open.is_none() {
                self.open = Some((seg, File::open(self.spool.segment_path(seg))?));
            }
            let (_, file) = self
                .open
                .as_ref()
                .ok_or_else(|| corrupt("segment not open".into()))?;
            let dst = &mut out[(done * block) as usize..((done + n) * block) as usize];
            file.read_exact_at(dst, header_len + within * block)?;
            done += n;
        }
        Ok(out)
    }
}

/// Sessions under a spool root, oldest first.
pub fn sessions(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    match std::fs::read_dir(root) {
        Ok(entries) => {
            for entry in entries {
                let path = entry?.path();
                if path.join("session.json").is_file() {
                    found.push(path);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    found.sort_by_key(|p| {
        read_json::<SessionMeta>(&p.join("session.json"))
            .ok()
            .flatten()
            .map_or(0, |m| m.created)
    });
    Ok(found)
}

pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<Option<T>> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| corrupt(format!("{}: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Temp file, fsync, rename, fsync of the folder: a reader sees the old or the new file, whole.
pub fn write_json_atomically<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    {
        let mut f = File::create(&tmp)?;
        f.write_all(&serde_json::to_vec(value)?)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

fn append_line(path: &Path, line: &str) -> std::io::Result<()> {
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(format!("{line}\n").as_bytes())?;
    f.sync_data()
}

pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

fn corrupt(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg)
}

pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The records of a JSON-lines file (none when it does not exist). A line torn by a crash, or
/// otherwise unreadable, is skipped.
fn read_jsonl<T: serde::de::DeserializeOwned>(path: &Path) -> std::io::Result<Vec<T>> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(BufReader::new(file)
        .lines()
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect())
}
