//! Malformed inputs: each must be refused with a specific error variant, never a panic, and
//! never reach whisper.cpp. Runs without network (toy models are generated here).
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::io::{Seek, SeekFrom, Write};

use courtscribe_models::ggml::{self, GgmlType};
use courtscribe_models::{Error, ModelStore, Quantisation};

fn store() -> (tempfile::TempDir, ModelStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = ModelStore::open(dir.path().join("home")).unwrap();
    (dir, store)
}

#[test]
fn toy_model_is_valid_and_imports() {
    let (dir, store) = store();
    let path = dir.path().join("ggml-toy.bin");
    common::write_toy_ggml(&path, GgmlType::F16);
    let info = ggml::validate(&path).unwrap();
    assert_eq!(
        info.tensors.len(),
        ggml::expected_tensor_count(&info.hparams)
    );
    assert_eq!(info.tensors.len(), 11 + 15 + 24);
    let m = store.import(&path, None, Quantisation::F16).unwrap();
    assert_eq!(m.name, "toy");
    assert_eq!(m.languages, vec!["en"]);
    let resolved = store.resolve("toy").unwrap();
    assert_eq!(resolved.manifest, m);
    assert!(store.verify().unwrap().iter().all(|r| r.ok));
}

#[test]
fn empty_file_is_unknown_format() {
    let (dir, store) = store();
    let path = dir.path().join("empty.bin");
    fs::write(&path, b"").unwrap();
    assert!(matches!(
        ggml::validate(&path),
        Err(Error::UnknownFormat { .. })
    ));
    let e = store.import(&path, None, Quantisation::F16).unwrap_err();
    assert!(matches!(e, Error::UnknownFormat { .. }), "{e}");
    assert!(e.to_string().contains("empty"), "{e}");
}

#[test]
fn text_file_is_unknown_format() {
    let (dir, store) = store();
    let path = dir.path().join("notes.txt");
    fs::write(&path, "biên bản phiên tòa\nnot a model\n").unwrap();
    let e = store.import(&path, None, Quantisation::F16).unwrap_err();
    assert!(matches!(e, Error::UnknownFormat { .. }), "{e}");
    assert!(e.to_string().contains("text"), "{e}");
    assert!(matches!(
        ggml::validate(&path),
        Err(Error::UnknownFormat { .. })
    ));
}

#[test]
fn random_bytes_are_unknown_format() {
    let (dir, store) = store();
    let path = dir.path().join("random.bin");
    let mut x = 0x2545_f491_4f6c_dd1d_u64;
    let bytes: Vec<u8> = (0..100_000)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect();
    fs::write(&path, &bytes).unwrap();
    let e = store.import(&path, None, Quantisation::F16).unwrap_err();
    assert!(matches!(e, Error::UnknownFormat { .. }), "{e}");

    // The same noise behind a valid magic is a corrupt ggml file.
    let mut with_magic = ggml::MAGIC.to_le_bytes().to_vec();
    with_magic.extend_from_slice(&bytes);
    fs::write(&path, &with_magic).unwrap();
    assert!(matches!(
        ggml::validate(&path),
        Err(Error::Corrupt { .. } | Error::Unsupported { .. })
    ));
}

#[test]
fn random_bytes_after_the_vocabulary_are_corrupt() {
    let (dir, _store) = store();
    let path = dir.path().join("ggml-noise.bin");
    common::write_toy_ggml(&path, GgmlType::F16);
    let info = ggml::validate(&path).unwrap();
    // Overwrite the first tensor header with noise.
    let mut f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.seek(SeekFrom::Start(info.tensors[0].offset - 60))
        .unwrap();
    f.write_all(&[0xA5; 24]).unwrap();
    drop(f);
    let e = ggml::validate(&path).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
}

