//! Voice mode: one mixed microphone. earshot VAD (the transcriber's speech regions) → 1.5 s
//! windows every 0.75 s inside speech → CAM++ embeddings → agglomerative clustering with an
//! automatic count → every 10 ms of speech takes the label of the window centred nearest to it →
//! turns. Clusters that match an enrolled voice ([`crate::known`]) are named after the person.

use std::path::Path;

use candle_core::{Device, Tensor};
use courtscribe_transcriber::transcript::SpeakerInfo;
use courtscribe_transcriber::vad::{self, VadConfig};

use crate::campplus::CamPlusPlus;
pub use crate::cluster::SpeakerCount;
use crate::cluster::{self, cosine, normalise};
use crate::fbank::{self, Fbank};
use crate::known::{self, VoiceProfile};
use crate::{Diarization, Error, Mode, Turn};

const SR: f64 = 16_000.0;

/// Tuning; defaults measured on `../shared/eval` (see BENCHMARKS.md, "Diarization").
#[derive(Debug, Clone)]
pub struct VoiceConfig {
    pub count: SpeakerCount,
    /// Embedding window (s).
    pub window_secs: f64,
    /// Step between windows (s).
    pub hop_secs: f64,
    /// Average-linkage cosine similarity above which two clusters are one voice. 0.50: below it
    /// alike voices merge (0.47 put the four voices of the Vietnamese hearing into two), above it
    /// real speakers split (0.55: three speakers in the two-speaker sample); BENCHMARKS.md.
    pub threshold: f32,
    /// Cosine similarity of a cluster centroid to an enrolled profile above which the cluster is
    /// that person.
    pub known_threshold: f32,
    /// Name clusters after enrolled voices.
    pub use_known_voices: bool,
    /// Clusters holding less than this share of the speech and less than `min_cluster_secs` are
    /// folded into the most similar larger cluster when the count is automatic: windows straddling
    /// two voices or a cough form small spurious clusters.
    pub min_cluster_share: f64,
    pub min_cluster_secs: f64,
    /// A cluster under `min_cluster_secs` whose centroid has at least this cosine similarity to a
    /// cluster that is not small is folded too, whatever its share: in a short recording one
    /// speaker's odd window (a laugh, a stressed word) is a large share of little speech. Measured
    /// (threshold 0.50): the clusters split off the one speaker of `jfk.flac` had 0.49 and 0.59 to
    /// the rest of his speech; short spurious clusters of the real two-speaker sample 0.47–0.59;
    /// distinct espeak voices 0.40–0.64, but those are long (a long hearing folds every cluster
    /// under 4 s and 8 % of the speech anyway, similar or not).
    pub fold_similarity: f32,
    /// 0 (default): every window is embedded on its own, as CAM++ was trained. Above 0: speech is
    /// cut into chunks of at most this many seconds and each chunk goes through the network once,
    /// windows pooled from its frames — about half the CPU (73 vs 136 ms per s of audio, measured
    /// before the faster convolutions of 2026-11-26),
    /// but the context-aware masks then see the whole chunk, embeddings come out more alike, and
    /// the threshold must rise to ~0.55 (measured; see BENCHMARKS.md).
    pub chunk_secs: f64,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        Self {
            count: SpeakerCount::default(),
            window_secs: 1.5,
            hop_secs: 0.75,
            threshold: 0.50,
            known_threshold: 0.6,
            use_known_voices: true,
            min_cluster_share: 0.08,
            min_cluster_secs: 4.0,
            fold_similarity: 0.45,
            chunk_secs: 0.0,
        }
    }
}

/// The speaker-embedding seam: 16 kHz clips in, L2-normalised embeddings out.
pub trait Embedder {
    fn embed(&self, clips: &[&[f32]]) -> Result<Vec<Vec<f32>>, Error>;

    /// Embeddings of `windows` (sample ranges relative to `chunk`) of one stretch of speech. The
    /// default embeds each window on its own; CAM++ shares one pass over the chunk.
    fn embed_chunk(
        &self,
        chunk: &[f32],
        windows: &[(usize, usize)],
    ) -> Result<Vec<Vec<f32>>, Error> {
        let clips: Vec<&[f32]> = windows
            .iter()
            .map(|&(a, b)| &chunk[a.min(chunk.len())..b.min(chunk.len())])
            .collect();
        self.embed(&clips)
    }
}

