//! Where samples come from: a sound device (cpal) or a recording replayed as if it were one. Both
//! push interleaved `i16` sample frames into the same lock-free ring buffer; the writer does not
//! know which it is reading.
//!
//! The device callback only converts and copies into the ring (no locks, no allocation, no I/O);
//! when the ring is full it drops what does not fit and counts it. A replay waits instead (a file
//! has no deadline), so it can never lose audio even on a slow spool.

use std::fs::File;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use cpal::traits::{DeviceTrait as _, HostTrait as _, StreamTrait as _};

use crate::status::Shared;

/// A source of interleaved s16 audio. `start` runs it on its own thread until `shared.stop` is set
/// or it runs out, then sets `shared.source_done`.
pub trait Source: Send {
    fn channels(&self) -> u16;
    fn sample_rate(&self) -> u32;
    /// `device NAME` or `replay FILE`, stored with the session.
    fn describe(&self) -> String;
    /// Skips the first `frames` sample frames (a replay resumed after a restart continues where
    /// the spool ends). A device cannot go back in time and ignores it.
    fn skip(&mut self, frames: u64);
    fn start(
        self: Box<Self>,
        ring: rtrb::Producer<i16>,
        shared: Arc<Shared>,
    ) -> anyhow::Result<std::thread::JoinHandle<()>>;
}

/// A recording played into the ring buffer: in real time (`speed`× faster) or as fast as the
/// writer takes it.
#[derive(Debug)]
pub struct Replay {
    path: PathBuf,
    pcm: ReplayPcm,
    channels: u16,
    rate: u32,
    frames: u64,
    skip: u64,
    /// `None`: as fast as possible.
    speed: Option<f64>,
}

/// 16-bit WAV files are streamed from disk (a long 8-channel replay need not fit in memory);
/// anything else is decoded whole by `courtscribe-audio`.
#[derive(Debug)]
enum ReplayPcm {
    Wav { file: File, data_start: u64 },
    Memory(Vec<i16>),
}

impl Replay {
    pub fn open(path: &Path, speed: Option<f64>) -> anyhow::Result<Replay> {
        if let Some(s) = speed
            && !(s.is_finite() && s > 0.0)
        {
            bail!("--speed must be a positive number, not {s}");
        }
        let name = path.display();
        if let Some((file, data_start, data_len, channels, rate)) =
            open_s16_wav(path).with_context(|| format!("cannot read {name}"))?
        {
            let block = 2 * u64::from(channels);
            return Ok(Replay {
                path: path.to_path_buf(),
                pcm: ReplayPcm::Wav { file, data_start },
                channels,
                rate,
                frames: data_len / block,
                skip: 0,
                speed,
            });
        }
        let audio = courtscribe_audio::decode_file(path)
            .with_context(|| format!("cannot decode {name}"))?;
        let channels = u16::try_from(audio.channel_count())
            .ok()
            .filter(|c| (1..=32).contains(c))
            .with_context(|| {
                format!(
                    "{name} has {} channels; 1–32 are supported",
                    audio.channel_count()
                )
            })?;
        let mut pcm = Vec::with_capacity(audio.frames() * audio.channel_count());
        for i in 0..audio.frames() {
            for ch in &audio.channels {
                // The inverse of the decoder's i16 / 32768, as courtscribe-audio's pcm_sha256 does.
                let x = ch.get(i).copied().unwrap_or(0.0);
                pcm.push((x * 32768.0).round().clamp(-32768.0, 32767.0) as i16);
            }
        }
        Ok(Replay {
            path: path.to_path_buf(),
            frames: audio.frames() as u64,
            pcm: ReplayPcm::Memory(pcm),
            channels,
            rate: audio.sample_rate,
            skip: 0,
            speed,
        })
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Interleaved samples of frames `[at, at + n)` into `buf`.
    fn read(&mut self, at: u64, n: u64, buf: &mut Vec<i16>) -> std::io::Result<()> {
        let ch = u64::from(self.channels);
        buf.clear();
        match &mut self.pcm {
            ReplayPcm::Memory(pcm) => {
                buf.extend_from_slice(&pcm[(at * ch) as usize..((at + n) * ch) as usize]);
            }
            ReplayPcm::Wav { file, data_start } => {
                let mut bytes = vec![0u8; (n * ch * 2) as usize];
                file.seek(SeekFrom::Start(*data_start + at * ch * 2))?;
                file.read_exact(&mut bytes)?;
                buf.extend(
                    bytes
                        .chunks_exact(2)
                        .map(|b| i16::from_le_bytes([b[0], b[1]])),
                );
            }
        }
        Ok(())
    }
}

impl Source for Replay {
    fn channels(&self) -> u16 {
        self.channels
    }

    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn describe(&self) -> String {
        format!("replay {}", self.path.display())
    }

