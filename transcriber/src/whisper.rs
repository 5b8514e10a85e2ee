//! whisper.cpp (through whisper-rs) behind [`Recognizer`]. The only module that touches the FFI.
//!
//! One [`WhisperEngine`] holds the loaded model; each [`WhisperRecognizer`] owns one decoding state
//! on it, so several workers share the weights and each pays only for its own buffers.

use std::sync::{Arc, Once, OnceLock};

use courtscribe_models::{Hparams, InstalledModel};
use whisper_rs::{
    DtwMode, DtwModelPreset, DtwParameters, FullParams, SamplingStrategy, WhisperContext,
    WhisperContextParameters, WhisperState,
};

use crate::Error;
use crate::recognizer::{DecodeRequest, RawSegment, RawToken, Recognizer};

/// Whisper's timestamps are in centiseconds.
const CS: f64 = 0.01;
/// Fewest encoder positions a short window is decoded with (5 s of audio context).
const MIN_AUDIO_CTX: usize = 250;
/// Encoder positions of whisper's full 30 s window.
const FULL_AUDIO_CTX: usize = 1500;
/// Samples of 16 kHz audio per encoder position (20 ms).
const SAMPLES_PER_POSITION: usize = 320;
/// Audio contexts are rounded up to a multiple of this. The attention products run over the
/// context; ggml's tiled matrix kernels (llamafile's tinyBLAS) take them only when that length is
/// a multiple of their 16- or 32-wide tiles, and fall back to dot products 3–4× slower otherwise.
/// 1500 itself is not a multiple, so a window that fits in 1472 positions (29.44 s) never pays
/// for the full 1500.
const AUDIO_CTX_TILE: usize = 32;
/// Windows shorter than this (seconds) get an audio context fitted to them (see [`audio_ctx`]).
const FIT_BELOW_SECS: usize = 15;

/// The most decoding states one transcription runs side by side on the CPU.
pub const MAX_PARALLEL_STATES: usize = 4;

/// How `threads` CPU threads are shared among decoding states: `(states, threads each)`, as many
/// states as allowed, each with the fewest threads that keeps the total within `threads`.
fn parallel_layout(threads: usize) -> (usize, usize) {
    let threads = threads.max(1);
    let each = threads.div_ceil(MAX_PARALLEL_STATES);
    (threads / each, each)
}

/// A loaded model, shareable across threads.
#[derive(Clone)]
pub struct WhisperEngine {
    ctx: Arc<WhisperContext>,
    name: String,
    threads: usize,
    /// Whether word times come from DTW alignment; without it they come from the timestamp
    /// tokens, which the decoder must then write ([`WhisperRecognizer::decode`]).
    aligned: bool,
}

impl std::fmt::Debug for WhisperEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperEngine")
            .field("name", &self.name)
            .field("threads", &self.threads)
            .finish()
    }
}

impl WhisperEngine {
    /// Loads an installed (already validated) model. `threads` is the number of CPU threads each
    /// decoding state uses.
    pub fn load(model: &InstalledModel, threads: usize) -> Result<Self, Error> {
        Self::load_with(model, threads, true)
    }

    /// Loads a model for short windows (live captions). Word times come from whisper's token
    /// timestamps: DTW is off, as it costs a second decoder pass over the window's tokens, and a
    /// caption needs speed more than word times. (Every window, batch or caption, is encoded with
    /// only as much audio context as it holds: [`audio_ctx`].)
    pub fn load_for_short_windows(model: &InstalledModel, threads: usize) -> Result<Self, Error> {
        Self::load_with(model, threads, false)
    }

