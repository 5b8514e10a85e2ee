//! From 16 kHz samples to segments: VAD → windows → decoder (with loop fallback) → words mapped
//! back to recording time → guards.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use unicode_normalization::UnicodeNormalization;

use crate::Error;
use crate::guard;
use crate::recognizer::{DecodeRequest, RawSegment, RawToken, Recognizer};
use crate::slots::DecodeSlots;
use crate::spelling::{HouseStyle, Spelling};
use crate::transcript::{Segment, Word, ends_clause, ends_sentence, text_of};
use crate::vad::{self, Region, VadConfig, Window};

/// Temperatures tried, in order, when the decode of a window that cannot be split loops (one
/// split, at a pause or else at the quietest moment mid-window, comes first where it can). Each
/// retry costs a full decode, so the ladder is short; what still loops after it is collapsed by
/// [`guard::collapse_loops`].
const FALLBACK_TEMPERATURES: [f32; 3] = [0.0, 0.4, 0.8];

/// How far (seconds) a word may run past the end of detected speech: VAD onsets and offsets are
/// a frame or two early on soft endings.
const WORD_TAIL_SECS: f64 = 0.0;

/// Words whose time lies farther than this (seconds) from any detected speech are dropped: the
/// decoder put them in a pause, so nobody said them there.
const MAX_WORD_DISTANCE_FROM_SPEECH: f64 = 0.5;

/// Detected speech (seconds) a window's decode may leave without a word before that stretch is
/// decoded again on its own. Shorter stretches are coughs, noise VAD took for speech, or a word
/// whisper rightly left out.
const UNHEARD_SPEECH_SECS: f64 = 2.0;

/// How far (seconds) on each side of a word the speech counts as heard.
const HEARD_SLACK_SECS: f64 = 0.5;

/// How far (seconds) a token's alignment may lie outside its segment and still be trusted.
const ALIGNMENT_SLACK_SECS: f64 = 1.0;

/// The court's own language, which language detection prefers: hearings in a Vietnamese court
/// are held in Vietnamese (Civil Procedure Code 2015 Art. 20; other languages come through an
/// interpreter), while whisper `base` hears accented or synthetic Vietnamese as Thai or Khmer
/// (espeak-ng Vietnamese: Thai 0.59–0.77, Vietnamese 0.05–0.30; BENCHMARKS.md).
const COURT_LANGUAGE: &str = "vi";

/// How many times as likely as [`COURT_LANGUAGE`] another language must be to be chosen. English
/// speech scored English 0.75–0.998 and Vietnamese under 0.005 (≥ 150×), espeak Vietnamese at
/// most 14× Thai.
const COURT_LANGUAGE_PRIOR: f32 = 20.0;

/// The detected language and whisper's probability of it: the likeliest language, unless it is
/// less than [`COURT_LANGUAGE_PRIOR`] times as likely as the court's own.
fn court_language_first(probabilities: &[(String, f32)]) -> (String, f32) {
    let weight = |(code, p): &&(String, f32)| {
        if code == COURT_LANGUAGE {
            p * COURT_LANGUAGE_PRIOR
        } else {
            *p
        }
    };
    probabilities
        .iter()
        .max_by(|a, b| weight(a).total_cmp(&weight(b)))
        .map_or_else(|| ("und".to_string(), 0.0), |(code, p)| (code.clone(), *p))
}

#[derive(Debug, Clone)]
pub enum Language {
    /// ISO 639-1 code.
    Fixed(String),
    /// Detect from the first speech.
    Auto,
}

#[derive(Debug, Clone)]
pub struct PipelineOptions {
    pub language: Language,
    pub prompt: Option<String>,
    pub vad: VadConfig,
    /// A window that loops is decoded again in halves ([`Window::split`]), each greedy and retried
    /// the same way; one that cannot be split is decoded again at higher temperatures. Off for
    /// live captions, which must come quickly and are not the record: the loop is collapsed to
    /// one copy at once.
    pub retry_loops: bool,
    /// The house style English text is written in (whisper mixes both).
    pub spelling: Spelling,
    /// CPU threads shared with other transcriptions running at the same time: each window takes
    /// its recogniser's threads from the pool before it is decoded. `None`: this transcription
    /// has the threads it was given to itself.
    pub slots: Option<Arc<DecodeSlots>>,
}

impl Default for PipelineOptions {
    fn default() -> Self {
        Self {
            language: Language::Fixed("vi".into()),
            prompt: None,
            vad: VadConfig::default(),
            retry_loops: true,
            spelling: Spelling::default(),
            slots: None,
        }
    }
}

/// What the pipeline found.
#[derive(Debug, Clone)]
pub struct Recognised {
    pub language: String,
    pub language_probability: Option<f32>,
    pub segments: Vec<Segment>,
}

