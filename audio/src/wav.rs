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
        .filter(|len| *len <= u32::MAX - 80)
        .ok_or_else(|| invalid("too much audio for one WAV file (4 GiB); split it".into()))?;
    let extensible = n_channels > 2;
    let fmt_len: u32 = if extensible { 40 } else { 16 };

    let mut w = BufWriter::new(File::create(path)?);
    w.write_all(b"RIFF")?;
    w.write_all(&(4 + 8 + fmt_len + 8 + data_len).to_le_bytes())?;
    w.write_all(b"WAVEfmt ")?;
    w.write_all(&fmt_len.to_le_bytes())?;
    let tag = if extensible {
        WAVE_FORMAT_EXTENSIBLE
    } else {
        WAVE_FORMAT_PCM
    };
    w.write_all(&tag.to_le_bytes())?;
    w.write_all(&(n_channels as u16).to_le_bytes())?;
    w.write_all(&sample_rate.to_le_bytes())?;
    w.write_all(&(sample_rate.saturating_mul(block_align as u32)).to_le_bytes())?;
    w.write_all(&(block_align as u16).to_le_bytes())?;
    w.write_all(&16u16.to_le_bytes())?;
    if extensible {
        let mask: u32 = if n_channels <= MAX_MASKED_CHANNELS {
            (1 << n_channels) - 1
        } else {
            0
        };
        w.write_all(&22u16.to_le_bytes())?; // cbSize
        w.write_all(&16u16.to_le_bytes())?; // valid bits per sample
        w.write_all(&mask.to_le_bytes())?;
        w.write_all(&SUBTYPE_PCM)?;
    }
    w.write_all(b"data")?;
    w.write_all(&data_len.to_le_bytes())?;
    for frame in 0..frames {
        for channel in channels {
            w.write_all(&f32_to_i16(channel[frame]).to_le_bytes())?;
        }
    }
    w.flush()
}
