//! Container and codec decoding with symphonia: bytes in, [`DecodedAudio`] out.
//!
//! The order of defences against bad input: an empty check, content sniffing ([`crate::sniff`]),
//! a look at the declared length before any sample buffer is reserved (so a header that lies
//! about hours of audio costs nothing), packet-by-packet decoding with a running length cap, and a
//! comparison of what was decoded with what the header declared. `catch_unwind` sits behind all of
//! that only because symphonia 0.5 still has panics (index and arithmetic overflow) on some
//! malformed streams, and an upload must never take the server down.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;

use symphonia::core::audio::{AudioBuffer, AudioBufferRef, Signal};
use symphonia::core::codecs::{self, CODEC_TYPE_NULL, CodecParameters, CodecType, DecoderOptions};
use symphonia::core::conv::IntoSample;
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::{FormatOptions, Track};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;
use symphonia::core::sample::Sample;

use crate::pcm::PcmDigest;
use crate::resample::StreamResampler;
use crate::sniff::{Container, SNIFF_LEN, sniff};
use crate::{AudioSummary, Decoded16k, DecodedAudio, Error};

/// Default cap on a recording's length: 12 hours, longer than any single hearing day. Past it we
/// refuse rather than hold gigabytes of samples.
pub const MAX_DURATION_SECS: f64 = 12.0 * 3600.0;

/// Lowest byte rate at which any codec we accept could plausibly store audio (8 kbit/s). A
/// compressed file smaller than `declared_secs × this` cannot hold what its header declares, so the
/// declared length is not trusted for reserving memory or for an early `TooLong`.
const MIN_PLAUSIBLE_BYTES_PER_SEC: f64 = 1000.0;

/// In a lossy stream, more than this fraction of undecodable packets makes the file `Corrupt`;
/// fewer are replaced by silence of the same length so that later timestamps stay right.
const MAX_BAD_PACKET_FRACTION: f64 = 0.05;

/// Demuxer errors in a row after which we stop looking for the next good packet.
const MAX_CONSECUTIVE_DEMUX_ERRORS: u32 = 64;

/// Limits applied while decoding.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Longest recording accepted, in seconds; longer gives [`Error::TooLong`].
    pub max_duration_secs: f64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        DecodeOptions {
            max_duration_secs: MAX_DURATION_SECS,
        }
    }
}

/// Decode a recording from disk. The container is recognised from its content, not its name.
pub fn decode_file(path: &Path) -> Result<DecodedAudio, Error> {
    decode_file_with(path, &DecodeOptions::default())
}

/// [`decode_file`] with explicit limits.
pub fn decode_file_with(path: &Path, options: &DecodeOptions) -> Result<DecodedAudio, Error> {
    let (file, byte_len, container) = open_sniffed(path)?;
    guarded(|| decode_source(Box::new(file), byte_len, container, options)).map(decoded)
}

/// The file, its length and its container, recognised from its first bytes.
fn open_sniffed(path: &Path) -> Result<(File, u64, Container), Error> {
    let mut file = File::open(path)?;
    let byte_len = file.metadata()?.len();
    if byte_len == 0 {
        return Err(Error::Empty);
    }
    let mut head = Vec::with_capacity(SNIFF_LEN);
    (&mut file).take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    file.seek(SeekFrom::Start(0))?;
    let hint = path.extension().and_then(|e| e.to_str());
    let container = sniff_with_hint(&head, hint)?;
    Ok((file, byte_len, container))
}

fn decoded((codec, sample_rate, channels): (String, u32, Vec<Vec<f32>>)) -> DecodedAudio {
    DecodedAudio {
        sample_rate,
        channels,
        codec,
    }
}

/// Decode a recording from disk without keeping its samples: its length, layout and `pcm_sha256`,
/// with the same checks and errors as [`decode_file`], in memory that does not grow with the
/// recording (a 3-hour 5-microphone upload would be ~10 GB of samples).
pub fn inspect_file(path: &Path) -> Result<AudioSummary, Error> {
    let (file, byte_len, container) = open_sniffed(path)?;
    let options = DecodeOptions::default();
    let (codec, sample_rate, hashed) =
        guarded(|| decode_source::<Hashed>(Box::new(file), byte_len, container, &options))?;
    Ok(summary(codec, sample_rate, hashed))
}

