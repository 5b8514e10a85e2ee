//! A party reading a long statement fast, with no pause for the VAD to cut at.
//!
//! A window is decoded without timestamp tokens, and whisper.cpp ends a pass at 220 tokens:
//! without timestamps, what the window said after that is lost and DTW spreads the words that
//! were written over all of it. A party who reads a long statement fast, with no pause for the
//! VAD to cut at, fills a window past that limit (espeak Vietnamese, where a syllable takes two
//! or three tokens). Such a window is decoded again with timestamp tokens, which carry the
//! decode on past the limit.
//!
//! Faster still, whisper loops on such a window at every temperature. A window with no pause
//! to split at was then left to the temperature ladder, and the guards dropped every decode: 23 s
//! of the statement never reached the minutes. It is now cut in two at its quietest moment, and
//! the halves are decoded apart.
#![allow(clippy::unwrap_used)]

mod common;

use courtscribe_testkit::{Voice, speak_samples};
use courtscribe_transcriber::recognizer::DecodeRequest;
use courtscribe_transcriber::{Language, PipelineOptions, Recognizer};

const SR: usize = 16_000;

/// Tokens whisper.cpp writes in one pass at most (half its 448-token text context, less 4).
const PASS_LIMIT: usize = 220;

const STATEMENT: &str = "Hội đồng xét xử gồm thẩm phán chủ tọa phiên tòa, hai hội thẩm nhân dân, \
    thư ký phiên tòa và đại diện viện kiểm sát nhân dân quận, nguyên đơn bà Trần Thị Mai trình \
    bày rằng ngày mười lăm tháng sáu năm hai nghìn không trăm hai mươi ba bà cho ông Lê Văn Hùng \
    vay một trăm hai mươi triệu đồng, lãi suất một phần trăm mỗi tháng, thời hạn sáu tháng, đến \
    nay ông Hùng mới trả bốn mươi triệu đồng, bà đề nghị tòa buộc ông Hùng trả tám mươi triệu \
    đồng còn lại cùng tiền lãi theo quy định của pháp luật";

#[test]
fn a_window_too_dense_for_one_decode_pass_is_decoded_past_the_limit() {
    let mut audio = speak_samples(
        Voice::new("vi").speed(220),
        &format!("{STATEMENT}, {STATEMENT}"),
    );
    audio.truncate(25 * SR);
    assert_eq!(audio.len(), 25 * SR, "one window of fast speech");

    let engine = common::default_engine();
    let mut recognizer = engine.recognizer().unwrap();
    let segments = recognizer
        .decode(
            &audio,
            &DecodeRequest {
                language: "vi",
                prompt: None,
                temperature: 0.0,
            },
        )
        .unwrap();
    let tokens: usize = segments.iter().map(|s| s.tokens.len()).sum();
    assert!(
        tokens > PASS_LIMIT,
        "the window's text runs past one pass: {tokens} tokens in {} segments",
        segments.len()
    );
    let last_end = segments.last().map_or(0.0, |s| s.end);
    assert!(
        last_end > 20.0,
        "and its segments reach the end of the speech: the last ends at {last_end:.1} s"
    );
}

#[test]
fn a_fast_statement_whisper_loops_on_reaches_the_minutes_whole() {
    let audio = speak_samples(
        Voice::new("vi").speed(300),
        &format!("{STATEMENT}, {STATEMENT}"),
    );
    let secs = audio.len() as f64 / SR as f64;

    let engine = common::default_engine();
    let mut recognizer = engine.recognizer().unwrap();
    let opts = PipelineOptions {
        language: Language::Fixed("vi".into()),
        ..PipelineOptions::default()
    };
    let out = common::recognise(&mut recognizer, &audio, &opts);
    let starts: Vec<f64> = out
        .segments
        .iter()
        .flat_map(|s| s.words.iter().map(|w| w.start))
        .collect();
    assert!(
        starts.first().is_some_and(|&t| t < 1.0),
        "the statement's first words are in the minutes: {starts:?}"
    );
    assert!(
        starts.last().is_some_and(|&t| t > secs - 3.0),
        "and its last ({secs:.1} s): {starts:?}"
    );
    let longest_gap = starts.windows(2).map(|w| w[1] - w[0]).fold(0.0, f64::max);
    assert!(
        longest_gap < 3.0,
        "no stretch of it is missing: the longest gap between words is {longest_gap:.1} s"
    );
}
