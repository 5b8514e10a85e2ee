//! Puts speakers into a transcript: every word gets the speaker whose turn covers most of it,
//! segments are re-cut wherever the speaker changes (a segment has one speaker), segments take the
//! speaker's channel, and the transcript gets the top-level speaker list.

use courtscribe_transcriber::{Segment, Transcript};

use crate::{Diarization, Turn};

/// The speaker for the span `[start, end]`: most overlap; with no overlap, the nearest turn (a
/// word whisper timed into a pause still belongs to someone); `None` when nobody spoke at all.
pub fn speaker_at(turns: &[Turn], start: f64, end: f64) -> Option<&Turn> {
    let mut best: Option<(&Turn, f64)> = None;
    for t in turns {
        let ov = end.min(t.end) - start.max(t.start);
        if ov > 0.0 && best.is_none_or(|(_, b)| ov > b) {
            best = Some((t, ov));
        }
    }
    if let Some((t, _)) = best {
        return Some(t);
    }
    let mid = 0.5 * (start + end);
    turns.iter().min_by(|a, b| {
        let da = (a.start - mid).abs().min((a.end - mid).abs());
        let db = (b.start - mid).abs().min((b.end - mid).abs());
        da.total_cmp(&db)
    })
}

/// Writes the diarization into `transcript` (idempotent: earlier speakers are replaced).
pub fn apply(transcript: &mut Transcript, d: &Diarization) {
    let mut out: Vec<Segment> = Vec::with_capacity(transcript.segments.len());
    for seg in std::mem::take(&mut transcript.segments) {
        if seg.words.is_empty() {
            let t = speaker_at(&d.turns, seg.start, seg.end);
            out.push(Segment {
                speaker: t.map(|t| t.speaker.clone()),
                channel: t.and_then(|t| t.channel),
                ..seg
            });
            continue;
        }
        // Group consecutive words by speaker.
        let mut groups: Vec<(Option<&Turn>, Vec<courtscribe_transcriber::Word>)> = Vec::new();
        for mut w in seg.words.clone() {
            let t = speaker_at(&d.turns, w.start, w.end);
            w.speaker = t.map(|t| t.speaker.clone());
            match groups.last_mut() {
                Some((gt, ws)) if gt.map(|t| &t.speaker) == t.map(|t| &t.speaker) => ws.push(w),
                _ => groups.push((t, vec![w])),
            }
        }
        let n = groups.len();
        for (i, (t, words)) in groups.into_iter().enumerate() {
            let first = words.first().map_or(seg.start, |w| w.start);
            let last = words.last().map_or(seg.end, |w| w.end);
            let start = if i == 0 { seg.start.min(first) } else { first };
            let end = if i + 1 == n { seg.end.max(last) } else { last };
            let text = if n == 1 {
                seg.text.clone()
            } else {
                courtscribe_transcriber::transcript::text_of(&words)
            };
            out.push(Segment {
                id: 0,
                start,
                end,
                text,
                speaker: t.map(|t| t.speaker.clone()),
                channel: t.and_then(|t| t.channel),
                avg_logprob: seg.avg_logprob,
                no_speech_prob: seg.no_speech_prob,
                words,
            });
        }
    }
    for (i, s) in out.iter_mut().enumerate() {
        s.id = i;
    }
    transcript.segments = out;
    transcript.speakers = d.speakers.clone();
}
