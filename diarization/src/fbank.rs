//! Kaldi-style log-mel filterbank, the input CAM++ was trained on (what
//! `torchaudio.compliance.kaldi.fbank` computes with 3D-Speaker's settings): 25 ms Povey windows
//! every 10 ms, DC removed, pre-emphasis 0.97, 512-point power spectrum, 80 triangular mel bands
//! from 20 Hz to Nyquist, natural log; then each window is mean-normalised over time.

use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};

/// Mel bands.
pub const N_MELS: usize = 80;
/// 25 ms at 16 kHz.
const WIN: usize = 400;
/// 10 ms at 16 kHz.
pub const HOP: usize = 160;
const NFFT: usize = 512;

/// Reusable filterbank computer (FFT plan, window and mel weights built once).
pub struct Fbank {
    fft: Arc<dyn RealToComplex<f32>>,
    window: Vec<f32>,
    /// Per mel band: first FFT bin and its weights.
    bands: Vec<(usize, Vec<f32>)>,
}

impl std::fmt::Debug for Fbank {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fbank").finish_non_exhaustive()
    }
}

impl Default for Fbank {
    fn default() -> Self {
        Self::new()
    }
}

fn mel(hz: f64) -> f64 {
    1127.0 * (1.0 + hz / 700.0).ln()
}

impl Fbank {
    pub fn new() -> Self {
        let window = (0..WIN)
            .map(|n| {
                let h =
                    0.5 - 0.5 * (2.0 * std::f64::consts::PI * n as f64 / (WIN - 1) as f64).cos();
                h.powf(0.85) as f32
            })
            .collect();
        let (lo, hi) = (mel(20.0), mel(8000.0));
        let delta = (hi - lo) / (N_MELS + 1) as f64;
        let bands = (0..N_MELS)
            .map(|m| {
                let (l, c, r) = (
                    lo + m as f64 * delta,
                    lo + (m + 1) as f64 * delta,
                    lo + (m + 2) as f64 * delta,
                );
                // Kaldi uses the NFFT/2 bins below Nyquist.
                let w: Vec<f32> = (0..NFFT / 2)
                    .map(|i| {
                        let f = mel(i as f64 * 16_000.0 / NFFT as f64);
                        if f > l && f < r {
                            (if f <= c {
                                (f - l) / (c - l)
                            } else {
                                (r - f) / (r - c)
                            }) as f32
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let first = w.iter().position(|&v| v > 0.0).unwrap_or(0);
                let last = w.iter().rposition(|&v| v > 0.0).map_or(first, |p| p + 1);
                (first, w[first..last.max(first)].to_vec())
            })
            .collect();
        Self {
            fft: RealFftPlanner::<f32>::new().plan_fft_forward(NFFT),
            window,
            bands,
        }
    }

    /// Log-mel frames of 16 kHz `samples`, `[frames][80]`, not normalised. Kaldi's `snip_edges`:
    /// only whole windows, so fewer than 400 samples give no frame.
    pub fn compute(&self, samples: &[f32]) -> Vec<[f32; N_MELS]> {
        if samples.len() < WIN {
            return Vec::new();
        }
        let n = 1 + (samples.len() - WIN) / HOP;
        let mut buf = self.fft.make_input_vec();
        let mut spec = self.fft.make_output_vec();
        let mut scratch = self.fft.make_scratch_vec();
        let mut power = vec![0f32; NFFT / 2];
        let mut out = Vec::with_capacity(n);
        // 3D-Speaker feeds samples in [-1, 1] (torchaudio's float scale), not Kaldi's 16-bit
        // integers: the scale only shifts the log by a constant, but it moves where the log floor
        // bites in near-silence, so keep the scale the model was trained with.
        for i in 0..n {
            let frame = &samples[i * HOP..i * HOP + WIN];
            let mean = frame.iter().sum::<f32>() / WIN as f32;
            for (b, &s) in buf.iter_mut().zip(frame) {
                *b = s - mean;
            }
            for j in (1..WIN).rev() {
                buf[j] -= 0.97 * buf[j - 1];
            }
            buf[0] -= 0.97 * buf[0];
            for (b, w) in buf.iter_mut().zip(&self.window) {
                *b *= w;
            }
            buf[WIN..].fill(0.0);
            if self
                .fft
                .process_with_scratch(&mut buf, &mut spec, &mut scratch)
                .is_err()
            {
                // Buffer sizes come from the plan itself; this cannot fail.
                continue;
            }
            for (p, c) in power.iter_mut().zip(&spec) {
                *p = c.norm_sqr();
            }
            let mut row = [0f32; N_MELS];
            for (r, (first, w)) in row.iter_mut().zip(&self.bands) {
                let e: f32 = w.iter().zip(&power[*first..]).map(|(a, b)| a * b).sum();
                *r = e.max(f32::EPSILON).ln();
            }
            out.push(row);
        }
        out
    }
}

/// Subtracts the per-band mean over the frames (3D-Speaker's per-window mean normalisation).
pub fn mean_normalise(frames: &mut [[f32; N_MELS]]) {
    if frames.is_empty() {
        return;
    }
    let mut mean = [0f32; N_MELS];
    for f in frames.iter() {
        for (m, v) in mean.iter_mut().zip(f) {
            *m += v;
        }
    }
    let n = frames.len() as f32;
    for f in frames.iter_mut() {
        for (v, m) in f.iter_mut().zip(&mean) {
            *v -= m / n;
        }
    }
}
