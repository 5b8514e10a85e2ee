//! Fixtures for the tests and benchmarks of every crate, in one place: speech made at test time
//! with espeak-ng and sox ([`speech`]), mock court hearings spoken from a script ([`hearing`]),
//! word error rate with the scoring conventions of `../shared/eval` ([`wer`]), and the
//! evaluation recordings themselves when `../shared/eval` is beside the checkout. Depends on no
//! courtscribe crate, so any of them can use it.
//!
//! espeak-ng and sox are test dependencies (`scripts/deps` installs them): a fixture that cannot
//! be made fails the test with the command and the reason, it does not skip it. Only
//! `../shared/eval`, which a user's clone does not have, is skipped with a visible message.

pub mod hearing;
pub mod speech;
pub mod wer;

use std::path::{Path, PathBuf};

pub use speech::{Voice, concat, duration, run, silence, sox, speak, speak_samples};

/// `../shared/eval/REL` when the shared evaluation data is beside the checkout; otherwise prints
/// a visible SKIPPED line and returns `None`.
pub fn shared_eval(rel: &str) -> Option<PathBuf> {
    let path = checkout().join("../shared/eval").join(rel);
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

/// The root of the checkout (the workspace).
pub fn checkout() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}
