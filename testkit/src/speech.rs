//! Speech, silence and joins made with espeak-ng and sox, as 16 kHz mono: the fixtures every
//! crate's tests speak with.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context as _, bail};

/// An espeak-ng voice (`en-us+m3`, `en-gb`, `vi`, `vi-vn-x-south`, …), its pitch (0–99) and
/// speed (words per minute).
#[derive(Debug, Clone, Copy)]
pub struct Voice<'a> {
    pub name: &'a str,
    pub pitch: u8,
    pub speed: u16,
}

impl<'a> Voice<'a> {
    /// `name` at espeak-ng's default pitch and a clear 150 words a minute.
    pub const fn new(name: &'a str) -> Self {
        Self {
            name,
            pitch: 50,
            speed: 150,
        }
    }

    pub const fn pitch(self, pitch: u8) -> Self {
        Self { pitch, ..self }
    }

    pub const fn speed(self, speed: u16) -> Self {
        Self { speed, ..self }
    }
}

impl<'a> From<&'a str> for Voice<'a> {
    fn from(name: &'a str) -> Self {
        Self::new(name)
    }
}

/// sox in repeatable mode: its dither (on every 16-bit write) and its noise are seeded, so the same
/// input gives the same bytes, and a test's or bench's result does not move between runs. Every
/// fixture is made with it.
pub fn sox() -> Command {
    let mut cmd = Command::new("sox");
    cmd.arg("-R");
    cmd
}

/// Runs a fixture tool; a missing tool or a failed run is an error naming the command.
pub fn try_run(cmd: &mut Command) -> anyhow::Result<Output> {
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {cmd:?} (scripts/deps installs espeak-ng and sox)"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(out)
}

/// [`try_run`] for tests: a fixture that cannot be made fails the test with the reason.
pub fn run(cmd: &mut Command) -> Output {
    try_run(cmd).unwrap_or_else(|e| panic!("{e:#}"))
}

/// `text` spoken by `voice` into `DIR/NAME.wav`, 16 kHz mono 16-bit.
pub fn speak<'a>(dir: &Path, name: &str, voice: impl Into<Voice<'a>>, text: &str) -> PathBuf {
    try_speak(dir, name, voice.into(), text).unwrap_or_else(|e| panic!("{e:#}"))
}

pub(crate) fn try_speak(
    dir: &Path,
    name: &str,
    voice: Voice<'_>,
    text: &str,
) -> anyhow::Result<PathBuf> {
    let raw = dir.join(format!("{name}.raw.wav"));
    let out = dir.join(format!("{name}.wav"));
    espeak(voice, text, &raw)?;
    try_run(
        sox()
            .arg(&raw)
            .args(["-r", "16000", "-c", "1", "-b", "16"])
            .arg(&out),
    )?;
    Ok(out)
}

/// `text` spoken by `voice` as 16 kHz mono samples (sox resamples to 32-bit float, so no
/// courtscribe decoder is involved in making the fixture).
pub fn speak_samples<'a>(voice: impl Into<Voice<'a>>, text: &str) -> Vec<f32> {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temporary directory: {e}"));
    let raw = dir.path().join("raw.wav");
    espeak(voice.into(), text, &raw).unwrap_or_else(|e| panic!("{e:#}"));
    let out = run(sox()
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-e", "floating-point", "-b", "32"])
        .args(["-t", "raw", "-"]));
    out.stdout
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// espeak-ng writes `text` to the WAV `out` at its own rate (a file, not --stdout: its streamed
/// WAV header declares no real length).
fn espeak(voice: Voice<'_>, text: &str, out: &Path) -> anyhow::Result<()> {
    try_run(
        Command::new("espeak-ng")
            .args(["-v", voice.name, "-p", &voice.pitch.to_string()])
            .args(["-s", &voice.speed.to_string(), "-w"])
            .arg(out)
            .arg(text),
    )?;
    Ok(())
}

/// `secs` of silence (with a faint noise floor, as a real room has) as `DIR/NAME.wav`, 16 kHz
/// mono.
pub fn silence(dir: &Path, name: &str, secs: f64) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    run(sox()
        .args(["-n", "-r", "16000", "-c", "1", "-b", "16"])
        .arg(&out)
        .args(["synth", &secs.to_string(), "whitenoise", "vol", "0.002"]));
    out
}

/// `parts` one after another as `DIR/NAME.wav`.
pub fn concat(dir: &Path, name: &str, parts: &[PathBuf]) -> PathBuf {
    let out = dir.join(format!("{name}.wav"));
    run(sox().args(parts).arg(&out));
    out
}

/// Length of an audio file in seconds, as sox reads it.
pub fn duration(path: &Path) -> f64 {
    try_duration(path).unwrap_or_else(|e| panic!("{e:#}"))
}

pub fn try_duration(path: &Path) -> anyhow::Result<f64> {
    let out = try_run(Command::new("soxi").arg("-D").arg(path))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim()
        .parse()
        .with_context(|| format!("soxi -D {}: {text:?}", path.display()))
}