fn summary(codec: String, sample_rate: u32, hashed: Hashed) -> AudioSummary {
    AudioSummary {
        sample_rate,
        channels: hashed.channels,
        frames: hashed.frames,
        codec,
        pcm_sha256: hashed.digest.finish(),
    }
}

/// Decode a recording from disk straight to 16 kHz: every channel is resampled as its packets are
/// decoded, so the native-rate samples are never held (a 3-hour 5-microphone recording at 48 kHz
/// is ~10 GB of `f32` at its own rate, ~3.5 GB at 16 kHz). The same checks and errors as
/// [`decode_file`]; the channels equal [`DecodedAudio::to_16k`] of it and the source equals
/// [`inspect_file`] of it.
pub fn decode_file_16k(path: &Path) -> Result<Decoded16k, Error> {
    let (file, byte_len, container) = open_sniffed(path)?;
    let options = DecodeOptions::default();
    let (codec, sample_rate, at16k) =
        guarded(|| decode_source::<At16k>(Box::new(file), byte_len, container, &options))?;
    let channels = at16k
        .resamplers
        .into_iter()
        .map(StreamResampler::finish)
        .collect::<Result<_, _>>()?;
    Ok(Decoded16k {
        source: summary(codec, sample_rate, at16k.native),
        channels,
    })
}

/// Decode a recording held in memory (an upload). `hint` is the file extension if known; it only
/// improves error messages, because the content is sniffed regardless.
pub fn decode_bytes(bytes: Vec<u8>, hint: Option<&str>) -> Result<DecodedAudio, Error> {
    decode_bytes_with(bytes, hint, &DecodeOptions::default())
}

/// [`decode_bytes`] with explicit limits.
pub fn decode_bytes_with(
    bytes: Vec<u8>,
    hint: Option<&str>,
    options: &DecodeOptions,
) -> Result<DecodedAudio, Error> {
    if bytes.is_empty() {
        return Err(Error::Empty);
    }
    let container = sniff_with_hint(&bytes[..bytes.len().min(SNIFF_LEN)], hint)?;
    let byte_len = bytes.len() as u64;
    guarded(|| {
        decode_source(
            Box::new(std::io::Cursor::new(bytes)),
            byte_len,
            container,
            options,
        )
    })
    .map(decoded)
}

fn sniff_with_hint(head: &[u8], hint: Option<&str>) -> Result<Container, Error> {
    sniff(head).map_err(|detail| Error::UnsupportedFormat {
        detail: match hint {
            Some(ext) => format!("named .{}, but {detail}", ext.trim_start_matches('.')),
            None => detail,
        },
    })
}

/// Turn a panic inside symphonia into `Corrupt`. This is the last line of defence, not the plan:
/// every condition we know of is checked before it can reach a panic. (With `panic = "abort"` this
/// cannot help, which is one reason the workspace profiles keep unwinding.)
fn guarded<T>(decode: impl FnOnce() -> Result<T, Error>) -> Result<T, Error> {
    catch_unwind(AssertUnwindSafe(decode)).unwrap_or_else(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(Error::Corrupt {
            detail: format!("the decoder failed on malformed data ({what})"),
        })
    })
}

