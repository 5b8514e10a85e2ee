//! The transcript: the JSON document every later stage (diarization, the server, the workbench)
//! extends but never changes, and its renderings as SRT, WebVTT and plain text.

use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// A whole transcript of one recording. Times are seconds from the start of the audio.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    pub audio: AudioInfo,
    pub model: ModelInfo,
    /// ISO 639-1 code of the language the recording was decoded in (`vi`, `en`, …).
    pub language: String,
    /// Probability of `language` when it was detected (`--language auto`); absent when it was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language_probability: Option<f32>,
    pub segments: Vec<Segment>,
    /// Who speaks in the recording (filled by diarization; absent without it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speakers: Vec<SpeakerInfo>,
}

/// One person heard in the recording, as diarization names them. `Segment::speaker` and
/// `Word::speaker` hold an `id` from this list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeakerInfo {
    /// `CHU_TOA` (a room-profile role), an enrolled person's name, or `SPEAKER_1`, `SPEAKER_2`, ….
    pub id: String,
    /// Human name for the minutes ("Chủ tọa phiên tòa").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Role code from the room profile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    /// Microphone channel (0-based) that carries this speaker, in channel mode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<usize>,
}

impl SpeakerInfo {
    /// The `n`-th speaker nobody could name (`SPEAKER_n`).
    pub fn anonymous(n: usize, channel: Option<usize>) -> SpeakerInfo {
        SpeakerInfo {
            id: format!("SPEAKER_{n}"),
            label: None,
            role: None,
            channel,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioInfo {
    pub path: String,
    /// Seconds.
    pub duration: f64,
    /// Native rate of the recording, Hz.
    pub sample_rate: u32,
    pub channels: usize,
    /// sha256 of the file's bytes.
    pub sha256: String,
    /// sha256 of the interleaved s16le PCM at the native rate and channel count (what the server
    /// stores as `pcm_sha256`): equal for the same audio in any lossless container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pcm_sha256: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub name: String,
    /// sha256 of the ggml file.
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub id: usize,
    pub start: f64,
    pub end: f64,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<usize>,
    pub avg_logprob: f32,
    pub no_speech_prob: f32,
    pub words: Vec<Word>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub probability: f32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
}

/// A segment's text: its words as whisper spaced them (each word carries its leading space),
/// trimmed.
pub fn text_of(words: &[Word]) -> String {
    words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<String>()
        .trim()
        .to_string()
}

/// What ends a sentence in whisper's text.
const SENTENCE_ENDS: [char; 4] = ['.', '?', '!', '…'];
/// What ends a clause: a sentence's end, or a comma, semicolon or colon.
pub(crate) const CLAUSE_ENDS: [char; 7] = ['.', '?', '!', '…', ',', ';', ':'];

/// Titles whisper writes with a full stop that ends nothing: "Mrs. Lan".
const TITLES: [&str; 5] = ["mr.", "mrs.", "ms.", "dr.", "prof."];

/// Whether a word's text ends a sentence ("law.", "claim?"; not "Mrs.").
pub(crate) fn ends_sentence(word: &str) -> bool {
    ends_with(word, &SENTENCE_ENDS)
}

/// Whether a word's text ends a clause ("law.", "Honour,"; not "Mrs.").
pub(crate) fn ends_clause(word: &str) -> bool {
    ends_with(word, &CLAUSE_ENDS)
}

/// Whether `word` ends with one of `ends` that is not a title's full stop.
fn ends_with(word: &str, ends: &[char]) -> bool {
    let word = word.trim();
    word.ends_with(ends) && !TITLES.iter().any(|title| word.eq_ignore_ascii_case(title))
}

/// How a transcript is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Json,
    Srt,
    Vtt,
    Txt,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "json" => Ok(Self::Json),
            "srt" => Ok(Self::Srt),
            "vtt" | "webvtt" => Ok(Self::Vtt),
            "txt" | "text" => Ok(Self::Txt),
            other => Err(format!("unknown format `{other}` (json, srt, vtt, txt)")),
        }
    }
}

