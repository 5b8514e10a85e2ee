//! Server load benchmark (issue 4): how many courtroom stations one `courtscribe serve` keeps up
//! with in real time, how late their live captions are, how the HTTP API answers meanwhile, and how
//! much memory the server takes.
//!
//! For every station count N of the sweep the bench starts a fresh server (a copy of the release
//! binary taken when the bench starts, so a rebuild during the sweep cannot change it,
//! `courtscribe serve --data TMP --listen 127.0.0.1:0`, `COURTSCRIBE_LOG=warn`, its stderr kept in
//! `TMP/server.log`), waits for `/readyz`, creates an administrator's case with one hearing per
//! station and one station user per hearing, and then:
//!
//! - N stations stream at real time over the live ingest protocol (`docs/protocol.md`): `hello`,
//!   `ready`, one binary frame per 200 ms of audio (`seq u64 LE ‖ s16le PCM`), each sent when its
//!   200 ms would have been recorded, then `end` and `done` (whose frame count and `pcm_sha256` are
//!   checked against what was sent);
//! - each station's hearing is followed on `GET /api/hearings/{id}/captions` (SSE) with the admin
//!   token; a caption's latency is its arrival time minus the wall-clock time at which the station
//!   sent the frame holding the caption's `end`, for `final` and `partial` captions separately
//!   (markers are not speech and are ignored);
//! - M uploads (`POST /api/hearings/{id}/recordings`, the English eval hearing) start a quarter of
//!   the way into the stream, to a hearing of their own;
//! - one client samples the API (`GET /api/cases`, `GET /api/hearings/{id}/recordings`,
//!   `GET /api/search?q=loan`), one round every 250 ms;
//! - at the end: peak RSS (`VmHWM` of `/proc/PID/status`), server CPU time, the CPU time other
//!   processes took meanwhile (machine busy time from `/proc/stat` minus the server and the bench:
//!   on a shared machine this says how much the numbers are inflated), and the
//!   `courtscribe_caption_latency_seconds` histogram of `GET /metrics` (the server's own view: from
//!   the cut of a window of speech to its captions; the table shows the upper bound of the bucket
//!   holding its 95th percentile).
//!
//! **Real time sustained** means all of: every frame went out within 0.5 s of its schedule and
//! every frame was acknowledged within 1 s (ingest kept up); every station's last caption arrived at
//! most 10 s after its `end` (no caption backlog); the p95 caption latency over the last third of
//! the audio is at most 10 s (latency did not run away during the stream); every station got
//! captions and its `done` matched the audio sent. After the last `done` the bench waits until no
//! caption has arrived for `--quiet` seconds (at most 180 s) before it stops. The latency target
//! (p95 ≤ 2.5 s) is reported beside it, not folded into it.
//!
//! The details after the table also give the latency of the last caption of each batch the server
//! published at once (one decoded window): for it the wait for the end of the stretch of speech is
//! short, so the difference to the per-caption latency is the time earlier sentences waited for the
//! pause that ends their window.
//!
//! Audio: `../shared/eval/synthetic/{en,vi}_civil_loan.wav` (16 kHz mono; `.4ch.flac`, one channel
//! per microphone, with `--channels 4`); station i streams language `langs[i % len]` starting 37·i s
//! into the recording (wrapping around) so that stations do not speak in lockstep. Without
//! `../shared/eval` it synthesizes speech with espeak-ng and sox and says so.
//!
//! Run (release build; cargo builds the `courtscribe` binary first; each sweep point takes about
//! `--secs` + `--quiet` + 20 s of wall clock):
//!
//! ```sh
//! cargo bench --bench server_load -- --stations 1,2,4,6 --secs 120
//! ```
//!
//! Options: `--stations LIST` (default 1,2,4,6), `--secs S` audio per station (default 120),
//! `--workers W` and `--threads T` (`COURTSCRIBE_WORKERS`, `COURTSCRIBE_THREADS`; default 2 × 1),
//! `--uploads M` (default 1), `--langs en,vi` (default en,vi), `--channels 1|4` (default 1),
//! `--quiet Q` (default 20). `COURTSCRIBE_BIN` measures another binary. The server uses the
//! installed `base` model (`courtscribe models install base`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail, ensure};
use courtscribe_testkit::speech::{sox, try_run as run};
use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStdout, Command};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// Audio per frame, seconds.
const FRAME_SECS: f64 = 0.2;
/// Frames per second of audio.
const FRAMES_PER_SEC: u32 = 5;
const ADMIN_USER: &str = "admin";
const ADMIN_PASSWORD: &str = "adminpass123";
/// Longest wait for the caption drain after the last `done`.
const DRAIN_CAP_SECS: f64 = 180.0;
/// "Real time sustained" thresholds (see the module comment).
const MAX_SEND_LAG_SECS: f64 = 0.5;
const MAX_ACK_LAG_SECS: f64 = 1.0;
const MAX_DRAIN_SECS: f64 = 10.0;
const MAX_LATE_P95_SECS: f64 = 10.0;
/// Captions arriving closer together than this were published together (one decoded window).
const BATCH_GAP: Duration = Duration::from_millis(100);
/// Stations start this far apart in their recording.
const STATION_OFFSET_SECS: f64 = 37.0;
/// The search the API sampler repeats (a word of the English hearing).
const SEARCH_QUERY: &str = "loan";

#[derive(Debug)]
struct Args {
    stations: Vec<usize>,
    secs: f64,
    workers: usize,
    threads: usize,
    uploads: usize,
    langs: Vec<String>,
    channels: usize,
    quiet: f64,
}

