//! The no-speech probability is whisper's own "nobody speaks here" (after
//! `<|startoftranscript|>`), measured on each window: low for speech, high where whisper hears
//! nothing and writes something anyway. The guard drops such text by it, and the JSON reports it.
#![allow(clippy::unwrap_used)]

mod common;

use courtscribe_transcriber::recognizer::{DecodeRequest, RawSegment};
use courtscribe_transcriber::{Recognizer, WhisperEngine};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

fn no_speech_probs(recognizer: &mut dyn Recognizer, audio: &[f32]) -> Vec<(String, f32)> {
    let request = DecodeRequest {
        language: "en",
        prompt: None,
        temperature: 0.0,
    };
    let segments = recognizer.decode(audio, &request).unwrap();
    segments
        .iter()
        .map(|s| (RawSegment::text(s), s.no_speech_prob))
        .collect()
}

/// Quiet white noise, the same on every run.
fn noise(secs: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(7);
    (0..secs * 16_000)
        .map(|_| rng.random_range(-0.003..0.003))
        .collect()
}

#[test]
fn no_speech_probability_tells_speech_from_noise() {
    let model = common::default_model();
    let engine = WhisperEngine::load(&model, 2).unwrap();
    let mut recognizer = engine.recognizer().unwrap();

    // whisper `base` writes a sentence for 8 s of quiet noise ("I'm going to do it."); it must
    // also say that nobody spoke. (whisper.cpp's own value was 1/n_vocab here: 1.9e-5.)
    let heard = no_speech_probs(&mut recognizer, &noise(8));
    assert!(
        heard.iter().all(|(_, p)| *p > 0.5),
        "noise taken for speech: {heard:?}"
    );

    let said = no_speech_probs(
        &mut recognizer,
        &common::espeak16k("The court is in session. The clerk will read the charges."),
    );
    assert!(!said.is_empty(), "nothing heard in speech");
    assert!(
        said.iter().all(|(_, p)| *p < 0.3),
        "speech taken for silence: {said:?}"
    );

    // The same noise after speech in the same state: the value is the window's own, not what
    // the previous window's last decoding step left behind.
    let again = no_speech_probs(&mut recognizer, &noise(8));
    assert!(
        again.iter().all(|(_, p)| *p > 0.5),
        "noise after speech taken for speech: {again:?}"
    );
}
