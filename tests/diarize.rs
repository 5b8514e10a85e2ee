//! `courtscribe transcribe --diarize` and `courtscribe diarize` end to end on a two-microphone
//! recording made here: each seat's voice on its own channel, the other seat's voice bleeding in.
//! Issue 3: who spoke, by role, in the minutes.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::{bin, run, silence, speak, transcribe_cmd};
use serde_json::Value;

#[test]
fn two_microphones_give_two_named_speakers() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let judge = speak(
        d,
        "judge",
        "en-us",
        "The court is now in session. The defendant will stand.",
    );
    let clerk = speak(
        d,
        "clerk",
        "en-gb+f3",
        "All parties are present, your honour.",
    );
    let (lj, lc) = (common::duration(&judge), common::duration(&clerk));
    let gap = silence(d, "gap", 1.5);
    // Channel 0 (judge's mic): judge, pause, clerk at -14 dB. Channel 1 (clerk's mic): the reverse.
    let pad_judge = silence(d, "pad_judge", lj);
    let pad_clerk = silence(d, "pad_clerk", lc);
    let quiet = |name: &str, src: &std::path::Path| {
        let out = d.join(format!("{name}.wav"));
        run(Command::new("sox").arg(src).arg(&out).args(["vol", "0.2"]));
        out
    };
    let ch0 = common::concat(
        d,
        "ch0",
        &[judge.clone(), gap.clone(), quiet("clerk_bleed", &clerk)],
    );
    let ch1 = common::concat(d, "ch1", &[quiet("judge_bleed", &judge), gap, clerk]);
    let _ = (pad_judge, pad_clerk);
    let room = d.join("room.wav");
    run(Command::new("sox")
        .args(["-M"])
        .arg(&ch0)
        .arg(&ch1)
        .arg(&room));
    let profile = d.join("roles.toml");
    std::fs::write(
        &profile,
        "name = \"Phòng xử án số 1\"\n[channels]\n0 = { role = \"CHU_TOA\", label = \"Chủ tọa phiên tòa\" }\n1 = { role = \"THU_KY\", label = \"Thư ký phiên tòa\" }\n",
    )
    .unwrap();

    let out = run(transcribe_cmd(&room)
        .args(["--language", "en", "--diarize", "--room"])
        .arg(&profile)
        .args(["--format", "json"]));
    let t: Value = serde_json::from_slice(&out.stdout).unwrap();
    let speakers = t["speakers"].as_array().unwrap();
    assert_eq!(speakers.len(), 2, "{speakers:?}");
    let segments = t["segments"].as_array().unwrap();
    assert!(
        segments.iter().all(|s| s["speaker"].is_string()),
        "every segment has a speaker"
    );
    // Every word of a segment carries the segment's speaker.
    for s in segments {
        assert!(
            s["words"]
                .as_array()
                .unwrap()
                .iter()
                .all(|w| w["speaker"] == s["speaker"])
        );
    }
    let first = segments.first().unwrap();
    let last = segments.last().unwrap();
    assert_eq!(first["speaker"], "CHU_TOA", "{first}");
    assert_eq!(last["speaker"], "THU_KY", "{last}");
    assert!(
        last["start"].as_f64().unwrap() > lj,
        "the clerk speaks after the judge"
    );
    let roles: Vec<&str> = speakers
        .iter()
        .map(|s| s["label"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"Chủ tọa phiên tòa") && roles.contains(&"Thư ký phiên tòa"),
        "{roles:?}"
    );

    // The same recording as RTTM.
    let rttm = d.join("room.rttm");
    run(bin()
        .arg("diarize")
        .arg(&room)
        .args(["--mode", "channels", "--rttm"])
        .arg(&rttm));
    let text = std::fs::read_to_string(&rttm).unwrap();
    assert!(
        text.lines().all(|l| l.starts_with("SPEAKER room 1 ")),
        "{text}"
    );
    assert!(text.lines().count() >= 2);

    // A profile for fewer channels than the recording has is refused before any decoding.
    std::fs::write(
        &profile,
        "[channels]\n0 = { role = \"CHU_TOA\", label = \"Chủ tọa\" }\n",
    )
    .unwrap();
    let out = transcribe_cmd(&room)
        .args(["--diarize", "--room"])
        .arg(&profile)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("courtscribe: error:") && err.lines().count() == 1,
        "{err}"
    );
}
