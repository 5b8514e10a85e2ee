//! Reader of CTranslate2 Whisper models: `model.bin` (binary version 5 or 6), `config.json`
//! and the vocabulary.
//!
//! `model.bin` is an index followed by data, all little-endian:
//! `u32 version`, spec name (`u16` length including NUL, bytes), `u32 revision`,
//! `u32 variable count`, then per variable: name, `u8 rank`, `u32 × rank dims`, `u8 dtype`
//! (0 f32, 1 i8, 2 i16, 3 i32, 4 f16, 5 bf16), `u32 byte count`, data; finally `u32 alias
//! count` and (alias, target) name pairs. We index it once and seek to a variable's data only
//! when it is needed, so a 3 GB large-v3 folder converts in a few hundred MB of memory.

use std::collections::{BTreeSet, HashMap};
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::ggml::Hparams;
use crate::quant;

/// Element type of a CTranslate2 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[allow(missing_docs)]
pub enum Ct2Dtype {
    F32,
    I8,
    I16,
    I32,
    F16,
    Bf16,
}

impl Ct2Dtype {
    fn from_id(id: u8) -> Option<Ct2Dtype> {
        Some(match id {
            0 => Ct2Dtype::F32,
            1 => Ct2Dtype::I8,
            2 => Ct2Dtype::I16,
            3 => Ct2Dtype::I32,
            4 => Ct2Dtype::F16,
            5 => Ct2Dtype::Bf16,
            _ => return None,
        })
    }

    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Ct2Dtype::I8 => 1,
            Ct2Dtype::I16 | Ct2Dtype::F16 | Ct2Dtype::Bf16 => 2,
            Ct2Dtype::F32 | Ct2Dtype::I32 => 4,
        }
    }
}

/// One variable of `model.bin`: where its data is, not the data itself.
#[derive(Debug, Clone)]
pub struct Variable {
    /// e.g. `encoder/layer_0/self_attention/linear_0/weight`.
    pub name: String,
    /// numpy-order shape (empty for scalars).
    pub shape: Vec<u64>,
    /// Element type.
    pub dtype: Ct2Dtype,
    /// Offset of the data in the file.
    pub offset: u64,
    /// Data size in bytes.
    pub nbytes: u64,
}

impl Variable {
    /// Number of elements.
    pub fn len(&self) -> u64 {
        self.shape.iter().product()
    }

