//! Mock court hearings spoken by espeak-ng from a script in the JSON format of
//! `../shared/eval/scripts` (`voices` per role, `turns` of role, text and the pause after it),
//! so a benchmark measures more hearings than the eval set holds, and runs without it.

use anyhow::Context as _;
use serde_json::Value;
use std::path::{Path, PathBuf};

use crate::speech::{Voice, sox, try_duration, try_run, try_speak};

/// A synthesised hearing: 16 kHz mono WAV with a light noise floor, its reference text, and its
/// turns with their times in `turns` (`{"turns": [{role, start, end, text}]}`, as
/// `../shared/eval/synthetic/ID.json`).
#[derive(Debug)]
pub struct Hearing {
    pub audio: PathBuf,
    pub reference: PathBuf,
    pub turns: PathBuf,
    /// FLAC with one channel per role, in order of first appearance: each role's microphone, on
    /// which the others are heard at -14 dB, as in `../shared/eval/synthetic/ID.4ch.flac`. Made
    /// only when asked for.
    pub microphones: Option<PathBuf>,
    pub language: String,
}

/// The hearing scripts in the checkout's `benches/hearings`, in name order.
pub fn scripts() -> anyhow::Result<Vec<PathBuf>> {
    let dir = crate::checkout().join("benches/hearings");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .with_context(|| format!("cannot list {}", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    scripts.sort();
    Ok(scripts)
}

/// What [`synthesise`] names the hearing's files: the script's file name (its `id`), with `_vK`
/// for the `K`th revoicing.
pub fn hearing_id(script: &Path, revoicing: usize) -> String {
    let stem = script
        .file_stem()
        .map_or_else(String::new, |s| s.to_string_lossy().into_owned());
    match revoicing {
        0 => stem,
        k => format!("{stem}_v{k}"),
    }
}

/// Other voices for a script's roles, (espeak-ng voice, pitch, speed) by the order in which the
/// roles first speak: a hearing said again by other people, for a WER measured on more than one
/// voicing of each script.
pub const REVOICINGS: [[(&str, u8, u16); 6]; 3] = [
    [
        ("en-us", 50, 155),
        ("en-gb", 40, 145),
        ("en+f3", 65, 160),
        ("en-us+m2", 45, 150),
        ("en+m5", 45, 150),
        ("en-gb+m3", 40, 150),
    ],
    [
        ("en+m1", 55, 165),
        ("en-us+m4", 30, 150),
        ("en-gb+f1", 70, 155),
        ("en+m5", 50, 160),
        ("en-gb", 40, 150),
        ("en-us+m6", 45, 150),
    ],
    [
        ("en-gb+f2", 60, 150),
        ("en+m6", 35, 140),
        ("en-us+f5", 70, 170),
        ("en-gb", 45, 155),
        ("en-us+m1", 40, 150),
        ("en+m2", 50, 150),
    ],
];

/// Speaks `script` into `out_dir` (1 s of lead silence, each turn followed by its pause) and
/// writes the reference text, one turn a line, and the turns' times. sox runs seeded ([`sox`](crate::sox)),
/// so the same script and espeak-ng give the same file. `revoicing` 0 uses the script's voices;
/// `k` ≥ 1 uses `REVOICINGS[k - 1]`. Files are named by [`hearing_id`]. With `microphones`, also
/// the per-seat FLAC (a third of the work).
pub fn synthesise(
    script: &Path,
    out_dir: &Path,
    revoicing: usize,
    microphones: bool,
) -> anyhow::Result<Hearing> {
    let text = std::fs::read_to_string(script)
        .with_context(|| format!("cannot read {}", script.display()))?;
    let json: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", script.display()))?;
    let field = |v: &Value, key: &str| -> anyhow::Result<String> {
        v[key]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("{}: missing {key:?}", script.display()))
    };
    let id = hearing_id(script, revoicing);
    let other_voices = match revoicing {
        0 => None,
        k => Some(
            REVOICINGS
                .get(k - 1)
                .with_context(|| format!("there are {} revoicings", REVOICINGS.len()))?,
        ),
    };
    let language = field(&json, "lang")?;
    let turns = json["turns"]
        .as_array()
        .with_context(|| format!("{}: no turns", script.display()))?;

    let part = |name: String| out_dir.join(format!("{id}-{name}.wav"));
    let lead = part("lead".into());
    try_run(
        sox()
            .args(["-n", "-r", "16000", "-c", "1", "-b", "16"])
            .arg(&lead)
            .args(["trim", "0", &LEAD_SECS.to_string()]),
    )?;
    let mut parts = vec![lead.clone()];
    let mut roles: Vec<String> = Vec::new();
    let mut turn_roles = Vec::new();
    let mut reference = Vec::new();
    let mut timed = Vec::new();
    let mut at = LEAD_SECS;
    for (i, turn) in turns.iter().enumerate() {
        let role = field(turn, "role")?;
        let said = field(turn, "text")?;
        if !roles.contains(&role) {
            roles.push(role.clone());
        }
        let voice = match other_voices {
            None => {
                let voice = &json["voices"][&role];
                let name = voice["voice"]
                    .as_str()
                    .with_context(|| format!("{}: no voice for {role}", script.display()))?;
                let number = |key: &str| voice[key].as_u64();
                let mut v = Voice::new(name);
                v.pitch = number("pitch")
                    .and_then(|n| n.try_into().ok())
                    .unwrap_or(v.pitch);
                v.speed = number("speed")
                    .and_then(|n| n.try_into().ok())
                    .unwrap_or(v.speed);
                v
            }
            Some(voices) => {
                let k = roles.iter().position(|r| *r == role).unwrap_or(0);
                let (name, pitch, speed) = voices[k % voices.len()];
                Voice { name, pitch, speed }
            }
        };
        let spoken = try_speak(out_dir, &format!("{id}-{i}-16k"), voice, &said)?;
        let pause = turn["pause"].as_f64().unwrap_or(1.0);
        let padded = part(i.to_string());
        try_run(
            sox()
                .arg(&spoken)
                .arg(&padded)
                .args(["pad", "0", &pause.to_string()]),
        )?;
        let secs = try_duration(&spoken)?;
        timed.push(serde_json::json!({
            "role": role, "start": at, "end": at + secs, "text": said,
        }));
        at += secs + pause;
        turn_roles.push(role);
        parts.push(padded);
        reference.push(said);
    }
    let clean = part("clean".into());
    try_run(sox().args(&parts).arg(&clean))?;
    let noise = part("noise".into());
    try_run(
        sox()
            .arg(&clean)
            .arg(&noise)
            .args(["synth", "whitenoise", "vol", "0.003"]),
    )?;
    let audio = out_dir.join(format!("{id}.wav"));
    try_run(sox().arg("-m").arg(&clean).arg(&noise).arg(&audio))?;
    let microphones = microphones
        .then(|| seat_microphones(out_dir, &id, &parts, &roles, &turn_roles, &noise))
        .transpose()?;

    let reference_path = out_dir.join(format!("{id}.txt"));
    std::fs::write(&reference_path, reference.join("\n"))?;
    let turns_path = out_dir.join(format!("{id}.json"));
    std::fs::write(
        &turns_path,
        serde_json::to_vec_pretty(&serde_json::json!({ "turns": timed }))?,
    )?;
    Ok(Hearing {
        audio,
        reference: reference_path,
        turns: turns_path,
        microphones,
        language,
    })
}

/// `ID.mics.flac`: one channel per role from `parts` (the lead silence, then each turn with its
/// pause, spoken by `turn_roles[i]`), each hearing the others at [`BLEED`], over `noise`.
fn seat_microphones(
    out_dir: &Path,
    id: &str,
    parts: &[PathBuf],
    roles: &[String],
    turn_roles: &[String],
    noise: &Path,
) -> anyhow::Result<PathBuf> {
    let part = |name: String| out_dir.join(format!("{id}-{name}.wav"));
    let (lead, turns) = parts.split_first().context("no lead silence")?;
    // Each role's track: its own turns, silence of the same length in place of the others'.
    let silent: Vec<PathBuf> = (0..turns.len())
        .map(|i| {
            let quiet = part(format!("{i}-silent"));
            try_run(sox().arg(&turns[i]).arg(&quiet).args(["vol", "0"]))?;
            Ok(quiet)
        })
        .collect::<anyhow::Result<_>>()?;
    let tracks: Vec<PathBuf> = roles
        .iter()
        .map(|role| {
            let mut pieces = vec![lead.clone()];
            for (i, r) in turn_roles.iter().enumerate() {
                pieces.push(if r == role { &turns[i] } else { &silent[i] }.clone());
            }
            let track = part(format!("track-{role}"));
            try_run(sox().args(&pieces).arg(&track))?;
            Ok(track)
        })
        .collect::<anyhow::Result<_>>()?;
    let mics: Vec<PathBuf> = (0..tracks.len())
        .map(|k| {
            let mut mix = sox();
            mix.arg("-m");
            for (j, track) in tracks.iter().enumerate() {
                mix.args(["-v", if j == k { "1" } else { BLEED }])
                    .arg(track);
            }
            let mic = part(format!("mic-{k}"));
            try_run(mix.args(["-v", "1"]).arg(noise).arg(&mic))?;
            Ok(mic)
        })
        .collect::<anyhow::Result<_>>()?;
    let microphones = out_dir.join(format!("{id}.mics.flac"));
    try_run(sox().arg("-M").args(&mics).arg(&microphones))?;
    Ok(microphones)
}

/// How loud a microphone hears the other seats: -14 dB.
const BLEED: &str = "0.2";

/// Silence before the first turn, seconds.
const LEAD_SECS: f64 = 1.0;
