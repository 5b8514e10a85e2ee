//! Helpers shared by the transcriber's integration tests.
#![allow(clippy::unwrap_used)]

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

/// The recording as 16 kHz mono.
pub fn mono16k(path: &Path) -> Vec<f32> {
    let audio = courtscribe_audio::decode_file(path).unwrap();
    courtscribe_audio::resample(&audio.mono(), audio.sample_rate, 16_000).unwrap()
}
