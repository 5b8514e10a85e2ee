//! whisper.cpp's "ggml" model file: layout, writer, and a validating reader.
//!
//! Layout, exactly as whisper.cpp 1.8 `whisper_model_load` reads it (all little-endian):
//!
//! ```text
//! u32 magic 0x67676d6c ("ggml")
//! i32 × 11 hparams: n_vocab n_audio_ctx n_audio_state n_audio_head n_audio_layer
//!                   n_text_ctx n_text_state n_text_head n_text_layer n_mels ftype
//! mel filters: i32 n_mel, i32 n_fft, f32 × n_mel·n_fft
//! vocab:       i32 count, then count × (u32 length, bytes)
//! tensors until EOF: i32 n_dims, i32 name length, i32 type, i32 × n_dims dims (ggml order,
//!                    i.e. reversed numpy shape), name bytes, data
//! ```
//!
//! whisper.cpp checks each tensor's element count and byte size against the tensor it created
//! from the hparams, but it does not check that the file ends cleanly or that the types make
//! sense, and an f32 conv kernel aborts the process later. [`validate`] therefore re-derives the
//! whole expected tensor table from the hparams and checks every tensor against it.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::quant::{self, Quantisation};

/// "ggml" as a little-endian u32.
pub const MAGIC: u32 = 0x6767_6d6c;
/// ggml's `GGML_QNT_VERSION_FACTOR`: quantised files store `ftype + 1000 × version`.
pub const QNT_VERSION_FACTOR: i32 = 1000;
/// ggml's current `GGML_QNT_VERSION`; q8_0 files we write carry it.
pub const QNT_VERSION: i32 = 2;
/// Frequency bins of whisper's STFT: n_fft = 400 samples gives 201 bins.
pub const N_FFT_BINS: usize = 201;

/// Model dimensions, in the order and meaning of the ggml header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hparams {
    /// Vocabulary size including special tokens (51864 English-only, 51865 multilingual,
    /// 51866 large-v3).
    pub n_vocab: i32,
    /// Encoder positions (1500 = 30 s of audio at 20 ms).
    pub n_audio_ctx: i32,
    /// Encoder width.
    pub n_audio_state: i32,
    /// Encoder attention heads.
    pub n_audio_head: i32,
    /// Encoder blocks.
    pub n_audio_layer: i32,
    /// Decoder positions (448 tokens).
    pub n_text_ctx: i32,
    /// Decoder width.
    pub n_text_state: i32,
    /// Decoder attention heads.
    pub n_text_head: i32,
    /// Decoder blocks.
    pub n_text_layer: i32,
    /// Mel bands of the input (80, or 128 for large-v3).
    pub n_mels: i32,
    /// ggml file type as stored (1 = f16, 2007 = q8_0 with quantisation version 2).
    pub ftype: i32,
}

impl Hparams {
    /// The 11 header integers in file order.
    pub fn to_array(&self) -> [i32; 11] {
        [
            self.n_vocab,
            self.n_audio_ctx,
            self.n_audio_state,
            self.n_audio_head,
            self.n_audio_layer,
            self.n_text_ctx,
            self.n_text_state,
            self.n_text_head,
            self.n_text_layer,
            self.n_mels,
            self.ftype,
        ]
    }

    fn from_array(a: [i32; 11]) -> Hparams {
        Hparams {
            n_vocab: a[0],
            n_audio_ctx: a[1],
            n_audio_state: a[2],
            n_audio_head: a[3],
            n_audio_layer: a[4],
            n_text_ctx: a[5],
            n_text_state: a[6],
            n_text_head: a[7],
            n_text_layer: a[8],
            n_mels: a[9],
            ftype: a[10],
        }
    }

    /// ftype without the quantisation version, i.e. ggml's `ggml_ftype`.
    pub fn base_ftype(&self) -> i32 {
        self.ftype % QNT_VERSION_FACTOR
    }

    /// Whether the model is multilingual: whisper.cpp's own rule (`n_vocab >= 51865`).
    pub fn is_multilingual(&self) -> bool {
        self.n_vocab >= 51865
    }

    /// The ftype to write for a quantisation choice.
    pub fn ftype_for(quant: Quantisation) -> i32 {
        match quant {
            Quantisation::F16 => 1,
            Quantisation::Q8_0 => 7 + QNT_VERSION * QNT_VERSION_FACTOR,
        }
    }

