//! Frame-level helpers shared by both modes: 16 ms frames (256 samples at 16 kHz, earshot's frame),
//! energies in dB, earshot speech scores, and turning per-frame decisions into runs.

/// Samples per analysis frame at 16 kHz: 256 = 16 ms, earshot's frame size.
pub const FRAME: usize = 256;
/// Seconds per frame.
pub const FRAME_SECS: f64 = FRAME as f64 / 16_000.0;

/// Energy of each frame in dB (mean square, 32 ms window centred on the 16 ms frame so short
/// plosive gaps do not flicker).
pub fn energies_db(x: &[f32]) -> Vec<f32> {
    let n = x.len().div_ceil(FRAME);
    (0..n)
        .map(|i| {
            let a = (i * FRAME).saturating_sub(FRAME / 2);
            let b = (i * FRAME + FRAME + FRAME / 2).min(x.len());
            let s = &x[a.min(b)..b];
            let ms = if s.is_empty() {
                0.0
            } else {
                s.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>() / s.len() as f64
            };
            (10.0 * (ms + 1e-10).log10()) as f32
        })
        .collect()
}

/// earshot speech probability of every frame of `x` (16 kHz).
pub fn speech_scores(x: &[f32]) -> Vec<f32> {
    let mut det = earshot::Detector::default();
    let mut frame = [0f32; FRAME];
    x.chunks(FRAME)
        .map(|c| {
            frame[..c.len()].copy_from_slice(c);
            frame[c.len()..].fill(0.0);
            det.predict_f32(&frame)
        })
        .collect()
}

/// Hysteresis: on at `onset`, stays on while `>= offset`.
pub fn hysteresis(v: &[f32], onset: f32, offset: f32) -> Vec<bool> {
    let mut on = false;
    v.iter()
        .map(|&s| {
            on = if on { s >= offset } else { s >= onset };
            on
        })
        .collect()
}

/// Runs of `true` as `[start, end)` frame ranges.
pub fn runs(mask: &[bool]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut open = None;
    for (i, &m) in mask.iter().enumerate() {
        match (m, open) {
            (true, None) => open = Some(i),
            (false, Some(s)) => {
                out.push((s, i));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(s) = open {
        out.push((s, mask.len()));
    }
    out
}

/// Closes gaps shorter than `min_gap` frames, then drops runs shorter than `min_run` frames.
pub fn clean(mask: &mut [bool], min_gap: usize, min_run: usize) {
    let r = runs(mask);
    for w in r.windows(2) {
        if w[1].0 - w[0].1 < min_gap {
            mask[w[0].1..w[1].0].fill(true);
        }
    }
    for (a, b) in runs(mask) {
        if b - a < min_run {
            mask[a..b].fill(false);
        }
    }
}

/// Grows every run by `pad` frames on both sides.
pub fn dilate(mask: &[bool], pad: usize) -> Vec<bool> {
    let mut out = vec![false; mask.len()];
    for (a, b) in runs(mask) {
        out[a.saturating_sub(pad)..(b + pad).min(mask.len())].fill(true);
    }
    out
}

/// Frames for a duration in seconds.
pub fn secs(s: f64) -> usize {
    (s / FRAME_SECS).round() as usize
}

/// `q`-quantile (0..=1) of `v` (NaN-free); `None` when empty.
pub fn quantile(v: &[f32], q: f64) -> Option<f32> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f32::total_cmp);
    let i = ((s.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    Some(s[i])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_fills_gaps_and_drops_blips() {
        let mut m = vec![
            false, true, true, false, true, true, false, false, false, true, false,
        ];
        clean(&mut m, 2, 2);
        assert_eq!(runs(&m), vec![(1, 6)]);
    }
}