/// Transcribes 16 kHz mono `samples`. `progress` receives the fraction of speech decoded (0..=1).
/// Windows are decoded side by side, one per recogniser in `recognizers` (at least one); each
/// stands alone (nothing decoded is carried to the next), so the order they are decoded in
/// changes nothing but the time taken.
pub fn recognise<R: Recognizer>(
    recognizers: &mut [R],
    samples: &[f32],
    opts: &PipelineOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<Recognised, Error> {
    let Some(first_recognizer) = recognizers.first_mut() else {
        return Err(Error::Decode("no decoding state to decode with".into()));
    };
    let regions = vad::speech_regions(samples, &opts.vad);
    let windows = vad::windows(samples, &regions, &opts.vad);

    let (language, language_probability) = match (&opts.language, windows.first()) {
        (Language::Fixed(code), _) => (code.clone(), None),
        (Language::Auto, Some(first)) => {
            let (code, p) =
                court_language_first(&first_recognizer.detect_language(&first.samples)?);
            (code, Some(p))
        }
        // Nothing was said: there is nothing to detect and nothing to decode.
        (Language::Auto, None) => ("und".to_string(), None),
    };

    progress(0.0);
    let mut segments: Vec<Segment> =
        decode_windows(recognizers, &windows, &regions, &language, opts, progress)?
            .into_iter()
            .flatten()
            .collect();
    let style = HouseStyle::new(&language, opts.spelling, opts.prompt.as_deref());
    for (id, seg) in segments.iter_mut().enumerate() {
        seg.id = id;
        seg.words = style.apply_words(std::mem::take(&mut seg.words));
        seg.text = text_of(&seg.words);
    }
    Ok(Recognised {
        language,
        language_probability,
        segments,
    })
}

/// Every window decoded ([`decode_all_speech`]), its segments at the window's index. Each
/// recogniser runs on its own thread and takes the longest window not yet taken, so the last
/// windows to finish are short ones. The first error stops the others taking more. With fewer
/// windows than recognisers (a short recording), the recognisers that get one share all the
/// threads: one window on one of two single-threaded states took a third longer than on both
/// threads.
fn decode_windows<R: Recognizer>(
    recognizers: &mut [R],
    windows: &[Window],
    regions: &[Region],
    language: &str,
    opts: &PipelineOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<Vec<Vec<Segment>>, Error> {
    let threads: usize = recognizers.iter().map(|r| r.threads()).sum();
    let used = windows.len().min(recognizers.len()).max(1);
    let recognizers = &mut recognizers[..used];
    for (i, recognizer) in recognizers.iter_mut().enumerate() {
        // The first ones take what does not divide evenly.
        recognizer.set_threads(threads / used + usize::from(i < threads % used));
    }
    let mut longest_first: Vec<usize> = (0..windows.len()).collect();
    longest_first.sort_by_key(|&i| std::cmp::Reverse(windows[i].samples.len()));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let total: f64 = windows.iter().map(Window::duration_secs).sum();
    let mut decoded: Vec<Option<Vec<Segment>>> = vec![None; windows.len()];
    std::thread::scope(|scope| {
        let (sender, received) = std::sync::mpsc::channel();
        for recognizer in recognizers.iter_mut() {
            let sender = sender.clone();
            let (next, failed, longest_first) = (&next, &failed, &longest_first);
            scope.spawn(move || {
                while !failed.load(Ordering::Relaxed) {
                    let Some(&i) = longest_first.get(next.fetch_add(1, Ordering::Relaxed)) else {
                        break;
                    };
                    let threads = recognizer.threads();
                    let _slot = opts.slots.as_deref().map(|pool| pool.take(threads));
                    let result =
                        decode_all_speech(recognizer, &windows[i], regions, language, opts);
                    failed.fetch_or(result.is_err(), Ordering::Relaxed);
                    if sender.send((i, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut done = 0.0;
        for (i, result) in received {
            decoded[i] = Some(result?);
            done += windows[i].duration_secs();
            progress(if total > 0.0 { done / total } else { 1.0 });
        }
        Ok::<(), Error>(())
    })?;
    progress(1.0);
    Ok(decoded.into_iter().map(Option::unwrap_or_default).collect())
}

/// The window decoded, then, when the decode kept any word, every stretch of its speech left
/// without words (see [`unheard`]) decoded again on its own; segments in time order.
fn decode_all_speech(
    recognizer: &mut impl Recognizer,
    window: &Window,
    regions: &[Region],
    language: &str,
    opts: &PipelineOptions,
) -> Result<Vec<Segment>, Error> {
    // The decoder's prompt is the case vocabulary and nothing else. Text already decoded is never
    // given as context: the decoder copied it over the next turn ("3 million per month" written
    // where a party said "we have agreed on the division of property"), and it made
    // espeak-Vietnamese windows loop three times as often (BENCHMARKS, 2026-11-27 stop 16). That
    // is also what lets windows be decoded in any order.
    let prompt = opts.prompt.as_deref();
    let mut segments = decode_window(
        recognizer,
        window,
        regions,
        language,
        prompt,
        opts.retry_loops,
    )?;
    // A decode that kept no word heard no speech (or only what the guards dropped): the same
    // audio would be decoded the same way again.
    let stretches = if segments.is_empty() {
        Vec::new()
    } else {
        unheard(window, regions, &segments)
    };
    for (start, end) in stretches {
        let pad = opts.vad.pad_secs;
        let Some(part) = window.part(start - pad, end + pad) else {
            continue;
        };
        tracing::warn!(
            start,
            end,
            "speech left without words; decoding it again on its own"
        );
        segments.extend(decode_window(
            recognizer,
            &part,
            regions,
            language,
            prompt,
            opts.retry_loops,
        )?);
    }
    segments.sort_by(|a, b| a.start.total_cmp(&b.start));
    Ok(segments)
}

fn decode_window(
    recognizer: &mut dyn Recognizer,
    window: &Window,
    regions: &[Region],
    language: &str,
    prompt: Option<&str>,
    retry_loops: bool,
) -> Result<Vec<Segment>, Error> {
    // The greedy decode, kept in case nothing better comes, and the best retry that did not loop.
    let mut greedy: Vec<Segment> = Vec::new();
    let mut best_retry: Option<(f32, Vec<Segment>)> = None;
    for (attempt, &temperature) in FALLBACK_TEMPERATURES.iter().enumerate() {
        let started = std::time::Instant::now();
        let raw = recognizer.decode(
            &window.samples,
            &DecodeRequest {
                language,
                prompt,
                temperature,
            },
        )?;
        // Loops are judged on everything whisper wrote, before any word is placed or dropped.
        let texts: Vec<String> = raw.iter().map(RawSegment::text).collect();
        let looping = guard::is_looping(&texts);
        let logprobs: Vec<f32> = raw
            .iter()
            .flat_map(|r| r.tokens.iter().map(|t| t.logprob))
            .collect();
        let avg_logprob = logprobs.iter().sum::<f32>() / logprobs.len().max(1) as f32;
        let segments: Vec<Segment> = raw
            .iter()
            .filter_map(|r| to_segment(r, window, regions))
            .flat_map(|seg| split_at_pauses(seg, regions))
            .collect();
        tracing::info!(
            window_start = window.source_start_secs(),
            window_secs = window.duration_secs(),
            temperature,
            segments = segments.len(),
            looping,
            avg_logprob,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "decoded window"
        );
        // Greedy text is the most faithful when it does not loop; a sampled retry must also be
        // confident, or it is whisper making things up at a high temperature.
        if !retry_loops || (!looping && (attempt == 0 || avg_logprob >= guard::LOW_AVG_LOGPROB)) {
            return Ok(keep_speech(segments));
        }
        if looping {
            tracing::debug!(?texts, "what the looping decode wrote");
        }
        if attempt == 0 {
            // The loops whisper makes in hearings copy a sentence over the turn after it. Decoded
            // apart (split at a pause, or mid-window in unbroken speech: `Window::split`), each
            // half is greedy again: text that follows the audio,
            // for about one decode's time. A sampled retry writes less likely words and costs
            // ~2.5 decodes (5 samples). Each half gets the same treatment if it loops.
            if let Some((left, right)) = window.split() {
                tracing::warn!(
                    window_start = window.source_start_secs(),
                    "decoder looped; decoding the window in halves"
                );
                let mut halves = decode_window(recognizer, &left, regions, language, prompt, true)?;
                halves.extend(decode_window(
                    recognizer, &right, regions, language, prompt, true,
                )?);
                return Ok(halves);
            }
            greedy = segments;
        } else if !looping && best_retry.as_ref().is_none_or(|(lp, _)| avg_logprob > *lp) {
            best_retry = Some((avg_logprob, segments));
        }
        tracing::warn!(
            window_start = window.source_start_secs(),
            attempt,
            temperature,
            "decoder looped; retrying the window at a higher temperature"
        );
    }
    // A window of one stretch of speech that loops at every temperature keeps its least bad
    // decode, with loops collapsed to one copy.
    Ok(keep_speech(
        best_retry.map_or(greedy, |(_, segments)| segments),
    ))
}

/// Stretches of a window's detected speech (recording seconds, `start..end`) that no decoded word
/// is at or near, each holding at least [`UNHEARD_SPEECH_SECS`] of speech. Whisper sometimes ends
/// a window early: given the parties' names as its prompt, it wrote the first sentence of a 12 s
/// window and stopped, and the turns after it never reached the minutes.
fn unheard(window: &Window, regions: &[Region], segments: &[Segment]) -> Vec<(f64, f64)> {
    let (from, to) = (window.source_start_secs(), window.source_end_secs());
    let heard: Vec<(f64, f64)> = segments
        .iter()
        .flat_map(|s| &s.words)
        .map(|w| (w.start - HEARD_SLACK_SECS, w.end + HEARD_SLACK_SECS))
        .collect();
    // The parts of each of the window's regions no word covers, in order.
    let mut parts: Vec<(f64, f64)> = Vec::new();
    let in_window = regions[first_ending_after(from, regions)..]
        .iter()
        .take_while(|r| r.start_secs() < to);
    for r in in_window {
        let (start, end) = (r.start_secs().max(from), r.end_secs().min(to));
        let mut cursor = start;
        for &(s, e) in heard.iter().filter(|&&(s, e)| s < end && e > start) {
            if s > cursor {
                parts.push((cursor, s));
            }
            cursor = cursor.max(e);
        }
        if cursor < end {
            parts.push((cursor, end));
        }
    }
    // Parts with no word between them make one stretch.
    let mut stretches: Vec<(f64, f64, f64)> = Vec::new();
    for (s, e) in parts {
        match stretches.last_mut() {
            Some(last) if !heard.iter().any(|&(hs, he)| hs < s && he > last.1) => {
                last.1 = e;
                last.2 += e - s;
            }
            _ => stretches.push((s, e, e - s)),
        }
    }
    stretches
        .into_iter()
        .filter(|&(_, _, speech)| speech >= UNHEARD_SPEECH_SECS)
        .map(|(s, e, _)| (s, e))
        .collect()
}

/// Loops collapsed to one copy, segments that are not speech dropped (and logged, so a clerk's
/// question "why is this missing" has an answer).
fn keep_speech(segments: Vec<Segment>) -> Vec<Segment> {
    guard::collapse_loops(segments)
        .into_iter()
        .filter(|s| {
            let drop = guard::is_hallucination(s);
            if drop {
                tracing::info!(start = s.start, no_speech_prob = s.no_speech_prob, avg_logprob = s.avg_logprob, text = %s.text, "dropped as not speech");
            }
            !drop
        })
        .collect()
}

/// Builds a segment in recording time from a raw one; `None` when nothing of it survives.
fn to_segment(raw: &RawSegment, window: &Window, regions: &[Region]) -> Option<Segment> {
    let seg_start = raw.start.max(0.0);
    let seg_end = raw.end.max(seg_start);
    // A token is placed by its alignment, which follows the audio closely, unless that is
    // implausible; then by the decoder's own timestamp. Implausible: outside its segment (the
    // decoder repeated itself and DTW aligned the copy with the original), or away from any
    // speech while the decoder's time is in speech (DTW slid "of the meeting", the end of a turn,
    // into the pause before the next one). Far from speech by both, the word is dropped below.
    let placed = |tok: &RawToken| {
        let source = |t: f64| window.to_source_secs(t.clamp(seg_start, seg_end));
        let far = |t: f64| distance_to_speech(t, t, regions) > MAX_WORD_DISTANCE_FROM_SPEECH;
        let decoder = tok.decoder_time;
        tok.aligned_time
            .filter(|&t| {
                (seg_start - ALIGNMENT_SLACK_SECS..=seg_end + ALIGNMENT_SLACK_SECS).contains(&t)
            })
            .filter(|&t| !far(source(t)) || far(source(decoder)))
            .unwrap_or(decoder)
    };
    // Group tokens into words: a word starts with a token that begins with a space.
    let mut groups: Vec<(Vec<u8>, f64, Vec<f32>)> = Vec::new();
    for tok in &raw.tokens {
        let starts_word = tok.bytes.first() == Some(&b' ') || groups.is_empty();
        if starts_word {
            groups.push((tok.bytes.clone(), placed(tok), vec![tok.probability]));
        } else if let Some(last) = groups.last_mut() {
            last.0.extend_from_slice(&tok.bytes);
            last.2.push(tok.probability);
        }
    }

    let mut words: Vec<Word> = Vec::with_capacity(groups.len());
    for (i, (bytes, time, probs)) in groups.iter().enumerate() {
        // A letter split across a segment boundary leaves stray bytes: drop them, never show "�".
        let text: String = String::from_utf8_lossy(bytes)
            .nfc()
            .filter(|&c| c != char::REPLACEMENT_CHARACTER)
            .collect();
        if text.trim().is_empty() {
            continue;
        }
        let start = time.clamp(seg_start, seg_end);
        let end = groups
            .get(i + 1)
            .map_or(seg_end, |next| next.1)
            .clamp(start, seg_end);
        let (start, end) = (window.to_source_secs(start), window.to_source_secs(end));
        let start = snap_to_speech(start, regions);
        // A word ends where its stretch of speech ends (the one it starts in, or ends at), not
        // at the next word after a pause.
        let end = regions
            .get(regions.partition_point(|r| r.end_secs() < start))
            .map_or(end, |r| end.min(r.end_secs() + WORD_TAIL_SECS));
        let probability = probs.iter().sum::<f32>() / probs.len().max(1) as f32;
        words.push(Word {
            start,
            end: end.max(start),
            text,
            probability,
            speaker: None,
        });
    }
    // Keep words in order and inside speech.
    let mut cursor = f64::MIN;
    words.retain_mut(|w| {
        w.start = w.start.max(cursor);
        w.end = w.end.max(w.start);
        cursor = w.end;
        let near = distance_to_speech(w.start, w.end, regions) <= MAX_WORD_DISTANCE_FROM_SPEECH;
        if !near {
            tracing::info!(start = w.start, text = %w.text, "word dropped: not in or near speech");
        }
        near
    });
    share_squeezed_spans(&mut words);
    let first = words.first()?;
    let last = words.last()?;
    let logprobs: Vec<f32> = raw.tokens.iter().map(|t| t.logprob).collect();
    Some(Segment {
        id: 0,
        start: first.start,
        end: last.end,
        text: text_of(&words),
        speaker: None,
        channel: None,
        avg_logprob: logprobs.iter().sum::<f32>() / logprobs.len().max(1) as f32,
        no_speech_prob: raw.no_speech_prob,
        words,
    })
}

/// Pauses at least this long (seconds) between detected speech end a segment.
const SEGMENT_PAUSE_SECS: f64 = 0.5;

/// Most words a sentence end may carry back across a pause when the aligner heaped them on the
/// next turn's onset.
const HEAPED_WORDS_MOVED_BACK: usize = 4;

/// Splits a segment at every pause of [`SEGMENT_PAUSE_SECS`] the VAD heard inside it. whisper
/// joins sentences across pauses, while the minutes and diarization want
/// one utterance per segment. A word goes to the side of the pause's midpoint it starts on.
fn split_at_pauses(mut seg: Segment, regions: &[Region]) -> Vec<Segment> {
    // (the pause's midpoint, where the speech before it ends)
    let cuts: Vec<(f64, f64)> = regions
        .windows(2)
        .filter(|p| p[1].start_secs() - p[0].end_secs() >= SEGMENT_PAUSE_SECS)
        .map(|p| ((p[0].end_secs() + p[1].start_secs()) / 2.0, p[0].end_secs()))
        .filter(|&(mid, _)| mid > seg.start && mid < seg.end)
        .collect();
    if cuts.is_empty() {
        return vec![seg];
    }
    let words = std::mem::take(&mut seg.words);
    // Each part with where the speech before its cut ends.
    let mut parts: Vec<(Vec<Word>, f64)> = vec![(Vec::new(), f64::MIN)];
    let mut next_cut = cuts.iter().peekable();
    for word in words {
        while let Some(&(_, speech_end)) = next_cut.next_if(|&&(mid, _)| word.start >= mid) {
            match parts.last_mut() {
                Some((part, _)) if !part.is_empty() => parts.push((Vec::new(), speech_end)),
                Some((_, before)) => *before = speech_end,
                None => {}
            }
        }
        if let Some((part, _)) = parts.last_mut() {
            part.push(word);
        }
    }
    // Alignment tends to place the last word before a pause late, past the pause's midpoint.
    // whisper's punctuation knows better: a sentence end just after the cut moves back before it,
    // and into the speech it ends (it had been put in the pause, or on the next turn's onset).
    for k in 1..parts.len() {
        let speech_end = parts[k].1;
        let left_open = parts[k - 1].0.last().is_some_and(|w| !ends_clause(&w.text));
        // Within two words, or further when the words before the sentence end were heaped on
        // the onset with no time of their own ("of the meeting." all at the next turn's onset).
        let words = &parts[k].0;
        let heaped = |i: usize| words[..i].iter().all(|w| w.end - w.start < 1e-6);
        let close = words
            .iter()
            .take(HEAPED_WORDS_MOVED_BACK)
            .position(|w| ends_sentence(&w.text))
            .filter(|&i| i < 2 || heaped(i));
        if let (true, Some(i)) = (left_open, close) {
            let moved: Vec<Word> = parts[k].0.drain(..=i).collect();
            let left = &mut parts[k - 1].0;
            for mut word in moved {
                let after = left.last().map_or(f64::MIN, |w| w.end);
                word.start = word.start.min(speech_end).max(after);
                word.end = word.end.min(speech_end + WORD_TAIL_SECS).max(word.start);
                left.push(word);
            }
            share_squeezed_spans(left);
        }
    }
    let parts = parts.into_iter().map(|(words, _)| words);
    parts
        .filter_map(|words| {
            let (start, end) = (words.first()?.start, words.last()?.end);
            Some(Segment {
                start,
                end,
                text: text_of(&words),
                words,
                ..seg.clone()
            })
        })
        .collect()
}

/// A word left with no time of its own (moved to the end of its speech, where the word before it
/// ends) shares that word's time with it, in proportion to their letters: "keep custody." both
/// play and highlight, where "custody." alone would be an instant.
fn share_squeezed_spans(words: &mut [Word]) {
    for i in 1..words.len() {
        let (before, rest) = words.split_at_mut(i);
        let (prev, word) = (&mut before[i - 1], &mut rest[0]);
        let squeezed = word.end - word.start < 1e-6 && (word.start - prev.end).abs() < 1e-6;
        if !squeezed || prev.end - prev.start < 1e-6 {
            continue;
        }
        let letters = |w: &Word| {
            w.text
                .chars()
                .filter(|c| c.is_alphanumeric())
                .count()
                .max(1)
        };
        let (a, b) = (letters(prev) as f64, letters(word) as f64);
        prev.end = prev.start + (word.end - prev.start) * a / (a + b);
        word.start = prev.end;
    }
}

/// A word the aligner placed in a pause is moved into speech: to the onset after it when that is
/// near (the VAD hears an onset more precisely than the alignment does), else to the end of the
/// speech before it when that is near. Decoded without timestamp tokens, DTW slid a turn's last
/// word half a second into the pause after it ("please rise." 0.5 s after the judge stopped,
/// running on into the next turn).
fn snap_to_speech(t: f64, regions: &[Region]) -> f64 {
    let i = first_ending_after(t, regions);
    if regions.get(i).is_some_and(|r| t >= r.start_secs()) {
        return t;
    }
    let onset = regions.get(i).map(Region::start_secs);
    let end_before = i
        .checked_sub(1)
        .and_then(|k| regions.get(k))
        .map(Region::end_secs);
    onset
        .filter(|onset| onset - t <= MAX_WORD_DISTANCE_FROM_SPEECH)
        .or(end_before.filter(|end| t - end <= MAX_WORD_DISTANCE_FROM_SPEECH))
        .unwrap_or(t)
}

/// Index of the first region that ends after `t`. Regions are sorted and disjoint, so a binary
/// search replaces a scan per word (a three-hour hearing has thousands of regions).
fn first_ending_after(t: f64, regions: &[Region]) -> usize {
    regions.partition_point(|r| r.end_secs() <= t)
}

/// Seconds between `[start, end]` and the nearest speech region (0 when they overlap). Only the
/// last region ending before `start` and the first ending after it can be nearest.
fn distance_to_speech(start: f64, end: f64, regions: &[Region]) -> f64 {
    let i = first_ending_after(start, regions);
    let before = i
        .checked_sub(1)
        .and_then(|k| regions.get(k))
        .map(|r| (start - r.end_secs()).max(0.0));
    let after = regions.get(i).map(|r| (r.start_secs() - end).max(0.0));
    before
        .into_iter()
        .chain(after)
        .fold(f64::INFINITY, f64::min)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recognizer::RawToken;
    use courtscribe_audio::WHISPER_SAMPLE_RATE;

    /// Replays scripted decodes, one per call, and records the temperatures asked for.
    struct Scripted {
        decodes: Vec<Vec<RawSegment>>,
        temperatures: Vec<f32>,
    }

    impl Recognizer for Scripted {
        fn detect_language(&mut self, _: &[f32]) -> Result<Vec<(String, f32)>, Error> {
            Ok(vec![("vi".into(), 0.9)])
        }
        fn decode(&mut self, _: &[f32], req: &DecodeRequest<'_>) -> Result<Vec<RawSegment>, Error> {
            self.temperatures.push(req.temperature);
            Ok(if self.decodes.is_empty() {
                Vec::new()
            } else {
                self.decodes.remove(0)
            })
        }
    }

    fn raw(text: &str, start: f64, step: f64) -> RawSegment {
        let tokens: Vec<RawToken> = text
            .split(' ')
            .enumerate()
            .map(|(i, w)| RawToken {
                bytes: format!(" {w}").into_bytes(),
                aligned_time: Some(start + i as f64 * step),
                decoder_time: start + i as f64 * step,
                probability: 0.8,
                logprob: -0.2,
            })
            .collect();
        let end = start + tokens.len() as f64 * step;
        RawSegment {
            start,
            end,
            no_speech_prob: 0.05,
            tokens,
        }
    }

    /// A window of the recording's first 10 s, in one piece.
    fn ten_seconds_from_the_start() -> Window {
        let sr = WHISPER_SAMPLE_RATE as usize;
        Window {
            samples: vec![0.0; 10 * sr],
            pieces: vec![vad::Piece {
                window_start: 0,
                source_start: 0,
                len: 10 * sr,
            }],
        }
    }

    /// Speech regions at `spans` (seconds, start and end).
    fn regions_at(spans: &[(f64, f64)]) -> Vec<Region> {
        let sr = WHISPER_SAMPLE_RATE as f64;
        spans
            .iter()
            .map(|&(start, end)| Region {
                start: (start * sr) as usize,
                end: (end * sr) as usize,
            })
            .collect()
    }

    /// A window of 10 s of unbroken "speech" from 100 s on: [`speech_window`].
    fn window_and_regions() -> (Window, Vec<Region>) {
        speech_window(10)
    }

    /// `secs` of unbroken, noise-free "speech" from 100 s on, one piece (a tone earshot scores
    /// as voice is not guaranteed, so the regions are given directly through a window built by
    /// hand).
    fn speech_window(secs: usize) -> (Window, Vec<Region>) {
        let sr = WHISPER_SAMPLE_RATE as usize;
        let w = Window {
            samples: vec![0.0; secs * sr],
            pieces: vec![vad::Piece {
                window_start: 0,
                source_start: 100 * sr,
                len: secs * sr,
            }],
        };
        (
            w,
            vec![Region {
                start: 100 * sr,
                end: (100 + secs) * sr,
            }],
        )
    }

    /// Decodes a window too short to split whose every decode loops; returns the temperatures
    /// asked for and the segments kept.
    fn decode_looping(retry_loops: bool) -> (Vec<f32>, Vec<Segment>) {
        let (w, regions) = speech_window(6);
        let looped = raw(
            "xin mời bị cáo xin mời bị cáo xin mời bị cáo xin mời bị cáo",
            0.0,
            0.3,
        );
        let mut rec = Scripted {
            decodes: vec![vec![looped.clone()], vec![looped.clone()], vec![looped]],
            temperatures: vec![],
        };
        let segs = decode_window(&mut rec, &w, &regions, "vi", None, retry_loops).expect("decodes");
        (rec.temperatures, segs)
    }

    #[test]
    fn loops_retry_at_higher_temperature_then_collapse() {
        let (temperatures, segs) = decode_looping(true);
        assert_eq!(temperatures, FALLBACK_TEMPERATURES.to_vec());
        assert_eq!(segs.len(), 1);
        assert_eq!(guard::normalise(&segs[0].text), "xin mời bị cáo");
    }

    #[test]
    fn without_retries_a_loop_is_collapsed_after_one_decode() {
        let (temperatures, segs) = decode_looping(false);
        assert_eq!(temperatures, vec![FALLBACK_TEMPERATURES[0]]);
        assert_eq!(segs.len(), 1);
        assert_eq!(guard::normalise(&segs[0].text), "xin mời bị cáo");
    }

    #[test]
    fn a_looping_window_of_unbroken_speech_is_decoded_in_halves() {
        let (w, regions) = window_and_regions();
        let looped = raw("có có có có có có có", 0.0, 0.2);
        let mut rec = Scripted {
            decodes: vec![
                vec![looped],
                vec![raw("bị cáo có mặt", 0.5, 0.4)],
                vec![raw("nguyên đơn có mặt", 0.5, 0.4)],
            ],
            temperatures: vec![],
        };
        let segs = decode_window(&mut rec, &w, &regions, "vi", None, true).expect("decodes");
        assert_eq!(
            rec.temperatures,
            vec![0.0; 3],
            "greedy, then each half greedy"
        );
        assert_eq!(texts(&segs), ["bị cáo có mặt", "nguyên đơn có mặt"]);
        // Silence everywhere: the cut is at the start of the middle third, 103.3 s.
        assert!(
            (103.8..104.0).contains(&segs[1].start),
            "the second half in recording time: {}",
            segs[1].start
        );
    }

    #[test]
    fn a_clean_retry_wins() {
        let (w, regions) = speech_window(6);
        let looped = raw("có có có có có có có", 0.0, 0.2);
        let clean = raw("bị cáo có mặt", 0.0, 0.4);
        let mut rec = Scripted {
            decodes: vec![vec![looped], vec![clean]],
            temperatures: vec![],
        };
        let segs = decode_window(&mut rec, &w, &regions, "vi", None, true).expect("decodes");
        assert_eq!(rec.temperatures, vec![0.0, 0.4]);
        assert_eq!(segs[0].text, "bị cáo có mặt");
    }

    #[test]
    fn words_map_to_recording_time_in_order_and_inside_their_segment() {
        let (w, regions) = window_and_regions();
        let mut r = raw("hôm nay tòa mở phiên", 2.0, 0.5);
        // The aligner can emit a time that runs backwards; order must still hold.
        r.tokens[2].aligned_time = Some(2.1);
        let seg = to_segment(&r, &w, &regions).expect("segment");
        assert!((seg.start - 102.0).abs() < 1e-6, "{}", seg.start);
        for pair in seg.words.windows(2) {
            assert!(pair[0].end <= pair[1].start + 1e-9 && pair[0].start <= pair[0].end);
        }
        assert!(
            seg.words
                .iter()
                .all(|x| x.start >= seg.start && x.end <= seg.end)
        );
    }

    #[test]
    fn words_in_silence_are_dropped() {
        let w = ten_seconds_from_the_start();
        // Speech only in the first 2 s; a word placed at 6 s is in silence.
        let regions = regions_at(&[(0.0, 2.0)]);
        let r = raw("có mặt ạ", 0.5, 0.5);
        let mut late = raw("cảm ơn", 6.0, 0.5);
        late.start = 6.0;
        let segs: Vec<Segment> = [r, late]
            .iter()
            .filter_map(|x| to_segment(x, &w, &regions))
            .collect();
        assert_eq!(segs.len(), 1);
        assert_eq!(segs[0].text, "có mặt ạ");
    }

    #[test]
    fn a_word_aligned_into_a_pause_keeps_the_decoders_time_when_that_is_speech() {
        let w = ten_seconds_from_the_start();
        // Two turns with a 2 s pause between them.
        let regions = regions_at(&[(0.0, 4.0), (6.0, 10.0)]);
        let mut r = raw("ký biên bản phiên họp", 2.0, 0.4);
        // whisper ended the segment in the pause, and the alignment slid the last word into its
        // middle; the decoder's own timestamp did not.
        r.end = 5.2;
        let last = r.tokens.last_mut().expect("tokens");
        last.aligned_time = Some(5.0);
        last.decoder_time = 3.6;
        let seg = to_segment(&r, &w, &regions).expect("kept");
        assert_eq!(seg.text, "ký biên bản phiên họp");
        let word = seg.words.last().expect("words");
        assert!((word.start - 3.6).abs() < 1e-6, "{word:?}");
        // Both estimates in the pause: nobody said it there.
        let last = r.tokens.last_mut().expect("tokens");
        last.decoder_time = 5.0;
        let seg = to_segment(&r, &w, &regions).expect("kept");
        assert_eq!(seg.text, "ký biên bản phiên");
    }

    fn word(start: f64, end: f64, text: &str) -> Word {
        Word {
            start,
            end,
            text: text.into(),
            probability: 0.9,
            speaker: None,
        }
    }

    /// Each segment's text.
    fn texts(segments: &[Segment]) -> Vec<&str> {
        segments.iter().map(|s| s.text.as_str()).collect()
    }

    /// `words` as one segment from the first word's start to the last's end, split at pauses.
    fn split_words(words: Vec<Word>, regions: &[Region]) -> Vec<Segment> {
        let (start, end) = (words[0].start, words[words.len() - 1].end);
        let seg = Segment {
            id: 0,
            start,
            end,
            text: String::new(),
            speaker: None,
            channel: None,
            avg_logprob: -0.2,
            no_speech_prob: 0.1,
            words,
        };
        split_at_pauses(seg, regions)
    }

    #[test]
    fn segments_split_at_pauses_and_sentence_ends_stay_left() {
        // Speech 0–2 s and 3–5 s: a 1 s pause with its midpoint at 2.5 s.
        let regions = regions_at(&[(0.0, 2.0), (3.0, 5.0)]);
        let w = |t: f64, text: &str| word(t, t + 0.3, text);
        // "law." was aligned late, past the midpoint; it ends the first sentence.
        let words = vec![
            w(0.1, " provided"),
            w(0.8, " by"),
            w(2.6, " law."),
            w(3.1, " Does"),
            w(3.6, " the"),
            w(4.2, " court?"),
        ];
        let parts = split_words(words, &regions);
        assert_eq!(texts(&parts), ["provided by law.", "Does the court?"]);
        assert!((parts[1].start - 3.1).abs() < 1e-9);
        let law = parts[0].words.last().expect("law.");
        assert!(
            (law.start - 2.0).abs() < 1e-9 && (parts[0].end - 2.0).abs() < 1e-9,
            "law. moves into the speech it ends, not left in the pause: {law:?}"
        );
    }

    #[test]
    fn a_sentence_end_put_on_the_next_turns_onset_goes_back_into_its_own_speech() {
        // Speech 0–2 s and 3–5 s. DTW put "custody." in the pause and the snap put it on the
        // next turn's onset: in the minutes it would be the judge's first word.
        let regions = regions_at(&[(0.0, 2.0), (3.0, 5.0)]);
        let words = vec![
            word(0.1, 1.0, " to"),
            word(1.0, 2.0, " keep"),
            word(3.0, 3.3, " custody."),
            word(3.3, 3.8, " Mr"),
            word(3.8, 4.5, " Quang,"),
        ];
        let parts = split_words(words, &regions);
        assert_eq!(texts(&parts), ["to keep custody.", "Mr Quang,"]);
        let (keep, custody) = (&parts[0].words[1], &parts[0].words[2]);
        assert!((custody.end - 2.0).abs() < 1e-9 && (parts[0].end - 2.0).abs() < 1e-9);
        assert!(
            (keep.end - custody.start).abs() < 1e-9 && (keep.end - (1.0 + 4.0 / 11.0)).abs() < 1e-9,
            "{keep:?} {custody:?}"
        );
        assert!((parts[1].start - 3.3).abs() < 1e-9);

        // A title's full stop ends no sentence: "Mrs." opens the next turn and stays there.
        let words = vec![
            word(0.1, 1.0, " the"),
            word(1.0, 2.0, " petition"),
            word(3.0, 3.3, " Mrs."),
            word(3.3, 3.8, " Hoa,"),
        ];
        assert_eq!(
            texts(&split_words(words, &regions)),
            ["the petition", "Mrs. Hoa,"]
        );
    }

    #[test]
    fn words_heaped_on_the_next_onset_go_back_with_their_sentence_end() {
        // Speech 0–2 s and 3–5 s. The aligner heaped "of the meeting." on the next turn's onset.
        let regions = regions_at(&[(0.0, 2.0), (3.0, 5.0)]);
        let words = vec![
            word(0.1, 1.0, " the"),
            word(1.0, 2.0, " minutes"),
            word(3.0, 3.0, " of"),
            word(3.0, 3.0, " the"),
            word(3.0, 3.2, " meeting."),
            word(3.2, 3.8, " Mr"),
            word(3.8, 4.5, " Thanh,"),
        ];
        let parts = split_words(words, &regions);
        assert_eq!(texts(&parts), ["the minutes of the meeting.", "Mr Thanh,"]);
        assert!(
            parts[0]
                .words
                .iter()
                .all(|w| w.end <= 2.0 + WORD_TAIL_SECS + 1e-9)
        );
        assert!((parts[1].start - 3.2).abs() < 1e-9);

        // A short sentence spoken at the next turn's onset, each word in its own time, is the
        // next turn's.
        let words = vec![
            word(0.1, 1.0, " the"),
            word(1.0, 2.0, " minutes"),
            word(3.0, 3.3, " Thank"),
            word(3.3, 3.5, " you"),
            word(3.5, 3.9, " all."),
        ];
        assert_eq!(
            texts(&split_words(words, &regions)),
            ["the minutes", "Thank you all."]
        );
    }

    #[test]
    fn the_last_word_before_a_pause_ends_with_the_speech() {
        let w = ten_seconds_from_the_start();
        // Speech 0–2 s and 8–10 s; the decoder's next word after "anh." comes at 8.1 s.
        let regions = regions_at(&[(0.0, 2.0), (8.0, 10.0)]);
        let mut r = raw("xin mời anh. Vâng", 0.5, 0.5);
        r.tokens[3].aligned_time = Some(8.1);
        r.end = 8.6;
        let seg = to_segment(&r, &w, &regions).expect("segment");
        let anh = &seg.words[2];
        assert!(anh.end <= 2.2 + 1e-9, "{anh:?}");
        let parts = split_at_pauses(seg, &regions);
        assert_eq!(parts.len(), 2);
    }

    #[test]
    fn a_last_word_aligned_into_the_pause_after_it_stays_with_its_speech() {
        let w = ten_seconds_from_the_start();
        // Speech 0–2 s and 3.5–6 s; DTW put "rise." 0.3 s into the pause, 1.2 s before the next
        // turn.
        let regions = regions_at(&[(0.0, 2.0), (3.5, 6.0)]);
        let r = raw("please rise. The court", 1.4, 0.9);
        assert!((r.tokens[1].aligned_time.expect("aligned") - 2.3).abs() < 1e-9);
        let seg = to_segment(&r, &w, &regions).expect("segment");
        let (please, rise) = (&seg.words[0], &seg.words[1]);
        assert_eq!(rise.text, " rise.");
        assert!(
            (rise.end - 2.0).abs() < 1e-9,
            "at the end of its speech, not running into the next turn: {rise:?}"
        );
        // Pushed onto the end of "please", it shares that word's time by letters.
        assert!(
            (please.end - rise.start).abs() < 1e-9 && rise.start > please.start + 0.1,
            "{please:?} {rise:?}"
        );
        assert!(((please.end - please.start) / (rise.end - rise.start) - 6.0 / 4.0).abs() < 1e-6);
        // A word in the pause near neither side stays where it was aligned.
        assert_eq!(snap_to_speech(2.7, &regions), 2.7);
        // Near both, the onset wins (a turn's first word aligned early).
        assert_eq!(snap_to_speech(3.1, &regions), 3.5);
        assert_eq!(snap_to_speech(6.4, &regions), 6.0);
        assert_eq!(snap_to_speech(1.2, &regions), 1.2);
    }

    #[test]
    fn a_looping_window_is_decoded_in_halves_before_any_sampling() {
        let sr = WHISPER_SAMPLE_RATE as usize;
        let w = Window {
            samples: vec![0.0; 10 * sr],
            pieces: vec![
                vad::Piece {
                    window_start: 0,
                    source_start: 0,
                    len: 4 * sr,
                },
                vad::Piece {
                    window_start: 4 * sr,
                    source_start: 20 * sr,
                    len: 6 * sr,
                },
            ],
        };
        let regions = regions_at(&[(0.0, 4.0), (21.0, 26.0)]);
        // The whole window copies the first sentence over the second turn.
        let looped = vec![
            raw("hôm nay tòa án mở phiên tòa", 0.2, 0.4),
            raw("hôm nay tòa án mở phiên tòa", 5.2, 0.4),
        ];
        let decodes = vec![
            looped,
            vec![raw("hôm nay tòa án mở phiên tòa", 0.2, 0.4)],
            vec![raw("thưa hội đồng xét xử", 1.2, 0.5)],
        ];
        let mut rec = Scripted {
            decodes,
            temperatures: vec![],
        };
        let segs = decode_window(&mut rec, &w, &regions, "vi", None, true).expect("decodes");
        assert_eq!(
            texts(&segs),
            ["hôm nay tòa án mở phiên tòa", "thưa hội đồng xét xử"]
        );
        assert!((segs[1].start - 21.2).abs() < 1e-6, "{}", segs[1].start);
        // Three greedy decodes: the window, then its halves; nothing sampled.
        assert_eq!(rec.temperatures, vec![0.0; 3]);
    }

    /// Hears in each window one word naming the window's length in tenths of a second, and
    /// fails on a window of `fail_on` tenths.
    struct Lengths {
        fail_on: Option<usize>,
        threads: usize,
    }

    impl Lengths {
        fn new(fail_on: Option<usize>) -> Self {
            Self {
                fail_on,
                threads: 1,
            }
        }
    }

    impl Recognizer for Lengths {
        fn detect_language(&mut self, _: &[f32]) -> Result<Vec<(String, f32)>, Error> {
            Ok(vec![("vi".into(), 0.9)])
        }
        fn decode(
            &mut self,
            audio: &[f32],
            _: &DecodeRequest<'_>,
        ) -> Result<Vec<RawSegment>, Error> {
            let tenths = audio.len() * 10 / WHISPER_SAMPLE_RATE as usize;
            if Some(tenths) == self.fail_on {
                return Err(Error::Decode(format!("window of {tenths} tenths")));
            }
            Ok(vec![raw(&format!("w{tenths}"), 0.2, 1.0)])
        }
        fn threads(&self) -> usize {
            self.threads
        }
        fn set_threads(&mut self, threads: usize) {
            self.threads = threads;
        }
    }

    /// Windows of 1, 3, 2 and 2.5 s of speech, 10 s apart in the recording.
    fn four_windows() -> (Vec<Window>, Vec<Region>) {
        let sr = WHISPER_SAMPLE_RATE as usize;
        let lengths = [10, 30, 20, 25].map(|tenths| tenths * sr / 10);
        let windows = lengths
            .iter()
            .enumerate()
            .map(|(i, &len)| Window {
                samples: vec![0.0; len],
                pieces: vec![vad::Piece {
                    window_start: 0,
                    source_start: i * 10 * sr,
                    len,
                }],
            })
            .collect();
        let regions = lengths
            .iter()
            .enumerate()
            .map(|(i, &len)| Region {
                start: i * 10 * sr,
                end: i * 10 * sr + len,
            })
            .collect();
        (windows, regions)
    }

    /// [`decode_windows`] with the default options, progress ignored.
    fn decode_quietly(
        recognizers: &mut [Lengths],
        windows: &[Window],
        regions: &[Region],
    ) -> Result<Vec<Vec<Segment>>, Error> {
        let opts = PipelineOptions::default();
        decode_windows(recognizers, windows, regions, "vi", &opts, &mut |_| {})
    }

    #[test]
    fn windows_decoded_side_by_side_come_back_in_recording_order() {
        let (windows, regions) = four_windows();
        let opts = PipelineOptions::default();
        let mut fractions = Vec::new();
        let mut recognizers = [Lengths::new(None), Lengths::new(None)];
        let decoded = decode_windows(
            &mut recognizers,
            &windows,
            &regions,
            "vi",
            &opts,
            &mut |f| fractions.push(f),
        )
        .expect("decodes");
        let texts: Vec<Vec<&str>> = decoded
            .iter()
            .map(|segs| segs.iter().map(|s| s.text.as_str()).collect())
            .collect();
        assert_eq!(texts, [["w10"], ["w30"], ["w20"], ["w25"]]);
        assert!(fractions.windows(2).all(|f| f[0] <= f[1]), "{fractions:?}");
        assert_eq!(fractions.last(), Some(&1.0));
    }

    #[test]
    fn a_recording_of_fewer_windows_than_states_gives_them_every_thread() {
        let (mut windows, regions) = four_windows();
        let mut recognizers = [Lengths::new(None), Lengths::new(None), Lengths::new(None)];
        recognizers[0].threads = 2;
        // Four windows on three states: each keeps its threads.
        decode_quietly(&mut recognizers, &windows, &regions).expect("decodes");
        assert_eq!(recognizers.each_ref().map(|r| r.threads), [2, 1, 1]);
        // One window: the state that decodes it has all four threads.
        windows.truncate(1);
        let decoded = decode_quietly(&mut recognizers, &windows, &regions).expect("decodes");
        assert_eq!(decoded.len(), 1);
        assert_eq!(recognizers[0].threads, 4);
    }

    #[test]
    fn a_window_that_fails_fails_the_recording() {
        let (windows, regions) = four_windows();
        let mut recognizers = [Lengths::new(Some(20)), Lengths::new(Some(20))];
        let result = decode_quietly(&mut recognizers, &windows, &regions);
        assert!(
            matches!(&result, Err(Error::Decode(m)) if m.contains("20 tenths")),
            "{result:?}"
        );
    }

    #[test]
    fn speech_a_decode_left_without_words_is_decoded_again_on_its_own() {
        let (w, regions) = window_and_regions();
        // Whisper stops after the first words of a 10 s stretch of speech (100–110 s).
        let decodes = vec![
            vec![raw("thưa hội đồng", 0.2, 0.5)],
            vec![raw("bị đơn xin trình bày", 0.5, 0.5)],
        ];
        let mut rec = Scripted {
            decodes,
            temperatures: vec![],
        };
        let opts = PipelineOptions::default();
        let segs = decode_all_speech(&mut rec, &w, &regions, "vi", &opts).expect("decodes");
        assert_eq!(texts(&segs), ["thưa hội đồng", "bị đơn xin trình bày"]);
        // The second decode heard the recording from where the first one's words ended.
        assert!(
            (101.7..=103.0).contains(&segs[1].start),
            "{}",
            segs[1].start
        );
        assert_eq!(rec.temperatures, vec![0.0; 2]);
    }

    #[test]
    fn speech_the_words_reach_is_not_decoded_again() {
        let (w, regions) = window_and_regions();
        // Words until 8.7 s of the 10 s window: 1.3 s of speech is left, under the threshold.
        let text: Vec<String> = (0..17).map(|i| format!("từ{i}")).collect();
        let mut rec = Scripted {
            decodes: vec![vec![raw(&text.join(" "), 0.2, 0.5)]],
            temperatures: vec![],
        };
        let opts = PipelineOptions::default();
        let segs = decode_all_speech(&mut rec, &w, &regions, "vi", &opts).expect("decodes");
        assert_eq!(segs.len(), 1);
        assert_eq!(rec.temperatures, vec![0.0]);
    }

    #[test]
    fn a_window_nothing_was_heard_in_is_not_decoded_again() {
        let (w, regions) = window_and_regions();
        let mut rec = Scripted {
            decodes: vec![],
            temperatures: vec![],
        };
        let opts = PipelineOptions::default();
        let segs = decode_all_speech(&mut rec, &w, &regions, "vi", &opts).expect("decodes");
        assert!(segs.is_empty());
        assert_eq!(rec.temperatures, vec![0.0]);
    }

    #[test]
    fn unheard_speech_is_cut_at_every_word() {
        let (w, regions) = window_and_regions();
        // Words at 103–104 s leave 100–102.5 s and 104.5–110 s (half a second heard each side).
        let seg = to_segment(&raw("có mặt", 3.0, 0.5), &w, &regions).expect("segment");
        let stretches = unheard(&w, &regions, &[seg]);
        assert_eq!(stretches.len(), 2, "{stretches:?}");
        assert!((stretches[0].0 - 100.0).abs() < 1e-6 && (stretches[0].1 - 102.5).abs() < 1e-6);
        assert!((stretches[1].0 - 104.5).abs() < 1e-6 && (stretches[1].1 - 110.0).abs() < 1e-6);
    }

    #[test]
    fn detection_prefers_the_court_language_unless_another_is_far_likelier() {
        let probs = |ps: &[(&str, f32)]| -> Vec<(String, f32)> {
            ps.iter().map(|&(c, p)| (c.to_string(), p)).collect()
        };
        // espeak Vietnamese as whisper `base` heard it.
        let heard_as_thai = probs(&[
            ("th", 0.6951),
            ("km", 0.2162),
            ("vi", 0.0496),
            ("en", 0.015),
        ]);
        assert_eq!(court_language_first(&heard_as_thai), ("vi".into(), 0.0496));
        // English speech.
        let english = probs(&[("en", 0.7534), ("nn", 0.0868), ("vi", 0.0030)]);
        assert_eq!(court_language_first(&english), ("en".into(), 0.7534));
        assert_eq!(court_language_first(&[]).0, "und");
    }

    #[test]
    fn region_lookups_agree_with_a_scan() {
        let sr = WHISPER_SAMPLE_RATE as usize;
        let regions: Vec<Region> = (0..50)
            .map(|k| Region {
                start: (3 * k + 1) * sr,
                end: (3 * k + 2) * sr,
            })
            .collect();
        let scan = |s: f64, e: f64| {
            regions
                .iter()
                .map(|r| {
                    if e < r.start_secs() {
                        r.start_secs() - e
                    } else if s > r.end_secs() {
                        s - r.end_secs()
                    } else {
                        0.0
                    }
                })
                .fold(f64::INFINITY, f64::min)
        };
        for i in 0..1600 {
            let s = i as f64 * 0.1 - 1.0;
            for len in [0.0, 0.3, 2.5] {
                assert!(
                    (distance_to_speech(s, s + len, &regions) - scan(s, s + len)).abs() < 1e-9,
                    "{s} {len}"
                );
            }
            let next = regions.iter().find(|r| r.end_secs() > s);
            assert_eq!(regions.get(first_ending_after(s, &regions)), next);
        }
    }
}
