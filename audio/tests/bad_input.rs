//! Malformed input never panics and always gets the specific error a caller can act on.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use courtscribe_audio::{
    DecodeOptions, DecodedAudio, Error, decode_bytes, decode_file, decode_file_with, write_wav_s16,
};

fn tone(rate: u32, secs: f64) -> Vec<f32> {
    let n = (secs * f64::from(rate)) as usize;
    (0..n)
        .map(|i| (0.3 * (i as f64 * 0.05).sin()) as f32)
        .collect()
}

fn wav_fixture(
    dir: &Path,
    name: &str,
    channels: usize,
    rate: u32,
    secs: f64,
) -> Result<PathBuf, std::io::Error> {
    let path = dir.join(name);
    write_wav_s16(&path, rate, &vec![tone(rate, secs); channels])?;
    Ok(path)
}

/// A 3 s stereo fixture encoded by ffmpeg; `extra` are the output options.
fn ffmpeg_fixture(dir: &Path, name: &str, extra: &[&str]) -> Result<PathBuf, String> {
    let path = dir.join(name);
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:duration=3:sample_rate=44100",
        "-ac",
        "2",
    ];
    args.extend_from_slice(extra);
    args.push(path_str(&path));
    ffmpeg(&args)?;
    Ok(path)
}

fn describe(result: &Result<DecodedAudio, Error>) -> String {
    match result {
        Ok(a) => format!(
            "Ok({} ch, {:.3} s, {})",
            a.channel_count(),
            a.duration(),
            a.codec
        ),
        Err(e) => format!("Err({e:?})"),
    }
}

fn assert_truncated(
    result: Result<DecodedAudio, Error>,
    declared: f64,
    found: (f64, f64),
    what: &str,
) {
    match result {
        Err(Error::Truncated {
            declared_secs,
            found_secs,
        }) => {
            assert!(
                (declared_secs - declared).abs() < 0.01,
                "{what}: declared {declared_secs}"
            );
            assert!(
                (found.0..=found.1).contains(&found_secs),
                "{what}: found {found_secs}, expected {found:?}"
            );
        }
        other => panic!("{what}: expected Truncated, got {}", describe(&other)),
    }
}

#[test]
fn empty_input() -> TestResult {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("empty.wav");
    std::fs::write(&path, b"")?;
    assert!(matches!(decode_file(&path), Err(Error::Empty)));
    assert!(matches!(
        decode_bytes(Vec::new(), Some("wav")),
        Err(Error::Empty)
    ));
    // A valid WAV header with no samples is empty too.
    let header_only = wav_fixture(dir.path(), "zero.wav", 1, 16_000, 0.0)?;
    assert!(matches!(decode_file(&header_only), Err(Error::Empty)));
    Ok(())
}

#[test]
fn missing_file_is_io() {
    let result = decode_file(Path::new("/nonexistent/courtscribe/hearing.wav"));
    assert!(matches!(result, Err(Error::Io(_))), "{}", describe(&result));
}

#[test]
fn truncated_files_report_declared_and_found_length() -> TestResult {
    let dir = tempfile::tempdir()?;
    let wav = wav_fixture(dir.path(), "a.wav", 2, 44_100, 3.0)?;
    let flac = ffmpeg_fixture(dir.path(), "a.flac", &["-c:a", "flac"])?;
    let mp3 = ffmpeg_fixture(dir.path(), "a.mp3", &["-c:a", "libmp3lame"])?;
    for (path, found) in [
        (&wav, (1.45, 1.55)),
        (&flac, (0.5, 2.0)),
        (&mp3, (1.0, 2.0)),
    ] {
        let bytes = std::fs::read(path)?;
        let half = bytes[..bytes.len() / 2].to_vec();
        assert_truncated(
            decode_bytes(half, None),
            3.0,
            found,
            &path.display().to_string(),
        );
    }
    // MP4 keeps its index after the data unless written "faststart"; cut either way, the index
    // is incomplete, which we can only call corrupt.
    let m4a = ffmpeg_fixture(
        dir.path(),
        "a.m4a",
        &["-c:a", "aac", "-movflags", "+faststart"],
    )?;
    let bytes = std::fs::read(&m4a)?;
    let result = decode_bytes(bytes[..bytes.len() / 2].to_vec(), Some("m4a"));
    assert!(
        matches!(&result, Err(Error::Corrupt { detail }) if detail.contains("cut short")),
        "{}",
        describe(&result)
    );
    Ok(())
}

