//! The capture agent under faults (issue 5): a real `courtscribe serve` and a real
//! `courtscribe-capture` process on loopback, talking through a TCP proxy this test controls. In
//! every case the server's `pcm_sha256` for the recording must equal the sha256 of the input's PCM.
//!
//! The agent binary belongs to the `courtscribe-capture` package, so Cargo gives root tests no
//! `CARGO_BIN_EXE_` for it; it is found beside this test's own executable (`target/<profile>/`),
//! where `cargo nextest run --workspace` (and `cargo test --workspace`) builds it, because the
//! capture package has integration tests of its own. The network cut lasts 10 s rather than the
//! issue's 60 s to keep CI fast: the agent's behaviour (answer timeout, backoff, backfill) does not
//! depend on the length past a few seconds.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::server::{Client, Server};
use serde_json::{Value, json};

/// The agent binary, beside this test's executable's folder (`target/<profile>/deps/..`).
fn agent_bin() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    let bin = dir.join("courtscribe-capture");
    assert!(
        bin.is_file(),
        "{} is missing: build it with `cargo build -p courtscribe-capture` (same profile), or run the tests with --workspace",
        bin.display()
    );
    bin
}

/// A 16-bit WAV file of deterministic quiet noise (different on each channel, never silent, far
/// below speech level so the server's live captioning has nothing to decode); returns its path
/// and the sha256 of its PCM.
fn noise_wav(dir: &Path, secs: u32, channels: u16, rate: u32) -> (PathBuf, String) {
    let frames = secs * rate;
    let mut pcm = Vec::with_capacity((frames * u32::from(channels) * 2) as usize);
    let mut x: u32 = 0x1234_5678;
    for _ in 0..frames {
        for c in 0..channels {
            x = x.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let s = ((x >> 16) as i16 % 200) + (c as i16 + 1) * 3;
            pcm.extend_from_slice(&s.to_le_bytes());
        }
    }
    let path = dir.join("input.wav");
    let mut bytes = courtscribe_audio::wav_header_s16(channels, rate, pcm.len() as u32);
    bytes.extend_from_slice(&pcm);
    std::fs::write(&path, bytes).unwrap();
    use sha2::Digest as _;
    (path, hex::encode(sha2::Sha256::digest(&pcm)))
}

/// A TCP proxy on 127.0.0.1:0 in front of the server. `cut` makes it a black hole (connections
/// stay open, nothing gets through either way, new ones hang: what a pulled cable looks like to
/// TCP); `restore` drops the stale connections and forwards again; `retarget` points it at a
/// restarted server.
struct Proxy {
    port: u16,
    target: Arc<Mutex<String>>,
    cut: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            target: Arc::new(Mutex::new(target.to_string())),
            cut: Arc::new(AtomicBool::new(false)),
            conns: Arc::new(Mutex::new(Vec::new())),
        };
        let (target, cut, conns) = (proxy.target.clone(), proxy.cut.clone(), proxy.conns.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                conns.lock().unwrap().push(client.try_clone().unwrap());
                if cut.load(Ordering::SeqCst) {
                    continue; // held open, never answered
                }
                let addr = target.lock().unwrap().clone();
                let Ok(server) = TcpStream::connect(&addr) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                conns.lock().unwrap().push(server.try_clone().unwrap());
                pump(
                    client.try_clone().unwrap(),
                    server.try_clone().unwrap(),
                    cut.clone(),
                );
                pump(server, client, cut.clone());
            }
        });
        proxy
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
    }

    fn restore(&self) {
        for c in self.conns.lock().unwrap().drain(..) {
            let _ = c.shutdown(Shutdown::Both);
        }
        self.cut.store(false, Ordering::SeqCst);
    }

    fn retarget(&self, base: &str) {
        *self.target.lock().unwrap() = base.trim_start_matches("http://").to_string();
        self.restore();
    }
}

/// Copies `from` → `to` until either closes; while `cut`, bytes are read and dropped.
fn pump(mut from: TcpStream, mut to: TcpStream, cut: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if cut.load(Ordering::SeqCst) {
                continue;
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(Shutdown::Both);
    });
}

/// A running agent; its stderr goes to a file the test reads.
struct Agent {
    child: Child,
    log: PathBuf,
}

