//! Shared test helpers: the eval folder, espeak-ng fixtures, reference turns.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use courtscribe_diarization::Turn;

/// `../shared/eval` next to the repository, or `None` with a visible SKIPPED line.
pub fn eval_dir(test: &str) -> Option<PathBuf> {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!("SKIPPED: {test}: ../shared/eval is absent");
        None
    }
}

/// 16 kHz mono speech of `text` in espeak-ng voice `voice` (e.g. "en-us+m3"), or `None` (with a
/// SKIPPED line) when espeak-ng/sox are not installed.
pub fn speak(test: &str, voice: &str, text: &str) -> Option<Vec<f32>> {
    speak_pitched(test, voice, 50, text)
}

/// [`speak`] with an espeak pitch (0–99).
pub fn speak_pitched(test: &str, voice: &str, pitch: u32, text: &str) -> Option<Vec<f32>> {
    let dir = tempfile::tempdir().ok()?;
    let raw = dir.path().join("raw.wav");
    let wav = dir.path().join("16k.wav");
    let ok = Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-p", &pitch.to_string(), "-w"])
        .arg(&raw)
        .arg(text)
        .status()
        .is_ok_and(|s| s.success())
        && Command::new("sox")
            .arg("-R")
            .arg(&raw)
            .args(["-r", "16000", "-c", "1", "-b", "16"])
            .arg(&wav)
            .status()
            .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("SKIPPED: {test}: espeak-ng and sox are needed to make fixtures");
        return None;
    }
    let a = courtscribe_audio::decode_file(&wav).ok()?;
    let mut x = a.channels.into_iter().next()?;
    // Trim espeak's own leading/trailing silence so the placed turns are the reference.
    let first = x.iter().position(|v| v.abs() > 0.01).unwrap_or(0);
    let last = x
        .iter()
        .rposition(|v| v.abs() > 0.01)
        .map_or(x.len(), |p| p + 1);
    x.truncate(last);
    x.drain(..first);
    Some(x)
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