    fn load_with(model: &InstalledModel, threads: usize, dtw: bool) -> Result<Self, Error> {
        static HOOKS: Once = Once::new();
        // whisper.cpp logs to stderr by default; route it into `tracing` so the CLI stays quiet.
        HOOKS.call_once(|| {
            whisper_rs::install_logging_hooks();
            tracing::info!(build = system_info(), "whisper.cpp");
        });

        let mut params = WhisperContextParameters::default();
        // DTW gives word times that follow the audio; flash attention would disable it (and was
        // measured slower on this CPU, see MODELS.md).
        params.flash_attn(false);
        params.dtw_parameters(DtwParameters {
            mode: if dtw {
                dtw_mode(&model.manifest.hparams)
            } else {
                DtwMode::None
            },
            ..DtwParameters::default()
        });
        let path = model.path.to_str().ok_or_else(|| {
            Error::Model(format!("model path {} is not UTF-8", model.path.display()))
        })?;
        let ctx = WhisperContext::new_with_params(path, params).map_err(|e| {
            Error::Model(format!(
                "whisper.cpp could not load {}: {e}",
                model.path.display()
            ))
        })?;
        Ok(Self {
            ctx: Arc::new(ctx),
            name: model.manifest.name.clone(),
            threads: threads.max(1),
            aligned: dtw,
        })
    }

    pub fn is_multilingual(&self) -> bool {
        self.ctx.is_multilingual()
    }

    /// A fresh decoding state on the shared model, decoding with all of the engine's threads.
    pub fn recognizer(&self) -> Result<WhisperRecognizer, Error> {
        let mut recognizer = self.unstarted(self.threads);
        recognizer.state()?;
        Ok(recognizer)
    }

    /// Fresh decoding states that together use the engine's threads, for decoding a recording's
    /// windows side by side ([`crate::pipeline::recognise`]). On the CPU, several states of few
    /// threads each get more done than one state of many: one state's threads wait for each other
    /// at every step of the graph, while independent states never wait (2 cores: two 1-thread
    /// states decoded two hearings in 6.3 s where one 2-thread state took 8.2 s, BENCHMARKS stop
    /// 19). At most [`MAX_PARALLEL_STATES`], as each holds its own buffers (~150–200 MB for
    /// `base`, over 1 GB for `large-v3`). A GPU build decodes with one state: its kernels already
    /// keep the device busy.
    pub fn recognizers(&self) -> Result<Vec<WhisperRecognizer>, Error> {
        let (states, threads_each) = if cfg!(any(feature = "cuda", feature = "vulkan")) {
            (1, self.threads)
        } else {
            parallel_layout(self.threads)
        };
        // The first state is made now, so a model that cannot make one fails here; the others
        // when they first decode, so a recording with one window never holds a second state.
        let mut recognizers: Vec<WhisperRecognizer> =
            (0..states).map(|_| self.unstarted(threads_each)).collect();
        if let Some(first) = recognizers.first_mut() {
            first.state()?;
        }
        Ok(recognizers)
    }

    /// A recogniser whose state is made at its first call.
    fn unstarted(&self, threads: usize) -> WhisperRecognizer {
        WhisperRecognizer {
            engine: self.clone(),
            state: None,
            threads,
        }
    }

    /// Number of tokens `text` takes in this model's vocabulary.
    pub fn token_count(&self, text: &str) -> Result<usize, Error> {
        let limit = self.ctx.n_text_ctx().max(1) as usize * 4;
        self.ctx
            .tokenize(text, limit)
            .map(|t| t.len())
            .map_err(|e| Error::Prompt(format!("{e}")))
    }

    /// Tokens a decode without timestamp tokens may write: a few short of the 220 (half the text
    /// context, less 4) at which whisper.cpp ends a pass, so that reaching it is seen.
    fn untimed_token_limit(&self) -> usize {
        (self.ctx.n_text_ctx().max(32) / 2 - 8) as usize
    }

    /// Longest initial prompt whisper accepts: half the text context.
    pub fn max_prompt_tokens(&self) -> usize {
        (self.ctx.n_text_ctx().max(2) / 2 - 1) as usize
    }
}