fn parse_args() -> anyhow::Result<Args> {
    let mut args = Args {
        stations: vec![1, 2, 4, 6],
        secs: 120.0,
        workers: 2,
        threads: 1,
        uploads: 1,
        langs: vec!["en".into(), "vi".into()],
        channels: 1,
        quiet: 20.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        // `cargo bench` adds `--bench`; a harness-less bench ignores it.
        if flag == "--bench" {
            continue;
        }
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        let number = |v: &str| -> anyhow::Result<f64> {
            v.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .with_context(|| format!("{flag} {v}: not a number"))
        };
        match flag.as_str() {
            "--stations" => {
                args.stations = value
                    .split(',')
                    .map(|s| s.trim().parse::<usize>().ok().filter(|n| *n >= 1))
                    .collect::<Option<Vec<_>>>()
                    .with_context(|| format!("--stations {value}: expected e.g. 1,2,4"))?;
            }
            "--secs" => args.secs = number(&value)?,
            "--workers" => args.workers = number(&value)? as usize,
            "--threads" => args.threads = number(&value)? as usize,
            "--uploads" => args.uploads = number(&value)? as usize,
            "--quiet" => args.quiet = number(&value)?,
            "--channels" => args.channels = number(&value)? as usize,
            "--langs" => args.langs = value.split(',').map(|s| s.trim().to_string()).collect(),
            _ => bail!(
                "unknown option {flag}; options: --stations 1,2,4 --secs S --workers W --threads T \
                 --uploads M --langs en,vi --channels 1|4 --quiet Q"
            ),
        }
    }
    ensure!(args.secs >= 1.0, "--secs must be at least 1");
    ensure!(
        args.workers >= 1 && args.threads >= 1,
        "--workers and --threads must be at least 1"
    );
    ensure!(matches!(args.channels, 1 | 4), "--channels must be 1 or 4");
    for lang in &args.langs {
        ensure!(
            lang == "en" || lang == "vi",
            "--langs: only en and vi recordings exist, not {lang}"
        );
    }
    Ok(args)
}

/// One language's recording, decoded to interleaved s16.
#[derive(Debug)]
struct Source {
    lang: String,
    rate: u32,
    channels: usize,
    pcm: Vec<i16>,
}

impl Source {
    fn frames(&self) -> usize {
        self.pcm.len() / self.channels
    }

    /// `secs` seconds starting `offset` seconds in (wrapping around), as s16le bytes.
    fn excerpt(&self, offset: f64, secs: f64) -> Vec<u8> {
        let total = self.frames();
        let start = (offset * f64::from(self.rate)) as usize % total.max(1);
        let want = (secs * f64::from(self.rate)).round() as usize;
        let mut out = Vec::with_capacity(want * self.channels * 2);
        for i in 0..want {
            let frame = (start + i) % total;
            for s in &self.pcm[frame * self.channels..(frame + 1) * self.channels] {
                out.extend_from_slice(&s.to_le_bytes());
            }
        }
        out
    }
}

fn decode(path: &Path, lang: &str) -> anyhow::Result<Source> {
    let audio = courtscribe_audio::decode_file(path)
        .with_context(|| format!("cannot decode {}", path.display()))?;
    let channels = audio.channel_count();
    ensure!(
        channels >= 1 && audio.frames() > 0,
        "{} holds no audio",
        path.display()
    );
    let mut pcm = Vec::with_capacity(audio.frames() * channels);
    for i in 0..audio.frames() {
        for c in &audio.channels {
            // The inverse of decoding's `i16 / 32768`, as `courtscribe_audio` hashes PCM.
            pcm.push((c[i] * 32768.0).round().clamp(-32768.0, 32767.0) as i16);
        }
    }
    Ok(Source {
        lang: lang.to_string(),
        rate: audio.sample_rate,
        channels,
        pcm,
    })
}

/// The recordings the stations stream and the file the uploads send.
fn load_audio(args: &Args, work: &Path) -> anyhow::Result<(Vec<Source>, Vec<u8>)> {
    let eval = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/eval/synthetic");
    // One source per entry of `--langs`: station i streams `sources[i % len]`.
    let langs = &args.langs;
    let mut sources = Vec::new();
    if eval.is_dir() {
        for lang in langs {
            let file = match args.channels {
                1 => format!("{lang}_civil_loan.wav"),
                _ => format!("{lang}_civil_loan.4ch.flac"),
            };
            sources.push(decode(&eval.join(file), lang)?);
        }
        let upload = eval.join("en_civil_loan.wav");
        let bytes =
            std::fs::read(&upload).with_context(|| format!("cannot read {}", upload.display()))?;
        return Ok((sources, bytes));
    }
    ensure!(
        args.channels == 1,
        "--channels 4 needs the multi-microphone recordings of ../shared/eval, which is absent"
    );
    eprintln!(
        "NOTE: {} is absent: SYNTHESIZING speech with espeak-ng + sox instead of the eval hearings",
        eval.display()
    );
    for lang in langs {
        let wav = synthesize(work, lang)?;
        sources.push(decode(&wav, lang)?);
    }
    let upload = synthesize(work, "en")?;
    let bytes =
        std::fs::read(&upload).with_context(|| format!("cannot read {}", upload.display()))?;
    Ok((sources, bytes))
}

