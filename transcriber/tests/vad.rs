//! Voice activity detection on real recordings: speech is found where people speak, and the
//! recess stays silent. Issue 2: "silence never reaches the decoder".
#![allow(clippy::unwrap_used)]

mod common;

use common::mono16k;
use courtscribe_testkit::shared_eval;
use courtscribe_transcriber::vad::{self, VadConfig};

#[test]
fn every_turn_of_a_hearing_is_speech_and_the_recess_is_not() {
    let Some(wav) = shared_eval("synthetic/vi_civil_loan.wav") else {
        return;
    };
    let samples = mono16k(&wav);
    let regions = vad::speech_regions(&samples, &VadConfig::default());
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(wav.with_extension("json")).unwrap()).unwrap();
    let turns: Vec<(f64, f64)> = json["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["start"].as_f64().unwrap(), t["end"].as_f64().unwrap()))
        .collect();
    let overlap = |a: f64, b: f64| -> f64 {
        regions
            .iter()
            .map(|r| (r.end_secs().min(b) - r.start_secs().max(a)).max(0.0))
            .sum()
    };
    for &(s, e) in &turns {
        let covered = overlap(s, e) / (e - s);
        assert!(
            covered >= 0.8,
            "turn {s:.1}–{e:.1} only {:.0}% speech",
            covered * 100.0
        );
    }
    for pair in turns.windows(2) {
        let (g0, g1) = (pair[0].1 + 0.3, pair[1].0 - 0.3);
        if g1 - g0 >= 5.0 {
            assert!(
                overlap(g0, g1) < 0.05,
                "speech found in the silence {g0:.1}–{g1:.1}"
            );
        }
    }
}

#[test]
fn recorded_speech_is_not_a_steady_sound() {
    for rel in [
        "real/jfk.flac",
        "real/pyannote_sample.wav",
        "real/stereo_diarization.wav",
    ] {
        let Some(path) = shared_eval(rel) else { return };
        let samples = mono16k(&path);
        let found: f64 = vad::speech_regions(&samples, &VadConfig::default())
            .iter()
            .map(|r| r.end_secs() - r.start_secs())
            .sum();
        let total = samples.len() as f64 / 16_000.0;
        assert!(
            found >= 0.5 * total,
            "{rel}: only {found:.1} s of {total:.1} s found as speech"
        );
    }
}
