//! Courtroom recorders give one channel per microphone, often many: channel count and order must
//! survive decoding and resampling, since each channel is a speaker.

mod common;

use common::*;
use courtscribe_audio::{decode_file, write_wav_s16};

/// Channel `k` is a tone of 200 + 100·k Hz at amplitude (k + 1) / 40, so both its frequency and its
/// level identify it.
fn labelled_channels(count: usize, rate: u32, secs: f64) -> Vec<Vec<f32>> {
    let n = (secs * f64::from(rate)) as usize;
    (0..count)
        .map(|k| {
            let (freq, amp) = (200.0 + 100.0 * k as f64, (k + 1) as f64 / 40.0);
            (0..n)
                .map(|i| {
                    (amp * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                        as f32
                })
                .collect()
        })
        .collect()
}

fn check_labels(channels: &[Vec<f32>], rate: u32, what: &str) {
    for (k, channel) in channels.iter().enumerate() {
        let freq = dominant_frequency(
            channel,
            rate,
            150.0,
            200.0 + 100.0 * channels.len() as f64,
            50.0,
        );
        assert_eq!(
            freq,
            200.0 + 100.0 * k as f64,
            "{what}: channel {k} has the wrong tone"
        );
        let amplitude = rms(channel) * 2f64.sqrt();
        let expected = (k + 1) as f64 / 40.0;
        assert!(
            (amplitude - expected).abs() < 0.002,
            "{what}: channel {k} amplitude {amplitude:.4}"
        );
    }
}

#[test]
fn sixteen_and_twenty_channel_wavs_keep_every_channel_in_order() -> TestResult {
    let dir = tempfile::tempdir()?;
    for count in [16, 20] {
        let path = dir.path().join(format!("{count}ch.wav"));
        write_wav_s16(&path, 48_000, &labelled_channels(count, 48_000, 0.5))?;
        let decoded = decode_file(&path)?;
        assert_eq!(decoded.channel_count(), count);
        assert_eq!(decoded.sample_rate, 48_000);
        assert_eq!(decoded.frames(), 24_000);
        check_labels(&decoded.channels, 48_000, &format!("{count} ch"));
        let at_16k = decoded.to_16k()?;
        assert_eq!(at_16k.len(), count);
        assert!(at_16k.iter().all(|c| c.len() == 8_000));
        let trimmed: Vec<Vec<f32>> = at_16k.iter().map(|c| c[800..7_200].to_vec()).collect();
        check_labels(&trimmed, 16_000, &format!("{count} ch at 16 kHz"));
    }
    Ok(())
}

#[test]
fn multichannel_files_from_other_writers() -> TestResult {
    let dir = tempfile::tempdir()?;
    let ours = dir.path().join("ours.wav");
    write_wav_s16(&ours, 16_000, &labelled_channels(6, 16_000, 0.5))?;
    // sox's 16-channel WAV and ffmpeg's 6-channel FLAC and 8-channel WAV (WAVE_FORMAT_EXTENSIBLE).
    let sox16 = dir.path().join("sox16.wav");
    run(
        "sox",
        &[
            "-n",
            "-r",
            "16000",
            "-c",
            "16",
            "-b",
            "16",
            path_str(&sox16),
            "synth",
            "0.5",
            "sine",
            "300",
        ],
    )?;
    let flac6 = dir.path().join("six.flac");
    ffmpeg(&["-i", path_str(&ours), "-c:a", "flac", path_str(&flac6)])?;
    let wav8 = dir.path().join("eight.wav");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=300:duration=0.5",
        "-af",
        "pan=7.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0|c6=c0|c7=c0",
        path_str(&wav8),
    ])?;
    for (path, count) in [(&sox16, 16), (&flac6, 6), (&wav8, 8)] {
        let decoded = decode_file(path)?;
        assert_eq!(decoded.channel_count(), count, "{}", path.display());
        assert!(
            (decoded.duration() - 0.5).abs() < 1e-3,
            "{}",
            path.display()
        );
    }
    check_labels(&decode_file(&flac6)?.channels, 16_000, "6 ch flac");
    Ok(())
}
