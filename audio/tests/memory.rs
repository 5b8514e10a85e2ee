//! Headers that lie about length cost nothing: a WAV or FLAC header declaring tens of hours on a
//! small file gives `Truncated`, and a file really over the limit gives `TooLong`, both without
//! allocating memory for the declared length. Peak heap use is measured with a counting allocator.
#![allow(unsafe_code)] // a global allocator is the only way to observe peak heap use

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::*;
use courtscribe_audio::{
    DecodedAudio, Error, decode_bytes, decode_file, decode_file_16k, inspect_file, write_wav_s16,
};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: every call is forwarded unchanged to the system allocator; we only count bytes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded with the caller's layout.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded with the caller's arguments.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
            grew(new_size);
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Tests in this file run one at a time so that one test's buffers do not count toward another's.
static SERIAL: Mutex<()> = Mutex::new(());

/// Run `f` and return its result with the extra heap it needed at its peak, in bytes.
fn peak_heap<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = CURRENT.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let out = f();
    (out, PEAK.load(Ordering::SeqCst).saturating_sub(base))
}

const MIB: usize = 1024 * 1024;

fn describe(result: &Result<DecodedAudio, Error>) -> String {
    match result {
        Ok(a) => format!("Ok({} ch, {:.3} s)", a.channel_count(), a.duration()),
        Err(e) => format!("Err({e:?})"),
    }
}

/// A 16-bit mono 16 kHz WAV header whose data chunk declares `data_len` bytes.
fn wav_header(data_len: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&data_len.saturating_add(36).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes()); // PCM
    h.extend_from_slice(&1u16.to_le_bytes()); // mono
    h.extend_from_slice(&16_000u32.to_le_bytes());
    h.extend_from_slice(&32_000u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}

#[test]
fn a_wav_header_declaring_hours_on_a_short_file_is_truncated() {
    let _serial = SERIAL.lock();
    let mut bytes = wav_header(0xFFFF_FF00); // about 37 hours of 16 kHz mono
    bytes.extend(std::iter::repeat_n([0x10u8, 0x00], 16_000).flatten()); // 1 s present
    let (result, peak) = peak_heap(|| decode_bytes(bytes, Some("wav")));
    match result {
        Err(Error::Truncated {
            declared_secs,
            found_secs,
        }) => {
            assert!(declared_secs > 36.0 * 3600.0, "declared {declared_secs}");
            assert!((found_secs - 1.0).abs() < 1e-3, "found {found_secs}");
        }
        other => panic!("expected Truncated, got {}", describe(&other)),
    }
    assert!(peak < 4 * MIB, "peak heap {peak} bytes");
}

#[test]
fn a_flac_header_declaring_hours_on_a_short_file_is_truncated() -> TestResult {
    let _serial = SERIAL.lock();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.flac");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3:sample_rate=44100",
        "-ac",
        "2",
        "-c:a",
        "flac",
        path_str(&path),
    ])?;
    let mut bytes = std::fs::read(&path)?;
    // STREAMINFO follows "fLaC" and a 4-byte block header; its total-samples field is the low 36
    // bits of the big-endian u64 at offset 18. Claim 40 hours.
    let field = u64::from_be_bytes(bytes[18..26].try_into()?);
    let total: u64 = 40 * 3600 * 44_100;
    let patched = (field & !((1u64 << 36) - 1)) | total;
    bytes[18..26].copy_from_slice(&patched.to_be_bytes());
    let (result, peak) = peak_heap(|| decode_bytes(bytes, None));
    match result {
        Err(Error::Truncated {
            declared_secs,
            found_secs,
        }) => {
            assert!(
                (declared_secs - 40.0 * 3600.0).abs() < 1.0,
                "declared {declared_secs}"
            );
            assert!((found_secs - 3.0).abs() < 0.01, "found {found_secs}");
        }
        other => panic!("expected Truncated, got {}", describe(&other)),
    }
    // 3 s of stereo f32 is about 1 MiB; the declared 40 h would be 50 GiB.
    assert!(peak < 8 * MIB, "peak heap {peak} bytes");
    Ok(())
}

