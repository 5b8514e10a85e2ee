//! CTranslate2 → ggml conversion (and ggml → ggml re-encoding), streamed tensor by tensor.
//!
//! Names and shapes follow OpenAI's PyTorch checkpoint, as whisper.cpp's
//! `convert-pt-to-ggml.py` writes them. CTranslate2 fuses some projections; we split them:
//!
//! | OpenAI name                         | CTranslate2 variable                         |
//! |-------------------------------------|----------------------------------------------|
//! | `*.attn.{query,key,value}`          | `*/self_attention/linear_0`, rows q \| k \| v |
//! | `*.attn.out`                        | `*/self_attention/linear_1`                  |
//! | `*.cross_attn.query`                | `*/attention/linear_0`                       |
//! | `*.cross_attn.{key,value}`          | `*/attention/linear_1`, rows k \| v           |
//! | `*.cross_attn.out`                  | `*/attention/linear_2`                       |
//! | `*.{attn,cross_attn,mlp}_ln`        | `*/{self_attention,attention,ffn}/layer_norm` |
//! | `*.mlp.0`, `*.mlp.2`                | `*/ffn/linear_0`, `*/ffn/linear_1`           |
//!
//! The fused key bias CTranslate2 carries is dropped: whisper has none, and a key bias only adds
//! the same `q·b` to every score of a query, which softmax ignores, so dropping it is exact.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::ct2::{Ct2Folder, Ct2Model};
use crate::error::{Error, Result};
use crate::ggml::{self, GgmlInfo, GgmlType, GgmlWriter, Hparams, TensorClass, TensorSpec};
use crate::quant::{self, Quantisation};
use crate::{mel, vocab};

/// What a finished conversion produced.
#[derive(Debug, Clone)]
pub struct Converted {
    /// The ggml file (already validated and in place).
    pub path: PathBuf,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its header.
    pub hparams: Hparams,
    /// Number of tensors written.
    pub tensor_count: usize,
    /// Number of regular vocabulary tokens written.
    pub vocab_len: usize,
}

/// Supplies tensor values (numpy order, f32) by OpenAI name.
trait TensorSource {
    fn values(&mut self, spec: &TensorSpec) -> Result<Vec<f32>>;
}

/// Maps OpenAI names onto a CTranslate2 model, un-fusing projections.
struct Ct2Source<'a> {
    model: &'a Ct2Model,
    hparams: Hparams,
    // The fused q|k|v matrices are asked for three times in a row; keep the last few reads.
    cache: HashMap<String, std::rc::Rc<Vec<f32>>>,
}

/// Where an OpenAI tensor lives in CTranslate2: variable, and which of `parts` equal row
/// slices it is.
struct Location {
    var: String,
    part: usize,
    parts: usize,
    /// `Some(prefix)` for a query projection: `prefix/queries_scale`, if present, is baked in.
    query_of: Option<String>,
}