#[test]
fn random_bytes_are_not_audio() {
    let noise = XorShift(0xC0FFEE).bytes(64 * 1024);
    let result = decode_bytes(noise, Some("wav"));
    assert!(
        matches!(&result, Err(Error::UnsupportedFormat { detail }) if detail.contains("not a recognised")),
        "{}",
        describe(&result)
    );
}

#[test]
fn a_text_file_named_mp3_is_rejected_as_text() -> TestResult {
    let dir = tempfile::tempdir()?;
    for (name, text) in [
        (
            "minutes.mp3",
            "Hearing minutes\nThe court is in session.\n".repeat(200),
        ),
        // Vietnamese (biên bản phiên tòa = hearing minutes): multi-byte UTF-8 is still text.
        (
            "bien_ban.mp3",
            "Biên bản phiên tòa. Chủ tọa phiên tòa tuyên bố khai mạc.\n".repeat(200),
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &text)?;
        let result = decode_file(&path);
        assert!(
            matches!(&result, Err(Error::UnsupportedFormat { detail }) if detail.contains("text") && detail.contains(".mp3")),
            "{name}: {}",
            describe(&result)
        );
    }
    Ok(())
}

#[test]
fn a_video_without_audio_has_no_audio_track() -> TestResult {
    let dir = tempfile::tempdir()?;
    let video = dir.path().join("v.mp4");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=160x120:rate=10:duration=1",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        path_str(&video),
    ])?;
    let result = decode_file(&video);
    assert!(
        matches!(result, Err(Error::NoAudioTrack)),
        "{}",
        describe(&result)
    );
    Ok(())
}

#[test]
fn opus_is_named_as_the_unsupported_codec() -> TestResult {
    // symphonia 0.5 has no Opus decoder; browsers record WebM/Opus, so the message must say so.
    let dir = tempfile::tempdir()?;
    for name in ["a.ogg", "a.webm"] {
        let path = ffmpeg_fixture(dir.path(), name, &["-c:a", "libopus"])?;
        let result = decode_file(&path);
        assert!(
            matches!(&result, Err(Error::UnsupportedFormat { detail }) if detail.contains("opus")),
            "{name}: {}",
            describe(&result)
        );
    }
    Ok(())
}

#[test]
fn too_long_is_refused_with_and_without_a_declared_length() -> TestResult {
    let dir = tempfile::tempdir()?;
    let limit = DecodeOptions {
        max_duration_secs: 1.0,
    };
    let wav = wav_fixture(dir.path(), "a.wav", 1, 16_000, 3.0)?;
    // Without a Xing header an MP3 declares no length: the cap must stop the decoder itself.
    let bare_mp3 = ffmpeg_fixture(
        dir.path(),
        "bare.mp3",
        &["-c:a", "libmp3lame", "-write_xing", "0"],
    )?;
    let flac = ffmpeg_fixture(dir.path(), "a.flac", &["-c:a", "flac"])?;
    for path in [&wav, &bare_mp3, &flac] {
        let result = decode_file_with(path, &limit);
        assert!(
            matches!(result, Err(Error::TooLong { secs, max_secs }) if secs > 1.0 && max_secs == 1.0),
            "{}: {}",
            path.display(),
            describe(&result)
        );
        // The default limit (12 h) accepts them.
        assert!(decode_file(path).is_ok(), "{}", path.display());
    }
    Ok(())
}

