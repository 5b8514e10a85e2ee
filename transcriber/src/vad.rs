//! Voice activity detection and decoding windows.
//!
//! Court hearings have long recesses, and whisper invents text in silence and loops on it, so no
//! long silence may reach the decoder. earshot (a small pure-Rust network, 16 ms frames) scores
//! every frame; hysteresis and minimum durations turn scores into speech regions; regions are
//! then packed into decoding windows of at most [`MAX_WINDOW_SECS`] in which every pause longer
//! than [`MAX_KEPT_GAP_SECS`] is cut out. Each window keeps the map from its own timeline back to
//! the recording's, so every time reported stays a time in the original audio.

use courtscribe_audio::WHISPER_SAMPLE_RATE;

/// earshot's frame: 256 samples at 16 kHz = 16 ms.
const FRAME_SAMPLES: usize = 256;
const SR: f64 = WHISPER_SAMPLE_RATE as f64;

/// Tuning of the speech/silence decision. Defaults were chosen on the synthetic hearings in
/// `../shared/eval` and on espeak fixtures: they keep one-word answers ("Có.") and split at the
/// breath pauses between turns.
#[derive(Debug, Clone)]
pub struct VadConfig {
    /// A frame whose score reaches this starts speech.
    pub onset: f32,
    /// Speech continues while scores stay above this.
    pub offset: f32,
    /// Regions shorter than this (seconds) are noise clicks, dropped.
    pub min_speech_secs: f64,
    /// Pauses shorter than this (seconds) do not end a region.
    pub min_silence_secs: f64,
    /// Audio kept around each region (seconds) so word onsets and endings are not clipped.
    pub pad_secs: f64,
}

impl Default for VadConfig {
    fn default() -> Self {
        Self {
            onset: 0.5,
            offset: 0.35,
            min_speech_secs: 0.15,
            min_silence_secs: 0.3,
            pad_secs: 0.2,
        }
    }
}

/// A stretch of speech, in samples of the 16 kHz signal, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub start: usize,
    pub end: usize,
}

impl Region {
    pub fn start_secs(&self) -> f64 {
        self.start as f64 / SR
    }
    pub fn end_secs(&self) -> f64 {
        self.end as f64 / SR
    }
}

/// Speech regions of a 16 kHz mono signal (unpadded).
pub fn speech_regions(samples: &[f32], cfg: &VadConfig) -> Vec<Region> {
    let mut regions = scored_regions(samples, cfg);
    regions.retain(|r| !is_stationary(&samples[r.start..r.end]));
    regions
}

fn scored_regions(samples: &[f32], cfg: &VadConfig) -> Vec<Region> {
    let mut detector = earshot::Detector::default();
    let mut frame = [0f32; FRAME_SAMPLES];
    let scores: Vec<f32> = samples
        .chunks(FRAME_SAMPLES)
        .map(|chunk| {
            frame[..chunk.len()].copy_from_slice(chunk);
            frame[chunk.len()..].fill(0.0);
            detector.predict_f32(&frame)
        })
        .collect();
    regions_from_scores(&scores, samples.len(), cfg)
}

fn regions_from_scores(scores: &[f32], n_samples: usize, cfg: &VadConfig) -> Vec<Region> {
    let secs_to_frames = |s: f64| (s * SR / FRAME_SAMPLES as f64).round() as usize;
    let mut raw: Vec<(usize, usize)> = Vec::new();
    let mut open: Option<usize> = None;
    for (i, &score) in scores.iter().enumerate() {
        match open {
            None if score >= cfg.onset => open = Some(i),
            Some(start) if score < cfg.offset => {
                raw.push((start, i));
                open = None;
            }
            _ => {}
        }
    }
    if let Some(start) = open {
        raw.push((start, scores.len()));
    }

    // Bridge short pauses, then drop blips.
    let min_gap = secs_to_frames(cfg.min_silence_secs);
    let mut merged: Vec<(usize, usize)> = Vec::with_capacity(raw.len());
    for (s, e) in raw {
        match merged.last_mut() {
            Some(last) if s - last.1 < min_gap => last.1 = e,
            _ => merged.push((s, e)),
        }
    }
    let min_len = secs_to_frames(cfg.min_speech_secs).max(1);
    merged
        .into_iter()
        .filter(|(s, e)| e - s >= min_len)
        .map(|(s, e)| Region {
            start: s * FRAME_SAMPLES,
            end: (e * FRAME_SAMPLES).min(n_samples),
        })
        .collect()
}