fn locate(name: &str) -> Option<Location> {
    let whole = |var: String| Location {
        var,
        part: 0,
        parts: 1,
        query_of: None,
    };
    let wb = |s: &str| match s {
        "weight" => Some("weight"),
        "bias" => Some("bias"),
        _ => None,
    };
    let ln = |s: &str| match s {
        "weight" => Some("gamma"),
        "bias" => Some("beta"),
        _ => None,
    };
    let parts: Vec<&str> = name.split('.').collect();
    match parts.as_slice() {
        ["encoder", "positional_embedding"] => {
            Some(whole("encoder/position_encodings/encodings".into()))
        }
        ["decoder", "positional_embedding"] => {
            Some(whole("decoder/position_encodings/encodings".into()))
        }
        ["decoder", "token_embedding", "weight"] => Some(whole("decoder/embeddings/weight".into())),
        ["encoder", conv @ ("conv1" | "conv2"), p] => {
            Some(whole(format!("encoder/{conv}/{}", wb(p)?)))
        }
        ["encoder", "ln_post", p] => Some(whole(format!("encoder/layer_norm/{}", ln(p)?))),
        ["decoder", "ln", p] => Some(whole(format!("decoder/layer_norm/{}", ln(p)?))),
        [side @ ("encoder" | "decoder"), "blocks", i, rest @ ..] => {
            let pre = format!("{side}/layer_{i}");
            let sliced = |scope: &str, lin: &str, p: &str, part, parts, query: bool| {
                Some(Location {
                    var: format!("{pre}/{scope}/{lin}/{}", wb(p)?),
                    part,
                    parts,
                    query_of: query.then(|| format!("{pre}/{scope}")),
                })
            };
            match rest {
                ["attn_ln", p] => {
                    Some(whole(format!("{pre}/self_attention/layer_norm/{}", ln(p)?)))
                }
                ["cross_attn_ln", p] => {
                    Some(whole(format!("{pre}/attention/layer_norm/{}", ln(p)?)))
                }
                ["mlp_ln", p] => Some(whole(format!("{pre}/ffn/layer_norm/{}", ln(p)?))),
                ["mlp", "0", p] => Some(whole(format!("{pre}/ffn/linear_0/{}", wb(p)?))),
                ["mlp", "2", p] => Some(whole(format!("{pre}/ffn/linear_1/{}", wb(p)?))),
                ["attn", "query", p] => sliced("self_attention", "linear_0", p, 0, 3, true),
                ["attn", "key", p] => sliced("self_attention", "linear_0", p, 1, 3, false),
                ["attn", "value", p] => sliced("self_attention", "linear_0", p, 2, 3, false),
                ["attn", "out", p] => sliced("self_attention", "linear_1", p, 0, 1, false),
                ["cross_attn", "query", p] => sliced("attention", "linear_0", p, 0, 1, true),
                ["cross_attn", "key", p] => sliced("attention", "linear_1", p, 0, 2, false),
                ["cross_attn", "value", p] => sliced("attention", "linear_1", p, 1, 2, false),
                ["cross_attn", "out", p] => sliced("attention", "linear_2", p, 0, 1, false),
                _ => None,
            }
        }
        _ => None,
    }
}

impl Ct2Source<'_> {
    fn read(&mut self, var: &str) -> Result<std::rc::Rc<Vec<f32>>> {
        if let Some(v) = self.cache.get(var) {
            return Ok(v.clone());
        }
        if self.cache.len() >= 4 {
            self.cache.clear();
        }
        let v = std::rc::Rc::new(self.model.read_f32(var)?);
        self.cache.insert(var.to_string(), v.clone());
        Ok(v)
    }
}

impl TensorSource for Ct2Source<'_> {
    fn values(&mut self, spec: &TensorSpec) -> Result<Vec<f32>> {
        let path = self.model.path.clone();
        let loc = locate(&spec.name).ok_or_else(|| {
            Error::unsupported(
                &path,
                format!("no CTranslate2 variable for `{}`", spec.name),
            )
        })?;
        let all = self.read(&loc.var)?;
        if all.len() % loc.parts != 0 {
            return Err(Error::corrupt(
                &path,
                format!("`{}` does not split into {} parts", loc.var, loc.parts),
            ));
        }
        let n = all.len() / loc.parts;
        if n as u64 != spec.len() {
            return Err(Error::corrupt(
                &path,
                format!(
                    "`{}` gives {n} values for `{}`, whose shape {:?} needs {}",
                    loc.var,
                    spec.name,
                    spec.dims,
                    spec.len()
                ),
            ));
        }
        let mut values = all[loc.part * n..(loc.part + 1) * n].to_vec();
        if let Some(scope) = loc.query_of {
            // CTranslate2 scales queries by `queries_scale` (default 1/√d_head); whisper.cpp
            // always uses 1/√d_head, so fold the ratio into the query projection.
            let qs = self
                .model
                .variable(&format!("{scope}/queries_scale"))
                .map(|v| v.name.clone());
            if let Some(qs) = qs {
                let s = self.model.read_f32(&qs)?.first().copied().unwrap_or(1.0);
                let heads = if spec.name.starts_with("encoder") {
                    (self.hparams.n_audio_state, self.hparams.n_audio_head)
                } else {
                    (self.hparams.n_text_state, self.hparams.n_text_head)
                };
                let d_head = f64::from(heads.0 / heads.1.max(1));
                let factor = (f64::from(s) * d_head.sqrt()) as f32;
                values.iter_mut().for_each(|v| *v *= factor);
            }
        }
        Ok(values)
    }
}

