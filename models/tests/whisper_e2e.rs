//! End to end: the converted tiny.en (f16 and q8_0) loads in whisper.cpp (via whisper-rs)
//! and transcribes speech synthesised with espeak-ng. Skips, with a visible message, when the
//! registry package is unavailable.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use courtscribe_models::{ModelStore, Quantisation};
use courtscribe_testkit::speak_samples;
use whisper_rs::{FullParams, SamplingStrategy, WhisperContext, WhisperContextParameters};

/// espeak-ng's voice is robotic and tiny.en is small: faster-whisper running the original
/// CTranslate2 weights mishears "state" as "take" here too (checked by hand), so the test
/// asks for most words, not all.
const SENTENCE: &str = "The hearing is adjourned until tomorrow morning. \
                        Please state your full name and address for the court.";

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
    let samples = speak_samples("en", SENTENCE);
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
