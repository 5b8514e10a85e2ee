//! Channel mode (issue 3): one microphone per seat, with bleed and overtalk.

mod common;

use courtscribe_diarization::{Error, Mode, Options, RoomProfile, der, diarize_16k, rttm};
use courtscribe_testkit::shared_eval;

fn channel_opts(room: Option<RoomProfile>) -> Options {
    Options {
        mode: Mode::Channels,
        room,
        ..Default::default()
    }
}

const EN_ROOM: &str = "[channels]\n0 = { role = \"THU_KY\", label = \"Thư ký phiên tòa\" }\n1 = { role = \"CHU_TOA\", label = \"Chủ tọa phiên tòa\" }\n2 = { role = \"NGUYEN_DON\", label = \"Nguyên đơn\" }\n3 = { role = \"BI_DON\", label = \"Bị đơn\" }\n";

#[test]
fn synthetic_four_mic_hearings_meet_the_der_target_and_name_roles() {
    let Some(eval) = shared_eval("") else {
        return;
    };
    for id in ["en_civil_loan", "vi_civil_loan"] {
        let audio = courtscribe_audio::decode_file(&eval.join(format!("synthetic/{id}.4ch.flac")))
            .expect("decodes");
        let chans = audio.to_16k().expect("16k");
        let room = RoomProfile::parse(EN_ROOM).expect("valid profile");
        let d = diarize_16k(&chans, &channel_opts(Some(room))).expect("diarizes");
        let reference = rttm::parse_rttm(
            &std::fs::read_to_string(eval.join(format!("synthetic/{id}.rttm"))).expect("rttm"),
        )
        .expect("parses");
        let rep = der::score(&reference, &d.turns, 0.25);
        assert!(
            rep.der() <= 0.03,
            "{id}: DER {:.3} > 3% ({rep:?})",
            rep.der()
        );
        // Room-profile names are the reference's own role names.
        assert_eq!(
            common::speakers_in(&d.turns),
            common::speakers_in(&reference),
            "{id}"
        );
        assert!(
            d.speakers
                .iter()
                .all(|s| s.label.is_some() && s.channel.is_some())
        );
    }
}

#[test]
fn real_two_channel_file_has_two_people_the_longer_text_on_channel_0() {
    let Some(eval) = shared_eval("") else {
        return;
    };
    let audio =
        courtscribe_audio::decode_file(&eval.join("real/stereo_diarization.wav")).expect("decodes");
    let d = diarize_16k(&audio.to_16k().expect("16k"), &Options::default()).expect("diarizes");
    assert_eq!(d.mode, Mode::Channels);
    assert_eq!(d.speakers.len(), 2, "{:?}", d.turns);
    let talk = |c: usize| {
        d.turns
            .iter()
            .filter(|t| t.channel == Some(c))
            .map(|t| t.end - t.start)
            .sum::<f64>()
    };
    assert!(
        talk(0) > talk(1) && talk(1) > 0.5,
        "ch0 {:.2}s ch1 {:.2}s",
        talk(0),
        talk(1)
    );
}

#[test]
fn stereo_copies_are_one_channel() {
    let Some(eval) = shared_eval("") else {
        return;
    };
    let audio = courtscribe_audio::decode_file(&eval.join("real/jfk.flac")).expect("decodes");
    let chans = audio.to_16k().expect("16k");
    assert_eq!(chans.len(), 2);
    let d = diarize_16k(&chans, &channel_opts(None)).expect("diarizes");
    assert_eq!(d.speakers.len(), 1, "{:?}", d.speakers);
    assert!(
        d.notes.iter().any(|n| n.contains("same signal")),
        "{:?}",
        d.notes
    );
}

