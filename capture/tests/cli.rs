//! Bad input to `courtscribe-capture`: one clear line on stderr, exit status 2, never a panic, and
//! nothing recorded. (The fault tests with a real server are in the workspace's `tests/capture.rs`;
//! this file also makes Cargo build the agent binary for them.)
#![allow(clippy::unwrap_used)]

use std::process::{Command, Stdio};

fn agent(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_courtscribe-capture"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code().unwrap_or(-1), stderr)
}

#[test]
fn bad_input_gets_one_clear_line_and_exit_status_2() {
    let dir = tempfile::tempdir().unwrap();
    let spool = dir.path().join("spool");
    let spool = spool.to_str().unwrap();
    let not_audio = dir.path().join("notes.wav");
    std::fs::write(&not_audio, b"this is not a recording").unwrap();
    let not_audio = not_audio.to_str().unwrap();
    let config = dir.path().join("station.toml");
    std::fs::write(&config, "servr = \"http://x\"\n").unwrap();
    let config = config.to_str().unwrap();
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "--hearing",
                "1",
                "--input",
                "/nonexistent.wav",
                "--spool",
                spool,
            ],
            "/nonexistent.wav",
        ),
        (
            &["--hearing", "1", "--input", not_audio, "--spool", spool],
            "cannot decode",
        ),
        (
            &[
                "--hearing",
                "1",
                "--input",
                not_audio,
                "--spool",
                spool,
                "--server",
                "ftp://x",
            ],
            "http://",
        ),
        (
            &[
                "--hearing",
                "1",
                "--input",
                not_audio,
                "--spool",
                spool,
                "--server",
                "https://court.example",
            ],
            "TLS",
        ),
        (
            &["--hearing", "1", "--input", not_audio],
            "--spool DIR is required",
        ),
        (
            &[
                "--hearing",
                "1",
                "--input",
                not_audio,
                "--spool",
                spool,
                "--speed",
                "0",
            ],
            "--speed",
        ),
        (
            &["--hearing", "1", "--spool", spool, "--session", "bad id!"],
            "session",
        ),
        (&["--config", config, "--spool", spool], "servr"),
        (
            &[
                "--hearing",
                "1",
                "--spool",
                spool,
                "--device",
                "no such microphone",
            ],
            "no such microphone",
        ),
    ];
    for (args, expect) in cases {
        let (code, stderr) = agent(args);
        let ours: Vec<&str> = stderr
            .lines()
            .filter(|l| l.starts_with("courtscribe-capture: error:"))
            .collect();
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert_eq!(ours.len(), 1, "{args:?}: {stderr}");
        assert!(ours[0].contains(expect), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_replay_without_a_server_is_kept_locally_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    let pcm: Vec<u8> = (0..16_000i32 * 2)
        .flat_map(|i| ((i % 200 - 100) as i16).to_le_bytes())
        .collect();
    let mut wav = courtscribe_audio_header(pcm.len() as u32);
    wav.extend_from_slice(&pcm);
    std::fs::write(&input, wav).unwrap();
    let spool = dir.path().join("spool");
    let (code, stderr) = agent(&[
        "--hearing",
        "3",
        "--station",
        "phong-2",
        "--input",
        input.to_str().unwrap(),
        "--spool",
        spool.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("NOT confirmed"), "{stderr}");
    assert!(stderr.contains("kept in"), "{stderr}");
    // The spool holds the recording, whole.
    let session = std::fs::read_dir(&spool)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        session
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("phong-2-")
    );
    let seg = std::fs::read(session.join("seg-000000.wav")).unwrap();
    assert_eq!(&seg[44..], &pcm[..]);
    let ended: serde_json::Value =
        serde_json::from_slice(&std::fs::read(session.join("ended.json")).unwrap()).unwrap();
    assert_eq!(ended["frames"], 32_000);
}

/// A mono 16 kHz s16 WAV header (written here, independently of the agent).
fn courtscribe_audio_header(data_len: u32) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(b"RIFF");
    h.extend_from_slice(&(36 + data_len).to_le_bytes());
    h.extend_from_slice(b"WAVEfmt ");
    h.extend_from_slice(&16u32.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&1u16.to_le_bytes());
    h.extend_from_slice(&16_000u32.to_le_bytes());
    h.extend_from_slice(&32_000u32.to_le_bytes());
    h.extend_from_slice(&2u16.to_le_bytes());
    h.extend_from_slice(&16u16.to_le_bytes());
    h.extend_from_slice(b"data");
    h.extend_from_slice(&data_len.to_le_bytes());
    h
}
