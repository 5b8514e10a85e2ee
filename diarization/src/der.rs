//! Diarization error rate, scored the usual way (NIST md-eval conventions): time is cut into
//! 10 ms frames; in each frame with `R` reference and `H` hypothesis speakers the error is
//! `max(R, H) − correct`, where `correct` counts reference speakers matched to their mapped
//! hypothesis speaker; the one-to-one speaker mapping maximises total matched time. Overlapped
//! speech counts (a frame with two reference speakers needs two hypothesis speakers). Frames within
//! `collar` seconds of a reference turn boundary are not scored.

use crate::Turn;

const STEP_SECS: f64 = 0.01;

/// Scored result; times in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DerReport {
    /// Scored reference speech (overlap counted once per speaker).
    pub reference: f64,
    pub missed: f64,
    pub false_alarm: f64,
    pub confusion: f64,
}

impl DerReport {
    /// (missed + false alarm + confusion) / reference speech; 0 when nothing was to be found and
    /// nothing was found.
    pub fn der(&self) -> f64 {
        let err = self.missed + self.false_alarm + self.confusion;
        if self.reference <= 0.0 {
            if err > 0.0 { 1.0 } else { 0.0 }
        } else {
            err / self.reference
        }
    }
}

fn speakers(turns: &[Turn]) -> Vec<String> {
    let mut names: Vec<String> = turns.iter().map(|t| t.speaker.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// Per-frame speaker sets as bitmasks-by-index vectors.
fn frames(turns: &[Turn], names: &[String], n: usize) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); n];
    for t in turns {
        let Some(k) = names.iter().position(|s| *s == t.speaker) else {
            continue;
        };
        let a = ((t.start / STEP_SECS).round().max(0.0) as usize).min(n);
        let b = ((t.end / STEP_SECS).round().max(0.0) as usize).min(n);
        for f in out.iter_mut().take(b).skip(a) {
            if !f.contains(&k) {
                f.push(k);
            }
        }
    }
    out
}

/// Scores `hypothesis` against `reference`.
pub fn score(reference: &[Turn], hypothesis: &[Turn], collar: f64) -> DerReport {
    let end = reference
        .iter()
        .chain(hypothesis)
        .map(|t| t.end)
        .fold(0.0, f64::max);
    let n = (end / STEP_SECS).ceil() as usize + 1;
    let rn = speakers(reference);
    let hn = speakers(hypothesis);
    let rf = frames(reference, &rn, n);
    let hf = frames(hypothesis, &hn, n);

    let mut scored = vec![true; n];
    if collar > 0.0 {
        let c = (collar / STEP_SECS).round() as isize;
        for t in reference {
            for edge in [t.start, t.end] {
                let e = (edge / STEP_SECS).round() as isize;
                for i in (e - c).max(0)..(e + c).min(n as isize) {
                    scored[i as usize] = false;
                }
            }
        }
    }

    // Co-occurrence time for the optimal mapping.
    let mut co = vec![vec![0f64; hn.len()]; rn.len()];
    for i in 0..n {
        if !scored[i] {
            continue;
        }
        for &r in &rf[i] {
            for &h in &hf[i] {
                co[r][h] += STEP_SECS;
            }
        }
    }
    let mapping = best_mapping(&co);

    let mut rep = DerReport {
        reference: 0.0,
        missed: 0.0,
        false_alarm: 0.0,
        confusion: 0.0,
    };
    for i in 0..n {
        if !scored[i] {
            continue;
        }
        let (r, h) = (rf[i].len() as f64, hf[i].len() as f64);
        let correct = rf[i]
            .iter()
            .filter(|&&r| mapping[r].is_some_and(|m| hf[i].contains(&m)))
            .count() as f64;
        rep.reference += r * STEP_SECS;
        rep.missed += (r - h).max(0.0) * STEP_SECS;
        rep.false_alarm += (h - r).max(0.0) * STEP_SECS;
        rep.confusion += (r.min(h) - correct) * STEP_SECS;
    }
    rep
}

/// Reference index → hypothesis index maximising the summed co-occurrence (exhaustive for the
/// small speaker counts of a hearing, greedy beyond 8 speakers).
fn best_mapping(co: &[Vec<f64>]) -> Vec<Option<usize>> {
    let nr = co.len();
    let nh = co.first().map_or(0, Vec::len);
    let mut best = vec![None; nr];
    if nr == 0 || nh == 0 {
        return best;
    }
    if nr <= 8 && nh <= 8 {
        let mut cur = vec![None; nr];
        let mut used = vec![false; nh];
        let mut best_score = -1.0;
        search(co, 0, &mut cur, &mut used, 0.0, &mut best, &mut best_score);
        return best;
    }
    let mut pairs: Vec<(f64, usize, usize)> = (0..nr)
        .flat_map(|r| (0..nh).map(move |h| (co[r][h], r, h)))
        .collect();
    pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut used_h = vec![false; nh];
    for (v, r, h) in pairs {
        if v > 0.0 && best[r].is_none() && !used_h[h] {
            best[r] = Some(h);
            used_h[h] = true;
        }
    }
    best
}

fn search(
    co: &[Vec<f64>],
    r: usize,
    cur: &mut Vec<Option<usize>>,
    used: &mut Vec<bool>,
    acc: f64,
    best: &mut Vec<Option<usize>>,
    best_score: &mut f64,
) {
    if r == co.len() {
        if acc > *best_score {
            *best_score = acc;
            best.clone_from(cur);
        }
        return;
    }
    cur[r] = None;
    search(co, r + 1, cur, used, acc, best, best_score);
    for h in 0..used.len() {
        if !used[h] {
            used[h] = true;
            cur[r] = Some(h);
            search(co, r + 1, cur, used, acc + co[r][h], best, best_score);
            used[h] = false;
        }
    }
    cur[r] = None;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: f64, e: f64, who: &str) -> Turn {
        Turn {
            start: s,
            end: e,
            speaker: who.into(),
            channel: None,
        }
    }

    #[test]
    fn perfect_with_other_names_is_zero() {
        let r = [t(0.0, 2.0, "a"), t(2.0, 4.0, "b")];
        let h = [t(0.0, 2.0, "x"), t(2.0, 4.0, "y")];
        assert!(score(&r, &h, 0.0).der() < 1e-9);
    }

    #[test]
    fn swapped_half_is_confusion() {
        let r = [t(0.0, 2.0, "a"), t(2.0, 4.0, "b")];
        let h = [t(0.0, 4.0, "x")];
        let rep = score(&r, &h, 0.0);
        assert!((rep.der() - 0.5).abs() < 0.01, "{rep:?}");
    }

    #[test]
    fn missed_overlap_counts() {
        let r = [t(0.0, 2.0, "a"), t(1.0, 2.0, "b")];
        let h = [t(0.0, 2.0, "x")];
        let rep = score(&r, &h, 0.0);
        assert!(
            (rep.missed - 1.0).abs() < 0.02 && (rep.reference - 3.0).abs() < 0.02,
            "{rep:?}"
        );
    }
}