impl Embedder for CamPlusPlus {
    fn embed_chunk(
        &self,
        chunk: &[f32],
        windows: &[(usize, usize)],
    ) -> Result<Vec<Vec<f32>>, Error> {
        self.install(|| self.embed_chunk_here(chunk, windows))
    }

    fn embed(&self, clips: &[&[f32]]) -> Result<Vec<Vec<f32>>, Error> {
        self.install(|| self.embed_here(clips))
    }
}

impl CamPlusPlus {
    fn embed_chunk_here(
        &self,
        chunk: &[f32],
        windows: &[(usize, usize)],
    ) -> Result<Vec<Vec<f32>>, Error> {
        let mut f = Fbank::new().compute(chunk);
        if f.len() < 20 {
            return self.embed_here(
                &windows
                    .iter()
                    .map(|&(a, b)| &chunk[a.min(chunk.len())..b.min(chunk.len())])
                    .collect::<Vec<_>>(),
            );
        }
        fbank::mean_normalise(&mut f);
        let t = f.len();
        let x = Tensor::from_vec(
            f.into_iter().flatten().collect::<Vec<f32>>(),
            (1, t, fbank::N_MELS),
            &Device::Cpu,
        )?;
        // Sample range → fbank frames whose 25 ms window lies inside it.
        let ranges: Vec<(usize, usize)> = windows
            .iter()
            .map(|&(a, b)| {
                let s = (a / fbank::HOP).min(t - 1);
                (s, ((b.saturating_sub(240)) / fbank::HOP).clamp(s + 1, t))
            })
            .collect();
        let mut out = self.embed_windows(&x, &ranges)?;
        out.iter_mut().for_each(|v| normalise(v));
        Ok(out)
    }

    /// One window at a time: batches of 16 windows made im2col columns of ~220 MB, and the time
    /// went into page faults and copies (on the English hearing: 9.0 s of CPU with batches of 16,
    /// 6.8 s one by one).
    fn embed_here(&self, clips: &[&[f32]]) -> Result<Vec<Vec<f32>>, Error> {
        let fb = Fbank::new();
        clips
            .iter()
            .map(|clip| {
                let mut f = fb.compute(clip);
                if f.len() < 20 {
                    // Under 0.2 s of features: no voice to speak of; a zero vector.
                    return Ok(vec![0.0; crate::campplus::EMBEDDING_DIM]);
                }
                fbank::mean_normalise(&mut f);
                let t = f.len();
                let flat: Vec<f32> = f.into_iter().flatten().collect();
                let x = Tensor::from_vec(flat, (1, t, fbank::N_MELS), &Device::Cpu)?;
                let mut v = self.embed_batch(&x)?.squeeze(0)?.to_vec1::<f32>()?;
                normalise(&mut v);
                Ok(v)
            })
            .collect()
    }
}

/// Speech regions (samples) of a 16 kHz mono signal, as the transcriber finds them.
pub fn speech(mono: &[f32]) -> Vec<(usize, usize)> {
    vad::speech_regions(mono, &VadConfig::default())
        .into_iter()
        .map(|r| (r.start, r.end))
        .collect()
}

/// Embedding windows `(start, end)` in samples covering the regions.
fn windows(regions: &[(usize, usize)], cfg: &VoiceConfig) -> Vec<(usize, usize)> {
    let win = (cfg.window_secs * SR) as usize;
    let hop = ((cfg.hop_secs * SR) as usize).max(1);
    let min = (0.4 * SR) as usize;
    let mut out = Vec::new();
    for &(a, b) in regions {
        if b - a < min {
            continue;
        }
        if b - a <= win {
            out.push((a, b));
            continue;
        }
        let mut s = a;
        while s + win <= b {
            out.push((s, s + win));
            s += hop;
        }
        if out.last().is_some_and(|w| w.1 < b) {
            out.push((b - win, b));
        }
    }
    out
}

/// Loads the model (installing it on first use) and the enrolled voices under `home`, then
/// diarizes.
pub fn diarize_voice(mono: &[f32], cfg: &VoiceConfig, home: &Path) -> Result<Diarization, Error> {
    cfg.count.validate()?;
    let regions = speech(mono);
    if regions.is_empty() {
        return Ok(Diarization {
            mode: Mode::Voice,
            ..Default::default()
        });
    }
    let model = crate::install::load(home)?;
    let profiles = if cfg.use_known_voices {
        known::list(home)?
    } else {
        Vec::new()
    };
    diarize_with(mono, &regions, cfg, &model, &profiles)
}

