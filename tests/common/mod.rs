//! Helpers shared by the integration tests: the real binary, shared evaluation data when present,
//! and fixtures generated at test time with espeak-ng and sox.
#![allow(dead_code, clippy::unwrap_used)]

pub mod server;
pub mod ui;

use std::path::Path;
use std::process::Command;

use courtscribe_testkit::run;

use serde_json::Value;

pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_courtscribe"))
}

/// `courtscribe transcribe` with one decoding thread. ggml's worker threads spin at barriers, so
/// two of them on a 2-core machine that is also running other tests slow down sevenfold (measured:
/// 45 s instead of 6 s for an 11 s clip); one thread per test keeps the suite's time predictable.
pub fn transcribe_cmd(audio: &Path) -> Command {
    let mut cmd = bin();
    cmd.arg("transcribe").arg(audio).args(["--threads", "1"]);
    cmd
}

/// Runs `courtscribe transcribe AUDIO ARGS… --format json` and parses the transcript.
pub fn transcribe_json(audio: &Path, args: &[&str]) -> Value {
    let out = transcribe_cmd(audio)
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "transcribe {} failed: {}",
        audio.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn full_text(t: &Value) -> String {
    t["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect::<Vec<_>>()
        .join(" ")
}

/// (start, end) of every word in the transcript.
pub fn word_times(t: &Value) -> Vec<(f64, f64, String)> {
    t["segments"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["words"].as_array().unwrap().iter())
        .map(|w| {
            (
                w["start"].as_f64().unwrap(),
                w["end"].as_f64().unwrap(),
                w["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A turn of a synthetic hearing's reference (`../shared/eval/synthetic/ID.json`).
#[derive(Debug, Clone)]
pub struct Turn {
    pub start: f64,
    pub end: f64,
    pub role: String,
    pub text: String,
}

pub fn turns(json: &Path) -> Vec<Turn> {
    let v: Value = serde_json::from_slice(&std::fs::read(json).unwrap()).unwrap();
    v["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| Turn {
            start: t["start"].as_f64().unwrap(),
            end: t["end"].as_f64().unwrap(),
            role: t["role"].as_str().unwrap().to_string(),
            text: t["text"].as_str().unwrap().to_string(),
        })
        .collect()
}

/// The text of a PDF as poppler's `pdftotext` reads it (reading order, UTF-8), with every run of
/// whitespace (line and page breaks included) turned into one space so phrases can be searched
/// across wrapped lines.
pub fn pdf_text(pdf: &[u8], dir: &Path) -> String {
    let file = dir.join("minutes-read-back.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = run(Command::new("pdftotext")
        .args(["-enc", "UTF-8"])
        .arg(&file)
        .arg("-"));
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}
