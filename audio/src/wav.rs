//! A minimal 16-bit PCM WAV writer for tests and the capture agent. Hand-written (about forty lines)
//! rather than pulling in `hound`: we only ever write one format, and above two channels we must
//! write WAVE_FORMAT_EXTENSIBLE with a channel mask, which readers (symphonia included) expect.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use crate::pcm::f32_to_i16;

const WAVE_FORMAT_PCM: u16 = 1;
const WAVE_FORMAT_EXTENSIBLE: u16 = 0xFFFE;
/// KSDATAFORMAT_SUBTYPE_PCM: {00000001-0000-0010-8000-00aa00389b71}, stored little-endian.
const SUBTYPE_PCM: [u8; 16] = [
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];
/// Speaker positions defined by WAVEFORMATEXTENSIBLE; more channels get mask 0 ("unassigned").
const MAX_MASKED_CHANNELS: usize = 18;

/// Write `channels` (all the same length, samples in `[-1, 1]`) as a 16-bit PCM WAV file.
/// Samples are rounded and clamped exactly as [`crate::DecodedAudio::pcm_sha256`] does, so the file
/// decodes back to the same hash.
pub fn write_wav_s16(path: &Path, sample_rate: u32, channels: &[Vec<f32>]) -> std::io::Result<()> {
    let invalid = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, msg);
    let n_channels = channels.len();
    let frames = channels.first().map_or(0, Vec::len);
    if n_channels == 0 || n_channels > usize::from(u16::MAX / 2) {
        return Err(invalid(format!("cannot write {n_channels} channels")));
    }
    if channels.iter().any(|c| c.len() != frames) {
        return Err(invalid("channels differ in length".into()));
    }
    let block_align = 2 * n_channels;
    let data_len = u32::try_from(frames as u64 * block_align as u64)
        .ok()
        .filter(|len| *len <= MAX_WAV_DATA_BYTES)
        .ok_or_else(|| invalid("too much audio for one WAV file (4 GiB); split it".into()))?;
    let mut w = BufWriter::new(File::create(path)?);
    w.write_all(&wav_header_s16(n_channels as u16, sample_rate, data_len))?;
    for frame in 0..frames {
        for channel in channels {
            w.write_all(&f32_to_i16(channel[frame]).to_le_bytes())?;
        }
    }
    w.flush()
}

/// Most PCM bytes one WAV file can hold (its sizes are 32-bit).
pub const MAX_WAV_DATA_BYTES: u32 = u32::MAX - 80;

/// The header of a 16-bit PCM WAV file holding `data_len` bytes of interleaved samples: plain PCM
/// up to two channels, WAVE_FORMAT_EXTENSIBLE with a channel mask above. The samples follow it
/// directly, so a writer can stream them (the server turns a live session's raw PCM into a WAV
/// file this way).
pub fn wav_header_s16(channels: u16, sample_rate: u32, data_len: u32) -> Vec<u8> {
    let n_channels = usize::from(channels);
    let block_align = 2 * n_channels;
    let extensible = n_channels > 2;
    let fmt_len: u32 = if extensible { 40 } else { 16 };
    let mut w = Vec::with_capacity(68);
    w.extend_from_slice(b"RIFF");
    w.extend_from_slice(&(4 + 8 + fmt_len + 8).saturating_add(data_len).to_le_bytes());
    w.extend_from_slice(b"WAVEfmt ");
    w.extend_from_slice(&fmt_len.to_le_bytes());
    let tag = if extensible {
        WAVE_FORMAT_EXTENSIBLE
    } else {
        WAVE_FORMAT_PCM
    };
    w.extend_from_slice(&tag.to_le_bytes());
    w.extend_from_slice(&channels.to_le_bytes());
    w.extend_from_slice(&sample_rate.to_le_bytes());
    w.extend_from_slice(&(sample_rate.saturating_mul(block_align as u32)).to_le_bytes());
    w.extend_from_slice(&(block_align as u16).to_le_bytes());
    w.extend_from_slice(&16u16.to_le_bytes());
    if extensible {
        let mask: u32 = if n_channels <= MAX_MASKED_CHANNELS {
            (1 << n_channels) - 1
        } else {
            0
        };
        w.extend_from_slice(&22u16.to_le_bytes()); // cbSize
        w.extend_from_slice(&16u16.to_le_bytes()); // valid bits per sample
        w.extend_from_slice(&mask.to_le_bytes());
        w.extend_from_slice(&SUBTYPE_PCM);
    }
    w.extend_from_slice(b"data");
    w.extend_from_slice(&data_len.to_le_bytes());
    w
}