/// Decodes into `F` (kept samples or a running hash): codec name, sample rate and what `F` holds.
fn decode_source<F: Frames>(
    source: Box<dyn MediaSource>,
    byte_len: u64,
    container: Container,
    options: &DecodeOptions,
) -> Result<(String, u32, F), Error> {
    let stream = MediaSourceStream::new(source, Default::default());
    let mut hint = Hint::new();
    hint.with_extension(container.extension());
    // Gapless trimming removes the encoder delay of mp3/vorbis, so decoded audio lines up in time
    // with the original recording (about 25 ms at 44.1 kHz for LAME).
    let format_options = FormatOptions {
        enable_gapless: true,
        ..Default::default()
    };
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &format_options, &MetadataOptions::default())
        .map_err(|e| from_symphonia(e, "container header"))?;
    let mut reader = probed.format;

    let registry = symphonia::default::get_codecs();
    let track = pick_track(reader.tracks(), |codec| registry.get_codec(codec).is_some())?;
    let track_id = track.id;
    let params = track.codec_params.clone();
    let codec_name = registry
        .get_codec(params.codec)
        .map_or("unknown", |d| d.short_name)
        .to_string();
    let mut decoder = registry
        .make(&params, &DecoderOptions::default())
        .map_err(|e| from_symphonia(e, "codec setup"))?;

    let plan = LengthPlan::new(&params, &codec_name, byte_len, options)?;
    let mut sink = Sink::<F>::new(plan.reserve_frames);
    let mut packets = 0u64;
    let mut bad_packets = 0u64;
    let mut first_bad: Option<String> = None;
    let mut demux_errors_in_a_row = 0;

    loop {
        let packet = match reader.next_packet() {
            Ok(packet) => packet,
            // End of stream; for a truncated file also "end of what is there", judged below.
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            // A chained Ogg stream starts a new logical stream; the hearing is the first one.
            Err(SymError::ResetRequired) => break,
            Err(SymError::DecodeError(msg)) => {
                demux_errors_in_a_row += 1;
                bad_packets += 1;
                first_bad.get_or_insert_with(|| msg.to_string());
                if demux_errors_in_a_row > MAX_CONSECUTIVE_DEMUX_ERRORS {
                    return Err(Error::Corrupt {
                        detail: format!("the container cannot be read past this point: {msg}"),
                    });
                }
                continue;
            }
            Err(e) => return Err(from_symphonia(e, "container")),
        };
        demux_errors_in_a_row = 0;
        if packet.track_id() != track_id {
            continue; // video, subtitles, other audio tracks
        }
        packets += 1;
        match decoder.decode(&packet) {
            Ok(buffer) => sink.append(buffer)?,
            // A damaged packet: keep the timeline by putting silence of its length in its place.
            // The codec was set up from the header, so "unsupported" here means a damaged packet
            // that happens to look like an unsupported feature (the AAC decoder reports garbage
            // as an unknown "program config").
            Err(SymError::DecodeError(msg) | SymError::Unsupported(msg)) => {
                bad_packets += 1;
                first_bad.get_or_insert_with(|| msg.to_string());
                sink.pad_silence(packet.dur.min(SILENCE_CAP_FRAMES))?;
            }
            Err(SymError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                bad_packets += 1;
                first_bad.get_or_insert_with(|| "packet ends early".into());
                sink.pad_silence(packet.dur.min(SILENCE_CAP_FRAMES))?;
            }
            Err(SymError::ResetRequired) => {
                decoder.reset();
            }
            Err(e) => return Err(from_symphonia(e, "audio data")),
        }
        if sink.frames() > plan.max_frames {
            return Err(Error::TooLong {
                secs: plan.secs(sink.frames()),
                max_secs: options.max_duration_secs,
            });
        }
    }

    let failed_detail = || {
        format!(
            "{bad_packets} of {packets} packets could not be decoded (first error: {})",
            first_bad.as_deref().unwrap_or("none")
        )
    };
    let found = sink.frames();
    let Some((sample_rate, frames)) = sink.finish()? else {
        if bad_packets > 0 {
            return Err(Error::Corrupt {
                detail: failed_detail(),
            });
        }
        if let Some(declared) = plan.declared_frames {
            return Err(Error::Truncated {
                declared_secs: plan.secs(declared),
                found_secs: 0.0,
            });
        }
        return Err(Error::Empty);
    };
    if bad_packets > 0 {
        if bad_packets as f64 > MAX_BAD_PACKET_FRACTION * packets.max(1) as f64 {
            return Err(Error::Corrupt {
                detail: failed_detail(),
            });
        }
        tracing::warn!(codec = %codec_name, "{}; replaced with silence", failed_detail());
    }
    if let Some(declared) = plan.declared_frames {
        let missing = declared.saturating_sub(found);
        // Lossy decoders may legitimately stop a packet or so short of the container's count.
        // Lossless streams get 1 ms (at least 8 frames) only because symphonia 0.5's AIFF reader
        // counts the 8-byte offset/block-size fields of SSND as audio; a real cut loses far more.
        let tolerance = if is_lossless(&codec_name) {
            (plan.rate / 1000).max(8)
        } else {
            (plan.rate / 5).max(declared / 100)
        };
        if missing > tolerance {
            return Err(Error::Truncated {
                declared_secs: plan.secs(declared),
                found_secs: plan.secs(found),
            });
        }
    }
    Ok((codec_name, sample_rate, frames))
}

/// Most silence one failed packet may stand for: a FLAC block's maximum (65535 frames). A corrupt
/// packet may claim any duration; this keeps a lie from becoming a huge allocation.
const SILENCE_CAP_FRAMES: u64 = 65_536;