/// FFT size for the stationarity check: 32 ms at 16 kHz.
const STATIONARY_FFT: usize = 512;
/// Spectra compared this far apart (samples): 96 ms, longer than a phoneme.
const STATIONARY_HOP: usize = 1536;
/// Mean similarity of magnitude spectra 96 ms apart above which a region is a steady sound (a
/// tone, a hum, a beep), not speech. Measured (2026-11-23): every speech region of the recordings
/// in `../shared/eval` and of espeak fixtures 0.43–0.65; sine tones, beeps and 50 Hz hum with
/// harmonics > 0.95.
const STATIONARY_SIMILARITY: f32 = 0.9;

/// True when the spectrum of `region` hardly changes over time. The VAD network calls some steady
/// tones voice, and whisper then invents words for them; speech never holds one spectrum.
pub fn is_stationary(region: &[f32]) -> bool {
    stationarity(region) > STATIONARY_SIMILARITY
}

/// Mean cosine similarity of magnitude spectra [`STATIONARY_HOP`] apart (0 for short regions).
/// Magnitudes, not log magnitudes: the noise floor's random bins must not outweigh the peaks
/// that make a sound what it is.
pub fn stationarity(region: &[f32]) -> f32 {
    if region.len() < STATIONARY_FFT + STATIONARY_HOP {
        return 0.0;
    }
    let mut planner = realfft::RealFftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(STATIONARY_FFT);
    let mut input = fft.make_input_vec();
    let mut spectrum = fft.make_output_vec();
    let mut previous: Option<Vec<f32>> = None;
    let (mut sum, mut count) = (0.0f32, 0usize);
    for start in (0..region.len() - STATIONARY_FFT).step_by(STATIONARY_HOP) {
        for (i, (dst, src)) in input
            .iter_mut()
            .zip(&region[start..start + STATIONARY_FFT])
            .enumerate()
        {
            // Hann window.
            let w = 0.5 - 0.5 * (std::f32::consts::TAU * i as f32 / STATIONARY_FFT as f32).cos();
            *dst = src * w;
        }
        if fft.process(&mut input, &mut spectrum).is_err() {
            return 0.0;
        }
        let magnitudes: Vec<f32> = spectrum.iter().map(|c| c.norm()).collect();
        if let Some(prev) = &previous {
            sum += cosine(prev, &magnitudes);
            count += 1;
        }
        previous = Some(magnitudes);
    }
    if count == 0 { 0.0 } else { sum / count as f32 }
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = (a.iter().map(|x| x * x).sum::<f32>() * b.iter().map(|x| x * x).sum::<f32>()).sqrt();
    if norm > 0.0 { dot / norm } else { 0.0 }
}

/// Longest window handed to whisper (its encoder sees 30 s; leave room for the timestamp grid).
pub const MAX_WINDOW_SECS: f64 = 29.0;
/// Pauses longer than this inside a window are shortened to it: enough for whisper to hear a turn
/// change, too short for it to invent words in.
pub const MAX_KEPT_GAP_SECS: f64 = 1.0;
/// A pause this long (seconds) ends a window: no window spans it. Speech on both sides of a recess
/// packed into one window let whisper read the words before the recess while writing the ones
/// after it, and a formula said again after a recess ("Everyone in the courtroom, please rise")
/// read as whisper copying a sentence, which the loop guard paid three retries for.
pub const LONG_PAUSE_SECS: f64 = 5.0;
/// Shortest window of unbroken speech that is cut in two when whisper loops on it ([`Window::split`]):
/// halves of 4 s still hold a sentence or two, and whisper decodes 4 s cleanly.
pub const MIN_SPLIT_SECS: f64 = 8.0;

