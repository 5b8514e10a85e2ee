//! Shared test helpers: espeak-ng clips placed in a room of microphones, reference turns.
#![allow(dead_code)]

use courtscribe_diarization::Turn;
use courtscribe_testkit::{Voice, speak_samples};

/// `text` spoken by espeak-ng as 16 kHz mono, espeak's own leading and trailing silence trimmed
/// so a clip placed at a time is the reference turn.
pub fn clip<'a>(voice: impl Into<Voice<'a>>, text: &str) -> Vec<f32> {
    let mut x = speak_samples(voice, text);
    let first = x.iter().position(|v| v.abs() > 0.01).unwrap_or(0);
    let last = x
        .iter()
        .rposition(|v| v.abs() > 0.01)
        .map_or(x.len(), |p| p + 1);
    x.truncate(last);
    x.drain(..first);
    x
}

/// Adds `clip` into `track` at `at_secs`.
pub fn place(track: &mut Vec<f32>, clip: &[f32], at_secs: f64, gain: f32) {
    let a = (at_secs * 16_000.0) as usize;
    if track.len() < a + clip.len() {
        track.resize(a + clip.len(), 0.0);
    }
    for (t, c) in track[a..].iter_mut().zip(clip) {
        *t += gain * c;
    }
}

/// A multi-channel room: `turns` are (channel, clip, start s); every mic hears every other seat at
/// `bleed_db`; a faint independent noise floor on each mic (deterministic).
pub fn room(
    n_channels: usize,
    turns: &[(usize, &[f32], f64)],
    bleed_db: f32,
    total_secs: f64,
) -> Vec<Vec<f32>> {
    let len = (total_secs * 16_000.0) as usize;
    let bleed = 10f32.powf(bleed_db / 20.0);
    let mut ch = vec![vec![0f32; len]; n_channels];
    for &(c, clip, at) in turns {
        for (d, track) in ch.iter_mut().enumerate() {
            place(track, clip, at, if d == c { 1.0 } else { bleed });
        }
    }
    let mut seed = 12345u32;
    for track in ch.iter_mut() {
        track.resize(len.max(track.len()), 0.0);
        for v in track.iter_mut() {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            *v += ((seed >> 8) as f32 / (1u32 << 24) as f32 - 0.5) * 0.002;
        }
    }
    ch
}

/// Reference turns for placed clips.
pub fn reference(turns: &[(usize, &[f32], f64)]) -> Vec<Turn> {
    turns
        .iter()
        .map(|&(c, clip, at)| Turn {
            start: at,
            end: at + clip.len() as f64 / 16_000.0,
            speaker: format!("ch{c}"),
            channel: Some(c),
        })
        .collect()
}

pub fn speakers_in(turns: &[Turn]) -> Vec<String> {
    let mut s: Vec<String> = turns.iter().map(|t| t.speaker.clone()).collect();
    s.sort();
    s.dedup();
    s
}
