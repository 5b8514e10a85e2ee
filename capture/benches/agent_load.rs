//! Capture agent load (issue 5 target: ≤ 5 % of one core, RSS ≤ 50 MB while recording 8 channels at
//! 48 kHz). Not a test: generates 8 × 48 kHz of quiet noise, starts a real `courtscribe serve`
//! (`target/<profile>/courtscribe`, built beforehand) and replays the audio through a real
//! `courtscribe-capture` at real time (ring buffer → spool → uplink → server), sampling the agent's
//! CPU time and resident memory from /proc. Prints a table for BENCHMARKS.md.
//!
//! ```sh
//! cargo build --release --bin courtscribe -p courtscribe-capture
//! cargo bench -p courtscribe-capture --bench agent_load -- [SECONDS]   # default 60
//! ```
#![allow(clippy::unwrap_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const CHANNELS: u16 = 8;
const RATE: u32 = 48_000;

fn main() {
    let secs: u32 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(60);
    let bins = std::env::current_exe()
        .unwrap()
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .to_path_buf();
    let (server_bin, agent_bin) = (bins.join("courtscribe"), bins.join("courtscribe-capture"));
    for b in [&server_bin, &agent_bin] {
        assert!(
            b.is_file(),
            "{} missing: cargo build --release --bin courtscribe -p courtscribe-capture",
            b.display()
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = d.join("input.wav");
    write_noise(&input, secs);

    // The server, with an admin, a station account and a hearing.
    let mut server = Command::new(&server_bin)
        .args(["serve", "--data"])
        .arg(d.join("data"))
        .args(["--listen", "127.0.0.1:0"])
        .env("COURTSCRIBE_BOOTSTRAP_ADMIN", "admin:admin-pass-123")
        .env("COURTSCRIBE_WORKERS", "1")
        .env("COURTSCRIBE_THREADS", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap()
        .to_string();
    let deadline = Instant::now() + Duration::from_secs(120);
    while http(&addr, "GET", "/readyz", None, "").0 != 200 {
        assert!(Instant::now() < deadline, "server not ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    let login = |u: &str, p: &str| {
        let body = format!(r#"{{"username":"{u}","password":"{p}"}}"#);
        let (_, reply) = http(&addr, "POST", "/api/auth/login", None, &body);
        json_field(&reply, "token")
    };
    let admin = login("admin", "admin-pass-123");
    http(
        &addr,
        "POST",
        "/api/users",
        Some(&admin),
        r#"{"username":"bench","password":"password-123","role":"station"}"#,
    );
    let station = login("bench", "password-123");
    let (_, case) = http(
        &addr,
        "POST",
        "/api/cases",
        Some(&admin),
        r#"{"number":"1/2026/BENCH","title":"bench","kind":"criminal"}"#,
    );
    let case = json_field(&case, "id");
    let (_, hearing) = http(
        &addr,
        "POST",
        &format!("/api/cases/{case}/hearings"),
        Some(&admin),
        r#"{"language":"vi"}"#,
    );
    let hearing = json_field(&hearing, "id");

    let started = Instant::now();
    let mut agent = Command::new(&agent_bin)
        .args(["--server", &format!("http://{addr}"), "--token", &station])
        .args(["--hearing", &hearing, "--station", "bench", "--quiet"])
        .arg("--spool")
        .arg(d.join("spool"))
        .arg("--input")
        .arg(&input)
        .arg("--realtime")
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = agent.id();
    // CPU over the steady state (from 2 s in to the end of the replay), peak RSS throughout.
    std::thread::sleep(Duration::from_secs(2));
    let (t0, cpu0) = (Instant::now(), cpu_secs(pid));
    let mut peak_rss = 0;
    let mut last = (t0, cpu0);
    while agent.try_wait().unwrap().is_none() {
        if let (Some(rss), Some(cpu)) = (rss_kb(pid), cpu_secs(pid)) {
            peak_rss = peak_rss.max(rss);
            if started.elapsed().as_secs_f64() <= f64::from(secs) {
                last = (Instant::now(), Some(cpu));
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    let status = agent.wait().unwrap();
    let mut log = String::new();
    agent
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut log)
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    assert!(status.success(), "agent failed:\n{log}");
    let cpu = (last.1.unwrap() - cpu0.unwrap()) / last.0.duration_since(t0).as_secs_f64();
    println!(
        "| audio | replay | agent CPU (% of one core) | agent peak RSS (MB) | confirmed by the server |"
    );
    println!("|---|---|---|---|---|");
    println!(
        "| {CHANNELS} ch × {} kHz s16, {secs} s | real time (--realtime) | {:.2} | {:.1} | {} |",
        RATE / 1000,
        cpu * 100.0,
        peak_rss as f64 / 1024.0,
        if log.contains("confirmed by the server") {
            "yes (pcm_sha256 equal)"
        } else {
            "no"
        }
    );
}

/// Quiet noise on every channel (below speech level: the server's captioner stays idle, so the
/// numbers are the agent's own).
fn write_noise(path: &Path, secs: u32) {
    let frames = secs * RATE;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let data = frames * u32::from(CHANNELS) * 2;
    out.write_all(&courtscribe_audio::wav_header_s16(CHANNELS, RATE, data))
        .unwrap();
    let mut x: u32 = 1;
    for _ in 0..frames * u32::from(CHANNELS) {
        x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let s = (x >> 16) as i16 % 300;
        out.write_all(&s.to_le_bytes()).unwrap();
    }
    out.flush().unwrap();
}

/// utime + stime of `pid`, seconds.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ is 100 on Linux
}

fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// A minimal blocking HTTP/1.1 request: (status, body).
fn http(addr: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    let Ok(mut s) = TcpStream::connect(addr) else {
        return (0, String::new());
    };
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reply = String::new();
    let _ = s.read_to_string(&mut reply);
    let status = reply
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = reply
        .split_once("\r\n\r\n")
        .map_or(String::new(), |(_, b)| b.to_string());
    (status, body)
}

/// A top-level string or number field of a JSON object, as text.
fn json_field(body: &str, key: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    match &v[key] {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