/// A minute of hearing-like speech (sentences with pauses) in `lang`, 16 kHz mono WAV.
fn synthesize(work: &Path, lang: &str) -> anyhow::Result<PathBuf> {
    let out = work.join(format!("synth-{lang}.wav"));
    if out.exists() {
        return Ok(out);
    }
    let sentences: &[&str] = match lang {
        "vi" => &[
            "Hôm nay Tòa án nhân dân mở phiên tòa xét xử vụ án dân sự về hợp đồng vay tài sản.",
            "Thư ký phiên tòa báo cáo sự có mặt của những người tham gia tố tụng.",
            "Nguyên đơn trình bày yêu cầu khởi kiện, đề nghị bị đơn trả số tiền đã vay.",
            "Bị đơn xác nhận có vay tiền nhưng xin được trả dần trong mười hai tháng.",
            "Chủ tọa phiên tòa hỏi các đương sự có thỏa thuận được với nhau hay không.",
            "Hội đồng xét xử vào phòng nghị án và sẽ tuyên án vào buổi chiều.",
        ],
        _ => &[
            "The court is now in session in the civil case about a loan agreement.",
            "The clerk reports that the plaintiff and the defendant are both present.",
            "The plaintiff asks the court to order repayment of the money that was lent.",
            "The defendant admits the debt but asks to repay it over twelve months.",
            "The presiding judge asks whether the parties can agree on a settlement.",
            "The panel will now deliberate and announce its decision this afternoon.",
        ],
    };
    let mut parts = Vec::new();
    let silence = work.join("synth-silence.wav");
    run(sox()
        .args(["-n", "-r", "22050", "-c", "1", "-b", "16"])
        .arg(&silence)
        .args(["trim", "0", "1.2"]))?;
    for (i, text) in sentences.iter().enumerate() {
        let part = work.join(format!("synth-{lang}-{i}.wav"));
        run(std::process::Command::new("espeak-ng")
            .args(["-v", lang, "-s", "150", "-w"])
            .arg(&part)
            .arg(text))?;
        parts.push(part);
        parts.push(silence.clone());
    }
    run(sox()
        .args(&parts)
        .arg(&out)
        .args(["rate", "16000", "channels", "1"]))?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// The server process

#[derive(Debug)]
struct Server {
    child: Child,
    pid: u32,
    base: String,
    log: PathBuf,
    /// Kept open: the server may write to stdout again, and a closed pipe would make it fail.
    _stdout: ChildStdout,
    /// Holds the data folder and the log until the point is reported.
    _dir: tempfile::TempDir,
}

impl Server {
    async fn start(bin: &Path, args: &Args) -> anyhow::Result<(Server, f64)> {
        let dir = tempfile::Builder::new()
            .prefix("courtscribe-load-")
            .tempdir()
            .context("cannot create a temporary folder")?;
        let data = dir.path().join("data");
        let log = dir.path().join("server.log");
        let log_file = std::fs::File::create(&log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let started = Instant::now();
        let mut child = Command::new(bin)
            .arg("serve")
            .arg("--data")
            .arg(&data)
            .args(["--listen", "127.0.0.1:0"])
            .env(
                "COURTSCRIBE_BOOTSTRAP_ADMIN",
                format!("{ADMIN_USER}:{ADMIN_PASSWORD}"),
            )
            .env("COURTSCRIBE_WORKERS", args.workers.to_string())
            .env("COURTSCRIBE_THREADS", args.threads.to_string())
            .env("COURTSCRIBE_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id().context("the server exited at once")?;
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(addr) = line.strip_prefix("listening on ") {
                    return Ok(addr.trim().to_string());
                }
            }
            anyhow::Ok(String::new())
        })
        .await
        .context("the server did not print `listening on` within 60 s")??;
        if addr.is_empty() {
            bail!(
                "the server exited before listening:\n{}",
                log_tail(&log, 20)
            );
        }
        let server = Server {
            child,
            pid,
            base: format!("http://{addr}"),
            log,
            _stdout: lines.into_inner().into_inner(),
            _dir: dir,
        };
        let http = reqwest::Client::new();
        loop {
            let ready = http.get(format!("{}/readyz", server.base)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            if started.elapsed() > Duration::from_secs(300) {
                bail!(
                    "/readyz not ready after 300 s:\n{}",
                    log_tail(&server.log, 20)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok((server, started.elapsed().as_secs_f64()))
    }

    fn status_kb(&self, key: &str) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid)).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    }

    fn cpu_secs(&self) -> f64 {
        process_cpu_secs(&format!("/proc/{}/stat", self.pid))
    }

    async fn stop(mut self) -> anyhow::Result<LogSummary> {
        self.child.kill().await.context("cannot stop the server")?;
        Ok(summarize_log(&self.log))
    }
}

/// CPU time (user + system, all threads) of the process whose `stat` file is `path`, seconds.
fn process_cpu_secs(path: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(path) else {
        return 0.0;
    };
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15, i.e. 11 and 12 after the command name; 100 Hz ticks.
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// CPU time the whole machine spent busy (all cores, everything but idle and iowait), seconds.
fn machine_busy_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("cpu "))
        .map(|l| {
            l.split_whitespace()
                .filter_map(|v| v.parse().ok())
                .collect()
        })
        .unwrap_or_default();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: f64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, t)| t)
        .sum();
    busy / 100.0
}

/// (machine busy, server, this bench) CPU seconds so far.
fn cpu_clocks(server: &Server) -> [f64; 3] {
    [
        machine_busy_secs(),
        server.cpu_secs(),
        process_cpu_secs("/proc/self/stat"),
    ]
}

fn log_tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

#[derive(Debug, Default)]
struct LogSummary {
    warnings: usize,
    errors: usize,
    /// The first few distinct messages, without their timestamps.
    samples: Vec<String>,
}

