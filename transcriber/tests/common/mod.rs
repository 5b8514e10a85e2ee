//! Helpers shared by the transcriber's integration tests (each test binary uses some of them).
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;

use courtscribe_transcriber::pipeline::{self, Recognised};
use courtscribe_transcriber::recognizer::{DecodeRequest, RawSegment};
use courtscribe_transcriber::{Error, PipelineOptions, Recognizer};

/// The default model, installed (`scripts/test` installs it).
pub fn default_model() -> courtscribe_models::InstalledModel {
    courtscribe_models::ModelStore::from_env()
        .unwrap()
        .resolve(courtscribe_models::DEFAULT_MODEL)
        .unwrap()
}

/// The default model loaded for batch decoding with one thread: tests run two at a time, and
/// ggml's worker threads spin at barriers, so two 2-thread decodes on 2 cores each take ~12× as
/// long as one alone (measured: 6.6 s alone, 84 s as a pair).
pub fn default_engine() -> courtscribe_transcriber::WhisperEngine {
    courtscribe_transcriber::WhisperEngine::load(&default_model(), 1).unwrap()
}

/// The recording as 16 kHz mono.
pub fn mono16k(path: &Path) -> Vec<f32> {
    courtscribe_audio::decode_file_16k(path)
        .unwrap()
        .mono()
        .into_owned()
}

/// `audio` (16 kHz mono) through the pipeline on the one `recognizer`.
pub fn recognise(
    recognizer: &mut impl Recognizer,
    audio: &[f32],
    opts: &PipelineOptions,
) -> Recognised {
    pipeline::recognise(std::slice::from_mut(recognizer), audio, opts, &mut |_| {}).unwrap()
}

/// The real recogniser, recording the prompt of every decode the pipeline asks of it.
pub struct Recording<R> {
    inner: R,
    pub prompts: Vec<Option<String>>,
}

impl<R> Recording<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            prompts: Vec::new(),
        }
    }
}

impl<R: Recognizer> Recognizer for Recording<R> {
    fn detect_language(&mut self, audio: &[f32]) -> Result<Vec<(String, f32)>, Error> {
        self.inner.detect_language(audio)
    }

    fn decode(
        &mut self,
        audio: &[f32],
        request: &DecodeRequest<'_>,
    ) -> Result<Vec<RawSegment>, Error> {
        self.prompts.push(request.prompt.map(str::to_owned));
        self.inner.decode(audio, request)
    }

    fn threads(&self) -> usize {
        self.inner.threads()
    }

    fn set_threads(&mut self, threads: usize) {
        self.inner.set_threads(threads);
    }
}
