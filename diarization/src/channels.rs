//! Channel mode: one microphone per seat. Every microphone also hears the others (bleed, typically
//! −10…−20 dB), so "loudest channel wins" (whisper.cpp's stereo rule: energy > 1.1 × the other)
//! both misses overtalk and flips on loud bleed. Instead:
//!
//! 1. channels that are copies of another (a stereo file with the same signal twice, a splitter)
//!    and dead channels are found by correlation at equal level and set aside;
//! 2. speech is detected with earshot on the loudest channel of each 16 ms frame;
//! 3. the bleed gain from every channel `d` into every channel `c` is measured on the data: the
//!    median level difference `e_c − e_d` over frames where `d` clearly dominates;
//! 4. in each speech frame a channel is active when its energy exceeds what bleed from all other
//!    channels (plus its own noise floor) would explain, by a margin with hysteresis. Two people
//!    talking at once both exceed their bleed, so overtalk comes out as overlapping turns;
//! 5. gaps shorter than a breath are closed and blips shorter than a syllable dropped.

use crate::frames::{self, FRAME};

/// Frame energy (dBFS) below which a frame is digital silence: no microphone is that quiet (one
/// 16-bit step is about −101 dBFS).
const DIGITAL_SILENCE_DB: f32 = -90.0;

/// Tuning. Defaults were chosen on the English synthetic hearing of `../shared/eval` and espeak
/// fixtures; the Vietnamese hearing and the real 2-channel file are held out.
#[derive(Debug, Clone)]
pub struct ChannelConfig {
    /// dB above the explained (bleed + noise) level at which a channel starts speaking.
    pub onset_db: f32,
    /// dB above the explained level below which it stops.
    pub offset_db: f32,
    /// A channel must also be this far (dB) above its own noise floor.
    pub floor_margin_db: f32,
    /// Pauses shorter than this (s) inside one person's speech do not end the turn.
    pub min_gap_secs: f64,
    /// Turns shorter than this (s) are dropped (coughs, clicks).
    pub min_turn_secs: f64,
    /// Speech detection is widened by this much (s) on both sides so soft word edges are kept.
    pub vad_pad_secs: f64,
    /// Pearson correlation above which two channels are one signal.
    pub duplicate_correlation: f64,
    /// Bleed assumed (dB) for a pair never observed (a seat that never spoke): the loud end of the
    /// usual range, so bleed is not mistaken for speech.
    pub default_bleed_db: f32,
}

impl Default for ChannelConfig {
    fn default() -> Self {
        Self {
            onset_db: 6.0,
            offset_db: 3.0,
            floor_margin_db: 10.0,
            min_gap_secs: 0.5,
            min_turn_secs: 0.25,
            vad_pad_secs: 0.25,
            duplicate_correlation: 0.98,
            default_bleed_db: -8.0,
        }
    }
}

/// What channel attribution found.
#[derive(Debug, Clone, Default)]
pub struct ChannelAttribution {
    /// Distinct live channels, in file order.
    pub channels: Vec<usize>,
    /// `(copy, original)`: channels that carry the same signal as an earlier one.
    pub duplicates: Vec<(usize, usize)>,
    /// Channels with no signal at all.
    pub dead: Vec<usize>,
    /// Speech turns `(start, end)` in seconds, per entry of `channels`.
    pub turns: Vec<Vec<(f64, f64)>>,
    /// Measured bleed in dB, `bleed_db[d][c]` = level on `channels[c]` when `channels[d]` speaks.
    pub bleed_db: Vec<Vec<f32>>,
}

/// Finds which of `channels` (16 kHz) are distinct, copies of an earlier one, or dead.
pub fn distinct_channels(
    channels: &[Vec<f32>],
    min_corr: f64,
) -> (Vec<usize>, Vec<(usize, usize)>, Vec<usize>) {
    let n = channels.iter().map(Vec::len).min().unwrap_or(0);
    let stats: Vec<(f64, f64)> = channels
        .iter()
        .map(|x| {
            let m = x[..n].iter().map(|&v| v as f64).sum::<f64>() / n.max(1) as f64;
            let var = x[..n].iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / n.max(1) as f64;
            (m, var)
        })
        .collect();
    let (mut reps, mut dups, mut dead): (Vec<usize>, Vec<(usize, usize)>, Vec<usize>) =
        (Vec::new(), Vec::new(), Vec::new());
    'outer: for (c, x) in channels.iter().enumerate() {
        // Below −90 dBFS RMS there is no microphone behind the channel.
        if stats[c].1 < 1e-9 {
            dead.push(c);
            continue;
        }
        for &r in &reps {
            let y: &[f32] = &channels[r][..];
            let (mc, mr): (f64, f64) = (stats[c].0, stats[r].0);
            // Every other sample is plenty for a correlation over a whole hearing.
            let mut cov = 0.0;
            let mut k = 0usize;
            for i in (0..n).step_by(2) {
                cov += (x[i] as f64 - mc) * (y[i] as f64 - mr);
                k += 1;
            }
            let corr = cov / k.max(1) as f64 / (stats[c].1 * stats[r].1).sqrt();
            // A copy also has the same level: a seat alone in the room makes every other mic a
            // scaled, highly correlated copy of it, but 10 dB or more quieter (bleed).
            let level_db = 10.0 * (stats[c].1 / stats[r].1).log10();
            if corr >= min_corr && level_db.abs() <= 3.0 {
                dups.push((c, r));
                continue 'outer;
            }
        }
        reps.push(c);
    }
    (reps, dups, dead)
}