    /// Checks the numbers for plausibility; `path` only names the file in the error.
    pub fn sanity_check(&self, path: &Path) -> Result<()> {
        let h = self;
        let positive = [
            ("n_vocab", h.n_vocab),
            ("n_audio_ctx", h.n_audio_ctx),
            ("n_audio_state", h.n_audio_state),
            ("n_audio_head", h.n_audio_head),
            ("n_audio_layer", h.n_audio_layer),
            ("n_text_ctx", h.n_text_ctx),
            ("n_text_state", h.n_text_state),
            ("n_text_head", h.n_text_head),
            ("n_text_layer", h.n_text_layer),
            ("n_mels", h.n_mels),
        ];
        for (name, v) in positive {
            // Upper bounds far above large-v3 (1280 wide, 32 layers) but low enough that sizes
            // computed from them cannot overflow.
            let max = match name {
                "n_vocab" => 1 << 20,
                "n_audio_ctx" | "n_text_ctx" => 1 << 16,
                "n_audio_layer" | "n_text_layer" => 256,
                _ => 1 << 14,
            };
            if v <= 0 || v > max {
                return Err(Error::corrupt(
                    path,
                    format!("hparam {name} = {v} is out of range (1..={max})"),
                ));
            }
        }
        for (what, state, head) in [
            ("audio", h.n_audio_state, h.n_audio_head),
            ("text", h.n_text_state, h.n_text_head),
        ] {
            if state % head != 0 {
                return Err(Error::corrupt(
                    path,
                    format!("n_{what}_head = {head} does not divide n_{what}_state = {state}"),
                ));
            }
        }
        if h.n_mels != 80 && h.n_mels != 128 {
            return Err(Error::corrupt(
                path,
                format!("n_mels = {} (Whisper models use 80 or 128)", h.n_mels),
            ));
        }
        // whisper.cpp derives every special token id from n_vocab, so a vocabulary of another
        // size would decode garbage even if it loads.
        if !(51864..=51866).contains(&h.n_vocab) {
            return Err(Error::unsupported(
                path,
                format!(
                    "n_vocab = {} is not a Whisper vocabulary (51864 English-only, 51865 \
                     multilingual, 51866 large-v3)",
                    h.n_vocab
                ),
            ));
        }
        if h.ftype < 0 {
            return Err(Error::corrupt(path, format!("negative ftype {}", h.ftype)));
        }
        Ok(())
    }
}

/// Tensor element types whisper.cpp model files use (ggml's `ggml_type` ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[allow(missing_docs)]
pub enum GgmlType {
    F32,
    F16,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q8_0,
    Q2K,
    Q3K,
    Q4K,
    Q5K,
    Q6K,
    Bf16,
}

impl GgmlType {
    /// From the id stored in a tensor header.
    pub fn from_id(id: i32) -> Option<GgmlType> {
        Some(match id {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            6 => GgmlType::Q5_0,
            7 => GgmlType::Q5_1,
            8 => GgmlType::Q8_0,
            10 => GgmlType::Q2K,
            11 => GgmlType::Q3K,
            12 => GgmlType::Q4K,
            13 => GgmlType::Q5K,
            14 => GgmlType::Q6K,
            30 => GgmlType::Bf16,
            _ => return None,
        })
    }

    /// The id stored in a tensor header.
    pub fn id(self) -> i32 {
        match self {
            GgmlType::F32 => 0,
            GgmlType::F16 => 1,
            GgmlType::Q4_0 => 2,
            GgmlType::Q4_1 => 3,
            GgmlType::Q5_0 => 6,
            GgmlType::Q5_1 => 7,
            GgmlType::Q8_0 => 8,
            GgmlType::Q2K => 10,
            GgmlType::Q3K => 11,
            GgmlType::Q4K => 12,
            GgmlType::Q5K => 13,
            GgmlType::Q6K => 14,
            GgmlType::Bf16 => 30,
        }
    }

    /// The matrix type a file type (`ggml_ftype`, without quantisation version) implies, as
    /// ggml's `ggml_ftype_to_ggml_type` maps it.
    pub fn from_ftype(ftype: i32) -> Option<GgmlType> {
        Some(match ftype {
            0 => GgmlType::F32,
            1 => GgmlType::F16,
            2 => GgmlType::Q4_0,
            3 => GgmlType::Q4_1,
            7 => GgmlType::Q8_0,
            8 => GgmlType::Q5_0,
            9 => GgmlType::Q5_1,
            10 => GgmlType::Q2K,
            11 => GgmlType::Q3K,
            12 => GgmlType::Q4K,
            13 => GgmlType::Q5K,
            14 => GgmlType::Q6K,
            24 => GgmlType::Bf16,
            _ => return None,
        })
    }