#[test]
fn truncated_ggml_is_truncated() {
    let (dir, store) = store();
    let path = dir.path().join("ggml-cut.bin");
    common::write_toy_ggml(&path, GgmlType::F16);
    let len = fs::metadata(&path).unwrap().len();
    for cut in [len - 1, len / 2, 100] {
        let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(cut).unwrap();
        drop(f);
        let e = ggml::validate(&path).unwrap_err();
        assert!(matches!(e, Error::Truncated { .. }), "cut at {cut}: {e}");
        assert!(e.to_string().contains("ggml-cut.bin"), "{e}");
        let e = store.import(&path, None, Quantisation::F16).unwrap_err();
        assert!(matches!(e, Error::Truncated { .. }), "{e}");
    }
}

#[test]
fn trailing_garbage_is_refused() {
    let (dir, _store) = store();
    let path = dir.path().join("ggml-tail.bin");
    common::write_toy_ggml(&path, GgmlType::F16);
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(b"junk").unwrap();
    drop(f);
    assert!(matches!(
        ggml::validate(&path),
        Err(Error::Truncated { .. })
    ));
    let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&[0xFF; 64]).unwrap();
    drop(f);
    assert!(matches!(ggml::validate(&path), Err(Error::Corrupt { .. })));
}

#[test]
fn f32_conv_kernel_is_unsupported() {
    let (dir, store) = store();
    let path = dir.path().join("ggml-f32conv.bin");
    common::write_toy_ggml(&path, GgmlType::F32);
    let e = ggml::validate(&path).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(e.to_string().contains("conv"), "{e}");
    let e = store.import(&path, None, Quantisation::F16).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");
    assert!(store.list().unwrap().is_empty(), "nothing may be installed");
}

#[test]
fn unknown_names_give_hints() {
    let (_dir, store) = store();
    let e = store.resolve("base").unwrap_err();
    assert!(matches!(e, Error::NotInstalled { .. }), "{e}");
    assert!(
        e.to_string().contains("courtscribe models install base"),
        "{e}"
    );
    let e = store.install("large-v9").unwrap_err();
    assert!(matches!(e, Error::UnknownModel { .. }), "{e}");
    let e = store.resolve("../etc").unwrap_err();
    assert!(matches!(e, Error::InvalidName { .. }), "{e}");
}

#[test]
fn verify_reports_a_flipped_byte_and_resolve_a_truncation() {
    let (dir, store) = store();
    let path = dir.path().join("ggml-toy.bin");
    common::write_toy_ggml(&path, GgmlType::F16);
    store.import(&path, Some("toy"), Quantisation::F16).unwrap();
    let installed = store.resolve("toy").unwrap();
    let info = ggml::validate(&installed.path).unwrap();
    let t = info.tensor("decoder.token_embedding.weight").unwrap();
    let mut bytes = fs::read(&installed.path).unwrap();
    bytes[(t.offset + 1001) as usize] ^= 0x40;
    fs::write(&installed.path, &bytes).unwrap();
    // The structure is intact, so resolve (no hash) still accepts it; verify must not.
    store.resolve("toy").unwrap();
    let reports = store.verify().unwrap();
    assert_eq!(reports.len(), 1);
    assert!(!reports[0].ok);
    assert!(
        reports[0].problem.as_deref().unwrap().contains("SHA-256"),
        "{reports:?}"
    );

    bytes.truncate(bytes.len() - 10);
    fs::write(&installed.path, &bytes).unwrap();
    assert!(matches!(store.resolve("toy"), Err(Error::Truncated { .. })));
}

#[test]
fn quantisation_parses_and_serialises() {
    assert_eq!("q8_0".parse::<Quantisation>().unwrap(), Quantisation::Q8_0);
    assert_eq!("F16".parse::<Quantisation>().unwrap(), Quantisation::F16);
    assert!("q4".parse::<Quantisation>().is_err());
    assert_eq!(
        serde_json::to_string(&Quantisation::Q8_0).unwrap(),
        "\"q8_0\""
    );
    assert_eq!(courtscribe_models::rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(
        courtscribe_models::rfc3339(1_795_459_620),
        "2026-11-23T18:47:00Z"
    );
}