/// The first audio track symphonia can decode. Video and subtitle tracks carry no sample rate.
fn pick_track(tracks: &[Track], decodable: impl Fn(CodecType) -> bool) -> Result<&Track, Error> {
    let is_audio = |t: &&Track| {
        t.codec_params.codec != CODEC_TYPE_NULL && t.codec_params.sample_rate.is_some()
    };
    if let Some(track) = tracks
        .iter()
        .filter(is_audio)
        .find(|t| decodable(t.codec_params.codec))
    {
        return Ok(track);
    }
    match tracks.iter().find(is_audio) {
        Some(track) => Err(Error::UnsupportedFormat {
            detail: format!(
                "the audio codec ({}) is not supported; convert the file to FLAC or WAV",
                codec_label(track.codec_params.codec)
            ),
        }),
        None => Err(Error::NoAudioTrack),
    }
}

fn codec_label(codec: CodecType) -> String {
    match codec {
        codecs::CODEC_TYPE_OPUS => "opus".into(),
        codecs::CODEC_TYPE_EAC3 => "e-ac-3".into(),
        codecs::CODEC_TYPE_AC4 => "ac-4".into(),
        codecs::CODEC_TYPE_DCA => "dts".into(),
        codecs::CODEC_TYPE_WAVPACK => "wavpack".into(),
        other => format!("codec id {other}"),
    }
}

/// By symphonia's short codec name. A lossless stream must decode to exactly its declared length.
fn is_lossless(codec_name: &str) -> bool {
    is_pcm(codec_name) || matches!(codec_name, "flac" | "alac" | "wavpack")
}

/// Uncompressed PCM (including A-law and mu-law, one byte a sample; ADPCM is "adpcm_*").
fn is_pcm(codec_name: &str) -> bool {
    codec_name.starts_with("pcm_")
}

/// What the header says about length, checked against the file size before anything is reserved.
struct LengthPlan {
    rate: u64,
    declared_frames: Option<u64>,
    max_frames: u64,
    reserve_frames: usize,
}

impl LengthPlan {
    fn new(
        params: &CodecParameters,
        codec_name: &str,
        byte_len: u64,
        options: &DecodeOptions,
    ) -> Result<Self, Error> {
        let rate = u64::from(params.sample_rate.unwrap_or(0));
        if rate == 0 {
            return Err(Error::Corrupt {
                detail: "the header gives a sample rate of 0 Hz".into(),
            });
        }
        let max_frames = (options.max_duration_secs.max(0.0) * rate as f64) as u64;
        let declared_frames = params.n_frames.filter(|&n| n > 0);
        let plan = |reserve: u64| LengthPlan {
            rate,
            declared_frames,
            max_frames,
            reserve_frames: usize::try_from(reserve).unwrap_or(0),
        };
        let too_long = |frames: u64| Error::TooLong {
            secs: frames as f64 / rate as f64,
            max_secs: options.max_duration_secs,
        };

        // Uncompressed PCM: the file size says exactly how many frames can be present.
        let channels = params.channels.map(|c| c.count() as u64);
        let bits = params.bits_per_coded_sample.or(params.bits_per_sample);
        if let (true, Some(channels), Some(bits)) = (is_pcm(codec_name), channels, bits) {
            let frame_bytes = (channels * u64::from(bits)).div_ceil(8).max(1);
            let present = byte_len / frame_bytes;
            let frames = declared_frames.map_or(present, |d| d.min(present));
            if frames > max_frames {
                return Err(too_long(frames));
            }
            return Ok(plan(frames));
        }
        // Compressed: trust the declared length only if the file is big enough to hold it.
        match declared_frames {
            Some(declared)
                if byte_len as f64
                    >= declared as f64 / rate as f64 * MIN_PLAUSIBLE_BYTES_PER_SEC =>
            {
                if declared > max_frames {
                    return Err(too_long(declared));
                }
                // One packet of slack: decoders may overshoot the container's count slightly, and
                // a reallocation at the very end would briefly double the memory.
                let slack = u64::from(
                    params
                        .max_frames_per_packet
                        .map_or(8192, |m| m.min(65_536) as u32),
                );
                Ok(plan(declared + slack))
            }
            _ => Ok(plan(0)),
        }
    }

    fn secs(&self, frames: u64) -> f64 {
        frames as f64 / self.rate as f64
    }
}

