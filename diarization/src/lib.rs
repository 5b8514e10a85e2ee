//! Who spoke when. Audio flows in (per-channel 16 kHz samples from `courtscribe-audio`), speaker
//! turns flow out: per-microphone attribution for rooms with one microphone per seat, voice
//! clustering for a single mixed microphone. Filled by the diarization issue.