    /// Whether the variable has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An indexed `model.bin`.
#[derive(Debug, Clone)]
pub struct Ct2Model {
    /// The `model.bin` file.
    pub path: PathBuf,
    /// Binary format version.
    pub version: u32,
    /// Spec name, `WhisperSpec` for Whisper.
    pub spec: String,
    /// Spec revision.
    pub revision: u32,
    variables: HashMap<String, Variable>,
    aliases: HashMap<String, String>,
}

struct Reader<R> {
    r: R,
    path: PathBuf,
    pos: u64,
    len: u64,
}

impl<R: Read + Seek> Reader<R> {
    fn bytes(&mut self, n: u64, what: &str) -> Result<Vec<u8>> {
        if self.len.saturating_sub(self.pos) < n {
            return Err(Error::truncated(
                &self.path,
                format!(
                    "{what} needs {n} bytes at offset {} of {}",
                    self.pos, self.len
                ),
            ));
        }
        let mut buf = vec![0u8; n as usize];
        self.r.read_exact(&mut buf).map_err(Error::io(&self.path))?;
        self.pos += n;
        Ok(buf)
    }
    fn u8(&mut self, what: &str) -> Result<u8> {
        Ok(self.bytes(1, what)?[0])
    }
    fn u16(&mut self, what: &str) -> Result<u16> {
        let b = self.bytes(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.bytes(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self, what: &str) -> Result<String> {
        let n = self.u16(what)?;
        let mut b = self.bytes(u64::from(n), what)?;
        if b.last() == Some(&0) {
            b.pop();
        }
        String::from_utf8(b).map_err(|_| {
            Error::corrupt(
                &self.path,
                format!("{what} at offset {} is not UTF-8", self.pos),
            )
        })
    }
    fn skip(&mut self, n: u64, what: &str) -> Result<()> {
        if self.len.saturating_sub(self.pos) < n {
            return Err(Error::truncated(
                &self.path,
                format!(
                    "{what} needs {n} bytes at offset {} of {}",
                    self.pos, self.len
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

impl Ct2Model {
    /// Whether `path` starts like a CTranslate2 `model.bin` of a Whisper model.
    pub fn sniff(path: &Path) -> bool {
        let mut head = [0u8; 4 + 2 + 12];
        let Ok(mut f) = File::open(path) else {
            return false;
        };
        if f.read_exact(&mut head).is_err() {
            return false;
        }
        let version = u32::from_le_bytes([head[0], head[1], head[2], head[3]]);
        (1..=6).contains(&version) && &head[6..6 + 11] == b"WhisperSpec"
    }

    /// Indexes `model.bin`, checking that every variable's data lies inside the file.
    pub fn open(path: &Path) -> Result<Ct2Model> {
        let file = File::open(path).map_err(Error::io(path))?;
        let len = file.metadata().map_err(Error::io(path))?.len();
        let mut r = Reader {
            r: BufReader::new(file),
            path: path.to_path_buf(),
            pos: 0,
            len,
        };
        if len == 0 {
            return Err(Error::unknown_format(path, "model.bin is empty"));
        }
        let version = r.u32("version")?;
        if !(5..=6).contains(&version) {
            return Err(Error::unsupported(
                path,
                format!(
                    "CTranslate2 binary version {version} (this reader knows versions 5 and 6, \
                     written by CTranslate2 3.x and 4.x); re-convert the model"
                ),
            ));
        }
        let spec = r.string("spec name")?;
        if spec != "WhisperSpec" {
            return Err(Error::unknown_format(
                path,
                format!("CTranslate2 model of kind `{spec}`, not a Whisper model"),
            ));
        }
        let revision = r.u32("spec revision")?;
        let count = r.u32("variable count")?;
        let mut variables = HashMap::new();
        for _ in 0..count {
            let name = r.string("variable name")?;
            let rank = r.u8("rank")?;
            if rank > 8 {
                return Err(Error::corrupt(
                    path,
                    format!("variable `{name}` has rank {rank}"),
                ));
            }
            let mut shape = Vec::with_capacity(rank as usize);
            for _ in 0..rank {
                shape.push(u64::from(r.u32("dims")?));
            }
            let dtype_id = r.u8("dtype")?;
            let dtype = Ct2Dtype::from_id(dtype_id).ok_or_else(|| {
                Error::corrupt(
                    path,
                    format!("variable `{name}` has unknown dtype {dtype_id}"),
                )
            })?;
            let nbytes = u64::from(r.u32("byte count")?);
            let n: u64 = shape.iter().product();
            if n.checked_mul(dtype.size()) != Some(nbytes) {
                return Err(Error::corrupt(
                    path,
                    format!("variable `{name}` {shape:?} has {nbytes} bytes of data"),
                ));
            }
            let offset = r.pos;
            r.skip(nbytes, &format!("data of `{name}`"))?;
            variables.insert(
                name.clone(),
                Variable {
                    name,
                    shape,
                    dtype,
                    offset,
                    nbytes,
                },
            );
        }
        let mut aliases = HashMap::new();
        if r.pos < r.len {
            let n = r.u32("alias count")?;
            for _ in 0..n {
                let alias = r.string("alias")?;
                let target = r.string("alias target")?;
                aliases.insert(alias, target);
            }
        }
        if r.pos != r.len {
            return Err(Error::corrupt(
                path,
                format!(
                    "{} unexpected bytes after the variable index",
                    r.len - r.pos
                ),
            ));
        }
        Ok(Ct2Model {
            path: path.to_path_buf(),
            version,
            spec,
            revision,
            variables,
            aliases,
        })
    }

    /// A variable by name, following aliases.
    pub fn variable(&self, name: &str) -> Option<&Variable> {
        self.variables.get(name).or_else(|| {
            self.aliases
                .get(name)
                .and_then(|target| self.variables.get(target))
        })
    }

    /// All variable names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.variables.keys().map(String::as_str).collect();
        v.sort_unstable();
        v
    }

    fn raw(&self, var: &Variable) -> Result<Vec<u8>> {
        let mut f = File::open(&self.path).map_err(Error::io(&self.path))?;
        f.seek(SeekFrom::Start(var.offset))
            .map_err(Error::io(&self.path))?;
        let mut buf = vec![0u8; var.nbytes as usize];
        f.read_exact(&mut buf).map_err(Error::io(&self.path))?;
        Ok(buf)
    }

    /// A variable's values as f32. Integer weights are dequantised with their `<name>_scale`
    /// companion (CTranslate2 stores `q = round(x · scale)`, per row for int8).
    pub fn read_f32(&self, name: &str) -> Result<Vec<f32>> {
        let var = self
            .variable(name)
            .ok_or_else(|| Error::corrupt(&self.path, format!("variable `{name}` is missing")))?;
        let raw = self.raw(var)?;
        let values: Vec<f32> = match var.dtype {
            Ct2Dtype::F32 => quant::decode_f32(&raw),
            Ct2Dtype::F16 => quant::decode_f16(&raw),
            Ct2Dtype::Bf16 => quant::decode_bf16(&raw),
            Ct2Dtype::I32 => raw
                .chunks_exact(4)
                .map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as f32)
                .collect(),
            Ct2Dtype::I8 | Ct2Dtype::I16 => {
                let q: Vec<f32> = if var.dtype == Ct2Dtype::I8 {
                    raw.iter().map(|&b| f32::from(b as i8)).collect()
                } else {
                    raw.chunks_exact(2)
                        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])))
                        .collect()
                };
                let scale_name = format!("{}_scale", var.name);
                let scale = self.read_f32(&scale_name)?;
                let rows = scale.len().max(1);
                if !q.len().is_multiple_of(rows) {
                    return Err(Error::corrupt(
                        &self.path,
                        format!(
                            "`{scale_name}` has {} values for `{}` {:?}",
                            scale.len(),
                            var.name,
                            var.shape
                        ),
                    ));
                }
                let cols = q.len() / rows;
                q.iter()
                    .enumerate()
                    .map(|(i, &v)| {
                        let s = scale.get(i / cols.max(1)).copied().unwrap_or(1.0);
                        if s == 0.0 { 0.0 } else { v / s }
                    })
                    .collect()
            }
        };
        Ok(values)
    }

    /// An integer scalar (e.g. `encoder/num_heads`), if present.
    pub fn scalar_i64(&self, name: &str) -> Option<i64> {
        let var = self.variable(name)?;
        if !var.shape.is_empty() && var.len() != 1 {
            return None;
        }
        let raw = self.raw(var).ok()?;
        Some(match var.dtype {
            Ct2Dtype::I8 => i64::from(raw[0] as i8),
            Ct2Dtype::I16 => i64::from(i16::from_le_bytes([raw[0], raw[1]])),
            Ct2Dtype::I32 => i64::from(i32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]])),
            Ct2Dtype::F32 => f32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]) as i64,
            Ct2Dtype::F16 | Ct2Dtype::Bf16 => return None,
        })
    }

    /// Number of `encoder/layer_N` (or decoder) blocks.
    pub fn layer_count(&self, side: &str) -> usize {
        let prefix = format!("{side}/layer_");
        self.variables
            .keys()
            .filter_map(|k| {
                k.strip_prefix(&prefix)?
                    .split('/')
                    .next()?
                    .parse::<usize>()
                    .ok()
            })
            .collect::<BTreeSet<_>>()
            .len()
    }

    fn shape_of(&self, name: &str) -> Result<&[u64]> {
        self.variable(name)
            .map(|v| v.shape.as_slice())
            .ok_or_else(|| Error::corrupt(&self.path, format!("variable `{name}` is missing")))
    }

    /// Whisper dimensions, from the weights' shapes (ftype left 0 for the writer to set).
    pub fn hparams(&self) -> Result<Hparams> {
        let two = |name: &str| -> Result<(i32, i32)> {
            match self.shape_of(name)? {
                [a, b] => Ok((*a as i32, *b as i32)),
                s => Err(Error::corrupt(
                    &self.path,
                    format!("`{name}` has shape {s:?}, expected 2-D"),
                )),
            }
        };
        let (n_audio_ctx, n_audio_state) = two("encoder/position_encodings/encodings")?;
        let (n_text_ctx, n_text_state) = two("decoder/position_encodings/encodings")?;
        let (n_vocab, emb_state) = two("decoder/embeddings/weight")?;
        if emb_state != n_text_state {
            return Err(Error::corrupt(
                &self.path,
                "token embedding width differs from the decoder's",
            ));
        }
        let n_mels = match self.shape_of("encoder/conv1/weight")? {
            [_, mels, 3] => *mels as i32,
            s => {
                return Err(Error::corrupt(
                    &self.path,
                    format!("`encoder/conv1/weight` has shape {s:?}, expected [state, mels, 3]"),
                ));
            }
        };
        // Whisper heads are always 64 wide; older CTranslate2 specs do not store num_heads.
        let heads = |side: &str, state: i32| {
            self.scalar_i64(&format!("{side}/num_heads"))
                .map_or(state / 64, |h| h as i32)
        };
        Ok(Hparams {
            n_vocab,
            n_audio_ctx,
            n_audio_state,
            n_audio_head: heads("encoder", n_audio_state),
            n_audio_layer: self.layer_count("encoder") as i32,
            n_text_ctx,
            n_text_state,
            n_text_head: heads("decoder", n_text_state),
            n_text_layer: self.layer_count("decoder") as i32,
            n_mels,
            ftype: 0,
        })
    }
}

