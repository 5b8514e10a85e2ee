//! Whisper's mel filter bank, computed instead of shipped.
//!
//! OpenAI generated `mel_filters.npz` with `librosa.filters.mel(sr=16000, n_fft=400,
//! n_mels=80|128)`: the Slaney mel scale (linear below 1 kHz, logarithmic above) with
//! Slaney area normalisation (each triangle scaled by 2 / its width in Hz). We reproduce that
//! formula in f64 and round to f32 at the end, as librosa does.

/// Sample rate the filters are built for, in Hz.
pub const SAMPLE_RATE_HZ: f64 = 16_000.0;
/// FFT window length in samples (25 ms at 16 kHz).
pub const N_FFT: usize = 400;

/// Hz → mel on the Slaney scale (librosa's default, `htk=False`).
pub fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        MIN_LOG_MEL + (hz / MIN_LOG_HZ).ln() / logstep
    } else {
        hz / F_SP
    }
}

/// Mel → Hz on the Slaney scale.
pub fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    const MIN_LOG_MEL: f64 = MIN_LOG_HZ / F_SP;
    let logstep = 6.4f64.ln() / 27.0;
    if mel >= MIN_LOG_MEL {
        MIN_LOG_HZ * (logstep * (mel - MIN_LOG_MEL)).exp()
    } else {
        F_SP * mel
    }
}

/// The `n_mels × (N_FFT/2 + 1)` filter bank, row-major (one row per mel band).
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    let n_bins = N_FFT / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_bins)
        .map(|k| k as f64 * SAMPLE_RATE_HZ / N_FFT as f64)
        .collect();
    // n_mels + 2 band edges, equally spaced in mel between 0 Hz and Nyquist.
    let (lo, hi) = (hz_to_mel(0.0), hz_to_mel(SAMPLE_RATE_HZ / 2.0));
    let edges: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(lo + (hi - lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut out = Vec::with_capacity(n_mels * n_bins);
    for m in 0..n_mels {
        let (left, centre, right) = (edges[m], edges[m + 1], edges[m + 2]);
        let norm = 2.0 / (right - left);
        for &f in &fft_freqs {
            let rising = (f - left) / (centre - left);
            let falling = (right - f) / (right - centre);
            out.push((rising.min(falling).max(0.0) * norm) as f32);
        }
    }
    out
}
