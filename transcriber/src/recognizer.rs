//! The seam between the pipeline and a speech recogniser. Only `whisper.rs` implements it for
//! real; tests of the pipeline's guards use a scripted fake. Nothing outside this crate sees
//! whisper.cpp's types.

use unicode_normalization::UnicodeNormalization;

use crate::Error;

/// What the pipeline asks of one decoder call.
#[derive(Debug, Clone)]
pub struct DecodeRequest<'a> {
    /// ISO 639-1 code; the recogniser never guesses here (detection is a separate call).
    pub language: &'a str,
    /// Case vocabulary (party names, legal terms) given to the decoder as its initial prompt.
    pub prompt: Option<&'a str>,
    /// 0.0 = greedy; the pipeline raises it when a decode loops.
    pub temperature: f32,
}

/// One segment as the recogniser saw it. Times are seconds from the start of the audio it was given.
#[derive(Debug, Clone, PartialEq)]
pub struct RawSegment {
    pub start: f64,
    pub end: f64,
    pub no_speech_prob: f32,
    /// Text tokens only (no special or timestamp tokens), in order.
    pub tokens: Vec<RawToken>,
}

impl RawSegment {
    /// The segment's text (NFC), as the decoder wrote it.
    pub fn text(&self) -> String {
        let bytes: Vec<u8> = self
            .tokens
            .iter()
            .flat_map(|t| t.bytes.iter().copied())
            .collect();
        String::from_utf8_lossy(&bytes)
            .nfc()
            .collect::<String>()
            .trim()
            .to_string()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RawToken {
    /// UTF-8 bytes; a Vietnamese letter may be split across two tokens, so these are joined
    /// per word before decoding to text.
    pub bytes: Vec<u8>,
    /// When the token is spoken by its alignment with the audio (DTW), seconds; `None` where the
    /// recogniser does not align (live captions).
    pub aligned_time: Option<f64>,
    /// The decoder's own, coarser estimate (whisper's token timestamp), seconds. The pipeline
    /// chooses between the two ([`crate::pipeline`]).
    pub decoder_time: f64,
    pub probability: f32,
    pub logprob: f32,
}

/// A speech recogniser holding per-call state (one whisper.cpp state, for example). Several can
/// share one loaded model.
pub trait Recognizer: Send {
    /// How likely each language the model knows is to be the one spoken in `audio` (16 kHz
    /// mono), as (ISO code, probability); the pipeline chooses.
    fn detect_language(&mut self, audio: &[f32]) -> Result<Vec<(String, f32)>, Error>;
    /// Transcribes `audio` (16 kHz mono, at most 30 s) without any context from earlier calls.
    fn decode(
        &mut self,
        audio: &[f32],
        request: &DecodeRequest<'_>,
    ) -> Result<Vec<RawSegment>, Error>;
    /// The CPU threads a decode uses.
    fn threads(&self) -> usize {
        1
    }
    /// Decodes from now on with `threads` CPU threads (for recognisers that can).
    fn set_threads(&mut self, _threads: usize) {}
}
