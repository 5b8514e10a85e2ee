//! Weight encodings: the user-facing [`Quantisation`] choice and the numeric codecs behind it
//! (f16, bf16, and ggml's q8_0 blocks).

use std::fmt;
use std::str::FromStr;

use half::{bf16, f16};
use serde::{Deserialize, Serialize};

/// How the large weight matrices of an installed model are stored.
///
/// Only matrices are affected: conv kernels are always f16 (whisper.cpp's im2col asserts f16),
/// and 1-D tensors, biases and positional embeddings stay f32, as in whisper.cpp's own files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Quantisation {
    /// IEEE half precision: what the registry packages ship, so the conversion is lossless.
    #[default]
    #[serde(rename = "f16")]
    F16,
    /// ggml q8_0: blocks of 32 values sharing one f16 scale, about half the size of f16.
    #[serde(rename = "q8_0")]
    Q8_0,
}

impl Quantisation {
    /// The spelling used in names, manifests and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Quantisation::F16 => "f16",
            Quantisation::Q8_0 => "q8_0",
        }
    }
}

impl fmt::Display for Quantisation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Error of [`Quantisation::from_str`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown quantisation `{0}` (expected `f16` or `q8_0`)")]
pub struct ParseQuantisationError(pub String);

impl FromStr for Quantisation {
    type Err = ParseQuantisationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f16" | "fp16" | "float16" => Ok(Quantisation::F16),
            "q8_0" | "q8" => Ok(Quantisation::Q8_0),
            _ => Err(ParseQuantisationError(s.to_string())),
        }
    }
}

/// Values per q8_0 block.
pub const Q8_0_BLOCK: usize = 32;
/// Bytes per q8_0 block: an f16 scale and 32 signed bytes.
pub const Q8_0_BLOCK_BYTES: usize = 2 + Q8_0_BLOCK;

/// Quantises `values` to q8_0 exactly as ggml's reference `quantize_row_q8_0_ref` does:
/// d = amax / 127, q = round(x / d). `values.len()` must be a multiple of 32; a trailing partial
/// block is padded with zeros (callers only pass whole rows whose length is a multiple of 32).
pub fn quantize_q8_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len().div_ceil(Q8_0_BLOCK) * Q8_0_BLOCK_BYTES);
    for block in values.chunks(Q8_0_BLOCK) {
        let amax = block.iter().fold(0.0f32, |m, x| m.max(x.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend_from_slice(&f16::from_f32(d).to_le_bytes());
        for i in 0..Q8_0_BLOCK {
            let x = block.get(i).copied().unwrap_or(0.0);
            // `as` saturates, and |x * id| <= 127 by construction (NaN becomes 0).
            out.push((x * id).round() as i8 as u8);
        }
    }
    out
}

/// Inverse of [`quantize_q8_0`]: `bytes.len()` must be a multiple of 34; extra bytes are ignored.
pub fn dequantize_q8_0(bytes: &[u8]) -> Vec<f32> {
    let mut out = Vec::with_capacity(bytes.len() / Q8_0_BLOCK_BYTES * Q8_0_BLOCK);
    for block in bytes.chunks_exact(Q8_0_BLOCK_BYTES) {
        let d = f16::from_le_bytes([block[0], block[1]]).to_f32();
        out.extend(block[2..].iter().map(|&q| f32::from(q as i8) * d));
    }
    out
}

/// Little-endian f16 bytes of `values`.
pub fn encode_f16(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 2);
    for &v in values {
        out.extend_from_slice(&f16::from_f32(v).to_le_bytes());
    }
    out
}

/// Little-endian f32 bytes of `values`.
pub fn encode_f32(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 4);
    for &v in values {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// Decodes little-endian f16 bytes.
pub fn decode_f16(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2)
        .map(|b| f16::from_le_bytes([b[0], b[1]]).to_f32())
        .collect()
}

/// Decodes little-endian bf16 bytes.
pub fn decode_bf16(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(2)
        .map(|b| bf16::from_le_bytes([b[0], b[1]]).to_f32())
        .collect()
}

/// Decodes little-endian f32 bytes.
pub fn decode_f32(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}