/// Attributes speech to microphones. `channels` are 16 kHz signals of one recording.
pub fn attribute(channels: &[Vec<f32>], cfg: &ChannelConfig) -> ChannelAttribution {
    let (reps, duplicates, dead) = distinct_channels(channels, cfg.duplicate_correlation);
    let mut out = ChannelAttribution {
        channels: reps.clone(),
        duplicates,
        dead,
        ..Default::default()
    };
    if reps.is_empty() {
        return out;
    }
    let n_samples = reps.iter().map(|&c| channels[c].len()).min().unwrap_or(0);
    let e: Vec<Vec<f32>> = reps
        .iter()
        .map(|&c| frames::energies_db(&channels[c][..n_samples]))
        .collect();
    let nf = e[0].len();
    let k = reps.len();
    // Each channel's noise floor. Frames of digital silence (synthesised speech, a muted input
    // between words) are not a floor: measured from them, a faint room-noise floor elsewhere on
    // the channel would look like speech 40 dB above it.
    let floor: Vec<f32> = e
        .iter()
        .map(|v| {
            let live: Vec<f32> = v
                .iter()
                .copied()
                .filter(|&x| x > DIGITAL_SILENCE_DB)
                .collect();
            frames::quantile(&live, 0.05).unwrap_or(-100.0)
        })
        .collect();

    // Loudest channel of each frame (relative to its own floor, so a hot preamp does not win).
    let loudest: Vec<usize> = (0..nf)
        .map(|t| {
            (0..k)
                .max_by(|&a, &b| (e[a][t] - floor[a]).total_cmp(&(e[b][t] - floor[b])))
                .unwrap_or(0)
        })
        .collect();
    let mut splice = vec![0f32; n_samples];
    for (t, &c) in loudest.iter().enumerate() {
        let a = t * FRAME;
        let b = (a + FRAME).min(n_samples);
        splice[a..b].copy_from_slice(&channels[reps[c]][a..b]);
    }
    let scores = frames::speech_scores(&splice);
    let mut speech = frames::hysteresis(&scores, 0.5, 0.35);
    frames::clean(&mut speech, frames::secs(0.3), frames::secs(0.1));
    let gate = frames::dilate(&speech, frames::secs(cfg.vad_pad_secs));

    // Bleed gains from the data.
    let mut bleed = vec![vec![0f32; k]; k];
    for d in 0..k {
        let dominant: Vec<usize> = (0..nf)
            .filter(|&t| speech[t] && loudest[t] == d && e[d][t] > floor[d] + 20.0)
            .collect();
        for c in 0..k {
            if c == d {
                continue;
            }
            let diffs: Vec<f32> = dominant.iter().map(|&t| e[c][t] - e[d][t]).collect();
            bleed[d][c] = if diffs.len() >= 30 {
                frames::quantile(&diffs, 0.5)
                    .unwrap_or(cfg.default_bleed_db)
                    .min(0.0)
            } else {
                cfg.default_bleed_db
            };
        }
    }

    for c in 0..k {
        let excess: Vec<f32> = (0..nf)
            .map(|t| {
                if !gate[t] || e[c][t] < floor[c] + cfg.floor_margin_db {
                    return -100.0;
                }
                let mut explained = 10f64.powf(floor[c] as f64 / 10.0);
                for d in 0..k {
                    if d != c {
                        explained += 10f64.powf((e[d][t] + bleed[d][c]) as f64 / 10.0);
                    }
                }
                e[c][t] - (10.0 * explained.log10()) as f32
            })
            .collect();
        let mut active = frames::hysteresis(&excess, cfg.onset_db, cfg.offset_db);
        frames::clean(
            &mut active,
            frames::secs(cfg.min_gap_secs),
            frames::secs(cfg.min_turn_secs),
        );
        out.turns.push(
            frames::runs(&active)
                .into_iter()
                .map(|(a, b)| {
                    (
                        a as f64 * frames::FRAME_SECS,
                        (b as f64 * frames::FRAME_SECS).min(n_samples as f64 / 16_000.0),
                    )
                })
                .collect(),
        );
    }
    out.bleed_db = bleed;
    out
}
