//! Fixtures shared by every crate's tests and by the benches: the evaluation recordings beside
//! the checkout (`../shared/eval`, absent on a user's fresh clone) and speech made with espeak-ng
//! and sox. A dev-dependency only: nothing shipped links it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// `../shared/eval` beside the checkout, if it is there.
pub fn eval_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/eval");
    dir.is_dir().then_some(dir)
}

/// `../shared/eval/REL`, or `None` after a visible SKIPPED line saying what is absent.
pub fn shared_eval(rel: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/eval")
        .join(rel);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (../shared/eval is not beside this checkout)",
            path.display()
        );
        None
    }
}

/// `text` spoken by espeak-ng voice `voice` at 150 words a minute and `pitch` (0–99), written to
/// `out` as a 16 kHz mono 16-bit WAV (sox resamples espeak's 22 050 Hz). The error says which
/// tool failed; `scripts/deps` installs both.
pub fn speak_wav(out: &Path, voice: &str, pitch: u8, text: &str) -> Result<(), String> {
    let raw = out.with_extension("espeak.wav");
    run(Command::new("espeak-ng")
        .args(["-v", voice, "-s", "150", "-p", &pitch.to_string(), "-w"])
        .arg(&raw)
        .arg(text))?;
    let resampled = run(Command::new("sox")
        .arg(&raw)
        .args(["-r", "16000", "-c", "1", "-b", "16"])
        .arg(out));
    // The intermediate file is only a step; a failure to remove it changes nothing.
    let _ = std::fs::remove_file(&raw);
    resampled
}

fn run(cmd: &mut Command) -> Result<(), String> {
    match cmd.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{cmd:?} failed ({status})")),
        Err(e) => Err(format!(
            "cannot run {cmd:?} ({e}; scripts/deps installs it)"
        )),
    }
}