impl Agent {
    fn start(args: &[String], log: &Path) -> Agent {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(agent_bin())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap();
        Agent {
            child,
            log: log.to_path_buf(),
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until the agent's stderr contains `text`.
    fn wait_for(&mut self, text: &str, secs: u64) {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if self.log().contains(text) {
                return;
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "agent exited ({status}) before saying {text:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "agent did not say {text:?} within {secs} s:\n{}",
            self.log()
        );
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.child.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Waits for the agent to exit; returns whether it succeeded.
    fn wait(&mut self, secs: u64) -> bool {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.success();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("agent still running after {secs} s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server with a station account and a hearing: (server, admin, station token, hearing).
async fn courtroom(d: &Path) -> (Server, Client, String, i64) {
    let server = Server::start(&d.join("data"), &[]);
    let admin = server.admin().await;
    let station = server.user(&admin, "phong1", "station", json!({})).await;
    let (_, hearing) = admin.case_and_hearing("5/2026/HS-ST", "vi").await;
    let token = station.token.clone().unwrap();
    (server, admin, token, hearing)
}

fn agent_args(
    server: &str,
    token: &str,
    hearing: i64,
    spool: &Path,
    input: &Path,
    speed: f64,
) -> Vec<String> {
    [
        "--server",
        server,
        "--token",
        token,
        "--hearing",
        &hearing.to_string(),
        "--station",
        "phong1",
        "--spool",
        &spool.display().to_string(),
        "--input",
        &input.display().to_string(),
        "--speed",
        &speed.to_string(),
        "--drain-secs",
        "40",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// The hearing's recordings: exactly one, from live ingest, with the input's PCM.
async fn assert_one_exact_recording(admin: &Client, hearing: i64, expected: &str, secs: f64) {
    let (status, recs) = admin
        .get(&format!("/api/hearings/{hearing}/recordings"))
        .await;
    assert_eq!(status, 200, "{recs}");
    let recs = recs.as_array().unwrap();
    assert_eq!(recs.len(), 1, "{recs:?}");
    assert_eq!(recs[0]["source"], "live");
    assert_eq!(
        recs[0]["pcm_sha256"], expected,
        "the server's audio differs from the input"
    );
    assert!(
        (recs[0]["duration"].as_f64().unwrap() - secs).abs() < 1e-6,
        "{recs:?}"
    );
}

/// The spool's record of what the server confirmed, for the one session in it.
fn spool_done(spool: &Path) -> Value {
    let session = std::fs::read_dir(spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("session.json").is_file())
        .unwrap();
    serde_json::from_slice(&std::fs::read(session.join("uplink.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_network_cut_mid_hearing_is_backfilled_without_loss_and_markers_arrive() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, expected) = noise_wav(d, 40, 2, 16_000);
    let (server, admin, token, hearing) = courtroom(d).await;
    let proxy = Proxy::start(server.base.trim_start_matches("http://"));
    let spool = d.join("spool");
    let mut agent = Agent::start(
        &agent_args(&proxy.url(), &token, hearing, &spool, &input, 2.0),
        &d.join("agent.log"),
    );
    agent.wait_for("connected", 20);
    agent.type_line("Bắt đầu xét hỏi");
    agent.wait_for("marker m1 stored by the server", 10);
    std::thread::sleep(Duration::from_secs(2));

    proxy.cut();
    // A marker typed during the outage is kept in the spool and sent after reconnecting.
    agent.type_line("Tạm nghỉ");
    std::thread::sleep(Duration::from_secs(10));
    assert!(agent.log().contains("connection lost"), "{}", agent.log());
    proxy.restore();

    assert!(agent.wait(50), "agent failed:\n{}", agent.log());
    let log = agent.log();
    assert!(log.contains("confirmed by the server"), "{log}");
    assert_eq!(log.matches("connected:").count(), 2, "{log}");
    assert_one_exact_recording(&admin, hearing, &expected, 40.0).await;
    assert_eq!(spool_done(&spool)["done"]["pcm_sha256"], expected.as_str());

    let (_, markers) = admin.get(&format!("/api/hearings/{hearing}/markers")).await;
    let texts: Vec<&str> = markers
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Bắt đầu xét hỏi", "Tạm nghỉ"], "{markers}");
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_with_sigkill_and_restarted_gets_the_exact_audio() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, expected) = noise_wav(d, 30, 2, 16_000);
    let (mut server, _admin, token, hearing) = courtroom(d).await;
    let proxy = Proxy::start(server.base.trim_start_matches("http://"));
    let spool = d.join("spool");
    let mut agent = Agent::start(
        &agent_args(&proxy.url(), &token, hearing, &spool, &input, 2.0),
        &d.join("agent.log"),
    );
    agent.wait_for("connected", 20);
    std::thread::sleep(Duration::from_secs(4));

    server.kill9();
    std::thread::sleep(Duration::from_secs(2));
    server.restart(); // same data folder, a new port
    proxy.retarget(&server.base);

    assert!(agent.wait(50), "agent failed:\n{}", agent.log());
    let log = agent.log();
    assert!(log.contains("connection lost"), "{log}");
    let admin = server.admin().await;
    assert_one_exact_recording(&admin, hearing, &expected, 30.0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_with_sigkill_resumes_on_its_spool_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, expected) = noise_wav(d, 30, 2, 16_000);
    let (server, admin, token, hearing) = courtroom(d).await;
    let spool = d.join("spool");
    // Short segments, so the kill lands after several closed ones.
    let mut args = agent_args(&server.base, &token, hearing, &spool, &input, 2.0);
    args.extend(["--segment-secs".to_string(), "2".to_string()]);
    let mut agent = Agent::start(&args, &d.join("agent.log"));
    agent.wait_for("connected", 20);
    std::thread::sleep(Duration::from_secs(5));
    agent.kill9();

    // A crash can also tear the last sample frame of the open segment: simulate the worst case.
    let session = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.join("session.json").is_file())
        .unwrap();
    let mut segments: Vec<PathBuf> = std::fs::read_dir(&session)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wav"))
        .collect();
    segments.sort();
    assert!(segments.len() >= 3, "{segments:?}");
    let last = segments.last().unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(last)
        .unwrap()
        .write_all(&[1, 2, 3])
        .unwrap();

    let mut agent = Agent::start(&args, &d.join("agent.log"));
    assert!(agent.wait(50), "agent failed:\n{}", agent.log());
    let log = agent.log();
    assert!(log.contains("resuming session"), "{log}");
    assert!(log.contains("cut 3 byte(s)"), "{log}");
    assert_one_exact_recording(&admin, hearing, &expected, 30.0).await;

    // Every closed segment of the spool is a valid WAV file the audio crate decodes.
    for seg in &segments[..segments.len() - 1] {
        let audio = courtscribe_audio::decode_file(seg).unwrap();
        assert_eq!(audio.frames(), 2 * 16_000, "{}", seg.display());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_spool_disk_holds_audio_in_memory_until_space_returns() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mount = d.join("tmpfs");
    std::fs::create_dir_all(&mount).unwrap();
    let mounted = Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(&mount)
        .output();
    if !mounted.as_ref().is_ok_and(|o| o.status.success()) {
        eprintln!(
            "SKIPPED: cannot mount a 2 MB tmpfs for the full-disk test (needs root): {mounted:?}"
        );
        return;
    }
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.clone());
    // 20 s of 2 × 16 kHz is 1.28 MB. A ballast file leaves room for ~4 s of it until it goes.
    let ballast = mount.join("ballast");
    std::fs::write(&ballast, vec![0u8; 2 * 1024 * 1024 - 256 * 1024]).unwrap();
    let (input, expected) = noise_wav(d, 20, 2, 16_000);
    let (server, admin, token, hearing) = courtroom(d).await;
    let spool = mount.join("spool");
    let mut args = agent_args(&server.base, &token, hearing, &spool, &input, 2.0);
    args.extend(["--warn-free-secs".to_string(), "60".to_string()]);
    let mut agent = Agent::start(&args, &d.join("agent.log"));
    agent.wait_for("LOW SPOOL SPACE", 20);
    agent.wait_for("cannot write the spool", 20);
    std::thread::sleep(Duration::from_secs(3));
    std::fs::remove_file(&ballast).unwrap();
    agent.wait_for("spool writable again", 20);

    assert!(agent.wait(50), "agent failed:\n{}", agent.log());
    assert_one_exact_recording(&admin, hearing, &expected, 20.0).await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_at_start_does_not_stop_the_recording() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (input, expected) = noise_wav(d, 10, 1, 16_000);
    let (server, admin, token, hearing) = courtroom(d).await;
    let proxy = Proxy::start(server.base.trim_start_matches("http://"));
    proxy.cut();
    let spool = d.join("spool");
    let mut args = agent_args(&proxy.url(), &token, hearing, &spool, &input, 2.0);
    args.extend(["--retention-secs".to_string(), "0".to_string()]);
    let mut agent = Agent::start(&args, &d.join("agent.log"));
    agent.wait_for("server unreachable at start", 15);
    proxy.restore();

    assert!(agent.wait(50), "agent failed:\n{}", agent.log());
    assert_one_exact_recording(&admin, hearing, &expected, 10.0).await;
    // Confirmed and past its (zero) retention: the session is gone from the spool.
    let left: Vec<_> = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    drop(server);
}

/// Issue 5 target, end to end: five microphones (each seat's voice on its own channel at full
/// level, the other four bleeding in at -14 dB), replayed at 4× through a server `kill -9` and a
/// 10 s network cut, end with the exact audio on the server and a transcript diarized by channel
/// into five speakers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_five_microphone_hearing_at_4x_survives_an_outage_and_a_server_crash_into_five_speakers()
{
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let seats = [
        ("vi", "Phiên tòa hình sự sơ thẩm hôm nay bắt đầu."),
        ("vi+f3", "Thư ký báo cáo các đương sự đều có mặt đầy đủ."),
        ("vi+m3", "Kiểm sát viên đọc bản cáo trạng đối với bị cáo."),
        ("en-us", "The defence lawyer asks the court for more time."),
        (
            "en-gb+f4",
            "The defendant admits taking the money last year.",
        ),
    ];
    let voices: Vec<PathBuf> = seats
        .iter()
        .enumerate()
        .map(|(i, (voice, text))| courtscribe_testkit::speak(d, &format!("seat{i}"), *voice, text))
        .collect();
    let quiet: Vec<PathBuf> = voices
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let out = d.join(format!("seat{i}_bleed.wav"));
            courtscribe_testkit::run(
                courtscribe_testkit::sox()
                    .arg(v)
                    .arg(&out)
                    .args(["vol", "0.2"]),
            );
            out
        })
        .collect();
    let gap = courtscribe_testkit::silence(d, "gap", 0.8);
    // Channel c: two rounds of turns, seat c at full level and the others as bleed. Two rounds
    // (about 40 s, 10 s at 4×) leave the replay running well past the crash and the reconnect, so
    // the outage always falls inside the session even on a busy machine.
    let channels: Vec<PathBuf> = (0..seats.len())
        .map(|c| {
            let mut parts = vec![gap.clone()];
            for s in (0..2).flat_map(|_| 0..seats.len()) {
                parts.push(if s == c {
                    voices[s].clone()
                } else {
                    quiet[s].clone()
                });
                parts.push(gap.clone());
            }
            courtscribe_testkit::concat(d, &format!("ch{c}"), &parts)
        })
        .collect();
    let input = d.join("room.wav");
    courtscribe_testkit::run(
        courtscribe_testkit::sox()
            .arg("-M")
            .args(&channels)
            .arg(&input),
    );
    let secs = courtscribe_testkit::duration(&input);
    assert!(secs <= 50.0, "the hearing lasts {secs} s");
    let expected = common::server::wav_pcm_sha256(&input);

    let (mut server, _admin, token, hearing) = courtroom(d).await;
    let proxy = Proxy::start(server.base.trim_start_matches("http://"));
    let spool = d.join("spool");
    let mut agent = Agent::start(
        &agent_args(&proxy.url(), &token, hearing, &spool, &input, 4.0),
        &d.join("agent.log"),
    );
    agent.wait_for("connected", 20);
    std::thread::sleep(Duration::from_secs(1));

    server.kill9();
    server.restart(); // same data folder, a new port
    proxy.retarget(&server.base);
    // The agent reconnects to the restarted server, then the network goes for 10 s.
    let deadline = Instant::now() + Duration::from_secs(10);
    while agent.log().matches("connected:").count() < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    proxy.cut();
    std::thread::sleep(Duration::from_secs(10));
    proxy.restore();

    assert!(agent.wait(60), "agent failed:\n{}", agent.log());
    let log = agent.log();
    // Lost once to the crash and once to the cut; back each time.
    assert!(log.matches("connection lost").count() >= 2, "{log}");
    assert!(log.matches("connected:").count() >= 3, "{log}");
    let admin = server.admin().await;
    assert_one_exact_recording(&admin, hearing, &expected, secs).await;

    let t = admin.wait_transcript(hearing, 240).await;
    let speakers = t["speakers"].as_array().unwrap();
    assert_eq!(speakers.len(), 5, "{speakers:?}");
    let mut chans: Vec<u64> = speakers
        .iter()
        .map(|s| s["channel"].as_u64().unwrap())
        .collect();
    chans.sort_unstable();
    assert_eq!(chans, [0, 1, 2, 3, 4], "{speakers:?}");
    let segments = t["segments"].as_array().unwrap();
    assert!(!segments.is_empty(), "{t}");
    assert!(
        segments.iter().all(|s| s["speaker"].is_string()),
        "every segment has a speaker: {segments:?}"
    );
}