/// A CTranslate2 Whisper folder: `model.bin`, `config.json` (optional for us), vocabulary.
#[derive(Debug, Clone)]
pub struct Ct2Folder {
    /// The folder.
    pub dir: PathBuf,
    /// The indexed weights.
    pub model: Ct2Model,
    /// Token texts in id order (byte-level BPE spelling).
    pub token_texts: Vec<String>,
}

impl Ct2Folder {
    /// Whether `dir` looks like a CTranslate2 Whisper folder (a `model.bin` that sniffs right).
    pub fn sniff(dir: &Path) -> bool {
        Ct2Model::sniff(&dir.join("model.bin"))
    }

    /// Opens the folder and checks that its parts agree.
    pub fn open(dir: &Path) -> Result<Ct2Folder> {
        let bin = dir.join("model.bin");
        if !bin.is_file() {
            return Err(Error::unknown_format(dir, "no model.bin in the folder"));
        }
        let model = Ct2Model::open(&bin)?;
        let config = dir.join("config.json");
        if config.is_file() {
            // Only its well-formedness matters to us; alignment heads are whisper.cpp presets.
            let s = std::fs::read_to_string(&config).map_err(Error::io(&config))?;
            serde_json::from_str::<serde_json::Value>(&s)
                .map_err(|e| Error::corrupt(&config, format!("not JSON: {e}")))?;
        }
        let token_texts = crate::vocab::read_token_texts(dir)?;
        Ok(Ct2Folder {
            dir: dir.to_path_buf(),
            model,
            token_texts,
        })
    }
}