/// Re-reads tensors of an existing ggml file.
struct GgmlSource<'a> {
    info: &'a GgmlInfo,
}

impl TensorSource for GgmlSource<'_> {
    fn values(&mut self, spec: &TensorSpec) -> Result<Vec<f32>> {
        let t = self.info.tensor(&spec.name).ok_or_else(|| {
            Error::corrupt(
                &self.info.path,
                format!("tensor `{}` is missing", spec.name),
            )
        })?;
        ggml::read_tensor_f32(self.info, t)
    }
}

/// Converts a CTranslate2 Whisper folder into a ggml file at `out`.
pub fn ct2_to_ggml(dir: &Path, out: &Path, quant: Quantisation, label: &str) -> Result<Converted> {
    let folder = Ct2Folder::open(dir)?;
    let hparams = folder.model.hparams()?;
    hparams.sanity_check(&folder.model.path)?;
    let tokens = vocab::regular_tokens(&folder.token_texts, dir)?;
    check_vocab(&hparams, tokens.len(), dir)?;
    let mel = mel::mel_filters(hparams.n_mels as usize);
    let mut source = Ct2Source {
        model: &folder.model,
        hparams,
        cache: HashMap::new(),
    };
    write_model(&mut source, hparams, quant, &mel, &tokens, out, label)
}

/// Re-encodes a validated ggml file (f16 or q8_0) with another quantisation.
pub fn ggml_to_ggml(
    info: &GgmlInfo,
    out: &Path,
    quant: Quantisation,
    label: &str,
) -> Result<Converted> {
    let mut source = GgmlSource { info };
    let h = info.hparams;
    write_model(
        &mut source,
        h,
        quant,
        &info.mel_filters,
        &info.vocab,
        out,
        label,
    )
}

/// whisper.cpp derives the id of `<|endoftext|>` from n_vocab (50256, or 50257 for
/// multilingual models): the regular vocabulary must end exactly there.
fn check_vocab(h: &Hparams, regular: usize, source: &Path) -> Result<()> {
    let expected = if h.is_multilingual() { 50257 } else { 50256 };
    if regular != expected {
        return Err(Error::corrupt(
            source,
            format!(
                "{regular} regular tokens before {}, but a model with n_vocab {} needs {expected}",
                vocab::END_OF_TEXT,
                h.n_vocab
            ),
        ));
    }
    Ok(())
}

/// Hashes everything written through it.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A progress bar on stderr (indicatif hides it when stderr is not a terminal).
pub(crate) fn progress_bar(len: u64, msg: impl Into<String>, bytes: bool) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let template = if bytes {
        "{msg:28} [{bar:40}] {bytes}/{total_bytes} ({eta})"
    } else {
        "{msg:28} [{bar:40}] {pos}/{len} ({eta})"
    };
    if let Ok(style) = ProgressStyle::with_template(template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_message(msg.into());
    pb
}