    fn skip(&mut self, frames: u64) {
        self.skip = frames.min(self.frames);
    }

    fn start(
        mut self: Box<Self>,
        mut ring: rtrb::Producer<i16>,
        shared: Arc<Shared>,
    ) -> anyhow::Result<std::thread::JoinHandle<()>> {
        Ok(std::thread::Builder::new()
            .name("replay".into())
            .spawn(move || {
                // 10 ms pieces, as a sound card's period would deliver them.
                let piece = u64::from(self.rate / 100).max(1);
                let t0 = Instant::now();
                let first = self.skip;
                let mut at = first;
                let mut buf = Vec::new();
                while at < self.frames && !shared.stop.load(Ordering::Relaxed) {
                    if let Some(speed) = self.speed {
                        let due = t0
                            + Duration::from_secs_f64(
                                (at - first) as f64 / f64::from(self.rate) / speed,
                            );
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    let n = piece.min(self.frames - at);
                    if let Err(e) = self.read(at, n, &mut buf) {
                        shared.log(format!(
                            "replay stopped: cannot read {}: {e}",
                            self.path.display()
                        ));
                        break;
                    }
                    while ring.push_entire_slice(&buf).is_err() {
                        if shared.stop.load(Ordering::Relaxed) {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    at += n;
                }
                shared.source_done.store(true, Ordering::Release);
            })?)
    }
}

/// `Some((file, data offset, data length, channels, rate))` for a 16-bit PCM WAV file, `None` for
/// anything else (decoded by `courtscribe-audio` instead).
#[allow(clippy::type_complexity)]
fn open_s16_wav(path: &Path) -> std::io::Result<Option<(File, u64, u64, u16, u32)>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let mut riff = [0u8; 12];
    if file.read_exact(&mut riff).is_err() || &riff[..4] != b"RIFF" || &riff[8..] != b"WAVE" {
        return Ok(None);
    }
    let mut fmt: Option<(u16, u32)> = None;
    let mut pos = 12u64;
    while pos + 8 <= len {
        let mut head = [0u8; 8];
        file.seek(SeekFrom::Start(pos))?;
        file.read_exact(&mut head)?;
        let size = u64::from(u32::from_le_bytes([head[4], head[5], head[6], head[7]]));
        match &head[..4] {
            b"fmt " if size >= 16 => {
                let mut f = vec![0u8; size.min(64) as usize];
                file.read_exact(&mut f)?;
                let tag = u16::from_le_bytes([f[0], f[1]]);
                let channels = u16::from_le_bytes([f[2], f[3]]);
                let rate = u32::from_le_bytes([f[4], f[5], f[6], f[7]]);
                let bits = u16::from_le_bytes([f[14], f[15]]);
                // WAVE_FORMAT_EXTENSIBLE carries the real format in its sub-format GUID.
                let pcm = tag == 1 || (tag == 0xFFFE && f.len() >= 26 && f[24..26] == [1, 0]);
                if !pcm || bits != 16 || !(1..=32).contains(&channels) {
                    return Ok(None);
                }
                fmt = Some((channels, rate));
            }
            b"data" => {
                let Some((channels, rate)) = fmt else {
                    return Ok(None);
                };
                // A header written before its data was complete may claim more than the file has.
                let data_len = size.min(len - pos - 8);
                return Ok(Some((file, pos + 8, data_len, channels, rate)));
            }
            _ => {}
        }
        pos += 8 + size + (size & 1);
    }
    Ok(None)
}

/// One line per input device of the default host: name, then channels and rates it offers.
pub fn list_devices() -> anyhow::Result<String> {
    let host = cpal::default_host();
    let default = host
        .default_input_device()
        .and_then(|d| d.name().ok())
        .unwrap_or_default();
    let mut out = String::new();
    for device in host
        .input_devices()
        .context("cannot list the sound devices")?
    {
        let Ok(name) = device.name() else { continue };
        let mark = if name == default { " (default)" } else { "" };
        let configs = device
            .supported_input_configs()
            .map(|cs| summarize(&cs.collect::<Vec<_>>()))
            .unwrap_or_else(|e| format!("cannot query: {e}"));
        out.push_str(&format!("{name}{mark}\t{configs}\n"));
    }
    if out.is_empty() {
        out.push_str("no input devices\n");
    }
    Ok(out)
}

/// What a device offers, in one line: channel counts, rate ranges, sample formats.
fn summarize(configs: &[cpal::SupportedStreamConfigRange]) -> String {
    let mut channels: Vec<u16> = configs.iter().map(|c| c.channels()).collect();
    channels.sort_unstable();
    channels.dedup();
    let mut rates: Vec<(u32, u32)> = configs
        .iter()
        .map(|c| (c.min_sample_rate().0, c.max_sample_rate().0))
        .collect();
    rates.sort_unstable();
    rates.dedup();
    let mut formats: Vec<String> = configs
        .iter()
        .map(|c| c.sample_format().to_string())
        .collect();
    formats.sort_unstable();
    formats.dedup();
    let channels = match (channels.first(), channels.last()) {
        (Some(a), Some(b)) if channels.len() as u32 == u32::from(*b - *a) + 1 && a != b => {
            format!("{a}–{b}")
        }
        _ => channels
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    };
    let rates = rates
        .iter()
        .map(|(a, b)| {
            if a == b {
                format!("{a}")
            } else {
                format!("{a}–{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "channels {channels}; rates {rates} Hz; formats {}",
        formats.join(" ")
    )
}

/// A sound device with the stream configuration chosen for it.
pub struct Device {
    device: cpal::Device,
    name: String,
    config: cpal::StreamConfig,
    format: cpal::SampleFormat,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("name", &self.name)
            .field("config", &self.config)
            .field("format", &self.format)
            .finish()
    }
}

impl Device {
    /// Opens `name` (or the default input device) with `channels` and `rate` (or the device's
    /// default configuration). Says what the device offers when it cannot do what was asked.
    pub fn open(
        name: Option<&str>,
        channels: Option<u16>,
        rate: Option<u32>,
    ) -> anyhow::Result<Device> {
        let host = cpal::default_host();
        let device = match name {
            None => host
                .default_input_device()
                .context("there is no default input device; see --list-devices")?,
            Some(want) => host
                .input_devices()
                .context("cannot list the sound devices")?
                .find(|d| d.name().is_ok_and(|n| n == want))
                .with_context(|| format!("no input device named `{want}`; see --list-devices"))?,
        };
        let name = device.name().unwrap_or_else(|_| "?".into());
        let default = device
            .default_input_config()
            .with_context(|| format!("device `{name}` offers no input configuration"))?;
        let channels = channels.unwrap_or(default.channels());
        let rate = rate.unwrap_or(default.sample_rate().0);
        if !(1..=32).contains(&channels) {
            bail!("--channels must be 1–32, not {channels}");
        }
        if !(8_000..=192_000).contains(&rate) {
            bail!("sample rate {rate} Hz is not supported (8000–192000 Hz, as the server accepts)");
        }
        let offered: Vec<cpal::SupportedStreamConfigRange> = device
            .supported_input_configs()
            .with_context(|| format!("cannot query device `{name}`"))?
            .collect();
        let usable = |f: cpal::SampleFormat| {
            matches!(
                f,
                cpal::SampleFormat::I16 | cpal::SampleFormat::F32 | cpal::SampleFormat::U16
            )
        };
        let pick = offered
            .iter()
            .filter(|c| {
                c.channels() == channels
                    && (c.min_sample_rate().0..=c.max_sample_rate().0).contains(&rate)
                    && usable(c.sample_format())
            })
            // Prefer integer samples: no conversion, no rounding.
            .min_by_key(|c| c.sample_format() != cpal::SampleFormat::I16)
            .with_context(|| {
                format!(
                    "device `{name}` cannot record {channels} channel(s) at {rate} Hz; it offers {}",
                    summarize(&offered)
                )
            })?;
        let format = pick.sample_format();
        let config = pick.with_sample_rate(cpal::SampleRate(rate)).config();
        Ok(Device {
            device,
            name,
            config,
            format,
        })
    }
}

impl Source for Device {
    fn channels(&self) -> u16 {
        self.config.channels
    }

    fn sample_rate(&self) -> u32 {
        self.config.sample_rate.0
    }

    fn describe(&self) -> String {
        format!("device {}", self.name)
    }

    fn skip(&mut self, _frames: u64) {}

    fn start(
        self: Box<Self>,
        ring: rtrb::Producer<i16>,
        shared: Arc<Shared>,
    ) -> anyhow::Result<std::thread::JoinHandle<()>> {
        // A cpal stream must stay on the thread that built it; that thread then only waits.
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
        let handle = std::thread::Builder::new()
            .name("device".into())
            .spawn(move || {
                let stream = match build_stream(&self, ring, shared.clone()) {
                    Ok(s) => s,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("{e:#}")));
                        shared.source_done.store(true, Ordering::Release);
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                while !shared.stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                drop(stream);
                shared.source_done.store(true, Ordering::Release);
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(handle),
            Ok(Err(e)) => bail!(e),
            Err(_) => bail!("the device thread ended before the stream started"),
        }
    }
}

fn build_stream(
    d: &Device,
    ring: rtrb::Producer<i16>,
    shared: Arc<Shared>,
) -> anyhow::Result<cpal::Stream> {
    let channels = usize::from(d.config.channels);
    let errors = shared.clone();
    let on_error = move |e: cpal::StreamError| errors.log(format!("device error: {e}"));
    let stream = match d.format {
        cpal::SampleFormat::I16 => {
            let mut push = Pusher::new(ring, shared, channels);
            d.device.build_input_stream(
                &d.config,
                move |data: &[i16], _: &_| push.push(data, |&s| s),
                on_error,
                None,
            )
        }
        cpal::SampleFormat::F32 => {
            let mut push = Pusher::new(ring, shared, channels);
            d.device.build_input_stream(
                &d.config,
                move |data: &[f32], _: &_| {
                    push.push(data, |&x| {
                        (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
                    })
                },
                on_error,
                None,
            )
        }
        cpal::SampleFormat::U16 => {
            let mut push = Pusher::new(ring, shared, channels);
            d.device.build_input_stream(
                &d.config,
                move |data: &[u16], _: &_| push.push(data, |&u| (u ^ 0x8000) as i16),
                on_error,
                None,
            )
        }
        other => bail!("sample format {other} is not supported"),
    }
    .with_context(|| format!("cannot open device `{}`", d.name))?;
    stream
        .play()
        .with_context(|| format!("cannot start device `{}`", d.name))?;
    Ok(stream)
}

/// The real-time side of the ring buffer: copies whole sample frames, never blocks.
struct Pusher {
    ring: rtrb::Producer<i16>,
    shared: Arc<Shared>,
    channels: usize,
}

impl Pusher {
    fn new(ring: rtrb::Producer<i16>, shared: Arc<Shared>, channels: usize) -> Pusher {
        Pusher {
            ring,
            shared,
            channels,
        }
    }

    fn push<T>(&mut self, data: &[T], convert: impl Fn(&T) -> i16) {
        let fits = self.ring.slots().min(data.len()) / self.channels * self.channels;
        if fits > 0
            && let Ok(chunk) = self.ring.write_chunk_uninit(fits)
        {
            chunk.fill_from_iter(data[..fits].iter().map(convert));
        }
        if fits < data.len() {
            self.shared
                .dropped_samples
                .fetch_add((data.len() - fits) as u64, Ordering::Relaxed);
        }
    }
}