/// Encoder positions to decode `samples` of audio with. A window under [`FIT_BELOW_SECS`] (a
/// caption, a hearing's last window, a short recording) gets the audio plus a margin of about
/// 1.3 s, and never fewer than 5 s worth: with a context of ~1–2 s the decoder loops (measured: a
/// 1 s window of `en_civil_loan.wav` took 9.4 s of retries, another came out with its sentence
/// twice); from 250 positions both decode cleanly. A longer window keeps whisper's full context,
/// tiled (1472 positions up to 29.44 s, so it never pays for the untiled 1500). Fitting long
/// windows too wrote 2% fewer wrong words without a prompt, but with the parties' names as the
/// prompt whisper ended a fitted 22 s window after its first sentence and the judgment that
/// followed never reached the minutes (`en_civil_loan.wav`, BENCHMARKS stop 18).
fn audio_ctx(samples: usize) -> usize {
    let positions = samples / SAMPLES_PER_POSITION;
    let tiled_full = (FULL_AUDIO_CTX / AUDIO_CTX_TILE) * AUDIO_CTX_TILE;
    let fitted = samples < FIT_BELOW_SECS * courtscribe_audio::WHISPER_SAMPLE_RATE as usize;
    let needed = if fitted { positions + 64 } else { tiled_full };
    // whisper.cpp aborts the process (an assertion in its DTW) when the audio has more mel frames
    // (2 per position) than the context holds: always cover the audio, with a few positions over.
    let needed = needed.min(tiled_full).max(positions + 8);
    needed
        .clamp(MIN_AUDIO_CTX, FULL_AUDIO_CTX)
        .next_multiple_of(AUDIO_CTX_TILE)
        .min(FULL_AUDIO_CTX)
}

/// whisper.cpp's account of its build on this CPU ("CPU : SSE3 = 1 | AVX2 = 1 | … | LLAMAFILE = 1
/// | …"), logged when a model loads: a station that decodes slowly shows here what its build lacks.
pub fn system_info() -> &'static str {
    // whisper.cpp rebuilds the text in one static buffer on every call: ask once.
    static INFO: OnceLock<String> = OnceLock::new();
    INFO.get_or_init(|| whisper_rs::print_system_info().trim().to_owned())
}

/// Whether whisper knows the language `code` (ISO 639-1, e.g. `vi`).
pub fn language_known(code: &str) -> bool {
    whisper_rs::get_lang_id(code).is_some()
}

/// Alignment heads for DTW word timing, chosen by architecture so imported fine-tunes (PhoWhisper
/// is a whisper fine-tune) get the heads of the model they were trained from.
fn dtw_mode(h: &Hparams) -> DtwMode<'static> {
    let multilingual = h.n_vocab >= 51865;
    let preset = match (
        h.n_audio_layer,
        h.n_text_layer,
        h.n_text_state,
        multilingual,
    ) {
        (4, 4, 384, false) => DtwModelPreset::TinyEn,
        (4, 4, 384, true) => DtwModelPreset::Tiny,
        (6, 6, 512, false) => DtwModelPreset::BaseEn,
        (6, 6, 512, true) => DtwModelPreset::Base,
        (12, 12, 768, false) => DtwModelPreset::SmallEn,
        (12, 12, 768, true) => DtwModelPreset::Small,
        (24, 24, 1024, false) => DtwModelPreset::MediumEn,
        (24, 24, 1024, true) => DtwModelPreset::Medium,
        (32, 4, 1280, _) => DtwModelPreset::LargeV3Turbo,
        (32, 32, 1280, _) if h.n_mels == 128 => DtwModelPreset::LargeV3,
        (32, 32, 1280, _) => DtwModelPreset::LargeV2,
        _ => {
            return DtwMode::TopMost {
                n_top: (h.n_text_layer / 2).max(1),
            };
        }
    };
    DtwMode::ModelPreset {
        model_preset: preset,
    }
}

pub struct WhisperRecognizer {
    engine: WhisperEngine,
    /// `None` until the first call that needs it (see [`WhisperEngine::recognizers`]).
    state: Option<WhisperState>,
    /// CPU threads this state decodes with.
    threads: usize,
}

