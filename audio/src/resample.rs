//! Sample-rate conversion with rubato's FFT resampler. It is synchronous (a fixed rational ratio,
//! which is all a file needs) and band-limited: the spectrum above the lower Nyquist frequency is cut
//! before decimating, so 44.1 kHz recordings do not alias into the recogniser's 0–8 kHz band.

use rubato::{FftFixedInOut, Resampler};

use crate::Error;

/// Input frames per FFT chunk. rubato rounds it up to a multiple of `from / gcd(from, to)`; longer
/// chunks give a sharper anti-aliasing filter at the cost of more delay, which we trim anyway.
const CHUNK_FRAMES: usize = 1024;

/// Resample one channel from `from_hz` to `to_hz`. The output is aligned with the input (the
/// resampler's delay is removed) and has `round(n * to_hz / from_hz)` samples.
pub fn resample(samples: &[f32], from_hz: u32, to_hz: u32) -> Result<Vec<f32>, Error> {
    if from_hz == 0 || to_hz == 0 {
        return Err(Error::Resample {
            detail: format!("sample rates must be positive (from {from_hz} Hz to {to_hz} Hz)"),
        });
    }
    if from_hz == to_hz {
        return Ok(samples.to_vec());
    }
    let expected = output_len(samples.len(), from_hz, to_hz);
    if expected == 0 {
        return Ok(Vec::new());
    }
    let mut resampler =
        FftFixedInOut::<f32>::new(from_hz as usize, to_hz as usize, CHUNK_FRAMES, 1).map_err(
            |e| Error::Resample {
                detail: e.to_string(),
            },
        )?;
    let rubato_err = |e: rubato::ResampleError| Error::Resample {
        detail: e.to_string(),
    };
    let chunk_in = resampler.input_frames_next();
    let mut skip = resampler.output_delay();
    let mut chunk_out = resampler.output_buffer_allocate(true);
    let mut out = Vec::with_capacity(expected);
    let mut pos = 0;
    while out.len() < expected {
        let (consumed, written) = if pos + chunk_in <= samples.len() {
            resampler
                .process_into_buffer(&[&samples[pos..pos + chunk_in]], &mut chunk_out, None)
                .map_err(rubato_err)?
        } else if pos < samples.len() {
            // The tail, zero-padded by rubato.
            resampler
                .process_partial_into_buffer(Some(&[&samples[pos..]]), &mut chunk_out, None)
                .map_err(rubato_err)?
        } else {
            // Flush the delay line with silence.
            resampler
                .process_partial_into_buffer(None::<&[&[f32]]>, &mut chunk_out, None)
                .map_err(rubato_err)?
        };
        if written == 0 {
            break; // cannot happen with a fixed-ratio resampler; never spin
        }
        pos = (pos + consumed).min(samples.len());
        let produced = &chunk_out[0][..written];
        let dropped = skip.min(produced.len());
        skip -= dropped;
        let wanted = (expected - out.len()).min(produced.len() - dropped);
        out.extend_from_slice(&produced[dropped..dropped + wanted]);
    }
    Ok(out)
}

/// `round(frames * to / from)` in integers, so long recordings do not drift by a float error.
fn output_len(frames: usize, from_hz: u32, to_hz: u32) -> usize {
    let (from, to) = (u128::from(from_hz), u128::from(to_hz));
    ((frames as u128 * to + from / 2) / from) as usize
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