/// A piece of the recording copied into a window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    /// Where the piece starts in the window, samples.
    pub window_start: usize,
    /// Where it starts in the recording, samples.
    pub source_start: usize,
    pub len: usize,
}

/// Audio for one decoder call, with the map back to recording time.
#[derive(Debug, Clone)]
pub struct Window {
    pub samples: Vec<f32>,
    pub pieces: Vec<Piece>,
}

impl Window {
    /// Recording time (seconds) of a window time (seconds). Times in a cut-out pause map to the
    /// end of the piece before it; times past the end clamp to the last sample.
    pub fn to_source_secs(&self, t: f64) -> f64 {
        let at = (t.max(0.0) * SR) as usize;
        let piece = self
            .pieces
            .iter()
            .rev()
            .find(|p| p.window_start <= at)
            .or(self.pieces.first());
        match piece {
            Some(p) => (p.source_start + (at - p.window_start.min(at)).min(p.len)) as f64 / SR,
            None => t,
        }
    }

    pub fn source_start_secs(&self) -> f64 {
        self.pieces
            .first()
            .map_or(0.0, |p| p.source_start as f64 / SR)
    }

    pub fn source_end_secs(&self) -> f64 {
        self.pieces
            .last()
            .map_or(0.0, |p| (p.source_start + p.len) as f64 / SR)
    }

    pub fn duration_secs(&self) -> f64 {
        self.samples.len() as f64 / SR
    }

    /// The window cut in two: at the piece boundary nearest its middle (a pause), or, in a window
    /// of one piece of speech, at its quietest 100 ms in the middle third. `None` when it is one
    /// piece shorter than [`MIN_SPLIT_SECS`].
    pub fn split(&self) -> Option<(Window, Window)> {
        let len = self.samples.len();
        let middle = len / 2;
        let at = match self
            .pieces
            .iter()
            .skip(1)
            .min_by_key(|p| p.window_start.abs_diff(middle))
        {
            Some(piece) => piece.window_start,
            None if len as f64 >= MIN_SPLIT_SECS * SR => {
                quietest(&self.samples, len / 3, len * 2 / 3)
            }
            None => return None,
        };
        Some((self.slice(0, at), self.slice(at, len)))
    }

    /// The part of the window that holds recording time `from..to` (seconds), or `None` when it
    /// holds none of it.
    pub fn part(&self, from: f64, to: f64) -> Option<Window> {
        let (from, to) = ((from.max(0.0) * SR) as usize, (to.max(0.0) * SR) as usize);
        // Window positions of the first and last recording sample of the span the pieces hold.
        let inside = |p: &Piece| {
            let (s, e) = (from.max(p.source_start), to.min(p.source_start + p.len));
            (s < e).then(|| {
                (
                    p.window_start + s - p.source_start,
                    p.window_start + e - p.source_start,
                )
            })
        };
        let first = self.pieces.iter().find_map(inside)?;
        let last = self.pieces.iter().rev().find_map(inside)?;
        Some(self.slice(first.0, last.1))
    }

    /// Window samples `from..to` as a window of their own, pieces clipped and re-based.
    fn slice(&self, from: usize, to: usize) -> Window {
        let pieces = self
            .pieces
            .iter()
            .filter_map(|p| {
                let (s, e) = (from.max(p.window_start), to.min(p.window_start + p.len));
                (s < e).then(|| Piece {
                    window_start: s - from,
                    source_start: p.source_start + s - p.window_start,
                    len: e - s,
                })
            })
            .collect();
        Window {
            samples: self.samples[from..to].to_vec(),
            pieces,
        }
    }
}

