//! How fast the workbench shows a three-hour hearing (issue 6 target: < 1 s, virtualised list).
//! Starts a real `courtscribe serve` the way the tests do, gives it a short spoken hearing so the
//! editor has a hearing to open, then runs `tests/ui/workbench.mjs` in bench mode: headless
//! Chromium opens the hearing `RUNS` times with a synthetic three-hour transcript (3,600 segments,
//! 36,000 words) served in place of the revision. Two numbers per open: the editor's own render
//! time, from the transcript having arrived to the list being on screen
//! (`document.body.dataset.renderMs`), and the whole open, from reloading the page to the first
//! rows on screen (page, API calls and 36,000 words of JSON included).
//!
//! Run: `cargo bench --bench workbench_render [-- RUNS]` (default 10). Needs what the browser
//! test needs (Chromium, Node.js; playwright-core is installed on first use) and the `base` model.

// The tests' own helpers (the server process, fixtures, the browser). Bench targets are built with
// cfg(test), so wer.rs's unit-test module is compiled (not run) and its `use super::*` would warn.
#[allow(unused_imports)]
#[path = "../tests/common/mod.rs"]
mod common;

use std::path::Path;
use std::process::Command;

use common::server::Server;
use common::ui::{chromium, node_works, playwright_dir};
use courtscribe_testkit::speak;
use serde_json::{Value, json};

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map_or(10, |a| a.parse().expect("RUNS is a number"));
    let (Some(chromium), true) = (chromium(), node_works()) else {
        eprintln!("workbench_render: needs Chromium (/usr/bin/chromium) and Node.js");
        std::process::exit(2);
    };
    let playwright = playwright_dir();
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let d = dir.path();
    let wav = speak(d, "h", "vi", "Bị cáo Nguyễn Văn An có mặt tại phiên tòa.");
    let server = Server::start(&d.join("data"), &[]);
    let number = "1/2026/HS-ST";
    let hearing = rt.block_on(async {
        let admin = server.admin().await;
        let clerk = server.user(&admin, "thuky", "secretary", json!({})).await;
        let (_, hearing) = clerk.case_and_hearing(number, "vi").await;
        let (s, _) = clerk
            .post_bytes(
                &format!("/api/hearings/{hearing}/recordings"),
                std::fs::read(&wav).expect("the spoken hearing"),
            )
            .await;
        assert_eq!(s, 202);
        clerk.wait_transcript(hearing, 300).await;
        hearing
    });
    let out = Command::new("node")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/workbench.mjs"))
        .env("MODE", "bench")
        .env("RUNS", runs.to_string())
        .env("BASE", &server.base)
        .env("HEARING", hearing.to_string())
        .env("CASE_NUMBER", number)
        .env("PASSWORD", "password-123")
        .env("CHROMIUM", chromium)
        .env("PLAYWRIGHT_DIR", playwright)
        .env("OUT", d)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("BENCH "))
        .unwrap_or_else(|| {
            panic!(
                "the browser run failed:\n{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let result: Value = serde_json::from_str(line).expect("the bench line is JSON");
    let sorted = |key: &str| {
        let mut v: Vec<f64> = result[key]
            .as_array()
            .expect("times")
            .iter()
            .filter_map(Value::as_f64)
            .collect();
        v.sort_by(f64::total_cmp);
        v
    };
    let rows = result["rows"][0].as_u64().unwrap_or(0);
    println!(
        "three-hour transcript (3,600 segments, 36,000 words), {runs} opens in headless Chromium, \
         {rows} rows in the DOM"
    );
    println!("| measured | min ms | p50 ms | p95 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    for (key, what) in [
        ("ms", "render (transcript arrived → list on screen)"),
        ("open", "open (page reload → first rows on screen)"),
    ] {
        let v = sorted(key);
        let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
        println!(
            "| {what} | {:.0} | {:.0} | {:.0} | {:.0} |",
            v[0],
            at(0.5),
            at(0.95),
            v[v.len() - 1]
        );
    }
}