    /// Whether values are stored in blocks sharing a scale (ggml's `ggml_is_quantized`).
    pub fn is_quantised(self) -> bool {
        self.block_size() > 1
    }

    /// Values per block.
    pub fn block_size(self) -> usize {
        match self {
            GgmlType::F32 | GgmlType::F16 | GgmlType::Bf16 => 1,
            GgmlType::Q4_0 | GgmlType::Q4_1 | GgmlType::Q5_0 | GgmlType::Q5_1 | GgmlType::Q8_0 => {
                32
            }
            GgmlType::Q2K | GgmlType::Q3K | GgmlType::Q4K | GgmlType::Q5K | GgmlType::Q6K => 256,
        }
    }

    /// Bytes per block.
    pub fn block_bytes(self) -> usize {
        match self {
            GgmlType::F32 => 4,
            GgmlType::F16 | GgmlType::Bf16 => 2,
            GgmlType::Q4_0 => 18,
            GgmlType::Q4_1 => 20,
            GgmlType::Q5_0 => 22,
            GgmlType::Q5_1 => 24,
            GgmlType::Q8_0 => 34,
            GgmlType::Q2K => 84,
            GgmlType::Q3K => 110,
            GgmlType::Q4K => 144,
            GgmlType::Q5K => 176,
            GgmlType::Q6K => 210,
        }
    }

    /// ggml's name of the type.
    pub fn name(self) -> &'static str {
        match self {
            GgmlType::F32 => "f32",
            GgmlType::F16 => "f16",
            GgmlType::Q4_0 => "q4_0",
            GgmlType::Q4_1 => "q4_1",
            GgmlType::Q5_0 => "q5_0",
            GgmlType::Q5_1 => "q5_1",
            GgmlType::Q8_0 => "q8_0",
            GgmlType::Q2K => "q2_K",
            GgmlType::Q3K => "q3_K",
            GgmlType::Q4K => "q4_K",
            GgmlType::Q5K => "q5_K",
            GgmlType::Q6K => "q6_K",
            GgmlType::Bf16 => "bf16",
        }
    }

    /// Bytes of a tensor with `ne0` values per row and `n` values in all; `None` when rows do
    /// not split into whole blocks.
    pub fn data_size(self, ne0: u64, n: u64) -> Option<u64> {
        let blk = self.block_size() as u64;
        if !ne0.is_multiple_of(blk) {
            return None;
        }
        (n / blk).checked_mul(self.block_bytes() as u64)
    }
}

/// Which of whisper.cpp's storage classes a tensor belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorClass {
    /// Weight matrices: stored in the file's matrix type (`wtype`, from ftype).
    Matrix,
    /// Weight matrices applied at every audio position: the encoder's, and the decoder's
    /// cross-attention key and value projections of the encoder output. whisper.cpp as
    /// courtscribe builds it (`transcriber/whisper.cpp-patches/encoder-bf16.patch`) converts them
    /// while loading, to bf16 on CPUs with AVX512-BF16 and otherwise to `wtype`, so a file may
    /// store them in f16 as well as in `wtype`; our q8_0 files do, so that the bf16 conversion
    /// starts from unquantised values.
    AudioMatrix,
    /// Conv kernels: f16 unless the file is all-f32 (`vtype`).
    Conv,
    /// Biases, layer norms, positional embeddings: always f32.
    F32,
}

impl TensorClass {
    /// The type whisper.cpp allocates for this class in a file of matrix type `wtype`.
    pub fn expected_type(self, wtype: GgmlType) -> GgmlType {
        match self {
            TensorClass::Matrix | TensorClass::AudioMatrix => wtype,
            TensorClass::Conv if wtype == GgmlType::F32 => GgmlType::F32,
            TensorClass::Conv => GgmlType::F16,
            TensorClass::F32 => GgmlType::F32,
        }
    }

    /// Whether a file of matrix type `wtype` may store a tensor of this class as `ty`.
    pub fn accepts(self, wtype: GgmlType, ty: GgmlType) -> bool {
        ty == self.expected_type(wtype)
            || (self == TensorClass::AudioMatrix && ty == GgmlType::F16 && wtype.is_quantised())
    }
}