fn encode(
    spec: &TensorSpec,
    values: &[f32],
    quant: Quantisation,
    path: &Path,
) -> Result<(GgmlType, Vec<u8>)> {
    Ok(match spec.class {
        TensorClass::F32 => (GgmlType::F32, quant::encode_f32(values)),
        // whisper.cpp's im2col asserts an f16 kernel: never write f32 here.
        TensorClass::Conv => (GgmlType::F16, quant::encode_f16(values)),
        // Converted to bf16 or to the file's type as whisper.cpp loads them (TensorClass docs):
        // f16 keeps the values that conversion starts from.
        TensorClass::AudioMatrix => (GgmlType::F16, quant::encode_f16(values)),
        TensorClass::Matrix => match quant {
            Quantisation::F16 => (GgmlType::F16, quant::encode_f16(values)),
            Quantisation::Q8_0 => {
                // whisper.cpp allocates every matrix in the file's type, so a matrix that cannot
                // be quantised cannot be left in f16 either: refuse instead of writing a file
                // whisper.cpp would reject.
                if !(spec.dims[0] as usize).is_multiple_of(quant::Q8_0_BLOCK) {
                    return Err(Error::unsupported(
                        path,
                        format!(
                            "`{}` has rows of {} values, not a multiple of 32: q8_0 impossible, use f16",
                            spec.name, spec.dims[0]
                        ),
                    ));
                }
                (GgmlType::Q8_0, quant::quantize_q8_0(values))
            }
        },
    })
}

#[allow(clippy::too_many_arguments)]
fn write_model(
    source: &mut dyn TensorSource,
    hparams: Hparams,
    quant: Quantisation,
    mel_filters: &[f32],
    tokens: &[Vec<u8>],
    out: &Path,
    label: &str,
) -> Result<Converted> {
    let h = Hparams {
        ftype: Hparams::ftype_for(quant),
        ..hparams
    };
    let specs = ggml::expected_tensors(&h);
    let dir = out
        .parent()
        .ok_or_else(|| Error::unknown_format(out, "output path has no parent folder"))?;
    std::fs::create_dir_all(dir).map_err(Error::io(dir))?;
    // Same folder as the target, so the final rename is atomic.
    let tmp = tempfile::Builder::new()
        .prefix(".converting-")
        .tempfile_in(dir)
        .map_err(Error::io(dir))?;
    let file: File = tmp.as_file().try_clone().map_err(Error::io(tmp.path()))?;
    let hashing = HashingWriter {
        inner: file,
        hasher: Sha256::new(),
        written: 0,
    };
    let mut w = GgmlWriter::new(BufWriter::with_capacity(1 << 20, hashing));
    let io_err = Error::io(tmp.path());
    let total: u64 = specs.iter().map(TensorSpec::len).sum();
    let pb = progress_bar(total, format!("converting {label} ({quant})"), false);
    let result = (|| -> Result<()> {
        let ioe = |e| Error::io(tmp.path())(e);
        w.header(&h).map_err(ioe)?;
        w.mel_filters(h.n_mels as usize, ggml::N_FFT_BINS, mel_filters)
            .map_err(ioe)?;
        w.vocab(tokens).map_err(ioe)?;
        for spec in &specs {
            let values = source.values(spec)?;
            if values.iter().any(|v| !v.is_finite()) {
                return Err(Error::corrupt(
                    tmp.path(),
                    format!("source tensor `{}` has NaN or infinite values", spec.name),
                ));
            }
            let (ty, data) = encode(spec, &values, quant, out)?;
            w.tensor(&spec.name, &spec.dims, ty, &data).map_err(ioe)?;
            pb.inc(spec.len());
        }
        Ok(())
    })();
    pb.finish_and_clear();
    result?;
    let hashing = w
        .into_inner()
        .into_inner()
        .map_err(|e| io_err(e.into_error()))?;
    let sha256 = hex::encode(hashing.hasher.finalize());
    let size = hashing.written;
    hashing.inner.sync_all().map_err(Error::io(tmp.path()))?;
    // Re-read what we wrote before anyone can see it.
    let info = ggml::validate(tmp.path())?;
    let vocab_len = info.vocab.len();
    crate::store::persist(tmp, out)?;
    Ok(Converted {
        path: out.to_path_buf(),
        sha256,
        size,
        hparams: h,
        tensor_count: specs.len(),
        vocab_len,
    })
}