#[test]
fn a_few_damaged_mp3_frames_become_silence_many_make_it_corrupt() -> TestResult {
    let dir = tempfile::tempdir()?;
    let mp3 = ffmpeg_fixture(dir.path(), "a.mp3", &["-c:a", "libmp3lame"])?;
    let bytes = std::fs::read(&mp3)?;
    let damage = |at: f64, len: usize| {
        let mut b = bytes.clone();
        let start = (b.len() as f64 * at) as usize;
        let end = (start + len).min(b.len());
        b[start..end].copy_from_slice(&XorShift(7).bytes(end - start));
        b
    };
    let light = decode_bytes(damage(0.5, 200), Some("mp3"))?;
    assert!(
        (light.duration() - 3.0).abs() < 0.2,
        "{:.3} s",
        light.duration()
    );
    let heavy = decode_bytes(damage(0.2, 20_000), Some("mp3"));
    assert!(
        matches!(heavy, Err(Error::Corrupt { .. })),
        "{}",
        describe(&heavy)
    );
    Ok(())
}

/// Cut every fixture at many points and overwrite stretches with noise: whatever comes back, it
/// comes back (no panic, no hang), and a cut lossless file is never silently accepted.
#[test]
fn damaged_files_never_panic() -> TestResult {
    let dir = tempfile::tempdir()?;
    let fixtures = [
        (wav_fixture(dir.path(), "a.wav", 2, 44_100, 1.0)?, true),
        (
            ffmpeg_fixture(dir.path(), "a.flac", &["-c:a", "flac", "-t", "1"])?,
            true,
        ),
        (
            ffmpeg_fixture(dir.path(), "a.mp3", &["-c:a", "libmp3lame", "-t", "1"])?,
            false,
        ),
        (
            ffmpeg_fixture(dir.path(), "a.ogg", &["-c:a", "libvorbis", "-t", "1"])?,
            false,
        ),
        (
            ffmpeg_fixture(dir.path(), "a.m4a", &["-c:a", "aac", "-t", "1"])?,
            false,
        ),
        (
            ffmpeg_fixture(dir.path(), "a.mkv", &["-c:a", "aac", "-t", "1"])?,
            false,
        ),
    ];
    let mut rng = XorShift(42);
    for (path, lossless) in &fixtures {
        let bytes = std::fs::read(path)?;
        for step in 1..40 {
            let cut = bytes.len() * step / 40;
            let result = decode_bytes(bytes[..cut].to_vec(), None);
            if *lossless {
                assert!(
                    result.is_err(),
                    "{} cut at {cut}: {}",
                    path.display(),
                    describe(&result)
                );
            }
        }
        for _ in 0..40 {
            let mut damaged = bytes.clone();
            let start = (rng.next_u64() as usize) % damaged.len();
            let len = 1 + (rng.next_u64() as usize) % 512;
            let end = (start + len).min(damaged.len());
            damaged[start..end].copy_from_slice(&rng.bytes(end - start));
            let _ = decode_bytes(damaged, None);
        }
    }
    // Known signatures followed by noise.
    let magics: [&[u8]; 7] = [
        b"RIFF\x24\x00\x00\x00WAVEfmt ",
        b"fLaC",
        b"OggS",
        b"\x00\x00\x00\x20ftypisom",
        b"\x1a\x45\xdf\xa3",
        b"ID3\x04\x00\x00\x00\x00\x00\x10",
        b"\xff\xfb\x90\x00",
    ];
    for magic in magics {
        for seed in 1..20 {
            let mut bytes = magic.to_vec();
            bytes.extend(XorShift(seed).bytes(16 * 1024));
            let result = decode_bytes(bytes, None);
            assert!(
                result.is_err(),
                "{magic:?} + noise decoded: {}",
                describe(&result)
            );
        }
    }
    Ok(())
}