/// One tensor whisper.cpp expects: OpenAI checkpoint name, ggml dims (fastest first) and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSpec {
    /// e.g. `decoder.blocks.0.cross_attn.key.weight`.
    pub name: String,
    /// ggml order: the reverse of the PyTorch/numpy shape.
    pub dims: Vec<u64>,
    /// Storage class.
    pub class: TensorClass,
}

impl TensorSpec {
    /// Number of values.
    pub fn len(&self) -> u64 {
        self.dims.iter().product()
    }

    /// Whether the tensor has no values (never, for valid hparams).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every tensor whisper.cpp 1.8 creates for these hparams, in the order we write them
/// (encoder, then decoder, blocks in OpenAI's state-dict order). whisper.cpp itself loads
/// tensors by name, so the order only matters for reproducible files.
pub fn expected_tensors(h: &Hparams) -> Vec<TensorSpec> {
    let (a, t) = (h.n_audio_state as u64, h.n_text_state as u64);
    let mut v = Vec::new();
    let mut push = |name: String, dims: &[u64], class: TensorClass| {
        v.push(TensorSpec {
            name,
            dims: dims.to_vec(),
            class,
        })
    };
    use TensorClass::{AudioMatrix, Conv, F32, Matrix};
    push(
        "encoder.positional_embedding".into(),
        &[a, h.n_audio_ctx as u64],
        F32,
    );
    push(
        "encoder.conv1.weight".into(),
        &[3, h.n_mels as u64, a],
        Conv,
    );
    push("encoder.conv1.bias".into(), &[1, a], F32);
    push("encoder.conv2.weight".into(), &[3, a, a], Conv);
    push("encoder.conv2.bias".into(), &[1, a], F32);
    // `qo`: the class of the query and output projections, `kv`: of the key and value ones.
    type Push<'a> = dyn FnMut(String, &[u64], TensorClass) + 'a;
    let attn = |push: &mut Push, p: &str, n: u64, qo: TensorClass, kv: TensorClass| {
        push(format!("{p}.query.weight"), &[n, n], qo);
        push(format!("{p}.query.bias"), &[n], F32);
        push(format!("{p}.key.weight"), &[n, n], kv);
        push(format!("{p}.value.weight"), &[n, n], kv);
        push(format!("{p}.value.bias"), &[n], F32);
        push(format!("{p}.out.weight"), &[n, n], qo);
        push(format!("{p}.out.bias"), &[n], F32);
    };
    let mlp = |push: &mut Push, p: &str, n: u64, class: TensorClass| {
        push(format!("{p}.mlp.0.weight"), &[n, 4 * n], class);
        push(format!("{p}.mlp.0.bias"), &[4 * n], F32);
        push(format!("{p}.mlp.2.weight"), &[4 * n, n], class);
        push(format!("{p}.mlp.2.bias"), &[n], F32);
        push(format!("{p}.mlp_ln.weight"), &[n], F32);
        push(format!("{p}.mlp_ln.bias"), &[n], F32);
    };
    for i in 0..h.n_audio_layer {
        let p = format!("encoder.blocks.{i}");
        attn(&mut push, &format!("{p}.attn"), a, AudioMatrix, AudioMatrix);
        push(format!("{p}.attn_ln.weight"), &[a], F32);
        push(format!("{p}.attn_ln.bias"), &[a], F32);
        mlp(&mut push, &p, a, AudioMatrix);
    }
    push("encoder.ln_post.weight".into(), &[a], F32);
    push("encoder.ln_post.bias".into(), &[a], F32);
    push(
        "decoder.positional_embedding".into(),
        &[t, h.n_text_ctx as u64],
        F32,
    );
    push(
        "decoder.token_embedding.weight".into(),
        &[t, h.n_vocab as u64],
        Matrix,
    );
    for i in 0..h.n_text_layer {
        let p = format!("decoder.blocks.{i}");
        attn(&mut push, &format!("{p}.attn"), t, Matrix, Matrix);
        push(format!("{p}.attn_ln.weight"), &[t], F32);
        push(format!("{p}.attn_ln.bias"), &[t], F32);
        attn(
            &mut push,
            &format!("{p}.cross_attn"),
            t,
            Matrix,
            AudioMatrix,
        );
        push(format!("{p}.cross_attn_ln.weight"), &[t], F32);
        push(format!("{p}.cross_attn_ln.bias"), &[t], F32);
        mlp(&mut push, &p, t, Matrix);
    }
    push("decoder.ln.weight".into(), &[t], F32);
    push("decoder.ln.bias".into(), &[t], F32);
    v
}

/// Number of tensors whisper.cpp expects: 7 + 15 per encoder block + 4 + 24 per decoder block
/// (167 for tiny, 245 for base).
pub fn expected_tensor_count(h: &Hparams) -> usize {
    11 + 15 * h.n_audio_layer.max(0) as usize + 24 * h.n_text_layer.max(0) as usize
}

/// Streams a ggml file section by section. The caller writes the header, mel filters and
/// vocabulary once, then tensors in any order.
#[derive(Debug)]
pub struct GgmlWriter<W: Write> {
    w: W,
}

impl<W: Write> GgmlWriter<W> {
    /// Wraps a writer (buffer it: the writer issues many small writes).
    pub fn new(w: W) -> Self {
        GgmlWriter { w }
    }

