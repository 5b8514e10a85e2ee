//! Resampling keeps frequency, amplitude, timing and length, and is band-limited: content above the
//! new Nyquist frequency is removed instead of folding back into the speech band.

mod common;

use common::*;
use courtscribe_audio::{DecodedAudio, Error, WHISPER_SAMPLE_RATE, resample};

fn sine(rate: u32, freq: f64, amplitude: f64, secs: f64) -> Vec<f32> {
    let n = (secs * f64::from(rate)).round() as usize;
    (0..n)
        .map(|i| {
            (amplitude * (2.0 * std::f64::consts::PI * freq * i as f64 / f64::from(rate)).sin())
                as f32
        })
        .collect()
}

/// `samples` without its first and last `margin` fraction, away from edge effects.
fn middle(samples: &[f32], margin: f64) -> &[f32] {
    let cut = (samples.len() as f64 * margin) as usize;
    &samples[cut..samples.len() - cut]
}

#[test]
fn a_tone_keeps_frequency_amplitude_and_length() -> TestResult {
    // (input rate, input length in samples): odd lengths check the rounding of the output length.
    let cases = [
        (48_000, 96_001),
        (44_100, 88_200),
        (8_000, 16_003),
        (22_050, 44_101),
        (16_000, 32_000),
    ];
    for (rate, n) in cases {
        let input = sine(rate, 1000.0, 0.8, n as f64 / f64::from(rate));
        assert_eq!(input.len(), n);
        let out = resample(&input, rate, WHISPER_SAMPLE_RATE)?;
        let expected_len = (n as f64 * 16_000.0 / f64::from(rate)).round() as usize;
        assert!(
            out.len().abs_diff(expected_len) <= 2,
            "{rate} Hz: {} samples out, expected {expected_len}",
            out.len()
        );
        let body = middle(&out, 0.1);
        let freq = dominant_frequency(body, WHISPER_SAMPLE_RATE, 200.0, 7000.0, 10.0);
        assert!(
            (freq - 1000.0).abs() <= 10.0,
            "{rate} Hz: tone at {freq} Hz"
        );
        let amplitude = rms(body) * 2f64.sqrt();
        assert!(
            (amplitude - 0.8).abs() < 0.01,
            "{rate} Hz: amplitude {amplitude:.4}"
        );
    }
    Ok(())
}

#[test]
fn timing_is_preserved() -> TestResult {
    // 0.5 s of silence, then a tone: the onset must stay at 0.5 s (the resampler's own delay is
    // removed), or every timestamp in the minutes would be late.
    for rate in [48_000u32, 44_100, 8_000] {
        let mut input = vec![0.0f32; rate as usize / 2];
        input.extend(sine(rate, 500.0, 0.5, 1.0));
        let out = resample(&input, rate, WHISPER_SAMPLE_RATE)?;
        let onset = out.iter().position(|s| s.abs() > 0.1).ok_or("no onset")?;
        let onset_secs = onset as f64 / 16_000.0;
        assert!(
            (onset_secs - 0.5).abs() < 0.002,
            "{rate} Hz: onset at {onset_secs:.4} s"
        );
    }
    Ok(())
}

#[test]
fn content_above_the_new_nyquist_is_removed() -> TestResult {
    // 12 kHz is above 16 kHz's Nyquist (8 kHz). Linear interpolation or plain decimation would
    // fold it to 4 kHz at nearly full level; a band-limited resampler removes it.
    let input = sine(48_000, 12_000.0, 0.8, 1.0);
    let out = resample(&input, 48_000, WHISPER_SAMPLE_RATE)?;
    let level = rms(middle(&out, 0.1));
    assert!(level < 0.8 / 2f64.sqrt() * 0.01, "alias level {level:.5}");
    Ok(())
}

#[test]
fn to_16k_resamples_every_channel_and_keeps_them_apart() -> TestResult {
    let audio = DecodedAudio {
        sample_rate: 44_100,
        channels: vec![
            sine(44_100, 300.0, 0.5, 1.0),
            sine(44_100, 2000.0, 0.5, 1.0),
            vec![0.0; 44_100],
        ],
        codec: "pcm_s16le".into(),
    };
    let out = audio.to_16k()?;
    assert_eq!(out.len(), 3);
    assert!(out.iter().all(|c| c.len() == 16_000));
    assert_eq!(
        dominant_frequency(middle(&out[0], 0.1), 16_000, 100.0, 4000.0, 10.0),
        300.0
    );
    assert_eq!(
        dominant_frequency(middle(&out[1], 0.1), 16_000, 100.0, 4000.0, 10.0),
        2000.0
    );
    assert!(rms(&out[2]) < 1e-6);
    Ok(())
}

#[test]
fn degenerate_requests() -> TestResult {
    assert!(matches!(
        resample(&[0.1, 0.2], 0, 16_000),
        Err(Error::Resample { .. })
    ));
    assert!(matches!(
        resample(&[0.1, 0.2], 16_000, 0),
        Err(Error::Resample { .. })
    ));
    assert!(resample(&[], 48_000, 16_000)?.is_empty());
    assert_eq!(resample(&[0.25, -0.5], 16_000, 16_000)?, vec![0.25, -0.5]);
    // A single sample still gives round(1 × 16/48) = 0 samples, and 3 give 1.
    assert_eq!(resample(&[0.5], 48_000, 16_000)?.len(), 0);
    assert_eq!(resample(&[0.5, 0.5, 0.5], 48_000, 16_000)?.len(), 1);
    Ok(())
}