/// Packs padded speech regions into windows. Pauses between regions longer than
/// [`MAX_KEPT_GAP_SECS`] are cut, and one of [`LONG_PAUSE_SECS`] or more starts a new window; a region longer than a window is split at its quietest 100 ms
/// near the limit, so no word is cut in half where it can be avoided.
pub fn windows(samples: &[f32], regions: &[Region], cfg: &VadConfig) -> Vec<Window> {
    let pad = (cfg.pad_secs * SR) as usize;
    let max_len = (MAX_WINDOW_SECS * SR) as usize;
    let max_gap = (MAX_KEPT_GAP_SECS * SR) as usize;
    let long_pause = (LONG_PAUSE_SECS * SR) as usize;

    // Padded regions, merged where padding makes them touch, then split to fit a window.
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for r in regions {
        let (s, e) = (
            r.start.saturating_sub(pad),
            (r.end + pad).min(samples.len()),
        );
        match spans.last_mut() {
            Some(last) if s <= last.1 => last.1 = last.1.max(e),
            _ => spans.push((s, e)),
        }
    }
    let spans: Vec<(usize, usize)> = spans
        .into_iter()
        .flat_map(|(s, e)| split_long(samples, s, e, max_len))
        .collect();

    let mut out: Vec<Window> = Vec::new();
    let mut current = Window {
        samples: Vec::new(),
        pieces: Vec::new(),
    };
    let mut last_end: Option<usize> = None;
    for (s, e) in spans {
        // Keep up to `max_gap` of the real pause before this span, so the decoder hears it.
        let gap_kept = last_end.map_or(0, |le| (s - le).min(max_gap));
        let start = s - gap_kept;
        let after_long_pause = last_end.is_some_and(|le| s - le >= long_pause);
        if !current.samples.is_empty()
            && (after_long_pause || current.samples.len() + (e - start) > max_len)
        {
            out.push(std::mem::replace(
                &mut current,
                Window {
                    samples: Vec::new(),
                    pieces: Vec::new(),
                },
            ));
        }
        // A new window starts at the speech itself, not in the pause before it.
        let start = if current.samples.is_empty() { s } else { start };
        current.pieces.push(Piece {
            window_start: current.samples.len(),
            source_start: start,
            len: e - start,
        });
        current.samples.extend_from_slice(&samples[start..e]);
        last_end = Some(e);
    }
    if !current.samples.is_empty() {
        out.push(current);
    }
    out
}

/// Splits `s..e` into pieces of at most `max_len`, each cut at the quietest 100 ms in the last
/// third of the allowed length.
fn split_long(samples: &[f32], mut s: usize, e: usize, max_len: usize) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    while e - s > max_len {
        let cut = quietest(samples, s + max_len * 2 / 3, s + max_len);
        out.push((s, cut));
        s = cut;
    }
    out.push((s, e));
    out
}

/// The middle of the quietest 100 ms of `samples[lo..hi]`, looked for in 50 ms steps (`hi` when
/// the span is shorter than 100 ms).
fn quietest(samples: &[f32], lo: usize, hi: usize) -> usize {
    let hop = (0.1 * SR) as usize;
    (lo..hi.saturating_sub(hop))
        .step_by(hop / 2)
        .min_by(|&a, &b| energy(&samples[a..a + hop]).total_cmp(&energy(&samples[b..b + hop])))
        .map_or(hi, |c| c + hop / 2)
}