    /// Magic and hparams.
    pub fn header(&mut self, h: &Hparams) -> io::Result<()> {
        self.w.write_all(&MAGIC.to_le_bytes())?;
        for v in h.to_array() {
            self.w.write_all(&v.to_le_bytes())?;
        }
        Ok(())
    }

    /// Mel filter bank, `n_mel` rows of `n_fft` bins.
    pub fn mel_filters(&mut self, n_mel: usize, n_fft: usize, data: &[f32]) -> io::Result<()> {
        self.w.write_all(&(n_mel as i32).to_le_bytes())?;
        self.w.write_all(&(n_fft as i32).to_le_bytes())?;
        self.w.write_all(&quant::encode_f32(data))
    }

    /// Vocabulary: raw token bytes.
    pub fn vocab(&mut self, tokens: &[Vec<u8>]) -> io::Result<()> {
        self.w.write_all(&(tokens.len() as i32).to_le_bytes())?;
        for t in tokens {
            self.w.write_all(&(t.len() as u32).to_le_bytes())?;
            self.w.write_all(t)?;
        }
        Ok(())
    }

    /// One tensor; `dims` in ggml order, `data` already encoded as `ty`.
    pub fn tensor(
        &mut self,
        name: &str,
        dims: &[u64],
        ty: GgmlType,
        data: &[u8],
    ) -> io::Result<()> {
        self.w.write_all(&(dims.len() as i32).to_le_bytes())?;
        self.w.write_all(&(name.len() as i32).to_le_bytes())?;
        self.w.write_all(&ty.id().to_le_bytes())?;
        for &d in dims {
            self.w.write_all(&(d as i32).to_le_bytes())?;
        }
        self.w.write_all(name.as_bytes())?;
        self.w.write_all(data)
    }

    /// Gives the inner writer back (flush it yourself).
    pub fn into_inner(self) -> W {
        self.w
    }
}

/// A tensor found in a ggml file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    /// Name as stored.
    pub name: String,
    /// ggml order dims.
    pub dims: Vec<u64>,
    /// Element type.
    pub ty: GgmlType,
    /// Byte offset of the data in the file.
    pub offset: u64,
    /// Data size in bytes.
    pub size: u64,
}

/// What [`validate`] learnt about a ggml file.
#[derive(Debug, Clone)]
pub struct GgmlInfo {
    /// The file.
    pub path: PathBuf,
    /// File size in bytes.
    pub file_len: u64,
    /// Header numbers.
    pub hparams: Hparams,
    /// The matrix type implied by ftype.
    pub wtype: GgmlType,
    /// Mel filter bank, `n_mels` rows of [`N_FFT_BINS`].
    pub mel_filters: Vec<f32>,
    /// Regular tokens as raw bytes.
    pub vocab: Vec<Vec<u8>>,
    /// Tensors in file order.
    pub tensors: Vec<TensorInfo>,
}

impl GgmlInfo {
    /// Our [`Quantisation`] for this file, if it is one we write (f16 or q8_0).
    pub fn quantisation(&self) -> Option<Quantisation> {
        match self.wtype {
            GgmlType::F16 => Some(Quantisation::F16),
            GgmlType::Q8_0 => Some(Quantisation::Q8_0),
            _ => None,
        }
    }

    /// Looks a tensor up by name.
    pub fn tensor(&self, name: &str) -> Option<&TensorInfo> {
        self.tensors.iter().find(|t| t.name == name)
    }
}

