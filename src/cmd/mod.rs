pub mod models;
pub mod serve;
pub mod transcribe;

use std::path::Path;

use anyhow::Context as _;

/// Writes `contents` to `path` so that readers see either the old file or the whole new one.
pub fn write_atomically(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    courtscribe_models::write_atomically(path, contents)
        .with_context(|| format!("cannot write {}", path.display()))
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress_bar(len: u64, message: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:>12} [{bar:40}] {percent:>3}% {elapsed_precise} (ETA {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar
}
