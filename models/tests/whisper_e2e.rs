//! End to end: the converted tiny.en (f16 and q8_0) loads in whisper.cpp (via whisper-rs)
//! and transcribes speech synthesised with espeak-ng. Skips, with a visible message, when the
//! registry package or espeak-ng/sox are unavailable.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;

use courtscribe_models::{ModelStore, Quantisation};
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

/// espeak-ng's voice is robotic and tiny.en is small: faster-whisper running the original
/// CTranslate2 weights mishears "state" as "take" here too (checked by hand), so the test
/// asks for most words, not all.
const SENTENCE: &str = "The hearing is adjourned until tomorrow morning. \
                        Please state your full name and address for the court.";

/// 16 kHz mono f32 samples of `text`, or `None` when the tools are missing.
fn speak(text: &str, dir: &Path) -> Option<Vec<f32>> {
    let wav = dir.join("speech.wav");
    let raw = dir.join("speech.f32");
    let ok = Command::new("espeak-ng")
        .args(["-s", "150", "-w"])
        .arg(&wav)
        .arg(text)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("sox")
            .arg("-R")
            .arg(&wav)
            .args([
                "-r",
                "16000",
                "-c",
                "1",
                "-e",
                "floating-point",
                "-b",
                "32",
                "-t",
                "raw",
            ])
            .arg(&raw)
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: espeak-ng and sox are needed to synthesise test speech");
        return None;
    }
    let bytes = std::fs::read(&raw).unwrap();
    Some(
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect(),
    )
}

fn transcribe(model: &Path, samples: &[f32]) -> String {
    let ctx = WhisperContext::new_with_params(
        model.to_str().unwrap(),
        WhisperContextParameters::default(),
    )
    .expect("whisper.cpp refused the converted model");
    let mut state = ctx.create_state().unwrap();
    let mut params = FullParams::new(SamplingStrategy::Greedy { best_of: 1 });
    // One thread: ggml spins at barriers, and nextest runs another test beside this one.
    params.set_n_threads(1);
    params.set_language(Some("en"));
    params.set_print_progress(false);
    params.set_print_realtime(false);
    params.set_print_timestamps(false);
    state.full(params, samples).unwrap();
    state
        .as_iter()
        .map(|s| s.to_str_lossy().unwrap().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

fn assert_most_words(text: &str) {
    let got = words(text);
    let want = words(SENTENCE);
    let hits = want.iter().filter(|w| got.contains(w)).count();
    assert!(
        hits * 10 >= want.len() * 8,
        "only {hits}/{} words recognised in {text:?}",
        want.len()
    );
}

#[test]
fn converted_tiny_en_transcribes_speech() {
    let Some((store, _)) = common::shared_tiny() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(samples) = speak(SENTENCE, dir.path()) else {
        return;
    };
    let f16 = store.resolve("tiny.en").unwrap();
    let t = std::time::Instant::now();
    let text = transcribe(&f16.path, &samples);
    eprintln!("f16 took {:.1?}", t.elapsed());
    eprintln!("f16 transcript: {text}");
    assert_most_words(&text);

    let other = ModelStore::open(dir.path().join("home")).unwrap();
    other.import(&f16.path, None, Quantisation::Q8_0).unwrap();
    let q8 = other.resolve("tiny.en-q8_0").unwrap();
    let t = std::time::Instant::now();
    let text = transcribe(&q8.path, &samples);
    eprintln!("q8_0 took {:.1?}", t.elapsed());
    eprintln!("q8_0 transcript: {text}");
    assert_most_words(&text);
}