/// Reads little-endian numbers, turning an early end of file into [`Error::Truncated`].
struct Cursor<R> {
    r: R,
    path: PathBuf,
    pos: u64,
    len: u64,
}

impl<R: Read + Seek> Cursor<R> {
    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>> {
        if self.len.saturating_sub(self.pos) < n {
            return Err(Error::truncated(
                &self.path,
                format!(
                    "{what} needs {n} bytes at offset {} but the file has {} bytes",
                    self.pos, self.len
                ),
            ));
        }
        let mut buf = vec![0u8; n as usize];
        self.r.read_exact(&mut buf).map_err(Error::io(&self.path))?;
        self.pos += n;
        Ok(buf)
    }

    fn i32(&mut self, what: &str) -> Result<i32> {
        let b = self.bytes(4, what)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        if self.len.saturating_sub(self.pos) < n {
            return Err(Error::truncated(
                &self.path,
                format!(
                    "{what} needs {n} bytes at offset {} but the file has only {} more",
                    self.pos,
                    self.len - self.pos.min(self.len)
                ),
            ));
        }
        self.r
            .seek(SeekFrom::Current(n as i64))
            .map_err(Error::io(&self.path))?;
        self.pos += n;
        Ok(())
    }
}

/// Longest token we accept: GPT-2 tokens are at most a few dozen bytes.
const MAX_TOKEN_BYTES: u64 = 1024;
/// Longest tensor name we accept (whisper names are < 50 bytes).
const MAX_NAME_BYTES: i32 = 256;