impl std::fmt::Debug for WhisperRecognizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperRecognizer")
            .field("engine", &self.engine)
            .field("threads", &self.threads)
            .finish()
    }
}

impl WhisperRecognizer {
    /// The decoding state, made at the first call that needs it.
    fn state(&mut self) -> Result<&mut WhisperState, Error> {
        let state = match self.state.take() {
            Some(state) => state,
            None => self
                .engine
                .ctx
                .create_state()
                .map_err(|e| Error::Model(format!("whisper state: {e}")))?,
        };
        Ok(self.state.insert(state))
    }

    /// The probability whisper gives `<|nospeech|>` right after `<|startoftranscript|>` (how it
    /// was trained to say "nobody speaks here"), on the encoding [`WhisperState::full`] left in
    /// the state: one decoder step, no second encoding. whisper.cpp's own per-segment value cannot
    /// be used: it reads a row of logits that its prompt pass no longer fills, so it was
    /// 1/n_vocab on a fresh state (1.93e-5 for every segment of a hearing's first window) and
    /// after that whatever the previous window's last step left there. When whisper moves on
    /// inside a window (it stopped before the window's end), this is the last part's value.
    fn no_speech_probability(&mut self) -> Result<f32, Error> {
        let ctx = &self.engine.ctx;
        let (sot, nosp, threads) = (ctx.token_sot(), ctx.token_nosp(), self.threads);
        let state = self.state()?;
        state
            .decode(&[sot], 0, threads)
            .map_err(|e| Error::Decode(format!("no-speech probe: {e}")))?;
        let logits = state
            .get_logits()
            .map_err(|e| Error::Decode(format!("no-speech probe: {e}")))?;
        Ok(softmax_at(logits, nosp as usize))
    }

    /// One whisper.cpp decode of `audio`: with timestamp tokens, or, given `untimed_limit`,
    /// without them and stopped after that many tokens.
    fn decode_with(
        &mut self,
        audio: &[f32],
        request: &DecodeRequest<'_>,
        untimed_limit: Option<usize>,
    ) -> Result<Vec<RawSegment>, Error> {
        let mut params = FullParams::new(if request.temperature > 0.0 {
            SamplingStrategy::Greedy { best_of: 5 }
        } else {
            SamplingStrategy::Greedy { best_of: 1 }
        });
        params.set_n_threads(self.threads as i32);
        params.set_language(Some(request.language));
        params.set_translate(false);
        // Each window stands alone: text from before a pause must not steer what comes after.
        params.set_no_context(true);
        params.set_token_timestamps(true);
        params.set_temperature(request.temperature);
        // The pipeline does its own fallback with loop detection on whole windows.
        params.set_temperature_inc(0.0);
        // whisper.cpp would drop a decode as silence by its own no-speech value, which is stale
        // (see `no_speech_probability`; after this window's probe it is this window's value, read
        // while decoding the next). The guard applies the same rule with the window's own value.
        params.set_no_speech_thold(f32::INFINITY);
        params.set_suppress_blank(true);
        params.set_suppress_nst(true);
        params.set_print_special(false);
        params.set_print_progress(false);
        params.set_print_realtime(false);
        params.set_print_timestamps(false);
        if let Some(prompt) = request.prompt {
            params.set_initial_prompt(prompt);
        }
        params.set_audio_ctx(audio_ctx(audio.len()) as i32);
        if let Some(limit) = untimed_limit {
            params.set_no_timestamps(true);
            params.set_max_tokens(i32::try_from(limit).unwrap_or(i32::MAX));
        }
        let state = self.state()?;
        state
            .full(params, audio)
            .map_err(|e| Error::Decode(format!("whisper: {e}")))?;
        if state.full_n_segments() == 0 {
            // Nothing written: nothing for a no-speech value to judge.
            return Ok(Vec::new());
        }
        let no_speech_prob = self.no_speech_probability()?;

        let eot = self.engine.ctx.token_eot();
        let mut out = Vec::new();
        for seg in self.state()?.as_iter() {
            let mut tokens = Vec::new();
            for i in 0..seg.n_tokens() {
                let Some(tok) = seg.get_token(i) else {
                    continue;
                };
                let data = tok.token_data();
                if data.id >= eot {
                    continue; // special and timestamp tokens
                }
                let bytes = tok.to_bytes().map(<[u8]>::to_vec).unwrap_or_default();
                tracing::trace!(t0 = data.t0, t1 = data.t1, t_dtw = data.t_dtw, p = data.p, text = %String::from_utf8_lossy(&bytes), "token");
                tokens.push(RawToken {
                    bytes,
                    // whisper.cpp leaves -1 where it did not align (DTW off).
                    aligned_time: (data.t_dtw >= 0).then_some(data.t_dtw as f64 * CS),
                    decoder_time: data.t0 as f64 * CS,
                    probability: data.p,
                    logprob: data.plog,
                });
            }
            out.push(RawSegment {
                start: seg.start_timestamp() as f64 * CS,
                end: seg.end_timestamp() as f64 * CS,
                no_speech_prob,
                tokens,
            });
        }
        Ok(out)
    }
}

