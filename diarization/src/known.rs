//! Known voices: enrolled profiles of a court's regular judges and clerks, one JSON file each under
//! `$COURTSCRIBE_HOME/speakers/`: the mean CAM++ embedding of the enrolment speech. A cluster is
//! named after a profile when their cosine similarity reaches the threshold (see
//! [`crate::VoiceConfig::known_threshold`] and BENCHMARKS.md for how it was chosen); each profile
//! names at most one cluster, best match first. Everything else stays anonymous (SPEAKER_n).

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::cluster::{cosine, normalise};
use crate::voice::{self, Embedder};
use crate::{Error, install};

/// Least speech (s) an enrolment must contain for a stable voice print.
pub const MIN_ENROL_SECS: f64 = 3.0;

/// One enrolled voice.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VoiceProfile {
    /// Name as it appears in the minutes, e.g. "Thẩm phán Nguyễn Văn A".
    pub name: String,
    /// Optional role code (e.g. CHU_TOA) copied into the speaker list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Seconds of speech the profile was made from.
    pub speech_secs: f64,
    /// sha256 of the model the embedding was made with; profiles of another model do not match.
    pub model_sha256: String,
    pub embedding: Vec<f32>,
}

fn dir(home: &Path) -> PathBuf {
    home.join("speakers")
}

fn file_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{s}.json")
}

fn check_name(name: &str) -> Result<(), Error> {
    if name.trim().is_empty() || name.chars().any(|c| c.is_control()) || name.len() > 200 {
        return Err(Error::Voices(format!(
            "`{name}` is not a usable name (1–200 printable characters)"
        )));
    }
    Ok(())
}

/// All enrolled profiles made with the installed model, sorted by name.
pub fn list(home: &Path) -> Result<Vec<VoiceProfile>, Error> {
    let d = dir(home);
    let Ok(entries) = fs::read_dir(&d) else {
        return Ok(Vec::new());
    };
    let model = install::installed(home).map(|m| m.sha256);
    let mut out = Vec::new();
    for e in entries.filter_map(|e| e.ok()) {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let bytes = fs::read(&p).map_err(|source| Error::Io {
            path: p.clone(),
            source,
        })?;
        let prof: VoiceProfile = serde_json::from_slice(&bytes).map_err(|e| {
            Error::Voices(format!("{}: {e}; remove the file or re-enrol", p.display()))
        })?;
        if model.as_ref().is_none_or(|m| *m == prof.model_sha256) {
            out.push(prof);
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Makes a profile from a 16 kHz mono recording of one person.
pub fn make_profile(
    name: &str,
    mono: &[f32],
    embedder: &dyn Embedder,
    model_sha256: &str,
) -> Result<VoiceProfile, Error> {
    check_name(name)?;
    let regions = voice::speech(mono);
    let secs: f64 = regions.iter().map(|(a, b)| (b - a) as f64 / 16_000.0).sum();
    if secs < MIN_ENROL_SECS {
        return Err(Error::Voices(format!(
            "only {secs:.1} s of speech found; enrol with at least {MIN_ENROL_SECS} s of the person speaking alone"
        )));
    }
    let mut clips: Vec<&[f32]> = Vec::new();
    for &(a, b) in &regions {
        let mut s = a;
        while s + 24_000 <= b {
            clips.push(&mono[s..s + 24_000]);
            s += 12_000;
        }
        if b - a >= 8_000 && b - a < 24_000 {
            clips.push(&mono[a..b]);
        }
    }
    let emb = embedder.embed(&clips)?;
    let mut m = vec![0f32; crate::campplus::EMBEDDING_DIM];
    for e in &emb {
        m.iter_mut().zip(e).for_each(|(a, b)| *a += b);
    }
    normalise(&mut m);
    Ok(VoiceProfile {
        name: name.trim().to_string(),
        role: None,
        speech_secs: secs,
        model_sha256: model_sha256.into(),
        embedding: m,
    })
}

/// Stores a profile (replacing one of the same name).
pub fn save(home: &Path, profile: &VoiceProfile) -> Result<PathBuf, Error> {
    check_name(&profile.name)?;
    let p = dir(home).join(file_name(&profile.name));
    let json = serde_json::to_vec_pretty(profile).map_err(|e| Error::Voices(e.to_string()))?;
    install::write_atomically(&p, &json)?;
    Ok(p)
}

/// Removes the profile called `name`; an error if there is none.
pub fn remove(home: &Path, name: &str) -> Result<(), Error> {
    let p = dir(home).join(file_name(name.trim()));
    match fs::remove_file(&p) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(Error::Voices(format!(
            "no enrolled voice called `{name}` (see `courtscribe speakers list`)"
        ))),
        Err(source) => Err(Error::Io { path: p, source }),
    }
}

/// For each centroid, the profile it is (greedy one-to-one, best similarity first).
pub fn match_clusters<'a>(
    centroids: &[Vec<f32>],
    profiles: &'a [VoiceProfile],
    threshold: f32,
) -> Vec<Option<&'a VoiceProfile>> {
    let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
    for (c, e) in centroids.iter().enumerate() {
        for (p, prof) in profiles.iter().enumerate() {
            if prof.embedding.len() == e.len() {
                let s = cosine(e, &prof.embedding);
                if s >= threshold {
                    pairs.push((s, c, p));
                }
            }
        }
    }
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out = vec![None; centroids.len()];
    let mut used = vec![false; profiles.len()];
    for (_, c, p) in pairs {
        if out[c].is_none() && !used[p] {
            out[c] = Some(&profiles[p]);
            used[p] = true;
        }
    }
    out
}