/// Walks the whole file (seeking over tensor data) and checks it against what whisper.cpp
/// 1.8 will expect: magic, sane hparams, mel filter size, vocabulary, every tensor's name,
/// shape, type and size, no missing or duplicate tensors, no bytes after the last tensor, and
/// no f32 conv kernel. It does not hash the data: that is [`crate::ModelStore::verify`]'s job.
pub fn validate(path: &Path) -> Result<GgmlInfo> {
    let file = File::open(path).map_err(Error::io(path))?;
    let len = file.metadata().map_err(Error::io(path))?.len();
    if len == 0 {
        return Err(Error::unknown_format(path, "the file is empty"));
    }
    let mut c = Cursor {
        r: BufReader::new(file),
        path: path.to_path_buf(),
        pos: 0,
        len,
    };
    if len < 4 {
        return Err(Error::unknown_format(
            path,
            "too short to hold a magic number",
        ));
    }
    let magic = c.i32("magic")? as u32;
    if magic != MAGIC {
        return Err(Error::unknown_format(
            path,
            format!(
                "bad magic {magic:#010x} (a whisper.cpp ggml file starts with 0x67676d6c \"lmgg\")"
            ),
        ));
    }
    let mut a = [0i32; 11];
    for v in a.iter_mut() {
        *v = c.i32("hparams")?;
    }
    let hparams = Hparams::from_array(a);
    hparams.sanity_check(path)?;
    let qntvr = hparams.ftype / QNT_VERSION_FACTOR;
    let wtype = GgmlType::from_ftype(hparams.base_ftype()).ok_or_else(|| {
        Error::unsupported(
            path,
            format!("unknown ftype {} in the header", hparams.ftype),
        )
    })?;
    if wtype == GgmlType::F32 {
        return Err(Error::unsupported(
            path,
            "ftype 0 (all f32): whisper.cpp then expects f32 conv kernels, which abort it \
             (GGML_ASSERT in im2col); convert to f16 or q8_0 instead",
        ));
    }
    if wtype.is_quantised() && qntvr != QNT_VERSION {
        return Err(Error::unsupported(
            path,
            format!(
                "quantisation version {qntvr} (whisper.cpp 1.8 reads version {QNT_VERSION}); \
                 re-quantise from an f16 model"
            ),
        ));
    }

    // Mel filters.
    let n_mel = c.i32("mel filter rows")?;
    let n_fft = c.i32("mel filter columns")?;
    if n_mel != hparams.n_mels || n_fft as usize != N_FFT_BINS {
        return Err(Error::corrupt(
            path,
            format!(
                "mel filter bank is {n_mel}×{n_fft}, expected {}×{N_FFT_BINS}",
                hparams.n_mels
            ),
        ));
    }
    let mel_bytes = c.bytes(n_mel as u64 * n_fft as u64 * 4, "mel filters")?;
    let mel_filters = quant::decode_f32(&mel_bytes);
    if mel_filters.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(Error::corrupt(
            path,
            "mel filter bank has negative or non-finite values",
        ));
    }

    // Vocabulary.
    let n_tokens = c.i32("vocabulary size")?;
    if n_tokens <= 0 || n_tokens > hparams.n_vocab {
        return Err(Error::corrupt(
            path,
            format!(
                "vocabulary holds {n_tokens} tokens, expected 1..={}",
                hparams.n_vocab
            ),
        ));
    }
    let mut vocab = Vec::with_capacity(n_tokens as usize);
    for i in 0..n_tokens {
        let n = c.i32("token length")? as u32 as u64;
        if n > MAX_TOKEN_BYTES {
            return Err(Error::corrupt(
                path,
                format!("token {i} claims {n} bytes (at offset {})", c.pos - 4),
            ));
        }
        vocab.push(c.bytes(n, "token")?);
    }

    // Tensors.
    let expected = expected_tensors(&hparams);
    let by_name: HashMap<&str, &TensorSpec> =
        expected.iter().map(|s| (s.name.as_str(), s)).collect();
    let mut tensors: Vec<TensorInfo> = Vec::with_capacity(expected.len());
    let mut seen: HashMap<String, ()> = HashMap::new();
    while c.pos < c.len {
        let header_at = c.pos;
        if c.len - c.pos < 12 {
            return Err(Error::truncated(
                path,
                format!(
                    "{} stray bytes after the last tensor at offset {header_at}",
                    c.len - c.pos
                ),
            ));
        }
        let n_dims = c.i32("tensor header")?;
        let name_len = c.i32("tensor header")?;
        let ty_id = c.i32("tensor header")?;
        if !(1..=4).contains(&n_dims) || !(1..=MAX_NAME_BYTES).contains(&name_len) {
            return Err(Error::corrupt(
                path,
                format!(
                    "bad tensor header at offset {header_at} (n_dims {n_dims}, name length \
                     {name_len}): garbage after tensor {}",
                    tensors.len()
                ),
            ));
        }
        let mut dims = Vec::with_capacity(n_dims as usize);
        for _ in 0..n_dims {
            let d = c.i32("tensor dims")?;
            if d <= 0 {
                return Err(Error::corrupt(
                    path,
                    format!("tensor at offset {header_at} has dimension {d}"),
                ));
            }
            dims.push(d as u64);
        }
        let name_bytes = c.bytes(name_len as u64, "tensor name")?;
        let name = String::from_utf8(name_bytes).map_err(|_| {
            Error::corrupt(
                path,
                format!("tensor name at offset {header_at} is not UTF-8"),
            )
        })?;
        let ty = GgmlType::from_id(ty_id).ok_or_else(|| {
            Error::corrupt(path, format!("tensor `{name}` has unknown type id {ty_id}"))
        })?;
        let spec = by_name.get(name.as_str()).ok_or_else(|| {
            Error::corrupt(
                path,
                format!("unexpected tensor `{name}` (whisper.cpp would refuse it)"),
            )
        })?;
        if seen.insert(name.clone(), ()).is_some() {
            return Err(Error::corrupt(
                path,
                format!("tensor `{name}` appears twice"),
            ));
        }
        // whisper.cpp ignores trailing dims of 1; so do we, to accept `[n, 1]` written as `[n]`.
        let trimmed = |d: &[u64]| {
            let mut d = d.to_vec();
            while d.len() > 1 && d.last() == Some(&1) {
                d.pop();
            }
            d
        };
        if trimmed(&dims) != trimmed(&spec.dims) {
            return Err(Error::corrupt(
                path,
                format!(
                    "tensor `{name}` has shape {dims:?}, expected {:?}",
                    spec.dims
                ),
            ));
        }
        let want = spec.class.expected_type(wtype);
        if spec.class == TensorClass::Conv && ty == GgmlType::F32 {
            return Err(Error::unsupported(
                path,
                format!(
                    "conv kernel `{name}` is f32: whisper.cpp aborts on it (GGML_ASSERT in \
                     im2col); convert the model with f16 conv kernels"
                ),
            ));
        }
        if !spec.class.accepts(wtype, ty) {
            return Err(Error::corrupt(
                path,
                format!(
                    "tensor `{name}` is {}, but a file with ftype {} needs {}",
                    ty.name(),
                    hparams.ftype,
                    want.name()
                ),
            ));
        }
        let size = ty.data_size(dims[0], spec.len()).ok_or_else(|| {
            Error::corrupt(
                path,
                format!(
                    "tensor `{name}` rows of {} values do not split into {} blocks of {}",
                    dims[0],
                    ty.name(),
                    ty.block_size()
                ),
            )
        })?;
        let offset = c.pos;
        c.skip(size, &format!("data of tensor `{name}`"))?;
        tensors.push(TensorInfo {
            name,
            dims,
            ty,
            offset,
            size,
        });
    }
    if tensors.len() != expected.len() {
        let missing: Vec<&str> = expected
            .iter()
            .filter(|s| !seen.contains_key(&s.name))
            .map(|s| s.name.as_str())
            .take(3)
            .collect();
        // A file that stops exactly between two tensors looks complete to a byte walk; the
        // missing names are what gives it away.
        return Err(Error::truncated(
            path,
            format!(
                "{} of {} tensors present; missing e.g. {}",
                tensors.len(),
                expected.len(),
                missing.join(", ")
            ),
        ));
    }
    Ok(GgmlInfo {
        path: path.to_path_buf(),
        file_len: len,
        hparams,
        wtype,
        mel_filters,
        vocab,
        tensors,
    })
}

