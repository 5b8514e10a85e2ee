//! Sample-rate conversion with rubato's FFT resampler. It is synchronous (a fixed rational ratio,
//! which is all a file needs) and band-limited: the spectrum above the lower Nyquist frequency is cut
//! before decimating, so 44.1 kHz recordings do not alias into the recogniser's 0–8 kHz band.
//!
//! [`StreamResampler`] takes a channel in pieces as a decoder produces them, so a recording can be
//! brought to 16 kHz without ever holding it at its native rate; [`resample`] is the same resampler
//! fed one whole channel, and gives bit-identical output.

use rubato::{FftFixedInOut, Resampler};

use crate::Error;

/// Input frames per FFT chunk. rubato rounds it up to a multiple of `from / gcd(from, to)`; longer
/// chunks give a sharper anti-aliasing filter at the cost of more delay, which we trim anyway.
const CHUNK_FRAMES: usize = 1024;

/// Resample one channel from `from_hz` to `to_hz`. The output is aligned with the input (the
/// resampler's delay is removed) and has `round(n * to_hz / from_hz)` samples.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, Error> {
    let mut stream = StreamResampler::new(from_hz, to_hz, samples.len())?;
    stream.push(samples)?;
    stream.finish()
}

/// One channel resampled as it arrives: [`push`](Self::push) pieces of any length, then
/// [`finish`](Self::finish) for the whole output, aligned with the input (the resampler's delay
/// removed) and `round(n * to / from)` samples long for `n` samples pushed. Only the output and
/// less than one FFT chunk of input are held.
pub(crate) struct StreamResampler {
    from_hz: u32,
    to_hz: u32,
    /// `None` when the rates are equal: samples are copied through.
    fft: Option<FftFixedInOut<f32>>,
    /// Input short of a whole chunk, waiting for the next push.
    pending: Vec<f32>,
    chunk_out: Vec<Vec<f32>>,
    /// Output samples still to drop: the resampler's delay.
    skip: usize,
    pushed: u64,
    out: Vec<f32>,
}

impl StreamResampler {
    /// `expected_frames` is how many input frames are likely to come (0 if unknown); the output is
    /// reserved for them so that it does not double while growing.
    pub(crate) fn new(from_hz: u32, to_hz: u32, expected_frames: usize) -> Result<Self, Error> {
        if from_hz == 0 || to_hz == 0 {
            return Err(Error::Resample {
                detail: format!("sample rates must be positive (from {from_hz} Hz to {to_hz} Hz)"),
            });
        }
        let fft = (from_hz != to_hz)
            .then(|| FftFixedInOut::<f32>::new(from_hz as usize, to_hz as usize, CHUNK_FRAMES, 1))
            .transpose()
            .map_err(|e| Error::Resample {
                detail: e.to_string(),
            })?;
        let (pending, chunk_out, skip) = match &fft {
            Some(fft) => (
                Vec::with_capacity(fft.input_frames_max()),
                fft.output_buffer_allocate(true),
                fft.output_delay(),
            ),
            None => (Vec::new(), Vec::new(), 0),
        };
        // The last chunk and the flush may write up to a chunk past the final length.
        let slack = chunk_out.first().map_or(0, Vec::len);
        Ok(StreamResampler {
            from_hz,
            to_hz,
            fft,
            pending,
            chunk_out,
            skip,
            pushed: 0,
            out: Vec::with_capacity(output_len(expected_frames as u64, from_hz, to_hz) + slack),
        })
    }

    /// Adds the next samples of the channel.
    pub(crate) fn push(&mut self, mut samples: &[f32]) -> Result<(), Error> {
        self.pushed += samples.len() as u64;
        let Some(fft) = &self.fft else {
            self.out.extend_from_slice(samples);
            return Ok(());
        };
        let chunk_in = fft.input_frames_next();
        if !self.pending.is_empty() {
            let take = (chunk_in - self.pending.len()).min(samples.len());
            self.pending.extend_from_slice(&samples[..take]);
            samples = &samples[take..];
            if self.pending.len() < chunk_in {
                return Ok(());
            }
            let chunk = std::mem::take(&mut self.pending);
            self.process(Some(&chunk))?;
            self.pending = chunk;
            self.pending.clear();
        }
        // Whole chunks straight from the caller's slice; only the remainder is copied.
        while samples.len() >= chunk_in {
            self.process(Some(&samples[..chunk_in]))?;
            samples = &samples[chunk_in..];
        }
        self.pending.extend_from_slice(samples);
        Ok(())
    }

    /// The whole channel at the new rate.
    pub(crate) fn finish(mut self) -> Result<Vec<f32>, Error> {
        let expected = output_len(self.pushed, self.from_hz, self.to_hz);
        if self.fft.is_none() {
            return Ok(self.out);
        }
        if !self.pending.is_empty() {
            // The tail, zero-padded by rubato.
            let tail = std::mem::take(&mut self.pending);
            self.process(Some(&tail))?;
        }
        while self.out.len() < expected {
            // Flush the delay line with silence.
            if self.process(None)? == 0 {
                break; // cannot happen with a fixed-ratio resampler; never spin
            }
        }
        self.out.truncate(expected);
        Ok(self.out)
    }

    /// Runs one chunk (a short one is zero-padded; `None` is silence) and keeps its output past
    /// the delay. Returns the samples the resampler wrote.
    fn process(&mut self, chunk: Option<&[f32]>) -> Result<usize, Error> {
        let Some(fft) = &mut self.fft else {
            return Ok(0);
        };
        let rubato_err = |e: rubato::ResampleError| Error::Resample {
            detail: e.to_string(),
        };
        let written = match chunk {
            Some(c) if c.len() == fft.input_frames_next() => {
                fft.process_into_buffer(&[c], &mut self.chunk_out, None)
                    .map_err(rubato_err)?
                    .1
            }
            Some(c) => {
                fft.process_partial_into_buffer(Some(&[c]), &mut self.chunk_out, None)
                    .map_err(rubato_err)?
                    .1
            }
            None => {
                fft.process_partial_into_buffer(None::<&[&[f32]]>, &mut self.chunk_out, None)
                    .map_err(rubato_err)?
                    .1
            }
        };
        let produced = &self.chunk_out[0][..written];
        let dropped = self.skip.min(produced.len());
        self.skip -= dropped;
        self.out.extend_from_slice(&produced[dropped..]);
        Ok(written)
    }
}

/// `round(frames * to / from)` in integers, so long recordings do not drift by a float error.
fn output_len(frames: u64, from_hz: u32, to_hz: u32) -> usize {
    let (from, to) = (u128::from(from_hz), u128::from(to_hz));
    usize::try_from((u128::from(frames) * to + from / 2) / from).unwrap_or(usize::MAX)
}
/// Resample every channel. Channels are independent, so they are spread over the available cores.
pub(crate) fn resample_channels(
    channels: &[Vec<f32>],
    from_hz: u32,
    to_hz: u32,
) -> Result<Vec<Vec<f32>>, Error> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(channels.len());
    if workers <= 1 {
        return channels
            .iter()
            .map(|c| resample(c, from_hz, to_hz))
            .collect();
    }
    let per_worker = channels.len().div_ceil(workers);
    std::thread::scope(|scope| {
        let handles: Vec<_> = channels
            .chunks(per_worker)
            .map(|group| {
                scope.spawn(move || {
                    group
                        .iter()
                        .map(|c| resample(c, from_hz, to_hz))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        let mut out = Vec::with_capacity(channels.len());
        for handle in handles {
            // A panic in rubato on one worker is re-raised here, as it would be without threads.
            let group = handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            out.extend(group);
        }
        Ok(out)
    })
}
