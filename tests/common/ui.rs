//! What the browser tests and the workbench render benchmark need: Debian's Chromium, Node.js and
//! playwright-core (installed with npm outside the repo, at the version `tests/ui/package.json`
//! pins).

use std::path::{Path, PathBuf};
use std::process::Command;

pub fn chromium() -> Option<PathBuf> {
    let candidates = [
        std::env::var_os("COURTSCRIBE_CHROMIUM").map(PathBuf::from),
        Some(PathBuf::from("/usr/bin/chromium")),
        Some(PathBuf::from("/usr/bin/chromium-browser")),
    ];
    candidates.into_iter().flatten().find(|p| p.is_file())
}

pub fn node_works() -> bool {
    Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

/// The folder whose `node_modules` holds playwright-core, at the version `tests/ui/package.json`
/// pins; installed there with npm when missing (outside the repo: nothing lands in the tree).
pub fn playwright_dir() -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let dir = home.join(".cache/courtscribe/npm");
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/package.json"))
            .unwrap(),
    )
    .unwrap();
    let version = manifest["dependencies"]["playwright-core"]
        .as_str()
        .unwrap();
    let installed = dir.join("node_modules/playwright-core/package.json");
    let have = std::fs::read(&installed)
        .ok()
        .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        .is_some_and(|p| p["version"] == version);
    if !have {
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .arg(format!("playwright-core@{version}"))
            .output()
            .expect("npm (comes with Node.js) installs playwright-core");
        assert!(
            out.status.success(),
            "npm install playwright-core@{version} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}
