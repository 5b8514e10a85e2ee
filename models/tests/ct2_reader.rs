//! The CTranslate2 reader on hand-made `model.bin` files: every dtype a Whisper export may
//! use (f32, f16, bf16, int8 with per-row `_scale`, int16), aliases, and malformed indexes.
#![allow(clippy::unwrap_used)]

use courtscribe_models::Error;
use courtscribe_models::ct2::Ct2Model;
use half::{bf16, f16};

struct Bin(Vec<u8>);

impl Bin {
    fn new(version: u32, spec: &str, vars: u32) -> Bin {
        let mut b = Bin(Vec::new());
        b.u32(version);
        b.string(spec);
        b.u32(1); // revision
        b.u32(vars);
        b
    }
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn string(&mut self, s: &str) {
        self.0
            .extend_from_slice(&(s.len() as u16 + 1).to_le_bytes());
        self.0.extend_from_slice(s.as_bytes());
        self.0.push(0);
    }
    fn var(&mut self, name: &str, shape: &[u32], dtype: u8, data: &[u8]) {
        self.string(name);
        self.0.push(shape.len() as u8);
        for &d in shape {
            self.u32(d);
        }
        self.0.push(dtype);
        self.u32(data.len() as u32);
        self.0.extend_from_slice(data);
    }
}

fn write(dir: &std::path::Path, bin: &Bin) -> std::path::PathBuf {
    let p = dir.join("model.bin");
    std::fs::write(&p, &bin.0).unwrap();
    p
}

#[test]
fn reads_every_dtype_and_follows_aliases() {
    let dir = tempfile::tempdir().unwrap();
    let mut b = Bin::new(6, "WhisperSpec", 6);
    let f32s: Vec<u8> = [1.5f32, -2.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    b.var("a/f32", &[2], 0, &f32s);
    let f16s: Vec<u8> = [0.25f32, -8.0]
        .iter()
        .flat_map(|v| f16::from_f32(*v).to_le_bytes())
        .collect();
    b.var("a/f16", &[2], 4, &f16s);
    let bf16s: Vec<u8> = [3.0f32, -0.5]
        .iter()
        .flat_map(|v| bf16::from_f32(*v).to_le_bytes())
        .collect();
    b.var("a/bf16", &[1, 2], 5, &bf16s);
    // int8 rows [10, -20] and [127, 0] with per-row scales 10 and 127: x = q / scale.
    b.var("a/q/weight", &[2, 2], 1, &[10u8, (-20i8) as u8, 127, 0]);
    let scales: Vec<u8> = [10.0f32, 127.0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    b.var("a/q/weight_scale", &[2], 0, &scales);
    b.var("encoder/num_heads", &[], 2, &6i16.to_le_bytes());
    b.u32(1);
    b.string("a/alias");
    b.string("a/f32");
    let path = write(dir.path(), &b);

    let m = Ct2Model::open(&path).unwrap();
    assert!(Ct2Model::sniff(&path));
    assert_eq!(m.read_f32("a/f32").unwrap(), [1.5, -2.0]);
    assert_eq!(m.read_f32("a/alias").unwrap(), [1.5, -2.0]);
    assert_eq!(m.read_f32("a/f16").unwrap(), [0.25, -8.0]);
    assert_eq!(m.read_f32("a/bf16").unwrap(), [3.0, -0.5]);
    assert_eq!(m.read_f32("a/q/weight").unwrap(), [1.0, -2.0, 1.0, 0.0]);
    assert_eq!(m.scalar_i64("encoder/num_heads"), Some(6));
    assert!(matches!(
        m.read_f32("a/missing"),
        Err(Error::Corrupt { .. })
    ));
}

#[test]
fn refuses_malformed_indexes() {
    let dir = tempfile::tempdir().unwrap();

    let b = Bin::new(6, "TransformerSpec", 0);
    let e = Ct2Model::open(&write(dir.path(), &b)).unwrap_err();
    assert!(matches!(e, Error::UnknownFormat { .. }), "{e}");

    let b = Bin::new(2, "WhisperSpec", 0);
    let e = Ct2Model::open(&write(dir.path(), &b)).unwrap_err();
    assert!(matches!(e, Error::Unsupported { .. }), "{e}");

    // Byte count disagreeing with the shape.
    let mut b = Bin::new(6, "WhisperSpec", 1);
    b.var("x", &[3], 0, &[0u8; 8]);
    let e = Ct2Model::open(&write(dir.path(), &b)).unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");

    // Data cut short.
    let mut b = Bin::new(6, "WhisperSpec", 1);
    b.var("x", &[4], 0, &[0u8; 16]);
    b.0.truncate(b.0.len() - 5);
    let e = Ct2Model::open(&write(dir.path(), &b)).unwrap_err();
    assert!(matches!(e, Error::Truncated { .. }), "{e}");

    // Missing weights surface as a clear error, not a panic, when converting.
    let b = Bin::new(6, "WhisperSpec", 0);
    write(dir.path(), &b);
    std::fs::write(dir.path().join("vocabulary.txt"), "a\n<|endoftext|>\n").unwrap();
    let store = courtscribe_models::ModelStore::open(dir.path().join("home")).unwrap();
    let e = store
        .import(
            dir.path(),
            Some("empty"),
            courtscribe_models::Quantisation::F16,
        )
        .unwrap_err();
    assert!(matches!(e, Error::Corrupt { .. }), "{e}");
}
