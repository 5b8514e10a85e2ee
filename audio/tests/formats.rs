//! Every supported container decodes to the same two-channel reference signal: a 440 Hz tone on the
//! left, espeak-ng speech on the right, 3 s at 44.1 kHz. Fixtures are made with sox/ffmpeg in a temp
//! dir at test time; the table below is the whole test.

mod common;

use common::*;
use courtscribe_audio::{DecodedAudio, decode_bytes, decode_file};

struct Case {
    name: &'static str,
    /// ffmpeg arguments after the inputs; `{out}` is appended.
    ffmpeg: &'static [&'static str],
    extension: &'static str,
    /// Prepend a synthetic video input (the audio must still be found).
    with_video: bool,
    codec: &'static str,
    /// Allowed |decoded − source| duration in seconds (AAC in MP4 carries priming samples that
    /// symphonia 0.5 does not trim).
    duration_tolerance: f64,
}

const CASES: &[Case] = &[
    Case {
        name: "wav",
        ffmpeg: &["-c:a", "pcm_s16le"],
        extension: "wav",
        with_video: false,
        codec: "pcm_s16le",
        duration_tolerance: 0.0,
    },
    Case {
        name: "wav f32",
        ffmpeg: &["-c:a", "pcm_f32le"],
        extension: "wav",
        with_video: false,
        codec: "pcm_f32le",
        duration_tolerance: 0.0,
    },
    Case {
        name: "wav s24, 3 ch",
        ffmpeg: &["-c:a", "pcm_s24le", "-af", "pan=3c|c0=c0|c1=c1|c2=c0"],
        extension: "wav",
        with_video: false,
        codec: "pcm_s24le",
        duration_tolerance: 0.0,
    },
    Case {
        name: "flac",
        ffmpeg: &["-c:a", "flac"],
        extension: "flac",
        with_video: false,
        codec: "flac",
        duration_tolerance: 0.0,
    },
    Case {
        name: "mp3",
        ffmpeg: &["-c:a", "libmp3lame", "-b:a", "128k"],
        extension: "mp3",
        with_video: false,
        codec: "mp3",
        duration_tolerance: 0.03,
    },
    Case {
        name: "ogg vorbis",
        ffmpeg: &["-c:a", "libvorbis", "-q:a", "4"],
        extension: "ogg",
        with_video: false,
        codec: "vorbis",
        duration_tolerance: 0.03,
    },
    Case {
        name: "mp3 bare frames",
        ffmpeg: &[
            "-c:a",
            "libmp3lame",
            "-id3v2_version",
            "0",
            "-write_xing",
            "0",
        ],
        extension: "mp3",
        with_video: false,
        codec: "mp3",
        duration_tolerance: 0.06,
    },
    Case {
        name: "aiff",
        ffmpeg: &["-c:a", "pcm_s16be"],
        extension: "aiff",
        with_video: false,
        codec: "pcm_s16be",
        duration_tolerance: 0.0,
    },
    Case {
        name: "adts aac",
        ffmpeg: &["-c:a", "aac", "-b:a", "128k"],
        extension: "aac",
        with_video: false,
        codec: "aac",
        duration_tolerance: 0.08,
    },
    Case {
        name: "m4a aac",
        ffmpeg: &["-c:a", "aac", "-b:a", "128k"],
        extension: "m4a",
        with_video: false,
        codec: "aac",
        duration_tolerance: 0.08,
    },
    Case {
        name: "mp4 h264 + aac",
        ffmpeg: &[
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
            "-shortest",
        ],
        extension: "mp4",
        with_video: true,
        codec: "aac",
        duration_tolerance: 0.08,
    },
    Case {
        name: "mkv mpeg4 + vorbis",
        ffmpeg: &[
            "-map",
            "0:v",
            "-map",
            "1:a",
            "-c:v",
            "mpeg4",
            "-c:a",
            "libvorbis",
            "-shortest",
        ],
        extension: "mkv",
        with_video: true,
        codec: "vorbis",
        duration_tolerance: 0.08,
    },
    Case {
        name: "mkv aac",
        ffmpeg: &["-c:a", "aac"],
        extension: "mkv",
        with_video: false,
        codec: "aac",
        duration_tolerance: 0.08,
    },
    Case {
        name: "mkv flac",
        ffmpeg: &["-c:a", "flac"],
        extension: "mkv",
        with_video: false,
        codec: "flac",
        duration_tolerance: 0.0,
    },
];