fn energy(x: &[f32]) -> f32 {
    x.iter().map(|v| v * v).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> VadConfig {
        VadConfig::default()
    }

    #[test]
    fn hysteresis_bridges_short_pauses_and_drops_blips() {
        // 16 ms frames: 1 s speech, 0.16 s dip, 1 s speech, 2 s silence, one 16 ms blip.
        let mut scores = vec![0.9; 62];
        scores.extend(vec![0.1; 10]);
        scores.extend(vec![0.9; 62]);
        scores.extend(vec![0.0; 125]);
        scores.push(0.9);
        scores.extend(vec![0.0; 20]);
        let regions = regions_from_scores(&scores, scores.len() * FRAME_SAMPLES, &cfg());
        assert_eq!(regions.len(), 1, "{regions:?}");
        assert_eq!(
            regions[0],
            Region {
                start: 0,
                end: 134 * FRAME_SAMPLES
            }
        );
    }

    /// Speech at 1–3 s and 5.5–7.5 s: 2.1 s of the pause between the padded regions, of which the
    /// one window keeps 1 s.
    fn two_turns_one_window() -> Window {
        let sr = WHISPER_SAMPLE_RATE as usize;
        let samples = vec![0.1f32; 60 * sr];
        let regions = [
            Region {
                start: sr,
                end: 3 * sr,
            },
            Region {
                start: 11 * sr / 2,
                end: 15 * sr / 2,
            },
        ];
        let mut w = windows(&samples, &regions, &cfg());
        assert_eq!(w.len(), 1);
        w.remove(0)
    }

    #[test]
    fn long_pauses_are_cut_and_times_map_back() {
        let w = &two_turns_one_window();
        // 2.4 s + 1 s kept pause + 2.4 s (0.2 s padding either side).
        assert!(
            (w.duration_secs() - 5.8).abs() < 0.01,
            "{}",
            w.duration_secs()
        );
        assert!((w.to_source_secs(0.2) - 1.0).abs() < 0.01);
        // 1 s after the first piece ends, inside the kept pause.
        assert!(
            (w.to_source_secs(2.4 + 1.0 + 0.2) - 5.5).abs() < 0.01,
            "{}",
            w.to_source_secs(3.6)
        );
        assert!((w.source_end_secs() - 7.7).abs() < 0.01);
    }

    #[test]
    fn unbroken_speech_is_split_at_its_quietest_moment_mid_window() {
        let sr = WHISPER_SAMPLE_RATE as usize;
        // 12 s of unbroken "speech" from 40 s on, with a 150 ms dip at 5.5 s into it.
        let mut samples: Vec<f32> = (0..12 * sr)
            .map(|i| (i as f32 * 0.05).sin() * 0.3)
            .collect();
        let dip = 11 * sr / 2;
        for s in &mut samples[dip..dip + 3 * sr / 20] {
            *s *= 0.01;
        }
        let one_piece = |samples: Vec<f32>| Window {
            pieces: vec![Piece {
                window_start: 0,
                source_start: 40 * sr,
                len: samples.len(),
            }],
            samples,
        };
        let (left, right) = one_piece(samples.clone())
            .split()
            .expect("long enough to split");
        let cut = left.duration_secs();
        assert!((5.5..5.65).contains(&cut), "cut at {cut} s");
        assert!((right.source_start_secs() - (40.0 + cut)).abs() < 1e-9);
        assert!((right.source_end_secs() - 52.0).abs() < 1e-9);
        // Too short to halve: the temperature ladder takes it.
        samples.truncate(7 * sr);
        assert!(one_piece(samples).split().is_none());
    }

    #[test]
    fn a_part_of_a_window_keeps_recording_time() {
        // Pieces holding 0.8–3.2 s and (with the kept pause) 4.3–7.7 s.
        let w = &two_turns_one_window();
        let part = w.part(5.0, 7.0).expect("inside the second piece");
        assert!((part.duration_secs() - 2.0).abs() < 0.01);
        assert!((part.to_source_secs(0.5) - 5.5).abs() < 0.01);
        // Across the cut pause: 2.0–3.2 s, then 4.3–6.0 s.
        let part = w.part(2.0, 6.0).expect("across both pieces");
        assert!(
            (part.duration_secs() - 2.9).abs() < 0.01,
            "{}",
            part.duration_secs()
        );
        assert!((part.to_source_secs(1.7) - 4.8).abs() < 0.01);
        assert!((part.source_end_secs() - 6.0).abs() < 0.01);
        assert!(w.part(20.0, 30.0).is_none());
    }

    #[test]
    fn a_recess_ends_the_window() {
        let sr = WHISPER_SAMPLE_RATE as usize;
        let samples = vec![0.1f32; 60 * sr];
        // Speech at 1–3 s and 40–42 s: short enough together for one window, but the 37 s recess
        // between them must not be bridged.
        let region = |from: usize, to: usize| Region {
            start: from * sr,
            end: to * sr,
        };
        let w = windows(&samples, &[region(1, 3), region(40, 42)], &cfg());
        assert_eq!(w.len(), 2);
        assert!((w[0].source_end_secs() - 3.2).abs() < 0.01);
        assert!((w[1].source_start_secs() - 39.8).abs() < 0.01);
        assert!((w[1].duration_secs() - 2.4).abs() < 0.01);
        // Padded regions 0.1 s short of the long pause apart stay in one window.
        let gap = LONG_PAUSE_SECS - 0.1 + 0.4;
        let second = (3.0 + gap) * sr as f64;
        let close = Region {
            start: second as usize,
            end: second as usize + 2 * sr,
        };
        assert_eq!(windows(&samples, &[region(1, 3), close], &cfg()).len(), 1);
    }

    #[test]
    fn windows_never_exceed_the_limit() {
        let sr = WHISPER_SAMPLE_RATE as usize;
        let samples: Vec<f32> = (0..200 * sr)
            .map(|i| ((i as f32) * 0.01).sin() * 0.3)
            .collect();
        // One 95 s monologue and many short turns with 0.6 s pauses.
        let mut regions = vec![Region {
            start: 0,
            end: 95 * sr,
        }];
        let mut t = 100 * sr;
        while t + 3 * sr < samples.len() {
            regions.push(Region {
                start: t,
                end: t + 2 * sr,
            });
            t += 2 * sr + sr * 6 / 10;
        }
        let ws = windows(&samples, &regions, &cfg());
        let max = (MAX_WINDOW_SECS * SR) as usize;
        assert!(
            ws.iter()
                .all(|w| w.samples.len() <= max && !w.samples.is_empty())
        );
        // Windows cover speech in order, without overlap.
        for pair in ws.windows(2) {
            assert!(pair[0].source_end_secs() <= pair[1].source_start_secs() + 1e-9);
        }
        let covered: f64 = ws.iter().map(Window::duration_secs).sum();
        assert!(covered >= 95.0 + 30.0, "{covered}");
    }

    #[test]
    fn steady_tones_are_not_speech() {
        let sr = WHISPER_SAMPLE_RATE as f32;
        let tone: Vec<f32> = (0..32_000)
            .map(|i| 0.3 * (std::f32::consts::TAU * 440.0 * i as f32 / sr).sin())
            .collect();
        assert!(is_stationary(&tone));
        // A hum with harmonics, as from mains.
        let hum: Vec<f32> = (0..32_000)
            .map(|i| {
                (1..6)
                    .map(|h| 0.05 * (std::f32::consts::TAU * 50.0 * h as f32 * i as f32 / sr).sin())
                    .sum()
            })
            .collect();
        assert!(is_stationary(&hum));
        // A glide with syllable-rate loudness changes is not steady.
        let mut phase = 0.0f32;
        let glide: Vec<f32> = (0..32_000)
            .map(|i| {
                let t = i as f32 / sr;
                phase += std::f32::consts::TAU * (150.0 + 400.0 * (t * 3.0).sin().abs()) / sr;
                (t * 25.0).sin().abs() * phase.sin() * (1.0 + (phase * 3.0).sin())
            })
            .collect();
        assert!(!is_stationary(&glide));
    }
}
