//! Courts say the same formulas again after a recess ("The court is now in session"). Packed
//! with the speech before the recess into one window, such a sentence read to the loop guard as
//! whisper copying itself: the window was decoded four times (three temperatures, then in halves),
//! and in a one-hour bench recording a judge's sentence vanished from the transcript. A recess now
//! ends the window: each block of speech is decoded once, and every repetition is in the minutes
//! at its own time.
#![allow(clippy::unwrap_used)]

mod common;

use common::Recording;
use courtscribe_testkit::speak_samples;
use courtscribe_transcriber::{Language, PipelineOptions};

const SR: usize = 16_000;

#[test]
fn a_formula_said_again_after_each_recess_is_transcribed_every_time() {
    let judge = speak_samples(
        "en-gb",
        "The court is now in session. Does the defendant agree with the plaintiff's claim?",
    );
    let party = speak_samples(
        "en-us+m3",
        "Your honour, I borrowed the money in March and I have already repaid forty million dong.",
    );
    // Two blocks (judge, 1 s, party), 12 s of silence after each: with the recess cut out, short
    // enough together for one 29 s window.
    let mut audio = Vec::new();
    let mut block_starts = Vec::new();
    for _ in 0..2 {
        block_starts.push(audio.len() as f64 / SR as f64);
        audio.extend_from_slice(&judge);
        audio.extend(std::iter::repeat_n(0.0, SR));
        audio.extend_from_slice(&party);
        audio.extend(std::iter::repeat_n(0.0, 12 * SR));
    }
    let block_secs = (judge.len() + SR + party.len()) as f64 / SR as f64;
    assert!(
        2.0 * block_secs + 1.0 < 29.0,
        "the blocks would fit one window"
    );

    let engine = common::default_engine();
    let mut recognizer = Recording::new(engine.recognizer().unwrap());
    let opts = PipelineOptions {
        language: Language::Fixed("en".into()),
        ..PipelineOptions::default()
    };
    let out = common::recognise(&mut recognizer, &audio, &opts);
    let heard: Vec<(f64, String)> = out
        .segments
        .iter()
        .map(|s| (s.start, s.text.to_lowercase()))
        .collect();
    assert_eq!(
        recognizer.prompts.len(),
        2,
        "one decode per block, no retries: {heard:?}"
    );
    for (i, &start) in block_starts.iter().enumerate() {
        let in_block: Vec<&str> = heard
            .iter()
            .filter(|(t, _)| *t >= start - 0.5 && *t < start + block_secs)
            .map(|(_, text)| text.as_str())
            .collect();
        let text = in_block.join(" ");
        for word in ["session", "defendant", "money", "march"] {
            assert!(
                text.contains(word),
                "block {i} at {start:.1} s lacks {word:?}: {in_block:?} (all: {heard:?})"
            );
        }
    }
}
