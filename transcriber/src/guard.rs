//! Guards against words nobody said.
//!
//! whisper loops (repeats a phrase many times) and invents stock phrases in noise. VAD keeps long
//! silences away from it; these checks catch what is left: repeated n-grams and repeated
//! segments, text that compresses too well (whisper's own 2.4 ratio), and segments that are
//! probably not speech at all (no-speech probability with low confidence, or more words than their
//! time could hold).

use std::io::Write as _;

use unicode_normalization::UnicodeNormalization;

use crate::transcript::Segment;

/// whisper's rule: text that zlib shrinks more than this is repetitive.
pub const MAX_COMPRESSION_RATIO: f64 = 2.4;
/// whisper's rule for dropping a segment: likely silence and not confidently decoded.
pub const NO_SPEECH_PROB: f32 = 0.6;
/// Below this average log-probability a decode is not confident: whisper's threshold for
/// retrying at a higher temperature.
pub const LOW_AVG_LOGPROB: f32 = -1.0;
/// The confidence under which a likely-silent segment is dropped. whisper uses
/// [`LOW_AVG_LOGPROB`]; measured here with `base`, that drops real speech in a language the model
/// knows poorly: espeak Vietnamese sentences decoded without context score down to -1.19 with a
/// no-speech probability of 0.6-0.97 (one at -0.93 fell below -1 on another CPU). What `base`
/// invents in noise scores -1.54 to -3.7 (short stock phrases, which [`STOCK_PHRASES`] catches,
/// excepted), and the VAD keeps such noise from the decoder in the first place; speech-like sounds
/// (babble, reversed speech) get a low no-speech probability, so no threshold here would catch
/// them. Losing what was said is the worse error: the bar sits by the hallucinations.
pub const NOT_SPEECH_AVG_LOGPROB: f32 = -1.5;

/// Phrases whisper is known to invent over silence or music (subtitle credits from its training
/// data). A segment that is only one of these is dropped.
const STOCK_PHRASES: &[&str] = &[
    "hãy subscribe cho kênh ghiền mì gõ để không bỏ lỡ những video hấp dẫn",
    "hãy subscribe cho kênh ghiền mì gõ",
    "để không bỏ lỡ những video hấp dẫn",
    "cảm ơn các bạn đã theo dõi",
    "cảm ơn các bạn đã xem video",
    "hẹn gặp lại các bạn trong những video tiếp theo",
    "thank you for watching",
    "thanks for watching",
    "subtitles by the amara org community",
    "please subscribe",
];

/// Lowercase, NFC, letters and digits only, words separated by one space.
pub fn normalise(text: &str) -> String {
    let lower: String = text.nfc().collect::<String>().to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Ratio of text length to its zlib-compressed length.
pub fn compression_ratio(text: &str) -> f64 {
    let bytes = text.as_bytes();
    if bytes.is_empty() {
        return 0.0;
    }
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing into a Vec cannot fail.
    let compressed = enc
        .write_all(bytes)
        .and_then(|()| enc.finish())
        .map(|v| v.len())
        .unwrap_or(bytes.len());
    bytes.len() as f64 / compressed.max(1) as f64
}

/// A run of the same n-gram in a word sequence: `words[start..start + n * count]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repeat {
    pub start: usize,
    pub n: usize,
    pub count: usize,
}

/// How many consecutive copies of an n-gram make a loop. Single words repeat in real speech
/// ("không, không, không"), so they need more copies than phrases do.
fn loop_threshold(n: usize) -> usize {
    match n {
        1 => 5,
        2 => 4,
        3..LONG_PHRASE_WORDS => 3,
        // Nobody says a sentence of eight words or more twice in a row; whisper does.
        _ => 2,
    }
}

/// Phrases at least this long (words) are a loop after a single repeat.
const LONG_PHRASE_WORDS: usize = 8;

/// The longest-covering looping n-gram in `words` (normalised tokens), if any.
pub fn find_loop(words: &[String]) -> Option<Repeat> {
    let mut best: Option<Repeat> = None;
    for n in 1..=words.len() / 2 {
        let mut i = 0;
        while i + n <= words.len() {
            let mut count = 1;
            while i + (count + 1) * n <= words.len()
                && words[i + count * n..i + (count + 1) * n] == words[i..i + n]
            {
                count += 1;
            }
            if count >= loop_threshold(n) && best.is_none_or(|b| n * count > b.n * b.count) {
                best = Some(Repeat { start: i, n, count });
            }
            i += if count > 1 { n * (count - 1) } else { 1 };
        }
    }
    best
}