#[test]
fn every_container_decodes_to_the_source_signal() -> TestResult {
    let dir = tempfile::tempdir()?;
    let source_path = make_source(dir.path())?;
    let source = decode_file(&source_path)?;
    check_reference(&source)?;

    let mut failures = Vec::new();
    for case in CASES {
        let out = dir.path().join(format!(
            "{}.{}",
            case.name.replace([' ', ','], "_"),
            case.extension
        ));
        let mut args: Vec<&str> = Vec::new();
        if case.with_video {
            args.extend([
                "-f",
                "lavfi",
                "-i",
                "testsrc=size=160x120:rate=10:duration=3",
            ]);
        }
        args.extend(["-i", path_str(&source_path)]);
        args.extend(case.ffmpeg);
        args.push(path_str(&out));
        ffmpeg(&args)?;

        let decoded = match decode_file(&out) {
            Ok(d) => d,
            Err(e) => {
                failures.push(format!("{}: decode failed: {e}", case.name));
                continue;
            }
        };
        if let Err(e) = compare(case, &source, &decoded) {
            failures.push(format!("{}: {e}", case.name));
        }
        // The in-memory path, without a hint, must agree with the file path.
        let from_bytes = decode_bytes(std::fs::read(&out)?, None)?;
        if from_bytes.pcm_sha256() != decoded.pcm_sha256() {
            failures.push(format!(
                "{}: decode_bytes differs from decode_file",
                case.name
            ));
        }
    }
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
    Ok(())
}

/// The reference WAV itself must be what we asked sox for; otherwise every comparison is moot.
fn check_reference(source: &DecodedAudio) -> Result<(), String> {
    if source.channel_count() != 2 || source.sample_rate != SOURCE_RATE {
        return Err(format!(
            "reference is {} ch at {} Hz",
            source.channel_count(),
            source.sample_rate
        ));
    }
    if (source.duration() - SOURCE_SECS).abs() > 1e-9 {
        return Err(format!("reference lasts {} s", source.duration()));
    }
    if rms(&source.channels[1]) < 0.02 {
        return Err("reference speech channel is silent".into());
    }
    Ok(())
}

fn compare(case: &Case, source: &DecodedAudio, decoded: &DecodedAudio) -> Result<(), String> {
    if decoded.codec != case.codec {
        return Err(format!(
            "codec {:?}, expected {:?}",
            decoded.codec, case.codec
        ));
    }
    let expected_channels = if case.name.contains("3 ch") { 3 } else { 2 };
    if decoded.channel_count() != expected_channels {
        return Err(format!("{} channels", decoded.channel_count()));
    }
    if decoded.sample_rate != SOURCE_RATE {
        return Err(format!("sample rate {}", decoded.sample_rate));
    }
    if decoded.channels.iter().any(|c| c.len() != decoded.frames()) {
        return Err("channels differ in length".into());
    }
    let lossless = case.duration_tolerance == 0.0;
    let duration_error = (decoded.duration() - SOURCE_SECS).abs();
    if duration_error > case.duration_tolerance + 1e-9 {
        return Err(format!(
            "duration {:.4} s (off by {duration_error:.4} s)",
            decoded.duration()
        ));
    }

    // Lossless stereo must be the source bit for bit, whatever the sample format on disk.
    if lossless && decoded.channel_count() == 2 && decoded.pcm_sha256() != source.pcm_sha256() {
        return Err("lossless decode differs from the source PCM".into());
    }

    // Left: a 440 Hz tone of amplitude 0.5 (RMS 0.354), measured on the middle second.
    let middle = |c: &[f32]| c[SOURCE_RATE as usize..2 * SOURCE_RATE as usize].to_vec();
    let tone = middle(&decoded.channels[0]);
    let freq = dominant_frequency(&tone, SOURCE_RATE, 100.0, 2000.0, 5.0);
    if (freq - TONE_HZ).abs() > 5.0 {
        return Err(format!("tone channel peaks at {freq} Hz"));
    }
    let tone_rms = rms(&tone);
    let expected_rms = TONE_AMPLITUDE / 2f64.sqrt();
    // LAME loses about 0.45 dB on this tone (ffmpeg's own decoder measures the same), so lossy
    // codecs get 10 %; lossless ones must match to rounding.
    let rms_tolerance = if lossless { 0.001 } else { 0.10 };
    if (tone_rms / expected_rms - 1.0).abs() > rms_tolerance {
        return Err(format!(
            "tone RMS {tone_rms:.3}, expected {expected_rms:.3}"
        ));
    }

    // Right: the speech, same loudness and same loudness contour as the source.
    let speech = &decoded.channels[1];
    let ratio = rms(speech) / rms(&source.channels[1]);
    let ratio_tolerance = if lossless { 1e-6 } else { 0.15 };
    if (ratio - 1.0).abs() > ratio_tolerance {
        return Err(format!("speech energy ratio {ratio:.3}"));
    }
    let correlation = envelope_correlation(
        &envelope(&source.channels[1], SOURCE_RATE),
        &envelope(speech, SOURCE_RATE),
        10,
    );
    eprintln!(
        "{:<20} {:<10} {} ch {:>6} Hz {:.4} s  tone {freq} Hz rms {tone_rms:.3}  speech ratio {ratio:.3} corr {correlation:.3}",
        case.name,
        decoded.codec,
        decoded.channel_count(),
        decoded.sample_rate,
        decoded.duration()
    );
    if correlation < 0.95 {
        return Err(format!("speech envelope correlation {correlation:.3}"));
    }
    // And the channels were not swapped or mixed: the speech side carries almost no tone.
    let leak =
        tone_power(&middle(speech), SOURCE_RATE, TONE_HZ) / tone_power(&tone, SOURCE_RATE, TONE_HZ);
    if leak > 0.01 {
        return Err(format!("tone leaks into the speech channel ({leak:.4})"));
    }
    Ok(())
}