/// Where decoded frames go: kept per channel ([`decode_file`]), resampled to 16 kHz as they come
/// ([`decode_file_16k`]), or only counted and hashed ([`inspect_file`]).
trait Frames: Sized {
    /// Storage for `channels` channels at `rate` Hz, `reserve` frames expected, starting with
    /// `silence` frames of silence (bad packets met before the first good one told us the layout).
    fn start(channels: usize, rate: u32, reserve: usize, silence: u64) -> Result<Self, Error>;
    fn channel_count(&self) -> usize;
    fn frames(&self) -> u64;
    /// Appends one decoded buffer; every sample becomes `f32` by symphonia's `IntoSample`.
    fn push<S: Sample + IntoSample<f32>>(&mut self, buffer: &AudioBuffer<S>) -> Result<(), Error>;
    fn silence(&mut self, frames: u64) -> Result<(), Error>;
    /// Called once at the end.
    fn finish(&mut self) -> Result<(), Error> {
        Ok(())
    }
}

/// Per-channel samples, filled straight from symphonia's planar buffers (no interleaved
/// intermediate).
impl Frames for Vec<Vec<f32>> {
    fn start(channels: usize, _rate: u32, reserve: usize, silence: u64) -> Result<Self, Error> {
        let silence = usize::try_from(silence).unwrap_or(0);
        Ok((0..channels)
            .map(|_| {
                let mut c = Vec::with_capacity(reserve.max(silence));
                c.resize(silence, 0.0);
                c
            })
            .collect())
    }

    fn channel_count(&self) -> usize {
        self.len()
    }

    fn frames(&self) -> u64 {
        self.first().map_or(0, |c| c.len() as u64)
    }

    fn push<S: Sample + IntoSample<f32>>(&mut self, buffer: &AudioBuffer<S>) -> Result<(), Error> {
        for (index, channel) in self.iter_mut().enumerate() {
            channel.extend(buffer.chan(index).iter().map(|&s| s.into_sample()));
        }
        Ok(())
    }

    fn silence(&mut self, frames: u64) -> Result<(), Error> {
        let frames = usize::try_from(frames).unwrap_or(0);
        for channel in self.iter_mut() {
            channel.resize(channel.len() + frames, 0.0);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), Error> {
        for channel in self.iter_mut() {
            // Give back a reservation that turned out much too large (a lossy header overstating).
            if channel.capacity() - channel.len() > channel.len() / 8 + 65_536 {
                channel.shrink_to_fit();
            }
        }
        Ok(())
    }
}

/// Frames counted and hashed as they come, straight from symphonia's buffers; nothing is kept.
struct Hashed {
    channels: usize,
    frames: u64,
    digest: PcmDigest,
}

impl Frames for Hashed {
    fn start(channels: usize, _rate: u32, _reserve: usize, silence: u64) -> Result<Self, Error> {
        let mut hashed = Hashed {
            channels,
            frames: 0,
            digest: PcmDigest::default(),
        };
        hashed.silence(silence)?;
        Ok(hashed)
    }

    fn channel_count(&self) -> usize {
        self.channels
    }

    fn frames(&self) -> u64 {
        self.frames
    }

    fn push<S: Sample + IntoSample<f32>>(&mut self, buffer: &AudioBuffer<S>) -> Result<(), Error> {
        let n = buffer.frames();
        self.digest.add(n, self.channels, |frame, channel| {
            buffer.chan(channel)[frame].into_sample()
        });
        self.frames += n as u64;
        Ok(())
    }

    fn silence(&mut self, frames: u64) -> Result<(), Error> {
        self.digest.add(
            usize::try_from(frames).unwrap_or(0),
            self.channels,
            |_, _| 0.0,
        );
        self.frames += frames;
        Ok(())
    }
}

/// Frames hashed as they come, and every channel resampled to 16 kHz on the way: the recording is
/// never held at its native rate (a third of the memory for 48 kHz sources, and no second copy
/// for the resampler).
struct At16k {
    native: Hashed,
    resamplers: Vec<StreamResampler>,
    /// One channel of one buffer as `f32`, reused.
    scratch: Vec<f32>,
}

impl Frames for At16k {
    fn start(channels: usize, rate: u32, reserve: usize, silence: u64) -> Result<Self, Error> {
        let mut at16k = At16k {
            native: Hashed::start(channels, rate, reserve, 0)?,
            resamplers: (0..channels)
                .map(|_| StreamResampler::new(rate, crate::WHISPER_SAMPLE_RATE, reserve))
                .collect::<Result<_, _>>()?,
            scratch: Vec::new(),
        };
        at16k.silence(silence)?;
        Ok(at16k)
    }

