//! Audio in, samples out: decodes recordings (wav, flac, mp3, ogg/vorbis, m4a/aac, the audio track of
//! mp4/mkv) into per-channel `f32` samples at their native rate, resamples to 16 kHz for the
//! recogniser, and hashes the canonical PCM (`pcm_sha256`). Shared by the transcriber, the server and
//! the capture agent; it never links whisper.cpp.