/// Reads one tensor of a validated file and decodes it to f32 (f32, f16, bf16 and q8_0
/// tensors; other quantisations are not decoded here).
pub fn read_tensor_f32(info: &GgmlInfo, tensor: &TensorInfo) -> Result<Vec<f32>> {
    let path = &info.path;
    let mut f = File::open(path).map_err(Error::io(path))?;
    f.seek(SeekFrom::Start(tensor.offset))
        .map_err(Error::io(path))?;
    let mut buf = vec![0u8; tensor.size as usize];
    f.read_exact(&mut buf).map_err(|e| {
        if e.kind() == io::ErrorKind::UnexpectedEof {
            Error::truncated(path, format!("data of tensor `{}`", tensor.name))
        } else {
            Error::Io {
                path: path.clone(),
                source: e,
            }
        }
    })?;
    Ok(match tensor.ty {
        GgmlType::F32 => quant::decode_f32(&buf),
        GgmlType::F16 => quant::decode_f16(&buf),
        GgmlType::Bf16 => quant::decode_bf16(&buf),
        GgmlType::Q8_0 => quant::dequantize_q8_0(&buf),
        other => {
            return Err(Error::unsupported(
                path,
                format!(
                    "tensor `{}` is {}: only f32, f16, bf16 and q8_0 can be re-encoded",
                    tensor.name,
                    other.name()
                ),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_q8_0_file_may_keep_only_its_audio_matrices_in_f16() {
        let h = Hparams {
            n_vocab: 51865,
            n_audio_ctx: 1500,
            n_audio_state: 512,
            n_audio_head: 8,
            n_audio_layer: 6,
            n_text_ctx: 448,
            n_text_state: 512,
            n_text_head: 8,
            n_text_layer: 6,
            n_mels: 80,
            ftype: 2007,
        };
        let class = |name: &str| {
            expected_tensors(&h)
                .into_iter()
                .find(|s| s.name == name)
                .map(|s| s.class)
                .expect("a tensor of base")
        };
        for name in [
            "encoder.blocks.0.attn.query.weight",
            "encoder.blocks.5.mlp.2.weight",
            "decoder.blocks.3.cross_attn.key.weight",
            "decoder.blocks.3.cross_attn.value.weight",
        ] {
            assert_eq!(class(name), TensorClass::AudioMatrix, "{name}");
        }
        for name in [
            "decoder.token_embedding.weight",
            "decoder.blocks.3.cross_attn.query.weight",
            "decoder.blocks.3.cross_attn.out.weight",
            "decoder.blocks.3.attn.key.weight",
            "decoder.blocks.3.mlp.0.weight",
        ] {
            assert_eq!(class(name), TensorClass::Matrix, "{name}");
        }
        let (audio, matrix) = (TensorClass::AudioMatrix, TensorClass::Matrix);
        assert!(audio.accepts(GgmlType::Q8_0, GgmlType::F16));
        assert!(audio.accepts(GgmlType::Q8_0, GgmlType::Q8_0));
        assert!(!matrix.accepts(GgmlType::Q8_0, GgmlType::F16));
        assert!(!audio.accepts(GgmlType::F16, GgmlType::Q8_0));
        assert!(!audio.accepts(GgmlType::F32, GgmlType::F16));
    }
}
