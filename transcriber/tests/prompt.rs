//! The decoder's prompt is the case vocabulary and nothing else. Text already decoded used to be
//! given to the next window as context within continuous speech; the decoder then copied it over
//! the next turn (a party's "we have agreed on the division of property ourselves" came out as
//! "we have a 3 million on per million on per month", the sum said one turn earlier), and
//! espeak-Vietnamese windows looped three times as often.
#![allow(clippy::unwrap_used)]

mod common;

use common::Recording;
use courtscribe_testkit::speak_samples;
use courtscribe_transcriber::{Language, PipelineOptions};

const SR: usize = 16_000;

#[test]
fn no_window_is_prompted_with_text_decoded_before_it() {
    let turns = [
        (
            "en-gb",
            "Does the defendant agree to pay child support every month until the child turns eighteen?",
        ),
        (
            "en-us+m3",
            "I can pay three million dong per month, provided that I may visit my son every weekend.",
        ),
        (
            "en+f2",
            "Do the parties have any common property or common debts that the court must divide?",
        ),
        (
            "en-us+f4",
            "We have agreed on the division of property ourselves, so we do not ask the court to resolve it.",
        ),
    ];
    // The turns twice over with 1 s pauses: continuous speech longer than one 29 s window.
    let mut round = Vec::new();
    for (voice, text) in turns {
        round.extend(speak_samples(voice, text));
        round.extend(std::iter::repeat_n(0.0, SR));
    }
    let audio = round.repeat(2);
    assert!(
        audio.len() > 35 * SR,
        "{} s is one window",
        audio.len() / SR
    );

    let vocabulary = "Vu Minh Quang, Do Thi Hoa";
    let engine = common::default_engine();
    let mut recognizer = Recording::new(engine.recognizer().unwrap());
    let opts = PipelineOptions {
        language: Language::Fixed("en".into()),
        prompt: Some(vocabulary.into()),
        ..PipelineOptions::default()
    };
    let out = common::recognise(&mut recognizer, &audio, &opts);
    let text: String = out
        .segments
        .iter()
        .map(|s| s.text.to_lowercase())
        .collect::<Vec<_>>()
        .join(" ");

    assert!(
        recognizer.prompts.len() >= 2,
        "continuous speech of {} s in one decode: {text}",
        audio.len() / SR
    );
    for (k, prompt) in recognizer.prompts.iter().enumerate() {
        assert_eq!(
            prompt.as_deref(),
            Some(vocabulary),
            "decode {k} was prompted with more than the case vocabulary"
        );
    }
    // The windows after the first were decoded for real: both rounds of turns are in the text.
    for word in ["support", "weekend", "ourselves"] {
        assert_eq!(
            text.matches(word).count(),
            2,
            "{word:?} is not in the text once per round: {text}"
        );
    }
}