/// Diarizes with a given embedder and enrolled voices (the seam tests and benchmarks use).
pub fn diarize_with(
    mono: &[f32],
    regions: &[(usize, usize)],
    cfg: &VoiceConfig,
    embedder: &dyn Embedder,
    profiles: &[VoiceProfile],
) -> Result<Diarization, Error> {
    cfg.count.validate()?;
    let mut d = Diarization {
        mode: Mode::Voice,
        ..Default::default()
    };
    let (wins, emb) = if cfg.chunk_secs > 0.0 {
        embed_chunked(mono, regions, cfg, embedder)?
    } else {
        let wins = windows(regions, cfg);
        let clips: Vec<&[f32]> = wins
            .iter()
            .map(|&(a, b)| &mono[a..b.min(mono.len())])
            .collect();
        let emb = embedder.embed(&clips)?;
        (wins, emb)
    };
    if wins.is_empty() {
        return Ok(d);
    }
    let labels = cluster_windows(&emb, &wins, cfg);

    // Every 10 ms of speech takes the label of the window whose centre is nearest.
    const STEP: usize = 160;
    let mut raw: Vec<(f64, f64, usize)> = Vec::new();
    for &(a, b) in regions {
        let mut s = a;
        while s < b {
            let e = (s + STEP).min(b);
            let mid = (s + e) / 2;
            let nearest = wins
                .iter()
                .enumerate()
                .min_by_key(|(_, w)| ((w.0 + w.1) / 2).abs_diff(mid))
                .map(|(i, _)| labels[i]);
            if let Some(l) = nearest {
                match raw.last_mut() {
                    Some(last) if last.2 == l && (last.1 - s as f64 / SR).abs() < 1e-9 => {
                        last.1 = e as f64 / SR
                    }
                    _ => raw.push((s as f64 / SR, e as f64 / SR, l)),
                }
            }
            s = e;
        }
    }

    // Name clusters: enrolled voices first, the rest SPEAKER_n by first appearance.
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let centroids = centroids(&emb, &labels, k);
    for a in &centroids {
        let sims: Vec<f32> = centroids.iter().map(|b| cosine(a, b)).collect();
        tracing::debug!(?sims, "cluster centroid similarities");
    }
    let named = known::match_clusters(&centroids, profiles, cfg.known_threshold);
    let mut ids: Vec<Option<String>> = vec![None; k];
    let mut n = 0;
    for &(_, _, l) in &raw {
        if ids[l].is_none() {
            let info = match &named[l] {
                Some(p) => SpeakerInfo {
                    id: p.name.clone(),
                    label: Some(p.name.clone()),
                    role: p.role.clone(),
                    channel: None,
                },
                None => {
                    n += 1;
                    SpeakerInfo::anonymous(n, None)
                }
            };
            ids[l] = Some(info.id.clone());
            d.speakers.push(info);
        }
    }
    for (s, e, l) in raw {
        if let Some(id) = &ids[l] {
            d.turns.push(Turn {
                start: s,
                end: e,
                speaker: id.clone(),
                channel: None,
            });
        }
    }
    Ok(d)
}

