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
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
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

fn write_mono_wav(path: &std::path::Path, secs: u32) {
    let pcm: Vec<u8> = (0..16_000 * secs as i32)
        .flat_map(|i| ((i % 200 - 100) as i16).to_le_bytes())
        .collect();
    let mut wav = courtscribe_audio_header(pcm.len() as u32);
    wav.extend_from_slice(&pcm);
    std::fs::write(path, wav).unwrap();
}

fn wait_exit(child: &mut std::process::Child, secs: u64) -> (i32, String) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        assert!(std::time::Instant::now() < deadline, "agent did not exit");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    child.wait_with_output_ref()
}

trait WaitRef {
    fn wait_with_output_ref(&mut self) -> (i32, String);
}

impl WaitRef for std::process::Child {
    fn wait_with_output_ref(&mut self) -> (i32, String) {
        use std::io::Read as _;
        let code = self.wait().unwrap().code().unwrap_or(-1);
        let mut err = String::new();
        if let Some(mut e) = self.stderr.take() {
            e.read_to_string(&mut err).unwrap();
        }
        (code, err)
    }
}

#[test]
fn one_agent_per_spool_and_end_typed_by_the_clerk_ends_the_recording() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.wav");
    write_mono_wav(&input, 30);
    let spool = dir.path().join("spool");
    let args = [
        "--hearing",
        "3",
        "--input",
        input.to_str().unwrap(),
        "--realtime",
        "--spool",
        spool.to_str().unwrap(),
    ];
    let mut first = Command::new(env!("CARGO_BIN_EXE_courtscribe-capture"))
        .args(args)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(700));
    let (code, stderr) = agent(&args);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("another courtscribe-capture"), "{stderr}");

    writeln!(first.stdin.as_mut().unwrap(), "/end").unwrap();
    let (code, stderr) = wait_exit(&mut first, 10);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("the clerk ended the recording"), "{stderr}");
    let session = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let ended: serde_json::Value =
        serde_json::from_slice(&std::fs::read(session.join("ended.json")).unwrap()).unwrap();
    let frames = ended["frames"].as_u64().unwrap();
    assert!(frames > 0 && frames < 16_000 * 10, "{ended}");
}

/// The cpal path on ALSA's `null` plugin (this sandbox has no sound card, and no snd-dummy or
/// snd-aloop module can be loaded): an `.asoundrc` in a private HOME makes it the default device.
/// `null` is not paced by a clock — it delivers samples as fast as they are read — so this shows
/// that the device is found, opened with the asked channels and rate, and recorded through the ring
/// into the spool until `/end`; it says nothing about real-time behaviour.
#[test]
fn the_device_path_records_from_the_alsa_null_device() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".asoundrc"), "pcm.!default { type null }\n").unwrap();
    let spool = dir.path().join("spool");
    let list = Command::new(env!("CARGO_BIN_EXE_courtscribe-capture"))
        .arg("--list-devices")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout).into_owned();
    if !list.contains("default") {
        eprintln!("SKIPPED: ALSA offers no `null` default device here: {list}");
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_courtscribe-capture"))
        .args([
            "--channels",
            "1",
            "--rate",
            "8000",
            "--hearing",
            "1",
            "--quiet",
        ])
        .arg("--spool")
        .arg(&spool)
        .env("HOME", dir.path())
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    writeln!(child.stdin.as_mut().unwrap(), "/end").unwrap();
    let (code, stderr) = wait_exit(&mut child, 20);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("from device default"), "{stderr}");
    let session = std::fs::read_dir(&spool)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .unwrap();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(session.join("session.json")).unwrap()).unwrap();
    assert_eq!(
        (meta["channels"].as_u64(), meta["sample_rate"].as_u64()),
        (Some(1), Some(8000))
    );
    let ended: serde_json::Value =
        serde_json::from_slice(&std::fs::read(session.join("ended.json")).unwrap()).unwrap();
    assert!(ended["frames"].as_u64().unwrap() > 0, "{ended}");
}
