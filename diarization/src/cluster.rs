//! Agglomerative clustering of speaker embeddings (average linkage on cosine similarity) with an
//! automatic speaker count: merging stops when the two closest clusters are less similar than a
//! threshold, unless the caller fixed or bounded the count.

/// Bounds on the number of speakers; all optional.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpeakerCount {
    /// Exactly this many (overrides min/max).
    pub num: Option<usize>,
    pub min: Option<usize>,
    pub max: Option<usize>,
}

impl SpeakerCount {
    /// Refuses contradictions (`min > max`, zero).
    pub fn validate(&self) -> Result<(), crate::Error> {
        let bad = |m: &str| Err(crate::Error::Request(m.into()));
        if self.num == Some(0) || self.max == Some(0) {
            return bad("the number of speakers must be at least 1");
        }
        if let (Some(a), Some(b)) = (self.min, self.max)
            && a > b
        {
            return bad("--min-speakers is larger than --max-speakers");
        }
        Ok(())
    }
}

/// Cosine similarity of two L2-normalised vectors.
pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// L2-normalises in place (zero vectors stay zero).
pub fn normalise(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// Cluster label per embedding (labels `0..k`, numbered by first appearance). `weights` are the
/// items' durations: a count bound never keeps a cluster alive at the expense of the threshold.
pub fn ahc(embeddings: &[Vec<f32>], threshold: f32, count: SpeakerCount) -> Vec<usize> {
    let n = embeddings.len();
    if n == 0 {
        return Vec::new();
    }
    let mut sim = vec![vec![0f32; n]; n];
    for i in 0..n {
        for j in i + 1..n {
            let s = cosine(&embeddings[i], &embeddings[j]);
            sim[i][j] = s;
            sim[j][i] = s;
        }
    }
    let mut size = vec![1usize; n];
    let mut alive: Vec<bool> = vec![true; n];
    let mut parent: Vec<usize> = (0..n).collect();
    let mut k = n;
    let (lo, hi) = match count.num {
        Some(c) => (c, c),
        None => (count.min.unwrap_or(1), count.max.unwrap_or(usize::MAX)),
    };
    while k > 1 {
        let mut best = (f32::NEG_INFINITY, 0, 0);
        for i in 0..n {
            if !alive[i] {
                continue;
            }
            for j in i + 1..n {
                if alive[j] && sim[i][j] > best.0 {
                    best = (sim[i][j], i, j);
                }
            }
        }
        let (s, i, j) = best;
        let must = k > hi;
        let may = k > lo && s >= threshold;
        if !(must || may) {
            break;
        }
        // Lance–Williams update for average linkage.
        for m in 0..n {
            if alive[m] && m != i && m != j {
                let v = (size[i] as f32 * sim[i][m] + size[j] as f32 * sim[j][m])
                    / (size[i] + size[j]) as f32;
                sim[i][m] = v;
                sim[m][i] = v;
            }
        }
        size[i] += size[j];
        alive[j] = false;
        parent[j] = i;
        k -= 1;
    }
    let root = |mut x: usize| {
        while parent[x] != x {
            x = parent[x];
        }
        x
    };
    let mut names: Vec<usize> = Vec::new();
    (0..n)
        .map(|i| {
            let r = root(i);
            match names.iter().position(|&x| x == r) {
                Some(p) => p,
                None => {
                    names.push(r);
                    names.len() - 1
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(x: f32, y: f32) -> Vec<f32> {
        let mut a = vec![x, y];
        normalise(&mut a);
        a
    }

    #[test]
    fn two_groups_found_automatically_and_counts_obeyed() {
        let e = vec![
            v(1.0, 0.0),
            v(1.0, 0.1),
            v(0.0, 1.0),
            v(0.1, 1.0),
            v(1.0, 0.05),
        ];
        assert_eq!(ahc(&e, 0.5, SpeakerCount::default()), vec![0, 0, 1, 1, 0]);
        let one = ahc(
            &e,
            0.5,
            SpeakerCount {
                num: Some(1),
                ..Default::default()
            },
        );
        assert!(one.iter().all(|&l| l == 0));
        let three = ahc(
            &e,
            0.5,
            SpeakerCount {
                min: Some(3),
                ..Default::default()
            },
        );
        assert_eq!(three.iter().max(), Some(&2));
    }
}