/// True when one decode looks like a decoder loop rather than speech. `texts` are its segments,
/// as the decoder wrote them.
pub fn is_looping(texts: &[String]) -> bool {
    let text = texts.join(" ");
    let words: Vec<String> = normalise(&text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    find_loop(&words).is_some()
        || (text.len() > 80 && compression_ratio(&text) > MAX_COMPRESSION_RATIO)
        || repeats_a_sentence(texts)
}

/// A segment of several words that says again what an earlier segment of the same decode said,
/// whole: whisper copying a sentence over the next speaker's turn (measured on espeak hearings).
/// Only a whole segment counts: the parties' names and roles come back inside longer sentences
/// all through a hearing ("bị đơn ông Lê Văn Hùng có mặt" … "bị đơn ông Lê Văn Hùng"), and a
/// match inside an earlier segment flagged such a window as a loop and paid for a retry.
fn repeats_a_sentence(texts: &[String]) -> bool {
    let texts: Vec<String> = texts.iter().map(|t| normalise(t)).collect();
    texts
        .iter()
        .enumerate()
        .any(|(i, t)| t.split(' ').count() >= 4 && texts[..i].contains(t))
}

/// Removes every copy after the first of looping n-grams inside segments, and segments whose text
/// repeats the previous segment's. What remains is what was said once.
pub fn collapse_loops(segments: Vec<Segment>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    for mut seg in segments {
        loop {
            let norm: Vec<String> = seg.words.iter().map(|w| normalise(&w.text)).collect();
            // Punctuation-only words normalise to "", which must not break a run.
            let idx: Vec<usize> = (0..norm.len()).filter(|&i| !norm[i].is_empty()).collect();
            let seq: Vec<String> = idx.iter().map(|&i| norm[i].clone()).collect();
            let Some(r) = find_loop(&seq) else { break };
            let drop_from = idx[r.start + r.n];
            let drop_to = idx
                .get(r.start + r.n * r.count)
                .copied()
                .unwrap_or(seg.words.len());
            seg.words.drain(drop_from..drop_to);
            seg.text = seg
                .words
                .iter()
                .map(|w| w.text.as_str())
                .collect::<String>()
                .trim()
                .to_string();
            seg.end = seg.words.last().map_or(seg.end, |w| w.end);
        }
        let repeats_previous = out
            .last()
            .is_some_and(|p| normalise(&p.text) == normalise(&seg.text));
        if !repeats_previous && !seg.words.is_empty() {
            out.push(seg);
        }
    }
    out
}

/// Words per second nobody speaks: a segment this dense, and not confidently decoded, was
/// invented. Seen: "Để không bỏ lỡ những video hấp dẫn" (8 words in 36 ms, mean word probability
/// 0.47) after the last word of a 1.5 s clip. People say at most ~8 syllables a second.
const MAX_WORDS_PER_SEC: f64 = 20.0;
const MIN_WORDS_FOR_RATE: usize = 4;
const CONFIDENT_WORD_PROBABILITY: f32 = 0.6;

/// Segments that are probably not speech: whisper's no-speech rule, a stock phrase, or more words
/// than the time they take could hold, decoded without confidence.
pub fn is_hallucination(seg: &Segment) -> bool {
    if seg.no_speech_prob > NO_SPEECH_PROB && seg.avg_logprob < NOT_SPEECH_AVG_LOGPROB {
        return true;
    }
    let n = seg.words.len();
    let mean_probability = seg.words.iter().map(|w| w.probability).sum::<f32>() / n.max(1) as f32;
    let rate = n as f64 / (seg.end - seg.start).max(0.01);
    if n >= MIN_WORDS_FOR_RATE
        && rate > MAX_WORDS_PER_SEC
        && mean_probability < CONFIDENT_WORD_PROBABILITY
    {
        return true;
    }
    let norm = normalise(&seg.text);
    norm.is_empty() || STOCK_PHRASES.contains(&norm.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::Word;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    fn segment(text: &str) -> Segment {
        let ws: Vec<Word> = text
            .split(' ')
            .enumerate()
            .map(|(i, w)| Word {
                start: i as f64,
                end: i as f64 + 0.5,
                text: format!(" {w}"),
                probability: 0.9,
                speaker: None,
            })
            .collect();
        Segment {
            id: 0,
            start: 0.0,
            end: ws.len() as f64,
            text: text.into(),
            speaker: None,
            channel: None,
            avg_logprob: -0.3,
            no_speech_prob: 0.1,
            words: ws,
        }
    }

    #[test]
    fn loops_are_found_but_ordinary_repetition_is_not() {
        assert_eq!(find_loop(&words("không không không")), None);
        assert_eq!(
            find_loop(&words("tôi xin xin xin xin xin trình bày")),
            Some(Repeat {
                start: 1,
                n: 1,
                count: 5
            })
        );
        let looped =
            "bị cáo có ý kiến gì không bị cáo có ý kiến gì không bị cáo có ý kiến gì không";
        assert_eq!(
            find_loop(&words(looped)),
            Some(Repeat {
                start: 0,
                n: 7,
                count: 3
            })
        );
        assert_eq!(
            find_loop(&words(
                "thưa hội đồng xét xử tôi xin trình bày ý kiến của mình"
            )),
            None
        );
    }

    #[test]
    fn collapse_keeps_one_copy() {
        let s = segment(
            "đề nghị hội đồng xét xử đề nghị hội đồng xét xử đề nghị hội đồng xét xử chấp nhận",
        );
        let out = collapse_loops(vec![s.clone(), s]);
        assert_eq!(
            out.len(),
            1,
            "a segment repeating the previous one is dropped"
        );
        assert_eq!(normalise(&out[0].text), "đề nghị hội đồng xét xử chấp nhận");
        assert_eq!(out[0].words.len(), 8);
    }

    #[test]
    fn a_sentence_said_twice_in_one_decode_is_a_loop() {
        let texts = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let (a, b) = ("Hôm nay, Tòa án mở phiên tòa.", "Thưa Hội đồng xét xử");
        assert!(!is_looping(&texts(&[a, b])));
        assert!(is_looping(&texts(&[a, b, a])));
        // Short answers repeat in real hearings.
        assert!(!is_looping(&texts(&["Có ạ.", "Vâng.", "Có ạ."])));
        // So do names and roles, inside longer sentences.
        assert!(!is_looping(&texts(&[
            "Nguyên đơn bà Trần Thị Mai có mặt, bị đơn ông Lê Văn Hùng có mặt.",
            "Tôi tuyên bố khai mạc phiên tòa giữa nguyên đơn bà Trần Thị Mai",
            "và bị đơn ông Lê Văn Hùng.",
        ])));
    }

    #[test]
    fn compression_ratio_flags_repetition() {
        let normal = "Hôm nay, Tòa án nhân dân quận mở phiên tòa sơ thẩm xét xử vụ án dân sự về tranh chấp hợp đồng vay tài sản.";
        assert!(compression_ratio(normal) < MAX_COMPRESSION_RATIO);
        assert!(compression_ratio(&normal.repeat(5)) > MAX_COMPRESSION_RATIO);
    }

    #[test]
    fn stock_phrases_and_no_speech_are_hallucinations() {
        assert!(is_hallucination(&segment(
            "Hãy subscribe cho kênh Ghiền Mì Gõ để không bỏ lỡ những video hấp dẫn"
        )));
        let mut quiet = segment("ừ");
        quiet.no_speech_prob = 0.8;
        quiet.avg_logprob = -1.6;
        assert!(is_hallucination(&quiet));
        assert!(!is_hallucination(&segment("Cảm ơn Hội đồng xét xử")));
    }

    /// `text` squeezed into `secs`, every word with probability `p`.
    fn squeezed(text: &str, secs: f64, p: f32) -> Segment {
        let mut seg = segment(text);
        let n = seg.words.len() as f64;
        for (i, w) in seg.words.iter_mut().enumerate() {
            w.start = 1.46 + secs * i as f64 / n;
            w.end = 1.46 + secs * (i + 1) as f64 / n;
            w.probability = p;
        }
        seg.start = 1.46;
        seg.end = 1.46 + secs;
        seg
    }

    #[test]
    fn more_words_than_their_time_could_hold_are_invented_unless_confident() {
        // As decoded from the last 1.5 s of speech of a clip (`vi_civil_loan.wav` at 149 s).
        assert!(is_hallucination(&squeezed(
            "Để không bỏ lỡ những video hấp dẫn quá",
            0.036,
            0.47
        )));
        // Fast but human: 8 words in 1.2 s.
        assert!(!is_hallucination(&squeezed(
            "Bị cáo có ý kiến gì thêm không ạ",
            1.2,
            0.47
        )));
        // Squeezed by timing, but decoded with confidence: kept.
        assert!(!is_hallucination(&squeezed(
            "Bị cáo có ý kiến gì thêm không ạ",
            0.05,
            0.9
        )));
        // Two short words close together are not a rate.
        assert!(!is_hallucination(&squeezed("Vâng ạ", 0.02, 0.3)));
    }
}