fn summarize_log(log: &Path) -> LogSummary {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let mut s = LogSummary::default();
    for line in text.lines() {
        let (warn, error) = (line.contains(" WARN "), line.contains(" ERROR "));
        s.warnings += usize::from(warn);
        s.errors += usize::from(error);
        if warn || error {
            let message = line
                .split_once(if warn { " WARN " } else { " ERROR " })
                .map_or(line, |(_, m)| m);
            let message: String = message.chars().take(160).collect();
            if s.samples.len() < 5 && !s.samples.contains(&message) {
                s.samples.push(message);
            }
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// HTTP API

#[derive(Debug, Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn post_json(
        &self,
        token: Option<&str>,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let mut req = self.http.post(format!("{}{path}", self.base)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.with_context(|| format!("POST {path}"))?;
        let status = resp.status();
        let text = resp
            .text()
            .await
            .with_context(|| format!("POST {path}: reading the answer"))?;
        ensure!(status.is_success(), "POST {path}: {status}: {text}");
        serde_json::from_str(&text).with_context(|| format!("POST {path}: not JSON: {text}"))
    }

    async fn login(&self, user: &str, password: &str) -> anyhow::Result<String> {
        let v = self
            .post_json(
                None,
                "/api/auth/login",
                &json!({"username": user, "password": password}),
            )
            .await?;
        v["token"]
            .as_str()
            .map(str::to_string)
            .with_context(|| format!("login answer without a token: {v}"))
    }

    async fn create(&self, token: &str, path: &str, body: &Value) -> anyhow::Result<i64> {
        let v = self.post_json(Some(token), path, body).await?;
        v["id"]
            .as_i64()
            .with_context(|| format!("POST {path}: answer without an id: {v}"))
    }
}

// ---------------------------------------------------------------------------------------------
// One station

#[derive(Debug)]
struct StationPlan {
    hearing: i64,
    token: String,
    session: String,
    rate: u32,
    channels: usize,
    pcm: Vec<u8>,
}

#[derive(Debug)]
struct StationRun {
    /// When each frame was sent.
    sent: Vec<Instant>,
    max_send_lag: f64,
    ack_lags: Vec<f64>,
    end_sent: Instant,
    end_to_done: f64,
    /// `done` disagreed with what was sent.
    integrity: Option<String>,
}

async fn stream_station(api: &Api, plan: &StationPlan) -> anyhow::Result<StationRun> {
    let url = format!("{}/api/ingest", api.base.replacen("http://", "ws://", 1));
    let mut req = url
        .as_str()
        .into_client_request()
        .context("websocket request")?;
    req.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {}", plan.token)).context("token header")?,
    );
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .with_context(|| format!("station {}: websocket connect", plan.session))?;
    let (mut sink, mut stream) = ws.split();
    let hello = json!({
        "type": "hello", "version": 1, "station": plan.session, "hearing": plan.hearing,
        "session": plan.session, "channels": plan.channels, "sample_rate": plan.rate, "format": "s16le",
    });
    sink.send(Message::text(hello.to_string()))
        .await
        .context("sending hello")?;
    let ready = match stream.next().await {
        Some(Ok(Message::Text(t))) => {
            serde_json::from_str::<Value>(t.as_str()).context("ready: not JSON")?
        }
        other => bail!("station {}: expected `ready`, got {other:?}", plan.session),
    };
    ensure!(
        ready["type"] == "ready" && ready["next_seq"] == 0,
        "station {}: expected `ready` with next_seq 0, got {ready}",
        plan.session
    );
    let session = plan.session.clone();
    let reader = tokio::spawn(async move {
        let mut acks: Vec<(u64, Instant)> = Vec::new();
        while let Some(message) = stream.next().await {
            let text = match message.with_context(|| format!("station {session}: websocket"))? {
                Message::Text(t) => t,
                Message::Close(_) => break,
                _ => continue,
            };
            let v: Value =
                serde_json::from_str(text.as_str()).context("server message: not JSON")?;
            match v["type"].as_str() {
                Some("ack") => acks.push((
                    v["seq"].as_u64().context("ack without seq")?,
                    Instant::now(),
                )),
                Some("done") => return Ok((acks, v, Instant::now())),
                _ => bail!("station {session}: unexpected message {v}"),
            }
        }
        bail!("station {session}: connection closed before `done`")
    });
    let frame_bytes = (plan.rate / FRAMES_PER_SEC) as usize * plan.channels * 2;
    let bytes_per_sec = f64::from(plan.rate) * plan.channels as f64 * 2.0;
    let t0 = Instant::now();
    let mut sent = Vec::new();
    let mut max_send_lag: f64 = 0.0;
    let mut audio_secs = 0.0;
    for (seq, chunk) in plan.pcm.chunks(frame_bytes).enumerate() {
        // A frame leaves when its audio would have been recorded.
        audio_secs += chunk.len() as f64 / bytes_per_sec;
        let due = t0 + Duration::from_secs_f64(audio_secs);
        tokio::time::sleep_until(due.into()).await;
        if reader.is_finished() {
            break;
        }
        let mut frame = Vec::with_capacity(8 + chunk.len());
        frame.extend_from_slice(&(seq as u64).to_le_bytes());
        frame.extend_from_slice(chunk);
        sink.send(Message::binary(frame))
            .await
            .with_context(|| format!("station {}: sending frame {seq}", plan.session))?;
        let now = Instant::now();
        max_send_lag = max_send_lag.max(now.duration_since(due).as_secs_f64());
        sent.push(now);
    }
    if !reader.is_finished() {
        sink.send(Message::text(json!({"type": "end"}).to_string()))
            .await
            .context("sending end")?;
    }
    let end_sent = Instant::now();
    let (acks, done, done_at) = reader.await.context("station reader crashed")??;
    let ack_lags = acks
        .iter()
        .filter_map(|(seq, at)| {
            sent.get(*seq as usize)
                .map(|s| at.duration_since(*s).as_secs_f64())
        })
        .collect();
    let frames = plan.pcm.len() / (2 * plan.channels);
    let sha = hex::encode(Sha256::digest(&plan.pcm));
    let mut problems = Vec::new();
    if done["frames"].as_u64() != Some(frames as u64) {
        problems.push(format!("done.frames {} ≠ {frames} sent", done["frames"]));
    }
    if done["pcm_sha256"].as_str() != Some(sha.as_str()) {
        problems.push(format!("done.pcm_sha256 {} ≠ {sha}", done["pcm_sha256"]));
    }
    Ok(StationRun {
        sent,
        max_send_lag,
        ack_lags,
        end_sent,
        end_to_done: done_at.duration_since(end_sent).as_secs_f64(),
        integrity: (!problems.is_empty()).then(|| problems.join("; ")),
    })
}

/// A caption of speech as it arrived: its `end` (seconds from the start of the session), when,
/// and whether it is `partial` (provisional, while someone is still speaking) or `final`.
#[derive(Debug, Clone)]
struct Arrival {
    start: f64,
    end: f64,
    at: Instant,
    partial: bool,
    text: String,
}

type Arrivals = Arc<Mutex<Vec<Arrival>>>;

/// The `data` of an SSE `caption` event; `None` for a clerk's marker (not speech).
fn parse_caption(data: &str, at: Instant) -> anyhow::Result<Option<Arrival>> {
    let c: Value = serde_json::from_str(data).with_context(|| format!("caption: {data}"))?;
    let partial = match c["kind"].as_str() {
        Some("final") => false,
        Some("partial") => true,
        Some("marker") => return Ok(None),
        _ => bail!("caption of unknown kind: {c}"),
    };
    let (Some(start), Some(end)) = (c["start"].as_f64(), c["end"].as_f64()) else {
        bail!("caption without start or end: {c}");
    };
    let text = c["text"].as_str().unwrap_or_default().to_string();
    Ok(Some(Arrival {
        start,
        end,
        at,
        partial,
        text,
    }))
}

/// Subscribes to a hearing's captions; returns once subscribed, with a task collecting them.
async fn follow_captions(
    api: &Api,
    token: &str,
    hearing: i64,
) -> anyhow::Result<(Arrivals, tokio::task::JoinHandle<anyhow::Result<()>>)> {
    let resp = api
        .http
        .get(format!("{}/api/hearings/{hearing}/captions", api.base))
        .bearer_auth(token)
        .send()
        .await
        .context("captions: connect")?;
    ensure!(
        resp.status().is_success(),
        "captions of hearing {hearing}: {}",
        resp.status()
    );
    let arrivals: Arrivals = Arc::default();
    let out = arrivals.clone();
    let task = tokio::spawn(async move {
        let mut body = resp.bytes_stream();
        let mut buf: Vec<u8> = Vec::new();
        let (mut event, mut data) = (String::new(), String::new());
        while let Some(chunk) = body.next().await {
            let at = Instant::now();
            buf.extend_from_slice(&chunk.context("captions stream")?);
            while let Some(pos) = buf.iter().position(|&b| b == b'\n') {
                let raw: Vec<u8> = buf.drain(..=pos).collect();
                let line = std::str::from_utf8(&raw).context("captions: not UTF-8")?;
                let line = line.trim_end_matches(['\n', '\r']);
                if line.is_empty() {
                    if event == "caption"
                        && let Some(arrival) = parse_caption(&data, at)?
                    {
                        out.lock().expect("captions lock").push(arrival);
                    }
                    event.clear();
                    data.clear();
                } else if let Some(v) = line.strip_prefix("event:") {
                    event = v.trim().to_string();
                } else if let Some(v) = line.strip_prefix("data:") {
                    if !data.is_empty() {
                        data.push('\n');
                    }
                    data.push_str(v.strip_prefix(' ').unwrap_or(v));
                }
            }
        }
        Ok(())
    });
    Ok((arrivals, task))
}

/// Latency samples of the API sampler: (endpoint, seconds, success).
type ApiSamples = Vec<(&'static str, f64, bool)>;

async fn sample_api(api: Api, token: String, hearing: i64, stop: Arc<AtomicBool>) -> ApiSamples {
    let endpoints: [(&str, String); 3] = [
        ("GET /api/cases", "/api/cases".to_string()),
        (
            "GET /api/hearings/{id}/recordings",
            format!("/api/hearings/{hearing}/recordings"),
        ),
        ("GET /api/search", format!("/api/search?q={SEARCH_QUERY}")),
    ];
    let mut samples = Vec::new();
    while !stop.load(Ordering::Relaxed) {
        for (name, path) in &endpoints {
            let t = Instant::now();
            let r = api
                .http
                .get(format!("{}{path}", api.base))
                .bearer_auth(&token)
                .timeout(Duration::from_secs(30))
                .send()
                .await;
            let ok = match r {
                Ok(resp) => resp.status().is_success() && resp.bytes().await.is_ok(),
                Err(_) => false,
            };
            samples.push((*name, t.elapsed().as_secs_f64(), ok));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    samples
}

// ---------------------------------------------------------------------------------------------
// One sweep point

/// `(kind, count, sum)` of the server's `courtscribe_caption_decode_seconds` family.
fn decode_times(metrics: &str) -> Vec<(String, f64, f64)> {
    let series = |suffix: &str| -> Vec<(String, f64)> {
        let prefix = format!("courtscribe_caption_decode_seconds_{suffix}{{kind=\"");
        metrics
            .lines()
            .filter_map(|l| {
                let (kind, value) = l.strip_prefix(&prefix)?.split_once("\"} ")?;
                Some((kind.to_string(), value.trim().parse().ok()?))
            })
            .collect()
    };
    let sums = series("sum");
    series("count")
        .into_iter()
        .map(|(kind, count)| {
            let sum = sums.iter().find(|(k, _)| *k == kind).map_or(0.0, |s| s.1);
            (kind, count, sum)
        })
        .collect()
}

#[derive(Debug)]
struct Histogram {
    buckets: Vec<(f64, f64)>,
    sum: f64,
    count: f64,
}

impl Histogram {
    fn parse(metrics: &str, name: &str) -> Option<Histogram> {
        let mut h = Histogram {
            buckets: Vec::new(),
            sum: 0.0,
            count: 0.0,
        };
        for line in metrics.lines() {
            let Some(rest) = line.strip_prefix(name) else {
                continue;
            };
            let (key, value) = rest.rsplit_once(' ')?;
            let value: f64 = value.trim().parse().ok()?;
            if let Some(le) = key
                .strip_prefix("_bucket{le=\"")
                .and_then(|k| k.strip_suffix("\"}"))
            {
                let le = if le == "+Inf" {
                    f64::INFINITY
                } else {
                    le.parse().ok()?
                };
                h.buckets.push((le, value));
            } else if key == "_sum" {
                h.sum = value;
            } else if key == "_count" {
                h.count = value;
            }
        }
        (!h.buckets.is_empty()).then_some(h)
    }

    /// The upper bound of the bucket holding the q-quantile.
    fn quantile_bound(&self, q: f64) -> Option<f64> {
        let target = q * self.count;
        self.buckets
            .iter()
            .find(|(_, n)| *n >= target)
            .map(|(le, _)| *le)
    }

    fn render(&self) -> String {
        let mut s = format!(
            "count {} mean {:.2} s; cumulative:",
            self.count,
            self.sum / self.count.max(1.0)
        );
        for (le, n) in &self.buckets {
            let _ = write!(s, " ≤{le}:{n}");
        }
        s
    }
}

#[derive(Debug)]
struct Point {
    stations: usize,
    load_secs: f64,
    captions: usize,
    stations_without_captions: usize,
    latency: Vec<f64>,
    /// (latency, what) of every final caption, for the slowest ones in the details.
    slowest: Vec<(f64, String)>,
    late_latency: Vec<f64>,
    /// Latency of each partial caption (same definition as for final ones).
    partial_latency: Vec<f64>,
    /// Latency of the last caption of each batch the server published at once (one decoded
    /// window): waiting for the pause is then short, so this is mostly queueing and decoding.
    window_latency: Vec<f64>,
    max_send_lag: f64,
    ack_lags: Vec<f64>,
    drain: Vec<f64>,
    drain_capped: bool,
    end_to_done: Vec<f64>,
    integrity: Vec<String>,
    api: ApiSamples,
    uploads: Vec<(f64, bool)>,
    histogram: Option<Histogram>,
    /// Per caption kind: (kind, captions decoded, seconds spent decoding them).
    decode: Vec<(String, f64, f64)>,
    jobs_queued_at_end: Option<f64>,
    peak_rss_mb: f64,
    cpu_secs: f64,
    /// CPU seconds used by other processes than the server and the bench during the run.
    others_secs: f64,
    wall_secs: f64,
    load_before: String,
    load_after: String,
    log: LogSummary,
}

impl Point {
    fn sustained(&self) -> (bool, Vec<String>) {
        let mut why = Vec::new();
        if self.max_send_lag > MAX_SEND_LAG_SECS {
            why.push(format!("a frame went out {:.2} s late", self.max_send_lag));
        }
        let ack_max = self.ack_lags.iter().copied().fold(0.0, f64::max);
        if ack_max > MAX_ACK_LAG_SECS {
            why.push(format!("an ack took {ack_max:.2} s"));
        }
        let drain = self.drain.iter().copied().fold(0.0, f64::max);
        if self.drain_capped || drain > MAX_DRAIN_SECS {
            why.push(format!(
                "captions still arriving {drain:.1} s after `end`{}",
                if self.drain_capped {
                    " (wait capped)"
                } else {
                    ""
                }
            ));
        }
        if let Some(p) = percentile(&self.late_latency, 0.95).filter(|p| *p > MAX_LATE_P95_SECS) {
            why.push(format!("p95 latency over the last third {p:.1} s"));
        }
        if self.stations_without_captions > 0 {
            why.push(format!(
                "{} station(s) got no caption",
                self.stations_without_captions
            ));
        }
        if !self.integrity.is_empty() {
            why.push("`done` disagreed with the audio sent".into());
        }
        (why.is_empty(), why)
    }
}

fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

async fn run_point(
    bin: &Path,
    args: &Args,
    n: usize,
    sources: &[Source],
    upload: &Arc<Vec<u8>>,
) -> anyhow::Result<Point> {
    let load_before = load_average();
    let (server, load_secs) = Server::start(bin, args).await?;
    eprintln!(
        "  server pid {} at {} ready after {load_secs:.1} s",
        server.pid, server.base
    );
    let api = Api {
        http: reqwest::Client::new(),
        base: server.base.clone(),
    };
    let admin = api.login(ADMIN_USER, ADMIN_PASSWORD).await?;
    let case = api
        .create(
            &admin,
            "/api/cases",
            &json!({"number": format!("{n}/2026/HS-ST"), "title": "Load test", "kind": "criminal"}),
        )
        .await?;
    let mut plans = Vec::new();
    for i in 0..n {
        let source = &sources[i % sources.len()];
        let hearing = api
            .create(
                &admin,
                &format!("/api/cases/{case}/hearings"),
                &json!({"language": source.lang}),
            )
            .await?;
        let user = format!("station-{i}");
        let password = format!("station-pass-{i}");
        api.create(
            &admin,
            "/api/users",
            &json!({"username": user, "password": password, "role": "station"}),
        )
        .await?;
        let token = api.login(&user, &password).await?;
        plans.push(StationPlan {
            hearing,
            token,
            session: format!("load-{n}-{i}"),
            rate: source.rate,
            channels: source.channels,
            pcm: source.excerpt(i as f64 * STATION_OFFSET_SECS, args.secs),
        });
    }
    let upload_hearing = api
        .create(
            &admin,
            &format!("/api/cases/{case}/hearings"),
            &json!({"language": "en"}),
        )
        .await?;
    let mut followers = Vec::new();
    for plan in &plans {
        followers.push(follow_captions(&api, &admin, plan.hearing).await?);
    }

    let started = Instant::now();
    let clocks_before = cpu_clocks(&server);
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(sample_api(
        api.clone(),
        admin.clone(),
        plans[0].hearing,
        stop.clone(),
    ));
    let mut uploads = Vec::new();
    for _ in 0..args.uploads {
        let (api, token, bytes) = (api.clone(), admin.clone(), upload.clone());
        let delay = Duration::from_secs_f64(args.secs / 4.0);
        uploads.push(tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let t = Instant::now();
            let r = api
                .http
                .post(format!(
                    "{}/api/hearings/{upload_hearing}/recordings",
                    api.base
                ))
                .bearer_auth(&token)
                .body(bytes.to_vec())
                .send()
                .await;
            let ok = r.is_ok_and(|r| r.status().as_u16() == 202);
            (t.elapsed().as_secs_f64(), ok)
        }));
    }
    let runs = futures_util::future::join_all(plans.iter().map(|p| stream_station(&api, p))).await;
    let runs = runs
        .into_iter()
        .collect::<anyhow::Result<Vec<StationRun>>>()?;
    let all_done = Instant::now();
    eprintln!(
        "  all stations done after {:.1} s; waiting for the captions to drain",
        started.elapsed().as_secs_f64()
    );

    // Drain: wait until no caption has arrived for `quiet` seconds.
    let quiet = Duration::from_secs_f64(args.quiet);
    let drain_capped = loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let last = followers
            .iter()
            .filter_map(|(a, _)| a.lock().expect("captions lock").last().map(|c| c.at))
            .max()
            .map_or(all_done, |t| t.max(all_done));
        if last.elapsed() >= quiet {
            break false;
        }
        if all_done.elapsed().as_secs_f64() >= DRAIN_CAP_SECS {
            break true;
        }
    };
    stop.store(true, Ordering::Relaxed);
    let api_samples = sampler.await.context("API sampler crashed")?;
    let mut upload_results = Vec::new();
    for u in uploads {
        upload_results.push(u.await.context("upload task crashed")?);
    }
    let wall_secs = started.elapsed().as_secs_f64();
    let clocks_after = cpu_clocks(&server);
    let [machine_secs, cpu_secs, bench_secs] =
        std::array::from_fn(|i| clocks_after[i] - clocks_before[i]);
    // Other work on the machine (builds, tests) competes for the same cores.
    let others_secs = (machine_secs - cpu_secs - bench_secs).max(0.0);
    let peak_rss_mb = server.status_kb("VmHWM:").unwrap_or(0.0) / 1024.0;
    let metrics = api
        .http
        .get(format!("{}/metrics", api.base))
        .send()
        .await
        .context("GET /metrics")?
        .text()
        .await
        .context("GET /metrics: body")?;
    let histogram = Histogram::parse(&metrics, "courtscribe_caption_latency_seconds");
    let decode = decode_times(&metrics);
    let jobs_queued_at_end = metrics
        .lines()
        .find_map(|l| l.strip_prefix("courtscribe_jobs_queued "))
        .and_then(|v| v.trim().parse().ok());
    let load_after = load_average();
    let log = server.stop().await?;

    let mut point = Point {
        stations: n,
        load_secs,
        captions: 0,
        stations_without_captions: 0,
        latency: Vec::new(),
        slowest: Vec::new(),
        late_latency: Vec::new(),
        partial_latency: Vec::new(),
        window_latency: Vec::new(),
        max_send_lag: 0.0,
        ack_lags: Vec::new(),
        drain: Vec::new(),
        drain_capped,
        end_to_done: Vec::new(),
        integrity: Vec::new(),
        api: api_samples,
        uploads: upload_results,
        histogram,
        decode,
        jobs_queued_at_end,
        peak_rss_mb,
        cpu_secs,
        others_secs,
        wall_secs,
        load_before,
        load_after,
        log,
    };
    for ((run, plan), (arrivals, task)) in runs.iter().zip(&plans).zip(followers) {
        task.abort();
        let arrivals = arrivals.lock().expect("captions lock").clone();
        let frames = run.sent.len();
        let finals: Vec<&Arrival> = arrivals.iter().filter(|c| !c.partial).collect();
        point.captions += finals.len();
        point.stations_without_captions += usize::from(finals.is_empty());
        // The frame holding `end`: frame k covers [0.2 k, 0.2 (k + 1)).
        let sent_at = |end: f64| {
            let k = ((end / FRAME_SECS).ceil() as usize)
                .saturating_sub(1)
                .min(frames.saturating_sub(1));
            run.sent.get(k).copied()
        };
        for c in arrivals.iter().filter(|c| c.partial) {
            if let Some(sent) = sent_at(c.end) {
                point
                    .partial_latency
                    .push(c.at.saturating_duration_since(sent).as_secs_f64());
            }
        }
        // (arrival, latency) of the previous caption, to find the batches one window published.
        let mut previous: Option<(Instant, f64)> = None;
        for c in &finals {
            let Some(sent) = sent_at(c.end) else {
                continue;
            };
            let latency = c.at.saturating_duration_since(sent).as_secs_f64();
            point.latency.push(latency);
            point.slowest.push((
                latency,
                format!(
                    "{} {:.1}–{:.1} s “{}”",
                    plan.session, c.start, c.end, c.text
                ),
            ));
            if c.end >= args.secs * 2.0 / 3.0 {
                point.late_latency.push(latency);
            }
            if let Some((at, last)) = previous
                && c.at.duration_since(at) > BATCH_GAP
            {
                point.window_latency.push(last);
            }
            previous = Some((c.at, latency));
        }
        point.window_latency.extend(previous.map(|(_, last)| last));
        let last = finals.iter().map(|c| c.at).max();
        point.drain.push(last.map_or(0.0, |t| {
            t.saturating_duration_since(run.end_sent).as_secs_f64()
        }));
        point.max_send_lag = point.max_send_lag.max(run.max_send_lag);
        point.ack_lags.extend(&run.ack_lags);
        point.end_to_done.push(run.end_to_done);
        if let Some(problem) = &run.integrity {
            point.integrity.push(format!("{}: {problem}", plan.session));
        }
    }
    Ok(point)
}

// ---------------------------------------------------------------------------------------------
// Report

fn secs(v: Option<f64>) -> String {
    v.map_or("–".into(), |x| format!("{x:.2}"))
}

fn table(points: &[Point]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| stations | real time sustained | final captions | final p50 s | final p95 s | final p95, last ⅓ s | partial p95 s | \
         drain after end s (max) | server histogram p95 | API p95 ms | upload s | peak RSS MB | server CPU (100% = 1 core) | other processes' CPU |"
    );
    let _ = writeln!(
        s,
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    for p in points {
        let (ok, _) = p.sustained();
        let api: Vec<f64> = p
            .api
            .iter()
            .filter(|(_, _, ok)| *ok)
            .map(|(_, t, _)| *t)
            .collect();
        let hist = p
            .histogram
            .as_ref()
            .and_then(|h| h.quantile_bound(0.95))
            .map_or("–".into(), |b| {
                if b.is_finite() {
                    format!("≤ {b} s")
                } else {
                    "> 30 s".into()
                }
            });
        let drain = p.drain.iter().copied().fold(0.0, f64::max);
        let uploads: Vec<String> = p
            .uploads
            .iter()
            .map(|(t, ok)| {
                if *ok {
                    format!("{t:.1}")
                } else {
                    format!("{t:.1} (failed)")
                }
            })
            .collect();
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} | {}{} | {} | {} | {} | {:.0} | {:.0}% | {:.0}% |",
            p.stations,
            if ok { "yes" } else { "**no**" },
            p.captions,
            secs(percentile(&p.latency, 0.5)),
            secs(percentile(&p.latency, 0.95)),
            secs(percentile(&p.late_latency, 0.95)),
            secs(percentile(&p.partial_latency, 0.95)),
            if p.drain_capped { "> " } else { "" },
            format_args!("{drain:.1}"),
            hist,
            percentile(&api, 0.95).map_or("–".into(), |x| format!("{:.0}", x * 1000.0)),
            if uploads.is_empty() {
                "–".into()
            } else {
                uploads.join(", ")
            },
            p.peak_rss_mb,
            100.0 * p.cpu_secs / p.wall_secs.max(1e-9),
            100.0 * p.others_secs / p.wall_secs.max(1e-9),
        );
    }
    s
}