/// `softmax(logits)[i]`, computed stably; 0 when `i` is out of range.
fn softmax_at(logits: &[f32], i: usize) -> f32 {
    let Some(&at) = logits.get(i) else {
        return 0.0;
    };
    let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let sum: f32 = logits.iter().map(|&l| (l - max).exp()).sum();
    (at - max).exp() / sum
}

impl Recognizer for WhisperRecognizer {
    fn detect_language(&mut self, audio: &[f32]) -> Result<Vec<(String, f32)>, Error> {
        if !self.engine.is_multilingual() {
            return Ok(vec![("en".into(), 1.0)]);
        }
        let threads = self.threads;
        let state = self.state()?;
        state
            .pcm_to_mel(audio, threads)
            .map_err(|e| Error::Decode(format!("mel: {e}")))?;
        let (_, probs) = state
            .lang_detect(0, threads)
            .map_err(|e| Error::Decode(format!("language detection: {e}")))?;
        Ok(probs
            .iter()
            .enumerate()
            .filter_map(|(id, &p)| {
                let code = whisper_rs::get_lang_str(i32::try_from(id).ok()?)?;
                Some((code.to_string(), p))
            })
            .collect())
    }

    /// Decoded without timestamp tokens when DTW gives the word times: whisper `base` then
    /// wrote 4% fewer wrong words over sixteen English hearings, in 7% less time (BENCHMARKS stop
    /// 20). whisper.cpp ends every pass at 220 tokens; with timestamp tokens it carries on from
    /// the last complete segment, without them what the window said after that is lost, and DTW
    /// spreads the words that were written over the whole window. So the untimed decode is
    /// stopped a little before that limit, and a window that reaches it (fast speech without a
    /// pause, or a decode running away in a loop) is decoded again with timestamp tokens, as
    /// every window was before.
    fn decode(
        &mut self,
        audio: &[f32],
        request: &DecodeRequest<'_>,
    ) -> Result<Vec<RawSegment>, Error> {
        if self.engine.aligned {
            let limit = self.engine.untimed_token_limit();
            let segments = self.decode_with(audio, request, Some(limit))?;
            let written: usize = segments.iter().map(|s| s.tokens.len()).sum();
            if written < limit {
                return Ok(segments);
            }
            tracing::info!(
                tokens = written,
                "the decode without timestamps reached whisper's token limit; decoding the window \
                 with timestamps"
            );
        }
        self.decode_with(audio, request, None)
    }

    fn threads(&self) -> usize {
        self.threads
    }