    fn channel_count(&self) -> usize {
        self.native.channels
    }

    fn frames(&self) -> u64 {
        self.native.frames
    }

    fn push<S: Sample + IntoSample<f32>>(&mut self, buffer: &AudioBuffer<S>) -> Result<(), Error> {
        self.native.push(buffer)?;
        for (index, resampler) in self.resamplers.iter_mut().enumerate() {
            self.scratch.clear();
            self.scratch
                .extend(buffer.chan(index).iter().map(|&s| s.into_sample()));
            resampler.push(&self.scratch)?;
        }
        Ok(())
    }

    fn silence(&mut self, frames: u64) -> Result<(), Error> {
        self.native.silence(frames)?;
        self.scratch.clear();
        self.scratch
            .resize(usize::try_from(frames).unwrap_or(0), 0.0);
        for resampler in &mut self.resamplers {
            resampler.push(&self.scratch)?;
        }
        Ok(())
    }
}

/// Decoded frames of one layout (sample rate, channel count) in `F`.
struct Sink<F> {
    reserve_frames: usize,
    layout: Option<(u32, F)>,
    /// Silence owed for bad packets met before the first good one told us the channel count.
    pending_silence: u64,
}

impl<F: Frames> Sink<F> {
    fn new(reserve_frames: usize) -> Self {
        Sink {
            reserve_frames,
            layout: None,
            pending_silence: 0,
        }
    }

    fn frames(&self) -> u64 {
        self.layout
            .as_ref()
            .map_or(self.pending_silence, |(_, f)| f.frames())
    }

    fn append(&mut self, buffer: AudioBufferRef<'_>) -> Result<(), Error> {
        let spec = *buffer.spec();
        let count = spec.channels.count();
        let (rate, frames) = match &mut self.layout {
            Some(layout) => layout,
            empty => empty.insert((
                spec.rate,
                F::start(count, spec.rate, self.reserve_frames, self.pending_silence)?,
            )),
        };
        if frames.channel_count() != count || *rate != spec.rate {
            return Err(Error::Corrupt {
                detail: format!(
                    "the stream changes from {} channels at {} Hz to {count} channels at {} Hz",
                    frames.channel_count(),
                    rate,
                    spec.rate
                ),
            });
        }
        match buffer {
            AudioBufferRef::U8(b) => frames.push(&b)?,
            AudioBufferRef::U16(b) => frames.push(&b)?,
            AudioBufferRef::U24(b) => frames.push(&b)?,
            AudioBufferRef::U32(b) => frames.push(&b)?,
            AudioBufferRef::S8(b) => frames.push(&b)?,
            AudioBufferRef::S16(b) => frames.push(&b)?,
            AudioBufferRef::S24(b) => frames.push(&b)?,
            AudioBufferRef::S32(b) => frames.push(&b)?,
            AudioBufferRef::F32(b) => frames.push(&b)?,
            AudioBufferRef::F64(b) => frames.push(&b)?,
        }
        Ok(())
    }

    fn pad_silence(&mut self, frames: u64) -> Result<(), Error> {
        match &mut self.layout {
            Some((_, f)) => f.silence(frames),
            None => {
                self.pending_silence += frames;
                Ok(())
            }
        }
    }

    /// The frames and their rate; `None` when no packet decoded.
    fn finish(self) -> Result<Option<(u32, F)>, Error> {
        let Some((rate, mut frames)) = self.layout else {
            return Ok(None);
        };
        frames.finish()?;
        Ok(Some((rate, frames)))
    }
}

fn from_symphonia(error: SymError, part: &str) -> Error {
    match error {
        SymError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Error::Corrupt {
            detail: format!("the file ends inside the {part} (cut short?)"),
        },
        SymError::IoError(e) => Error::Io(e),
        SymError::Unsupported(msg) => Error::UnsupportedFormat {
            detail: msg.to_string(),
        },
        SymError::DecodeError(msg) | SymError::LimitError(msg) => Error::Corrupt {
            detail: format!("{part}: {msg}"),
        },
        SymError::SeekError(_) | SymError::ResetRequired => Error::Corrupt {
            detail: format!("{part}: {error}"),
        },
    }
}
