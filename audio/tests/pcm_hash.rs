//! `pcm_sha256` is bit-exact for 16-bit sources: the hash of a decoded WAV or FLAC equals the sha256
//! of the raw little-endian s16 bytes we generated, including the extremes -32768 and 32767.

mod common;

use common::*;
use courtscribe_audio::{
    Error, decode_file, decode_file_16k, inspect_file, sha256_file, write_wav_s16,
};
use sha2::{Digest, Sha256};

/// Two channels of s16: a pseudo-random walk on the left, a full-scale square wave on the right
/// (so both -32768 and 32767 occur), 0.5 s at 16 kHz.
fn samples() -> [Vec<i16>; 2] {
    let mut rng = XorShift(0x5eed_1234_abcd);
    let left = (0..8000).map(|_| rng.next_u64() as i16).collect();
    let right = (0..8000)
        .map(|i| {
            if (i / 20) % 2 == 0 {
                i16::MAX
            } else {
                i16::MIN
            }
        })
        .collect();
    [left, right]
}

fn raw_bytes(channels: &[Vec<i16>]) -> Vec<u8> {
    let frames = channels[0].len();
    let mut raw = Vec::with_capacity(frames * channels.len() * 2);
    for frame in 0..frames {
        for channel in channels {
            raw.extend_from_slice(&channel[frame].to_le_bytes());
        }
    }
    raw
}

#[test]
fn wav_and_flac_hash_to_their_raw_sample_bytes() -> TestResult {
    let dir = tempfile::tempdir()?;
    let channels = samples();
    let raw = raw_bytes(&channels);
    let expected = hex::encode(Sha256::digest(&raw));
    let raw_path = dir.path().join("samples.raw");
    std::fs::write(&raw_path, &raw)?;
    // sha256_file agrees with an in-memory digest.
    assert_eq!(sha256_file(&raw_path)?, expected);

    // Three independent writers: ours, sox, and ffmpeg's FLAC encoder.
    let ours = dir.path().join("ours.wav");
    let as_f32: Vec<Vec<f32>> = channels
        .iter()
        .map(|c| c.iter().map(|&s| f32::from(s) / 32768.0).collect())
        .collect();
    write_wav_s16(&ours, 16_000, &as_f32)?;
    let sox_wav = dir.path().join("sox.wav");
    let raw_in = [
        "-t", "raw", "-r", "16000", "-e", "signed", "-b", "16", "-c", "2", "-L",
    ];
    let mut args = raw_in.to_vec();
    args.extend([path_str(&raw_path), path_str(&sox_wav)]);
    run("sox", &args)?;
    let flac = dir.path().join("ffmpeg.flac");
    ffmpeg(&[
        "-f",
        "s16le",
        "-ar",
        "16000",
        "-ac",
        "2",
        "-i",
        path_str(&raw_path),
        path_str(&flac),
    ])?;

    for path in [&ours, &sox_wav, &flac] {
        let decoded = decode_file(path)?;
        assert_eq!(decoded.channel_count(), 2, "{}", path.display());
        assert_eq!(decoded.frames(), 8000, "{}", path.display());
        assert_eq!(decoded.pcm_sha256(), expected, "{}", path.display());
    }
    Ok(())
}

#[test]
fn hash_distinguishes_channel_order() -> TestResult {
    let dir = tempfile::tempdir()?;
    let [left, right] = samples();
    let to_f32 = |c: &[i16]| {
        c.iter()
            .map(|&s| f32::from(s) / 32768.0)
            .collect::<Vec<f32>>()
    };
    let a = dir.path().join("a.wav");
    let b = dir.path().join("b.wav");
    write_wav_s16(&a, 16_000, &[to_f32(&left), to_f32(&right)])?;
    write_wav_s16(&b, 16_000, &[to_f32(&right), to_f32(&left)])?;
    assert_ne!(decode_file(&a)?.pcm_sha256(), decode_file(&b)?.pcm_sha256());
    Ok(())
}

/// What an upload is checked by (`inspect_file`, no samples kept) and what the job decodes
/// (`decode_file_16k`, resampled on the way) agree with decoding the whole file: the same length,
/// layout, codec and hash, bit-identical 16 kHz channels, in every container, and the same error
/// for a cut file.
#[test]
fn inspecting_and_decoding_to_16k_agree_with_decoding_in_every_container() -> TestResult {
    let dir = tempfile::tempdir()?;
    let source = make_source(dir.path())?;
    let mut files = vec![source.clone()];
    for (name, codec) in [
        ("a.flac", "flac"),
        ("a.mp3", "libmp3lame"),
        ("a.ogg", "libvorbis"),
        ("a.m4a", "aac"),
    ] {
        let out = dir.path().join(name);
        ffmpeg(&["-i", path_str(&source), "-c:a", codec, path_str(&out)])?;
        files.push(out);
    }
    for path in &files {
        let decoded = decode_file(path)?;
        let summary = inspect_file(path)?;
        assert_eq!(
            summary.sample_rate,
            decoded.sample_rate,
            "{}",
            path.display()
        );
        assert_eq!(
            summary.channels,
            decoded.channel_count(),
            "{}",
            path.display()
        );
        assert_eq!(
            summary.frames,
            decoded.frames() as u64,
            "{}",
            path.display()
        );
        assert_eq!(summary.codec, decoded.codec, "{}", path.display());
        assert_eq!(
            summary.pcm_sha256,
            decoded.pcm_sha256(),
            "{}",
            path.display()
        );
        let at16k = decode_file_16k(path)?;
        assert_eq!(at16k.source, summary, "{}", path.display());
        assert_ne!(summary.sample_rate, 16_000, "the resampler is exercised");
        // Exact equality: streaming through the resampler must not change a single sample.
        assert!(
            at16k.channels == decoded.to_16k()?,
            "{}: 16 kHz channels differ",
            path.display()
        );
    }
    let bytes = std::fs::read(&source)?;
    let cut = dir.path().join("cut.wav");
    std::fs::write(&cut, &bytes[..bytes.len() / 2])?;
    let inspected = inspect_file(&cut).map(|s| s.frames);
    assert!(
        matches!(inspected, Err(Error::Truncated { .. })),
        "{inspected:?}"
    );
    assert_eq!(
        inspected.map_err(|e| e.to_string()),
        decode_file(&cut)
            .map(|a| a.frames() as u64)
            .map_err(|e| e.to_string())
    );
    assert_eq!(
        decode_file_16k(&cut)
            .map(|a| a.source.frames)
            .map_err(|e| e.to_string()),
        decode_file(&cut)
            .map(|a| a.frames() as u64)
            .map_err(|e| e.to_string())
    );
    Ok(())
}