    fn set_threads(&mut self, threads: usize) {
        self.threads = threads.max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whisper.cpp build this project relies on (BENCHMARKS.md, ASR section). A `target/`
    /// built before a setting changed keeps the old whisper.cpp until
    /// `cargo clean -p whisper-rs-sys --release`.
    #[test]
    fn whisper_cpp_is_built_with_the_features_we_rely_on() {
        for (feature, why) in [
            (
                "LLAMAFILE = 1",
                "GGML_LLAMAFILE in .cargo/config.toml: without llamafile's tiled kernels a \
                 hearing decodes ~14% slower",
            ),
            (
                "OPENMP = 1",
                "whisper-rs `openmp`: ggml's own thread pool spins at every barrier without end, \
                 so two decodes sharing the cores took 12× as long as one alone",
            ),
            (
                "COURTSCRIBE_BF16_ENCODER = 1",
                "transcriber/whisper.cpp-patches/encoder-bf16.patch: without it the encoder \
                 runs in q8_0 or f16 (~15% slower on AVX512-BF16 CPUs), and courtscribe's q8_0 \
                 files, whose audio matrices are f16, do not load",
            ),
        ] {
            assert!(
                system_info().contains(feature),
                "whisper.cpp built without {feature} ({why}): {}",
                system_info()
            );
        }
    }

    #[test]
    fn parallel_states_share_the_threads_without_oversubscribing() {
        assert_eq!(parallel_layout(1), (1, 1));
        assert_eq!(parallel_layout(2), (2, 1));
        assert_eq!(parallel_layout(4), (4, 1));
        assert_eq!(parallel_layout(6), (3, 2));
        assert_eq!(parallel_layout(8), (4, 2));
        for threads in 1..=64 {
            let (states, each) = parallel_layout(threads);
            assert!(states * each <= threads, "{threads}: {states} × {each}");
            assert!(
                (1..=MAX_PARALLEL_STATES).contains(&states),
                "{threads}: {states}"
            );
            // What is left over is less than one state's share.
            assert!(
                threads - states * each < each,
                "{threads}: {states} × {each}"
            );
        }
    }

    #[test]
    fn softmax_at_is_a_probability() {
        let logits = [1.0, 2.0, 3.0, 1000.0];
        assert!((softmax_at(&logits, 3) - 1.0).abs() < 1e-6);
        assert!(softmax_at(&logits, 0) < 1e-6);
        let flat = [0.5; 4];
        assert!((softmax_at(&flat, 2) - 0.25).abs() < 1e-6);
        assert_eq!(softmax_at(&flat, 9), 0.0);
    }

    #[test]
    fn audio_context_covers_the_audio_in_whole_tiles() {
        for secs in [
            0.5, 1.0, 5.0, 6.0, 14.99, 20.0, 28.5, 29.0, 29.3, 29.44, 29.5, 30.0, 45.0,
        ] {
            let samples = (secs * 16_000.0) as usize;
            let ctx = audio_ctx(samples);
            assert!(
                ctx * SAMPLES_PER_POSITION >= (samples + 4 * SAMPLES_PER_POSITION).min(480_000),
                "{secs} s: {ctx}"
            );
            assert!(
                (MIN_AUDIO_CTX..=FULL_AUDIO_CTX).contains(&ctx),
                "{secs} s: {ctx}"
            );
            assert!(
                ctx.is_multiple_of(AUDIO_CTX_TILE) || ctx == FULL_AUDIO_CTX,
                "{secs} s: {ctx}"
            );
        }
        // A short window fitted to the audio with a margin, at least 5 s worth; a long one the
        // tiled 1472 up to 29.44 s.
        assert_eq!(audio_ctx(16_000), 256);
        assert_eq!(audio_ctx(16_000 * 6), 384);
        assert_eq!(audio_ctx(16_000 * 14), 768);
        assert_eq!(audio_ctx(16_000 * 15), 1472);
        assert_eq!(audio_ctx(16_000 * 20), 1472);
        assert_eq!(audio_ctx(16_000 * 29), 1472);
        assert_eq!(audio_ctx(16_000 * 30), FULL_AUDIO_CTX);
    }
}
