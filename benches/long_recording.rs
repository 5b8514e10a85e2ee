//! Memory and time of transcribing a long multi-microphone recording: what a three-hour hearing
//! from a five-microphone courtroom costs the machine that decodes it.
//!
//! The recording is made here (no `../shared` needed): a few sentences spoken by espeak-ng in two
//! voices, upsampled to 48 kHz on five channels (each seat's microphone louder for its own voice,
//! as in a courtroom), said again every ten minutes, silence between, `LONG_BENCH_MINUTES` long
//! (default 30). It is cached under `~/.cache/courtscribe/bench/`.
//!
//! Each binary runs `courtscribe transcribe FILE --language en --diarize --format json --threads 2`
//! under `/usr/bin/time`, as a fresh process. Run with `cargo bench --bench long_recording`.
//! Knobs (environment):
//! - `LONG_BENCH_MINUTES` (default 30): length of the recording.
//! - `COURTSCRIBE_BIN`: the binary to measure (default this build's).
//! - `COURTSCRIBE_BIN_BEFORE`: a second binary (an older build) measured in the same run.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};
use courtscribe_testkit::speech::{sox, try_duration, try_run as run};

/// Minutes between repetitions of the spoken block.
const EVERY_MINUTES: u32 = 10;
const SAMPLE_RATE: &str = "48000";

fn main() -> anyhow::Result<()> {
    let minutes: u32 = env::var("LONG_BENCH_MINUTES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let this_build = root.join("target/release/courtscribe");
    let mut binaries = vec![(
        "this build",
        env::var_os("COURTSCRIBE_BIN").map_or(this_build, PathBuf::from),
    )];
    if let Some(before) = env::var_os("COURTSCRIBE_BIN_BEFORE") {
        binaries.insert(0, ("before", PathBuf::from(before)));
    }
    let recording = make_recording(minutes)?;
    println!(
        "recording: {} ({minutes} min, 5 channels, {SAMPLE_RATE} Hz, s16; {:.0} MB)",
        recording.display(),
        std::fs::metadata(&recording)?.len() as f64 / 1e6
    );
    println!();
    println!("| binary | wall s | CPU s | peak RSS MB | segments |");
    println!("|---|---:|---:|---:|---:|");
    for (label, binary) in &binaries {
        let run = measure(binary, &recording)?;
        println!(
            "| {label} (`{}`) | {:.1} | {:.1} | {:.0} | {} |",
            binary.display(),
            run.wall_s,
            run.cpu_s,
            run.peak_mb,
            run.segments
        );
    }
    Ok(())
}

struct Run {
    wall_s: f64,
    cpu_s: f64,
    peak_mb: f64,
    segments: usize,
}

fn measure(binary: &Path, recording: &Path) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let (report, out) = (dir.path().join("time"), dir.path().join("out.json"));
    let status = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(&report)
        .arg(binary)
        .args(["transcribe", "--language", "en", "--diarize", "--format"])
        .args(["json", "--threads", "2", "--out"])
        .arg(&out)
        .arg(recording)
        .status()
        .context("cannot run /usr/bin/time (Debian package `time`)")?;
    if !status.success() {
        bail!("{} failed on {}", binary.display(), recording.display());
    }
    let report = std::fs::read_to_string(&report)?;
    let fields: Vec<f64> = report
        .split_whitespace()
        .filter_map(|f| f.parse().ok())
        .collect();
    let [wall_s, user, system, peak_kb] = fields[..] else {
        bail!("unexpected /usr/bin/time report {report:?}");
    };
    let transcript: serde_json::Value = serde_json::from_slice(&std::fs::read(&out)?)?;
    Ok(Run {
        wall_s,
        cpu_s: user + system,
        peak_mb: peak_kb / 1024.0,
        segments: transcript["segments"].as_array().map_or(0, Vec::len),
    })
}

/// The cached recording, made with espeak-ng and sox the first time.
fn make_recording(minutes: u32) -> anyhow::Result<PathBuf> {
    let cache = env::var_os("HOME")
        .map(PathBuf::from)
        .context("HOME is not set")?
        .join(".cache/courtscribe/bench");
    std::fs::create_dir_all(&cache)?;
    let path = cache.join(format!("long-{minutes}min-5ch-48k.wav"));
    if path.exists() {
        return Ok(path);
    }
    let dir = tempfile::tempdir()?;
    let say = |voice: &str, text: &str, name: &str| -> anyhow::Result<PathBuf> {
        let wav = dir.path().join(name);
        run(Command::new("espeak-ng")
            .args(["-v", voice, "-w"])
            .arg(&wav)
            .arg(text))?;
        Ok(wav)
    };
    let judge = say(
        "en-gb",
        "The court is now in session. Does the defendant agree with the plaintiff's claim?",
        "judge.wav",
    )?;
    let party = say(
        "en-us+m3",
        "Your honour, I borrowed the money in March and I have already repaid forty million dong.",
        "party.wav",
    )?;
    // One block: the judge, then the party, on five 48 kHz channels where the judge's seat (1)
    // and the party's seat (3) hear their own speaker loudest and every mic hears the room.
    let (judge_secs, party_secs) = (try_duration(&judge)?, try_duration(&party)?);
    let judge_track = dir.path().join("judge-track.wav");
    run(sox()
        .arg(&judge)
        .arg(&judge_track)
        .args(["pad", "0", &format!("{}", party_secs + 0.8)]))?;
    let party_track = dir.path().join("party-track.wav");
    run(sox()
        .arg(&party)
        .arg(&party_track)
        .args(["pad", &format!("{}", judge_secs + 0.8), "0"]))?;
    let block = dir.path().join("block.wav");
    run(sox()
        .arg("-M")
        .arg(&judge_track)
        .arg(&party_track)
        .arg(&block)
        .args(["rate", SAMPLE_RATE, "remix", "1v0.9,2v0.2", "1v0.25,2v0.15"])
        .args(["1v0.2,2v0.9", "1v0.15,2v0.25", "1v0.3,2v0.3"]))?;
    let block_secs = try_duration(&block)?;
    let gap = f64::from(EVERY_MINUTES * 60) - block_secs;
    let repeats = minutes.div_ceil(EVERY_MINUTES);
    let mut args: Vec<String> = Vec::new();
    for _ in 0..repeats {
        args.push(block.display().to_string());
    }
    let joined = dir.path().join("joined.wav");
    let mut join = sox();
    join.args(&args).arg(&joined);
    // Silence after every block but the last (`pad` at each block's end position).
    let mut pad = vec!["pad".to_string()];
    for i in 1..repeats {
        pad.push(format!("{gap}@{}", block_secs * f64::from(i)));
    }
    if repeats > 1 {
        join.args(&pad);
    }
    run(&mut join)?;
    let partial = dir.path().join("long.wav");
    run(sox()
        .arg(&joined)
        .arg(&partial)
        .args(["pad", "0", &format!("{}", f64::from(minutes * 60))])
        .args(["trim", "0", &format!("{}", minutes * 60)]))?;
    std::fs::rename(&partial, &path).or_else(|_| std::fs::copy(&partial, &path).map(|_| ()))?;
    Ok(path)
}