#[test]
fn espeak_room_with_bleed_and_overtalk() {
    let (a, b, c) = (
        common::clip(
            "en-us+m3",
            "The court is now in session. Please be seated and remain silent.",
        ),
        common::clip(
            "en-gb+f2",
            "Your honour, the plaintiff is present and ready to proceed today.",
        ),
        common::clip(
            "en-us+m7",
            "I object, the defendant was never served with these papers.",
        ),
    );
    let la = a.len() as f64 / 16_000.0;
    let lb = b.len() as f64 / 16_000.0;
    // Seat 2 talks over the end of seat 1's turn (overtalk).
    let tb = 1.5 + la + 1.0;
    let tc = tb + lb - 1.5;
    let turns: Vec<(usize, &[f32], f64)> = vec![(0, &a, 1.0), (1, &b, tb), (2, &c, tc)];
    for bleed in [-10.0, -14.0, -20.0] {
        let chans = common::room(3, &turns, bleed, tc + 8.0);
        let d = diarize_16k(&chans, &channel_opts(None)).expect("diarizes");
        assert_eq!(d.speakers.len(), 3, "bleed {bleed}: {:?}", d.speakers);
        let rep = der::score(&common::reference(&turns), &d.turns, 0.25);
        assert!(
            rep.der() <= 0.08,
            "bleed {bleed} dB: DER {:.3} ({rep:?})",
            rep.der()
        );
    }
}

#[test]
fn one_speaker_stays_one_speaker() {
    let (a, b) = (
        common::clip("en-us+m3", "Call the first witness to the stand, please."),
        common::clip("en-us+m3", "Thank you. You may step down now."),
    );
    let turns: Vec<(usize, &[f32], f64)> = vec![(1, &a, 0.5), (1, &b, 6.0)];
    let chans = common::room(4, &turns, -10.0, 11.0);
    let d = diarize_16k(&chans, &channel_opts(None)).expect("diarizes");
    assert_eq!(d.speakers.len(), 1, "{:?}", d.turns);
    assert_eq!(d.speakers[0].channel, Some(1));
}

#[test]
fn silence_gives_no_speaker() {
    // Digital silence and a faint noise floor alike.
    for chans in [
        vec![vec![0f32; 80_000]; 3],
        common::room(3, &[], -14.0, 5.0),
    ] {
        let d = diarize_16k(&chans, &channel_opts(None)).expect("diarizes");
        assert!(d.turns.is_empty() && d.speakers.is_empty(), "{:?}", d.turns);
    }
    let d = diarize_16k(
        &[vec![0f32; 80_000]],
        &Options {
            mode: Mode::Voice,
            ..Default::default()
        },
    )
    .expect("voice mode");
    assert!(d.turns.is_empty() && d.speakers.is_empty());
}

#[test]
fn more_channels_than_the_profile_is_a_clear_error() {
    let room =
        RoomProfile::parse("[channels]\n0 = { role = \"CHU_TOA\" }\n1 = { role = \"THU_KY\" }\n")
            .expect("valid");
    let chans = common::room(3, &[], -14.0, 2.0);
    let err = diarize_16k(&chans, &channel_opts(Some(room))).expect_err("must refuse");
    assert!(matches!(err, Error::ProfileMismatch(_)), "{err}");
    assert!(err.to_string().contains("channel(s) 2"), "{err}");
}

#[test]
fn malformed_profile_files_are_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cases: [(&[u8], &str); 4] = [
        (b"[channels]\n0 = { role = \"CHU_TOA\" \n", "roles.toml"),
        (
            b"[channels]\n0 = { role = \"ch\xe1\xbb\xa7 t\xe1\xbb\x8da\" }\n",
            "role",
        ),
        (b"\xff\xfe[channels]", "UTF-8"),
        (b"[seats]\n0 = { role = \"CHU_TOA\" }\n", "roles.toml"),
    ];
    for (i, (bytes, needle)) in cases.iter().enumerate() {
        let p = dir.path().join("roles.toml");
        std::fs::write(&p, bytes).expect("write");
        let err = RoomProfile::load(&p).expect_err(&format!("case {i} accepted"));
        assert!(matches!(err, Error::RoomProfile(_)), "case {i}: {err}");
        assert!(err.to_string().contains(needle), "case {i}: {err}");
    }
    let err = RoomProfile::load(&dir.path().join("missing.toml")).expect_err("missing file");
    assert!(matches!(err, Error::Io { .. }));
}

#[test]
fn channel_mode_on_mono_is_refused() {
    let err = diarize_16k(&[vec![0f32; 16_000]], &channel_opts(None)).expect_err("mono");
    assert!(matches!(err, Error::Request(_)), "{err}");
}

#[test]
fn the_shipped_example_profile_is_valid() {
    let p = RoomProfile::load(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("roles.example.toml"),
    )
    .expect("valid");
    assert_eq!(p.seats.len(), 4);
    assert!(p.check_channels(4).is_ok());
}