fn details(p: &Point) -> String {
    let mut s = String::new();
    let (ok, why) = p.sustained();
    let _ = writeln!(
        s,
        "N = {}: real time {}",
        p.stations,
        if ok {
            "sustained".to_string()
        } else {
            format!("NOT sustained: {}", why.join("; "))
        }
    );
    let _ = writeln!(
        s,
        "  model ready after {:.1} s; load average {} before, {} after; run {:.0} s wall, server CPU {:.0} s, \
         other processes {:.0} CPU s ({:.2} cores on average)",
        p.load_secs,
        p.load_before,
        p.load_after,
        p.wall_secs,
        p.cpu_secs,
        p.others_secs,
        p.others_secs / p.wall_secs.max(1e-9)
    );
    let _ = writeln!(
        s,
        "  per caption window (last caption of each batch published together): {} windows, latency p50 {} s, p95 {} s",
        p.window_latency.len(),
        secs(percentile(&p.window_latency, 0.5)),
        secs(percentile(&p.window_latency, 0.95)),
    );
    let _ = writeln!(
        s,
        "  final captions {} (latency max {} s); partial captions {} (latency p50 {} s, p95 {} s); frames: max send lag {:.3} s, ack p50/p95/max {}/{}/{} s; end→done {} s (max)",
        p.captions,
        secs(percentile(&p.latency, 1.0)),
        p.partial_latency.len(),
        secs(percentile(&p.partial_latency, 0.5)),
        secs(percentile(&p.partial_latency, 0.95)),
        p.max_send_lag,
        secs(percentile(&p.ack_lags, 0.5)),
        secs(percentile(&p.ack_lags, 0.95)),
        secs(percentile(&p.ack_lags, 1.0)),
        secs(p.end_to_done.iter().copied().reduce(f64::max)),
    );
    let drains: Vec<String> = p.drain.iter().map(|d| format!("{d:.1}")).collect();
    let _ = writeln!(
        s,
        "  drain per station (s after `end`): {}",
        drains.join(", ")
    );
    for name in [
        "GET /api/cases",
        "GET /api/hearings/{id}/recordings",
        "GET /api/search",
    ] {
        let all: Vec<f64> = p
            .api
            .iter()
            .filter(|(n, _, _)| *n == name)
            .map(|(_, t, _)| *t)
            .collect();
        let failed = p.api.iter().filter(|(n, _, ok)| *n == name && !ok).count();
        let ms = |q| percentile(&all, q).map_or("–".into(), |x| format!("{:.0}", x * 1000.0));
        let _ = writeln!(
            s,
            "  {name}: {} requests, p50 {} ms, p95 {} ms, max {} ms, {failed} failed",
            all.len(),
            ms(0.5),
            ms(0.95),
            ms(1.0)
        );
    }
    match &p.histogram {
        Some(h) => {
            let _ = writeln!(s, "  courtscribe_caption_latency_seconds: {}", h.render());
        }
        None => {
            let _ = writeln!(
                s,
                "  courtscribe_caption_latency_seconds: absent from /metrics"
            );
        }
    }
    let mut slowest = p.slowest.clone();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (latency, what) in slowest.iter().take(5) {
        let _ = writeln!(s, "  slow final caption: {latency:.2} s, {what}");
    }
    for (kind, count, sum) in &p.decode {
        let _ = writeln!(
            s,
            "  caption decoding ({kind}): {count} decoded, mean {:.2} s, total {sum:.1} s",
            sum / count.max(1.0)
        );
    }
    if let Some(q) = p.jobs_queued_at_end {
        let _ = writeln!(s, "  jobs queued at the end: {q}");
    }
    for problem in &p.integrity {
        let _ = writeln!(s, "  INTEGRITY: {problem}");
    }
    let _ = writeln!(
        s,
        "  server log: {} warning(s), {} error(s)",
        p.log.warnings, p.log.errors
    );
    for m in &p.log.samples {
        let _ = writeln!(s, "    {m}");
    }
    s
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let built = std::env::var_os("COURTSCRIBE_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_courtscribe")),
        PathBuf::from,
    );
    ensure!(
        built.is_file(),
        "{} is missing; build it with `cargo build --release --bin courtscribe`",
        built.display()
    );
    let work = tempfile::Builder::new()
        .prefix("courtscribe-load-")
        .tempdir()
        .context("cannot create a temporary folder")?;
    // Every sweep point runs this copy: a build in the shared target folder during the sweep must
    // not change the server half-way through.
    let bin = work.path().join("courtscribe");
    std::fs::copy(&built, &bin)
        .with_context(|| format!("cannot copy {} to {}", built.display(), bin.display()))?;
    let (sources, upload) = load_audio(&args, work.path())?;
    let upload = Arc::new(upload);
    eprintln!(
        "server load: stations {:?}, {} s of audio each, {} worker(s) × {} thread(s), {} upload(s), languages {:?}, {} channel(s); binary {} (copied from {})",
        args.stations,
        args.secs,
        args.workers,
        args.threads,
        args.uploads,
        args.langs,
        args.channels,
        bin.display(),
        built.display()
    );
    let mut points = Vec::new();
    for &n in &args.stations {
        eprintln!("N = {n}: starting");
        let point = run_point(&bin, &args, n, &sources, &upload)
            .await
            .with_context(|| format!("sweep point N = {n}"))?;
        eprint!("{}", details(&point));
        points.push(point);
    }
    println!("\n{}", table(&points));
    for p in &points {
        println!("{}", details(p));
    }
    Ok(())
}
