//! Speech to time-stamped text. A recording decoded to 16 kHz (`courtscribe-audio`'s
//! `decode_file_16k`) and an installed model (`courtscribe-models`) flow in; a [`Transcript`] flows out: segments and words with times in
//! seconds from the start of the recording, per-word probability, the language.
//!
//! The path: mix the 16 kHz channels to mono → voice activity detection cuts long silences
//! ([`vad`]) → whisper.cpp decodes each window with the case vocabulary as its only prompt
//! ([`whisper`], behind the [`Recognizer`] seam) → loops and stock phrases are retried or
//! removed ([`guard`]) → word times are mapped back to the recording and kept inside speech
//! ([`pipeline`]) → the text takes the house style of its language ([`spelling`]; in English,
//! amounts whisper split in two are joined and a few misheard phrases mended). Only this crate
//! touches whisper.cpp.

mod english;
pub mod guard;
pub mod pipeline;
pub mod recognizer;
pub mod slots;
pub mod spelling;
pub mod transcript;
pub mod vad;
pub mod whisper;

use std::path::Path;

use courtscribe_audio::Decoded16k;
use courtscribe_models::InstalledModel;

pub use pipeline::{Language, PipelineOptions};
pub use recognizer::Recognizer;
pub use slots::DecodeSlots;
pub use spelling::Spelling;
pub use transcript::{AudioInfo, ModelInfo, OutputFormat, Segment, Transcript, Word};
pub use whisper::{MAX_PARALLEL_STATES, WhisperEngine};

/// Everything that can go wrong turning audio into text. Each variant says whose problem it is.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The recording could not be read: the user's file, not a bug.
    #[error(transparent)]
    Audio(#[from] courtscribe_audio::Error),
    /// The model could not be loaded or does not fit the request (reinstall or pick another).
    #[error("model: {0}")]
    Model(String),
    /// whisper.cpp failed while decoding.
    #[error("decoding failed: {0}")]
    Decode(String),
    /// The initial prompt or vocabulary cannot be used as given.
    #[error("prompt: {0}")]
    Prompt(String),
    /// The requested language is not one the model knows.
    #[error("language: {0}")]
    Language(String),
}

/// Options of one transcription.
#[derive(Debug, Clone, Default)]
pub struct TranscribeOptions {
    pub pipeline: PipelineOptions,
}

/// Transcribes a recording decoded to 16 kHz ([`courtscribe_audio::decode_file_16k`]). `path` and
/// `file_sha256` describe where it came from.
pub fn transcribe(
    engine: &WhisperEngine,
    model: &InstalledModel,
    audio: &Decoded16k,
    path: &Path,
    file_sha256: &str,
    opts: &TranscribeOptions,
    progress: &mut dyn FnMut(f64),
) -> Result<Transcript, Error> {
    check_options(engine, &opts.pipeline)?;
    let mono = audio.mono();
    let mut recognizers = engine.recognizers()?;
    let found = pipeline::recognise(&mut recognizers, &mono, &opts.pipeline, progress)?;
    Ok(Transcript {
        audio: AudioInfo {
            path: path.display().to_string(),
            duration: audio.source.duration(),
            sample_rate: audio.source.sample_rate,
            channels: audio.source.channels,
            sha256: file_sha256.to_string(),
            pcm_sha256: Some(audio.source.pcm_sha256.clone()),
        },
        model: ModelInfo {
            name: model.manifest.name.clone(),
            sha256: model.manifest.sha256.clone(),
        },
        language: found.language,
        language_probability: found.language_probability,
        segments: found.segments,
        speakers: Vec::new(),
    })
}

/// Refuses requests the model cannot serve before any audio is decoded.
fn check_options(engine: &WhisperEngine, opts: &PipelineOptions) -> Result<(), Error> {
    if let Language::Fixed(code) = &opts.language {
        if !whisper::language_known(code) {
            return Err(Error::Language(format!(
                "`{code}` is not a language whisper knows (try vi, en or auto)"
            )));
        }
        if !engine.is_multilingual() && code != "en" {
            return Err(Error::Language(format!(
                "this model is English-only; `{code}` needs a multilingual model such as `base`"
            )));
        }
    }
    if let Some(prompt) = &opts.prompt {
        let (n, max) = (engine.token_count(prompt)?, engine.max_prompt_tokens());
        if n > max {
            return Err(Error::Prompt(format!(
                "the prompt/vocabulary is {n} tokens long; the model takes at most {max}"
            )));
        }
    }
    Ok(())
}