#[test]
fn a_wav_really_over_twelve_hours_is_too_long_before_allocating() -> TestResult {
    let _serial = SERIAL.lock();
    let dir = tempfile::tempdir()?;
    // 13 h of 16 kHz mono s16 is 1.5 GB; a sparse file makes it without using the disk.
    let data_len: u32 = 13 * 3600 * 32_000;
    let path = dir.path().join("long.wav");
    let mut file = std::fs::File::create(&path)?;
    file.write_all(&wav_header(data_len))?;
    file.set_len(44 + u64::from(data_len))?;
    drop(file);
    let (result, peak) = peak_heap(|| decode_file(&path));
    assert!(
        matches!(result, Err(Error::TooLong { secs, .. }) if (secs - 13.0 * 3600.0).abs() < 1.0),
        "{}",
        describe(&result)
    );
    assert!(peak < 4 * MIB, "peak heap {peak} bytes");
    Ok(())
}

#[test]
fn decoding_memory_is_linear_in_length() -> TestResult {
    let _serial = SERIAL.lock();
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("a.wav");
    let secs = 60.0;
    let channel: Vec<f32> = (0..(secs * 16_000.0) as usize)
        .map(|i| ((i % 100) as f32 - 50.0) / 100.0)
        .collect();
    write_wav_s16(&path, 16_000, &[channel.clone(), channel])?;
    let (result, peak) = peak_heap(|| decode_file(&path));
    let decoded = result?;
    let samples_bytes = decoded.frames() * decoded.channel_count() * 4;
    // The samples themselves plus symphonia's packet buffers; no doubling from Vec growth.
    assert!(
        peak < samples_bytes + 2 * MIB,
        "peak {peak} bytes for {samples_bytes} bytes of samples"
    );
    Ok(())
}

#[test]
fn inspecting_a_long_multichannel_recording_keeps_no_samples() -> TestResult {
    let _serial = SERIAL.lock();
    let dir = tempfile::tempdir()?;
    let (path, frames) = five_microphones(dir.path())?;
    let (summary, peak) = peak_heap(|| inspect_file(&path));
    let summary = summary?;
    assert_eq!((summary.channels, summary.frames), (5, frames as u64));
    assert!(peak < 2 * MIB, "peak heap {peak} bytes");
    let (decoded, decoded_peak) = peak_heap(|| decode_file(&path));
    assert_eq!(summary.pcm_sha256, decoded?.pcm_sha256());
    assert!(
        decoded_peak > 18 * MIB,
        "decoding keeps the samples: {decoded_peak} bytes"
    );
    Ok(())
}

#[test]
fn decoding_to_16k_never_holds_the_native_rate_samples() -> TestResult {
    let _serial = SERIAL.lock();
    let dir = tempfile::tempdir()?;
    let (path, _) = five_microphones(dir.path())?;
    let (at16k, peak) = peak_heap(|| decode_file_16k(&path));
    let at16k = at16k?;
    let kept_bytes: usize = at16k.channels.iter().map(|c| c.len() * 4).sum();
    assert_eq!(kept_bytes, 5 * 20 * 16_000 * 4);
    // What is kept, plus the resamplers' chunks and symphonia's packet buffers; never the 48 kHz
    // samples (which alone would be 18.3 MiB).
    assert!(
        peak < kept_bytes + 2 * MIB,
        "peak heap {peak} bytes for {kept_bytes} bytes of 16 kHz samples"
    );
    Ok(())
}

/// 20 s of 5 channels at 48 kHz as a 16-bit WAV in `dir`: 18.3 MiB of f32 at the native rate,
/// 6.1 MiB at 16 kHz. Returns the path and the frame count.
fn five_microphones(
    dir: &std::path::Path,
) -> Result<(std::path::PathBuf, usize), Box<dyn std::error::Error>> {
    let path = dir.join("five-mics.wav");
    let frames = 20 * 48_000;
    let channels: Vec<Vec<f32>> = (0..5)
        .map(|c| {
            (0..frames)
                .map(|i| ((i * (c + 1)) % 200) as f32 / 400.0 - 0.25)
                .collect()
        })
        .collect();
    write_wav_s16(&path, 48_000, &channels)?;
    Ok((path, frames))
}
