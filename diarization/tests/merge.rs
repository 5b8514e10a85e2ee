//! Merging speakers into a transcript (issue 3): every word and segment gets a speaker, segments
//! are re-cut at speaker changes, channels and the speaker list are filled.

use courtscribe_diarization::{Diarization, Mode, SpeakerInfo, Transcript, Turn, merge};
use courtscribe_transcriber::{AudioInfo, ModelInfo, Segment, Word};

fn w(s: f64, e: f64, t: &str) -> Word {
    Word {
        start: s,
        end: e,
        text: t.into(),
        probability: 0.9,
        speaker: None,
    }
}

fn transcript() -> Transcript {
    Transcript {
        audio: AudioInfo {
            path: "x.wav".into(),
            duration: 10.0,
            sample_rate: 16_000,
            channels: 2,
            sha256: "a".into(),
            pcm_sha256: None,
        },
        model: ModelInfo {
            name: "base".into(),
            sha256: "b".into(),
        },
        language: "vi".into(),
        language_probability: None,
        segments: vec![
            Segment {
                id: 0,
                start: 0.0,
                end: 4.0,
                text: "Bị cáo đứng dậy. Có ạ.".into(),
                speaker: None,
                channel: None,
                avg_logprob: -0.2,
                no_speech_prob: 0.01,
                words: vec![
                    w(0.1, 0.5, " Bị"),
                    w(0.5, 0.9, " cáo"),
                    w(0.9, 1.5, " đứng"),
                    w(1.5, 2.0, " dậy."),
                    w(2.6, 3.0, " Có"),
                    w(3.0, 3.4, " ạ."),
                ],
            },
            Segment {
                id: 1,
                start: 6.0,
                end: 7.0,
                text: "Mời ngồi.".into(),
                speaker: None,
                channel: None,
                avg_logprob: -0.3,
                no_speech_prob: 0.02,
                words: vec![],
            },
        ],
        speakers: vec![],
    }
}

fn diarization() -> Diarization {
    let s = |id: &str, c| SpeakerInfo {
        id: id.into(),
        label: Some(id.to_lowercase()),
        role: Some(id.into()),
        channel: Some(c),
    };
    Diarization {
        mode: Mode::Channels,
        turns: vec![
            Turn {
                start: 0.0,
                end: 2.1,
                speaker: "CHU_TOA".into(),
                channel: Some(0),
            },
            Turn {
                start: 2.5,
                end: 3.5,
                speaker: "BI_CAO".into(),
                channel: Some(1),
            },
            Turn {
                start: 5.8,
                end: 7.2,
                speaker: "CHU_TOA".into(),
                channel: Some(0),
            },
        ],
        speakers: vec![s("CHU_TOA", 0), s("BI_CAO", 1)],
        notes: vec![],
    }
}

#[test]
fn segments_are_recut_at_speaker_changes_and_every_word_has_a_speaker() {
    let mut t = transcript();
    merge::apply(&mut t, &diarization());
    let got: Vec<(usize, &str, Option<&str>, Option<usize>)> = t
        .segments
        .iter()
        .map(|s| (s.id, s.text.as_str(), s.speaker.as_deref(), s.channel))
        .collect();
    assert_eq!(
        got,
        vec![
            (0, "Bị cáo đứng dậy.", Some("CHU_TOA"), Some(0)),
            (1, "Có ạ.", Some("BI_CAO"), Some(1)),
            (2, "Mời ngồi.", Some("CHU_TOA"), Some(0)),
        ]
    );
    assert!(
        t.segments
            .iter()
            .flat_map(|s| &s.words)
            .all(|w| w.speaker.as_deref() == Some("CHU_TOA")
                || w.speaker.as_deref() == Some("BI_CAO"))
    );
    assert_eq!(t.segments[0].end, 2.0);
    assert_eq!(t.segments[1].start, 2.6);
    assert_eq!(t.speakers.len(), 2);
    // Serialised: top-level speakers list present.
    let json = t.render(courtscribe_transcriber::OutputFormat::Json);
    assert!(json.contains("\"speakers\"") && json.contains("\"role\": \"BI_CAO\""));
}

#[test]
fn no_speech_found_leaves_speakers_empty() {
    let mut t = transcript();
    merge::apply(&mut t, &Diarization::default());
    assert!(t.segments.iter().all(|s| s.speaker.is_none()));
    assert!(
        !t.render(courtscribe_transcriber::OutputFormat::Json)
            .contains("\"speakers\"")
    );
}