/// Clusters window embeddings. With an automatic count, small spurious clusters are folded into
/// big ones. With a forced lower bound (`--num-speakers`, `--min-speakers`) plain AHC stops at N
/// clusters of which some may be a handful of odd windows (measured: DER 46% on the real
/// two-speaker sample with `--num-speakers 2`), so the cut is lowered until N clusters are big
/// enough, and the small rest is folded into them.
fn cluster_windows(emb: &[Vec<f32>], wins: &[(usize, usize)], cfg: &VoiceConfig) -> Vec<usize> {
    // The automatic answer first: when it satisfies the bounds it is the best cut.
    let mut auto = cluster::ahc(emb, cfg.threshold, SpeakerCount::default());
    fold_small_clusters(&mut auto, emb, wins, cfg);
    let k_auto = auto.iter().copied().max().map_or(0, |m| m + 1);
    let c = cfg.count;
    let fits = |k: usize| {
        c.num.is_none_or(|n| k == n) && c.min.is_none_or(|m| k >= m) && c.max.is_none_or(|m| k <= m)
    };
    if fits(k_auto) {
        return auto;
    }
    let mut labels = cluster::ahc(emb, cfg.threshold, cfg.count);
    let Some(want) = cfg.count.num.or(cfg.count.min) else {
        // Only an upper bound, exceeded: plain AHC down to it.
        return labels;
    };
    for extra in 0..=10 {
        let mut count = cfg.count;
        count.num = None;
        count.min = Some(want + extra);
        count.max = match cfg.count.num {
            Some(n) => Some(n + extra),
            None => cfg.count.max.map(|m| m.saturating_add(extra)),
        };
        let mut l = cluster::ahc(emb, cfg.threshold, count);
        fold_small_clusters(&mut l, emb, wins, cfg);
        let k = l.iter().copied().max().map_or(0, |m| m + 1);
        if k >= want.min(emb.len()) {
            labels = l;
            if cfg.count.num.is_none_or(|n| k == n) {
                break;
            }
        }
    }
    labels
}

/// Windows and embeddings with one network pass per chunk of speech (see
/// [`VoiceConfig::chunk_secs`]).
#[allow(clippy::type_complexity)]
fn embed_chunked(
    mono: &[f32],
    regions: &[(usize, usize)],
    cfg: &VoiceConfig,
    embedder: &dyn Embedder,
) -> Result<(Vec<(usize, usize)>, Vec<Vec<f32>>), Error> {
    let max = ((cfg.chunk_secs.max(cfg.window_secs)) * SR) as usize;
    let mut chunks = Vec::new();
    for &(a, b) in regions {
        let n = (b - a).div_ceil(max).max(1);
        let step = (b - a).div_ceil(n);
        let mut s = a;
        while s < b {
            chunks.push((s, (s + step).min(b)));
            s += step;
        }
    }
    let mut wins = Vec::new();
    let mut emb = Vec::new();
    for &(a, b) in &chunks {
        let w = windows(&[(a, b)], cfg);
        if w.is_empty() {
            continue;
        }
        let rel: Vec<(usize, usize)> = w.iter().map(|&(x, y)| (x - a, y - a)).collect();
        emb.extend(embedder.embed_chunk(&mono[a..b.min(mono.len())], &rel)?);
        wins.extend(w);
    }
    Ok((wins, emb))
}

/// L2-normalised mean embedding of each of the `k` clusters.
fn centroids(emb: &[Vec<f32>], labels: &[usize], k: usize) -> Vec<Vec<f32>> {
    (0..k)
        .map(|c| {
            let mut m = vec![0f32; crate::campplus::EMBEDDING_DIM];
            for (e, _) in emb.iter().zip(labels).filter(|(_, l)| **l == c) {
                m.iter_mut().zip(e).for_each(|(a, b)| *a += b);
            }
            normalise(&mut m);
            m
        })
        .collect()
}

/// Reassigns windows of clusters too small to be a participant to the most similar big cluster.
fn fold_small_clusters(
    labels: &mut [usize],
    emb: &[Vec<f32>],
    wins: &[(usize, usize)],
    cfg: &VoiceConfig,
) {
    let k = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut dur = vec![0f64; k];
    for (l, w) in labels.iter().zip(wins) {
        dur[*l] += (w.1 - w.0) as f64 / SR;
    }
    let total: f64 = dur.iter().sum();
    let minor: Vec<bool> = dur.iter().map(|&d| d < cfg.min_cluster_secs).collect();
    let centroids = centroids(emb, labels, k);
    let small: Vec<bool> = (0..k)
        .map(|i| {
            minor[i]
                && (dur[i] < cfg.min_cluster_share * total
                    || (0..k).any(|j| {
                        !minor[j] && cosine(&centroids[i], &centroids[j]) >= cfg.fold_similarity
                    }))
        })
        .collect();
    if small.iter().all(|&s| s) {
        return;
    }
    for i in 0..labels.len() {
        if small[labels[i]] {
            let mut best = (f32::NEG_INFINITY, labels[i]);
            for j in 0..labels.len() {
                if !small[labels[j]] {
                    let s = cosine(&emb[i], &emb[j]);
                    if s > best.0 {
                        best = (s, labels[j]);
                    }
                }
            }
            labels[i] = best.1;
        }
    }
}