impl Transcript {
    pub fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Json => {
                // Serialising plain data with string keys cannot fail.
                serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
            }
            OutputFormat::Srt => self.to_srt(),
            OutputFormat::Vtt => self.to_vtt(),
            OutputFormat::Txt => self.to_txt(),
        }
    }

    fn to_srt(&self) -> String {
        let mut out = String::new();
        for (n, seg) in self.segments.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}\n{} --> {}\n{}{}\n",
                n + 1,
                timestamp(seg.start, ','),
                timestamp(seg.end, ','),
                seg.speaker
                    .as_deref()
                    .map(|s| format!("[{s}] "))
                    .unwrap_or_default(),
                seg.text
            );
        }
        out
    }

    fn to_vtt(&self) -> String {
        let mut out = String::from("WEBVTT\n\n");
        for seg in &self.segments {
            let _ = writeln!(
                out,
                "{} --> {}\n{}{}\n",
                timestamp(seg.start, '.'),
                timestamp(seg.end, '.'),
                seg.speaker
                    .as_deref()
                    .map(|s| format!("<v {s}>"))
                    .unwrap_or_default(),
                seg.text
            );
        }
        out
    }

    fn to_txt(&self) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            match &seg.speaker {
                Some(s) => {
                    let _ = writeln!(out, "[{}] {}: {}", timestamp(seg.start, '.'), s, seg.text);
                }
                None => {
                    let _ = writeln!(out, "[{}] {}", timestamp(seg.start, '.'), seg.text);
                }
            }
        }
        out
    }
}

/// `HH:MM:SS,mmm` (SRT) or `HH:MM:SS.mmm` (WebVTT).
fn timestamp(seconds: f64, sep: char) -> String {
    let ms = (seconds.max(0.0) * 1000.0).round() as u64;
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}{sep}{ms:03}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_titles_full_stop_ends_nothing() {
        for ends in ["law.", "claim?", " rise. ", "No.", "Honour,"] {
            assert!(ends_clause(ends), "{ends:?}");
        }
        assert!(ends_sentence("law.") && !ends_sentence("Honour,"));
        for title in ["Mrs.", " Mr.", "MS.", "Dr."] {
            assert!(!ends_sentence(title) && !ends_clause(title), "{title:?}");
        }
    }

    fn sample() -> Transcript {
        Transcript {
            audio: AudioInfo {
                path: "a.wav".into(),
                duration: 3700.5,
                sample_rate: 16000,
                channels: 1,
                sha256: "ab".into(),
                pcm_sha256: None,
            },
            model: ModelInfo {
                name: "base".into(),
                sha256: "cd".into(),
            },
            language: "vi".into(),
            language_probability: None,
            segments: vec![Segment {
                id: 0,
                start: 3661.25,
                end: 3662.5,
                text: "Bị cáo đứng dậy.".into(),
                speaker: Some("CHU_TOA".into()),
                channel: None,
                avg_logprob: -0.2,
                no_speech_prob: 0.01,
                words: vec![],
            }],
            speakers: vec![],
        }
    }

    #[test]
    fn subtitle_timestamps_cross_the_hour() {
        let t = sample();
        assert!(
            t.render(OutputFormat::Srt)
                .contains("01:01:01,250 --> 01:01:02,500\n[CHU_TOA] Bị cáo")
        );
        let vtt = t.render(OutputFormat::Vtt);
        assert!(vtt.starts_with("WEBVTT\n\n01:01:01.250 --> 01:01:02.500\n<v CHU_TOA>Bị cáo"));
    }

    #[test]
    fn json_round_trips_and_omits_absent_optionals() {
        let mut t = sample();
        t.segments[0].speaker = None;
        let json = t.render(OutputFormat::Json);
        assert!(!json.contains("\"speaker\""));
        assert!(!json.contains("\"channel\""));
        let back: Transcript = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, t);
    }

    /// A word's time comes back from JSON as the same number, to the last bit: the workbench
    /// saves the transcript the server gave it, and a revision must not move a word nobody
    /// touched. serde_json's default parser was one bit off on 19.354857142857142 (read back as
    /// …146); its `float_roundtrip` feature reads every number exactly.
    #[test]
    fn word_times_survive_json_exactly() {
        let mut t = sample();
        let times = [
            19.354857142857142,
            82.97142857142858,
            80.24000000000001,
            0.1 + 0.2,
        ];
        t.segments[0].words = times
            .iter()
            .map(|&at| Word {
                start: at,
                end: at,
                text: " x".into(),
                probability: 0.5,
                speaker: None,
            })
            .collect();
        let back: Transcript = serde_json::from_str(&t.render(OutputFormat::Json)).expect("parses");
        let read: Vec<u64> = back.segments[0]
            .words
            .iter()
            .map(|w| w.start.to_bits())
            .collect();
        let sent: Vec<u64> = times.iter().map(|at| at.to_bits()).collect();
        assert_eq!(read, sent);
    }
}
