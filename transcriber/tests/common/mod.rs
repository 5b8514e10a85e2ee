//! Helpers shared by the transcriber's integration tests (each test binary uses some of them).
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};

/// A recording of `../shared/eval`, or `None` with a SKIPPED line when it is not beside this
/// checkout.
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

/// The default model, installed (`scripts/test` installs it).
pub fn default_model() -> courtscribe_models::InstalledModel {
    courtscribe_models::ModelStore::from_env()
        .unwrap()
        .resolve(courtscribe_models::DEFAULT_MODEL)
        .unwrap()
}

/// The recording as 16 kHz mono.
pub fn mono16k(path: &Path) -> Vec<f32> {
    let audio = courtscribe_audio::decode_file(path).unwrap();
    courtscribe_audio::resample(&audio.mono(), audio.sample_rate, 16_000).unwrap()
}

/// `text` spoken by espeak-ng (English) as 16 kHz mono; panics with the reason when espeak-ng is
/// missing (`scripts/deps` installs it).
pub fn espeak16k(text: &str) -> Vec<f32> {
    // A file, not --stdout: espeak-ng's streamed WAV header declares no real length.
    let wav = tempfile::Builder::new().suffix(".wav").tempfile().unwrap();
    let status = std::process::Command::new("espeak-ng")
        .args(["-v", "en", "-w"])
        .arg(wav.path())
        .arg(text)
        .status()
        .expect("espeak-ng is installed (scripts/deps)");
    assert!(status.success(), "espeak-ng failed");
    mono16k(wav.path())
}
