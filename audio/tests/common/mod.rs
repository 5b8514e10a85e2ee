//! Shared by the integration tests: running sox/ffmpeg/espeak-ng to make fixtures in a temp dir,
//! and small signal measurements (RMS, tone power, loudness envelopes).
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};
use std::process::Command;

pub type TestResult = Result<(), Box<dyn std::error::Error>>;

/// Run a fixture tool; a missing tool or a failed run fails the test with the command line.
pub fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run {program} (is it installed?): {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{program} {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    Ok(())
}

pub fn ffmpeg(args: &[&str]) -> Result<(), String> {
    let mut all = vec!["-hide_banner", "-loglevel", "error", "-y"];
    all.extend_from_slice(args);
    run("ffmpeg", &all)
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().unwrap_or_default()
}

/// Seconds of the reference signal.
pub const SOURCE_SECS: f64 = 3.0;
pub const SOURCE_RATE: u32 = 44_100;
pub const TONE_HZ: f64 = 440.0;
pub const TONE_AMPLITUDE: f64 = 0.5;

/// The reference recording: 3 s at 44.1 kHz, s16, a 440 Hz tone (amplitude 0.5) on the left and
/// espeak-ng speech on the right. Returns the path of the WAV.
pub fn make_source(dir: &Path) -> Result<PathBuf, String> {
    let tone = dir.join("tone.wav");
    let speech_raw = dir.join("speech_raw.wav");
    let speech = dir.join("speech.wav");
    let source = dir.join("source.wav");
    run(
        "sox",
        &[
            "-n",
            "-r",
            "44100",
            "-c",
            "1",
            "-b",
            "16",
            path_str(&tone),
            "synth",
            "3",
            "sine",
            "440",
            "vol",
            "0.5",
        ],
    )?;
    run(
        "espeak-ng",
        &[
            "-w",
            path_str(&speech_raw),
            "The court is in session. The clerk will read the case.",
        ],
    )?;
    // Resample to 44.1 kHz, then pad/trim to exactly 3 s so both channels match.
    run(
        "sox",
        &[
            path_str(&speech_raw),
            "-r",
            "44100",
            "-c",
            "1",
            "-b",
            "16",
            path_str(&speech),
            "pad",
            "0",
            "3",
            "trim",
            "0",
            "3",
        ],
    )?;
    run(
        "sox",
        &["-M", path_str(&tone), path_str(&speech), path_str(&source)],
    )?;
    Ok(source)
}

pub fn rms(x: &[f32]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&s| f64::from(s) * f64::from(s)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Power of `x` at `freq` Hz (Goertzel), normalised so a sine of amplitude A gives about A²/4.
pub fn tone_power(x: &[f32], rate: u32, freq: f64) -> f64 {
    let w = 2.0 * std::f64::consts::PI * freq / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0, 0.0);
    for &sample in x {
        let s0 = f64::from(sample) + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    power / (x.len() as f64 * x.len() as f64)
}

/// The strongest frequency between `lo` and `hi` Hz, in `step` Hz steps.
pub fn dominant_frequency(x: &[f32], rate: u32, lo: f64, hi: f64, step: f64) -> f64 {
    let mut best = (lo, 0.0);
    let mut freq = lo;
    while freq <= hi {
        let p = tone_power(x, rate, freq);
        if p > best.1 {
            best = (freq, p);
        }
        freq += step;
    }
    best.0
}

/// RMS in 10 ms frames: a loudness envelope that survives lossy coding and small delays.
pub fn envelope(x: &[f32], rate: u32) -> Vec<f64> {
    let frame = (rate / 100) as usize;
    x.chunks(frame).map(rms).collect()
}

/// Best Pearson correlation of two envelopes over lags of up to `max_lag` frames.
pub fn envelope_correlation(a: &[f64], b: &[f64], max_lag: usize) -> f64 {
    let mut best = f64::MIN;
    for lag in 0..=max_lag {
        for (x, y) in [(&a[lag.min(a.len())..], b), (a, &b[lag.min(b.len())..])] {
            let n = x.len().min(y.len());
            if n < 10 {
                continue;
            }
            best = best.max(pearson(&x[..n], &y[..n]));
        }
    }
    best
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    if sxx == 0.0 || syy == 0.0 {
        return 0.0;
    }
    sxy / (sxx * syy).sqrt()
}

/// A deterministic xorshift generator, so "random" inputs are the same on every run.
pub struct XorShift(pub u64);

impl XorShift {
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
}

/// The eval recordings shared outside the repo (`../shared/eval` from the workspace root).
pub fn eval_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval");
    dir.is_dir().then_some(dir)
}
