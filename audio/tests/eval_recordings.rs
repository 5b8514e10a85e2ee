//! The shared evaluation recordings (`../shared/eval`), when present: real speech and a long
//! synthetic four-microphone hearing. Skipped with a visible note when the directory is absent.

mod common;

use common::*;
use courtscribe_audio::decode_file;

#[test]
fn jfk_flac_decodes_as_eleven_seconds_of_stereo_speech() -> TestResult {
    let Some(eval) = eval_dir() else {
        eprintln!("SKIPPED: ../shared/eval not found; jfk.flac not decoded");
        return Ok(());
    };
    let audio = decode_file(&eval.join("real/jfk.flac"))?;
    assert_eq!(audio.codec, "flac");
    assert_eq!(audio.channel_count(), 2);
    assert_eq!(audio.sample_rate, 44_100);
    assert!(
        (audio.duration() - 11.0).abs() < 0.01,
        "{} s",
        audio.duration()
    );
    // (Nearly) the same signal on both sides — the difference is about 31 dB down — and it is
    // speech-loud, not silence or clipping noise.
    let level = rms(&audio.channels[0]);
    let difference: Vec<f32> = audio.channels[0]
        .iter()
        .zip(&audio.channels[1])
        .map(|(a, b)| a - b)
        .collect();
    assert!(
        rms(&difference) < 0.1 * level,
        "channels differ: {} vs {level}",
        rms(&difference)
    );
    assert!((0.01..0.5).contains(&level), "rms {level}");
    let at_16k = audio.to_16k()?;
    assert_eq!(at_16k[0].len(), 176_000);
    assert!(
        (rms(&at_16k[0]) / level - 1.0).abs() < 0.05,
        "level changed by resampling"
    );
    Ok(())
}

#[test]
fn four_microphone_hearing_keeps_its_channels_and_its_recess() -> TestResult {
    let Some(eval) = eval_dir() else {
        eprintln!("SKIPPED: ../shared/eval not found; vi_civil_loan.4ch.flac not decoded");
        return Ok(());
    };
    let audio = decode_file(&eval.join("synthetic/vi_civil_loan.4ch.flac"))?;
    assert_eq!(audio.channel_count(), 4);
    assert_eq!(audio.sample_rate, 16_000);
    assert!(
        (audio.duration() - 152.0).abs() < 1.0,
        "{} s",
        audio.duration()
    );
    // Every microphone picks something up, and each one is loudest somewhere (its own speaker).
    let envelopes: Vec<Vec<f64>> = audio.channels.iter().map(|c| envelope(c, 16_000)).collect();
    for (k, env) in envelopes.iter().enumerate() {
        let loudest_here = (0..env.len())
            .filter(|&i| envelopes.iter().all(|other| other[i] <= env[i]) && env[i] > 0.01)
            .count();
        assert!(
            loudest_here > 100,
            "channel {k} is never the loudest ({loudest_here} frames)"
        );
    }
    // The 25 s recess: the longest stretch where every channel is quiet lasts 20 s or more.
    let quiet = |i: usize| envelopes.iter().all(|env| env[i] < 0.01);
    let (mut longest, mut run) = (0usize, 0usize);
    for i in 0..envelopes[0].len() {
        run = if quiet(i) { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let recess_secs = longest as f64 / 100.0;
    assert!(recess_secs >= 20.0, "longest silence {recess_secs} s");
    Ok(())
}
