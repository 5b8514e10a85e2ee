//! Live captions decode short windows with an encoder context fitted to the window
//! (`WhisperEngine::load_for_short_windows`). Too small a context makes the decoder loop: a 1 s
//! window then came out only after seconds of retries, and a 3 s one with its sentence twice.
#![allow(clippy::unwrap_used)]

mod common;

use common::mono16k;
use courtscribe_testkit::shared_eval;
use courtscribe_transcriber::{Language, PipelineOptions, WhisperEngine};

#[test]
fn short_windows_decode_without_loops_or_repeated_sentences() {
    let Some(path) = shared_eval("synthetic/en_civil_loan.wav") else {
        return;
    };
    let samples = mono16k(&path);
    let model = common::default_model();
    let engine = WhisperEngine::load_for_short_windows(&model, 1).unwrap();
    let mut recognizer = engine.recognizer().unwrap();
    let opts = PipelineOptions {
        language: Language::Fixed("en".into()),
        ..Default::default()
    };
    // (start, length) in seconds: the end of a sentence then a pause; a sentence cut in two.
    for (start, secs) in [(74.0, 1.0), (20.0, 3.0)] {
        let from = (start * 16_000.0) as usize;
        let window = &samples[from..from + (secs * 16_000.0) as usize];
        let out = common::recognise(&mut recognizer, window, &opts);
        let texts: Vec<String> = out
            .segments
            .iter()
            .map(|s| s.text.trim().to_lowercase())
            .collect();
        let words: usize = texts.iter().map(|t| t.split_whitespace().count()).sum();
        // People say at most ~4 words a second; a looping decoder says many more.
        assert!(
            words as f64 <= 4.0 * secs + 1.0,
            "{start} s: {words} words in {secs} s: {texts:?}"
        );
        for (k, t) in texts.iter().enumerate() {
            assert!(
                !texts[..k]
                    .iter()
                    .any(|earlier| earlier.contains(t.as_str()) || t.contains(earlier.as_str())),
                "{start} s: a sentence came out twice: {texts:?}"
            );
        }
    }
}
