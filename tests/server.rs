//! `courtscribe serve` end to end (issue 4): a real server process on 127.0.0.1:0 with a real
//! SQLite file, real uploads decoded and transcribed by the real model, real WebSocket ingest,
//! `kill -9` in the middle of a job, and bytes flipped on disk.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::full_text;
use common::server::{
    Client, Server, collect_captions, next_json, send_json, strip_diacritics, wav_pcm,
    wav_pcm_sha256, ws_connect,
};
use courtscribe_testkit::{concat, run, silence, speak};
use futures_util::SinkExt as _;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// A stereo hearing: the judge on channel 0, the clerk on channel 1, one after the other.
fn two_seat_hearing(d: &Path) -> PathBuf {
    let judge = speak(
        d,
        "judge",
        "en-us",
        "The court is now in session. The defendant will stand and state his full name.",
    );
    let clerk = speak(
        d,
        "clerk",
        "en-gb+f3",
        "All parties are present, your honour. The prosecutor is ready.",
    );
    let (lj, lc) = (
        courtscribe_testkit::duration(&judge),
        courtscribe_testkit::duration(&clerk),
    );
    let gap = silence(d, "gap", 1.0);
    let quiet_j = silence(d, "quiet_j", lj);
    let quiet_c = silence(d, "quiet_c", lc);
    let left = concat(d, "left", &[judge, gap.clone(), quiet_c]);
    let right = concat(d, "right", &[quiet_j, gap, clerk]);
    let out = d.join("hearing.wav");
    run(courtscribe_testkit::sox()
        .arg("-M")
        .arg(&left)
        .arg(&right)
        .arg(&out));
    out
}

/// About 35 s of Vietnamese hearing speech with pauses, mono 16 kHz.
fn vietnamese_hearing(d: &Path) -> PathBuf {
    let lines = [
        "Hôm nay, Tòa án nhân dân thành phố Hà Nội mở phiên tòa xét xử sơ thẩm vụ án hình sự.",
        "Bị cáo Nguyễn Văn An có mặt tại phiên tòa.",
        "Thư ký phiên tòa báo cáo danh sách những người được triệu tập.",
        "Đại diện Viện kiểm sát nhân dân có mặt tại phiên tòa.",
        "Hội đồng xét xử tiến hành xét hỏi bị cáo về hành vi trộm cắp tài sản.",
    ];
    let mut parts = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        parts.push(speak(d, &format!("vi{i}"), "vi", l));
        parts.push(silence(d, &format!("p{i}"), 1.5));
    }
    concat(d, "vi_hearing", &parts)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_becomes_a_diarized_transcript_in_the_case_record() {
    let dir = tempfile::tempdir().unwrap();
    let wav = two_seat_hearing(dir.path());
    let server = Server::start(&dir.path().join("data"), &[]);
    let admin = server.admin().await;
    let clerk = server.user(&admin, "thuky", "secretary", json!({})).await;
    let (_, hearing) = clerk.case_and_hearing("123/2026/HS-ST", "en").await;

    let accepted = clerk.upload(hearing, &wav).await;
    let expected_pcm = wav_pcm_sha256(&wav);
    assert_eq!(accepted["pcm_sha256"], expected_pcm.as_str());

    let (s, recordings) = clerk
        .get(&format!("/api/hearings/{hearing}/recordings"))
        .await;
    assert_eq!(s, 200);
    let r = &recordings[0];
    assert_eq!(
        (r["channels"].as_i64(), r["sample_rate"].as_i64()),
        (Some(2), Some(16000)),
        "{r}"
    );
    assert_eq!(r["pcm_sha256"], expected_pcm.as_str());
    assert!(
        (r["duration"].as_f64().unwrap() - courtscribe_testkit::duration(&wav)).abs() < 0.01,
        "{r}"
    );

    let t = clerk.wait_transcript(hearing, 300).await;
    assert_eq!(t["audio"]["pcm_sha256"], expected_pcm.as_str());
    let speakers = t["speakers"].as_array().expect("speakers");
    assert_eq!(speakers.len(), 2, "{t}");
    let segments = t["segments"].as_array().unwrap();
    assert!(!segments.is_empty());
    for s in segments {
        assert!(s["speaker"].is_string(), "segment without speaker: {s}");
        for w in s["words"].as_array().unwrap() {
            assert!(w["speaker"].is_string(), "word without speaker: {w}");
        }
    }
    let text: String = segments
        .iter()
        .map(|s| s["text"].as_str().unwrap().to_lowercase())
        .collect();
    assert!(
        text.contains("session") && text.contains("prosecutor"),
        "{text}"
    );
    // The judge (channel 0) speaks first, the clerk (channel 1) last.
    let first = segments.first().unwrap()["channel"].as_i64();
    let last = segments.last().unwrap()["channel"].as_i64();
    assert_eq!((first, last), (Some(0), Some(1)), "{t}");

    let (_, revisions) = clerk
        .get(&format!("/api/hearings/{hearing}/revisions"))
        .await;
    assert_eq!(revisions.as_array().unwrap().len(), 1, "{revisions}");
    assert_eq!(revisions[0]["kind"], "asr");
    let (_, v) = clerk.get(&format!("/api/hearings/{hearing}/verify")).await;
    assert_eq!(
        (v["ok"].as_bool(), v["entries"].as_i64()),
        (Some(true), Some(2)),
        "{v}"
    );

    let (s, hits) = clerk.get("/api/search?q=PROSECUTOR").await;
    assert_eq!(s, 200);
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["hearing_id"] == hearing && h["case_number"] == "123/2026/HS-ST"),
        "{hits}"
    );
    let (_, audio_status) = (
        0,
        clerk
            .send(
                clerk
                    .http
                    .get(server.url(&format!("/api/recordings/{}/audio", r["id"]))),
            )
            .await
            .0,
    );
    assert_eq!(audio_status, 200);
}

/// Jobs share the workers' threads window by window: a lone job decodes on both, and two jobs at
/// once take turns with them. Windows share no context, so however a job's windows were spread
/// over states and turns, its transcript is the one a lone job writes: every segment, word and
/// time. (Speed is measured in BENCHMARKS.md, stop 22.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_running_at_once_write_what_a_lone_job_writes() {
    let dir = tempfile::tempdir().unwrap();
    let script = &courtscribe_testkit::hearing::scripts().unwrap()[0];
    let made = courtscribe_testkit::hearing::synthesise(script, dir.path(), 0, false).unwrap();
    assert!(
        courtscribe_testkit::duration(&made.audio) > 60.0,
        "several windows"
    );
    let server = Server::start(
        &dir.path().join("data"),
        &[("COURTSCRIBE_WORKERS", "2"), ("COURTSCRIBE_THREADS", "1")],
    );
    let admin = server.admin().await;
    let clerk = server.user(&admin, "thuky", "secretary", json!({})).await;
    let (_, alone) = clerk.case_and_hearing("201/2026/DS-ST", "en").await;
    clerk.upload(alone, &made.audio).await;
    let alone = clerk.wait_transcript(alone, 300).await;

    let (_, first) = clerk.case_and_hearing("202/2026/DS-ST", "en").await;
    let (_, second) = clerk.case_and_hearing("203/2026/DS-ST", "en").await;
    clerk.upload(first, &made.audio).await;
    clerk.upload(second, &made.audio).await;
    let first = clerk.wait_transcript(first, 300).await;
    let second = clerk.wait_transcript(second, 300).await;
    assert!(alone["segments"].as_array().unwrap().len() >= 8, "{alone}");
    assert_eq!(first["segments"], alone["segments"]);
    assert_eq!(second["segments"], alone["segments"]);
}

/// The hearing's participants are the decoder's case vocabulary: `base` writes the parties' names
/// as they sound unless it is given them, and names are what minutes must get right.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_participants_names_are_spelled_as_the_hearing_lists_them() {
    let dir = tempfile::tempdir().unwrap();
    let wav = speak(
        dir.path(),
        "names",
        "en-us",
        "The plaintiff, Mrs Tran Thi Mai, is present. The defendant, Mr Le Van Hung, is present.",
    );
    let server = Server::start(&dir.path().join("data"), &[]);
    let admin = server.admin().await;
    let clerk = server.user(&admin, "thuky", "secretary", json!({})).await;
    let (case, without) = clerk.case_and_hearing("77/2026/DS-ST", "en").await;
    let with = clerk
        .hearing(
            case,
            &json!({"language": "en", "participants": [
                {"name": "Tran Thi Mai", "role": "NGUYEN_DON"},
                {"name": "Le Van Hung", "role": "BI_DON"},
            ]}),
        )
        .await;
    let mut texts = Vec::new();
    for hearing in [without, with] {
        clerk.upload(hearing, &wav).await;
        texts.push(full_text(&clerk.wait_transcript(hearing, 300).await));
    }
    // The live captions of the same speech streamed by a station use the list too.
    let station = server.user(&admin, "phong1", "station", json!({})).await;
    for (k, hearing) in [without, with].into_iter().enumerate() {
        let captions = collect_captions(&server, &clerk, hearing).await;
        let mut ws = ws_connect(&server, &station).await;
        send_json(
            &mut ws,
            &json!({"type": "hello", "version": 1, "station": "phong1", "hearing": hearing,
            "session": format!("names{k}"), "channels": 1, "sample_rate": 16000, "format": "s16le"}),
        )
        .await;
        assert_eq!(next_json(&mut ws).await["next_seq"], 0);
        let pcm = wav_pcm(&wav);
        for (seq, chunk) in pcm.chunks(32_000).enumerate() {
            let mut frame = (seq as u64).to_le_bytes().to_vec();
            frame.extend_from_slice(chunk);
            ws.send(Message::Binary(frame.into())).await.unwrap();
        }
        send_json(&mut ws, &json!({"type": "end"})).await;
        while next_json(&mut ws).await["type"] != "done" {}
        let finals: Vec<String> = captions
            .await
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "final")
            .map(|e| e["text"].as_str().unwrap().to_owned())
            .collect();
        texts.push(finals.join(" "));
    }
    // Without the list `base` writes "Tran Thay Mai" and "Le Van Heung": the checks below can fail.
    let names = |t: &str| t.contains("Tran Thi Mai") && t.contains("Le Van Hung");
    for (what, text, listed) in [
        ("transcript without participants", &texts[0], false),
        ("transcript with participants", &texts[1], true),
        ("captions without participants", &texts[2], false),
        ("captions with participants", &texts[3], true),
    ] {
        assert_eq!(names(text), listed, "{what}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_answers_every_role_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let tone = dir.path().join("tone.wav");
    run(courtscribe_testkit::sox()
        .args(["-n", "-r", "16000", "-c", "1", "-b", "16"])
        .arg(&tone)
        .args(["synth", "0.5", "sine", "440"]));
    let tone = std::fs::read(&tone).unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let admin = server.admin().await;
    let (_, other_room) = admin
        .post_json("/api/courtrooms", &json!({"name": "Phòng xử án số 2"}))
        .await;
    let other_room = other_room["id"].as_i64().unwrap();
    let roles = ["admin", "station", "secretary", "judge", "reviewer"];
    let mut clients = vec![admin.clone()];
    for role in &roles[1..] {
        clients.push(
            server
                .user(&admin, &format!("u_{role}"), role, json!({}))
                .await,
        );
    }
    clients.push(Client::anonymous(&server.base));
    let (case, hearing) = admin.case_and_hearing("1/2026/DS-ST", "vi").await;
    let (s, elsewhere) = admin
        .post_json(
            &format!("/api/cases/{case}/hearings"),
            &json!({"language": "vi", "courtroom_id": other_room}),
        )
        .await;
    assert_eq!(s, 201);
    let elsewhere = elsewhere["id"].as_i64().unwrap();
    let (s, rec) = admin
        .post_bytes(&format!("/api/hearings/{hearing}/recordings"), tone.clone())
        .await;
    assert_eq!(s, 202, "{rec}");
    let rec = rec["id"].as_i64().unwrap();

    // Expected status per caller: admin, station, secretary, judge, reviewer, anonymous.
    // `T` = 200 or 202 (a transcript may still be in progress).
    const T: u16 = 1;
    let readers = [200, 403, 200, 200, 200, 401];
    let table: Vec<(&str, String, Option<Value>, [u16; 6])> = vec![
        (
            "GET",
            "/api/auth/me".into(),
            None,
            [200, 200, 200, 200, 200, 401],
        ),
        (
            "GET",
            "/api/users".into(),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        (
            "POST",
            "/api/users".into(),
            Some(json!({"username": "x{n}", "password": "password-123", "role": "reviewer"})),
            [201, 403, 403, 403, 403, 401],
        ),
        ("GET", "/api/courtrooms".into(), None, readers),
        (
            "POST",
            "/api/courtrooms".into(),
            Some(json!({"name": "Phòng {n}"})),
            [201, 403, 403, 403, 403, 401],
        ),
        ("GET", "/api/cases".into(), None, readers),
        (
            "POST",
            "/api/cases".into(),
            Some(json!({"number": "{n}/2026/HS-ST", "title": "Vụ án", "kind": "criminal"})),
            [201, 403, 201, 201, 403, 401],
        ),
        ("GET", format!("/api/cases/{case}"), None, readers),
        (
            "POST",
            format!("/api/cases/{case}/hearings"),
            Some(json!({"language": "vi"})),
            [201, 403, 201, 201, 403, 401],
        ),
        ("GET", format!("/api/hearings/{hearing}"), None, readers),
        (
            "POST",
            format!("/api/hearings/{hearing}/recordings"),
            None,
            [202, 202, 202, 403, 403, 401],
        ),
        (
            "POST",
            format!("/api/hearings/{elsewhere}/recordings"),
            None,
            [202, 403, 202, 403, 403, 401],
        ),
        (
            "GET",
            format!("/api/hearings/{hearing}/recordings"),
            None,
            readers,
        ),
        ("GET", format!("/api/recordings/{rec}/audio"), None, readers),
        (
            "GET",
            format!("/api/hearings/{hearing}/transcript"),
            None,
            [T, 403, T, T, T, 401],
        ),
        (
            "GET",
            format!("/api/hearings/{hearing}/revisions"),
            None,
            readers,
        ),
        (
            "GET",
            format!("/api/hearings/{hearing}/verify"),
            None,
            readers,
        ),
        ("GET", "/api/search?q=bi%20cao".into(), None, readers),
        (
            "POST",
            format!("/api/hearings/{hearing}/markers"),
            Some(json!({"offset": 1.5, "text": "Tạm nghỉ {n}"})),
            [201, 201, 201, 201, 403, 401],
        ),
        (
            "GET",
            format!("/api/hearings/{hearing}/markers"),
            None,
            readers,
        ),
        (
            "GET",
            "/api/audit".into(),
            None,
            [200, 403, 403, 403, 403, 401],
        ),
        // A plain GET is not a WebSocket handshake: allowed senders learn that (426).
        (
            "GET",
            "/api/ingest".into(),
            None,
            [426, 426, 426, 403, 403, 401],
        ),
    ];
    for (n, (method, path, body, expected)) in table.iter().enumerate() {
        for (k, client) in clients.iter().enumerate() {
            let who = roles.get(k).copied().unwrap_or("anonymous");
            let url = server.url(path);
            let req = match (*method, body) {
                ("GET", _) => client.http.get(&url),
                ("POST", Some(b)) => {
                    let text = b.to_string().replace("{n}", &format!("{n}{k}"));
                    client
                        .http
                        .post(&url)
                        .header("content-type", "application/json")
                        .body(text)
                }
                _ => client.http.post(&url).body(tone.clone()),
            };
            let (status, reply) = client.send(req).await;
            let ok = match expected[k] {
                T => status == 200 || status == 202,
                e => status == e,
            };
            assert!(
                ok,
                "{method} {path} as {who}: {status} {reply}, expected {}",
                expected[k]
            );
            if status >= 400 {
                assert!(
                    reply["error"].is_string(),
                    "{method} {path} as {who}: error body {reply}"
                );
            }
        }
    }
    // Captions (server-sent events) open for readers only.
    for (k, client) in clients.iter().enumerate() {
        let resp = client
            .http
            .get(server.url(&format!("/api/hearings/{hearing}/captions")));
        let resp = match &client.token {
            Some(t) => resp.bearer_auth(t),
            None => resp,
        };
        let status = resp.send().await.unwrap().status().as_u16();
        assert_eq!(
            status,
            readers[k],
            "captions as {}",
            roles.get(k).unwrap_or(&"anonymous")
        );
    }
    // Every read of the minutes is in the audit log, with who read them.
    let (_, log) = admin
        .get(&format!("/api/audit?object=hearing:{hearing}&limit=1000"))
        .await;
    let reads: Vec<&Value> = log
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == format!("GET /api/hearings/{hearing}/transcript"))
        .collect();
    for who in ["admin", "u_station", "u_secretary", "u_judge", "u_reviewer"] {
        assert!(
            reads.iter().any(|e| e["username"] == who),
            "no audit entry for {who}: {log}"
        );
    }
    assert!(
        reads
            .iter()
            .any(|e| e["username"] == "u_station" && e["status"] == 403)
    );
    assert!(
        reads
            .iter()
            .any(|e| e["username"].is_null() && e["status"] == 401)
    );

    // The OpenAPI document lists the endpoints the acceptance check uses.
    let (s, doc) = Client::anonymous(&server.base)
        .get("/api/openapi.json")
        .await;
    assert_eq!(s, 200);
    for p in [
        "/api/auth/login",
        "/api/users",
        "/api/cases",
        "/api/cases/{id}/hearings",
        "/api/hearings/{id}/recordings",
        "/api/hearings/{id}/transcript",
        "/api/hearings/{id}/verify",
        "/api/hearings/{id}/amendments/{amendment}/sign",
        "/api/hearings/{id}/export",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing from OpenAPI");
    }
    let formats = doc["paths"]["/api/hearings/{id}/export"]["get"]["parameters"].to_string();
    assert!(formats.contains("docx or pdf"), "{formats}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_4xx_and_nothing_is_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let speech = speak(d, "s", "vi", "Bị cáo có mặt.");
    let mut truncated = std::fs::read(&speech).unwrap();
    truncated.truncate(truncated.len() / 2);
    let server = Server::start(
        &d.join("data"),
        &[
            ("COURTSCRIBE_MAX_UPLOAD_MB", "1"),
            ("COURTSCRIBE_LOGIN_ATTEMPTS_PER_MINUTE", "3"),
            ("COURTSCRIBE_TOKEN_TTL_SECS", "3"),
        ],
    );
    let admin = server.admin().await;
    let (case, hearing) = admin.case_and_hearing("7/2026/HC-ST", "vi").await;
    let upload = format!("/api/hearings/{hearing}/recordings");
    let random: Vec<u8> = (0..50_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let cases: Vec<(&str, reqwest::RequestBuilder, u16, &str)> = vec![
        (
            "random bytes",
            admin.http.post(server.url(&upload)).body(random),
            415,
            "unsupported",
        ),
        (
            "empty body",
            admin.http.post(server.url(&upload)).body(Vec::new()),
            400,
            "empty",
        ),
        (
            "text as audio",
            admin
                .http
                .post(server.url(&upload))
                .body("Biên bản phiên tòa".repeat(100)),
            415,
            "text",
        ),
        (
            "oversized",
            admin
                .http
                .post(server.url(&upload))
                .body(vec![0u8; 2 * 1024 * 1024]),
            413,
            "limit",
        ),
        (
            "truncated wav",
            admin.http.post(server.url(&upload)).body(truncated),
            422,
            "truncated",
        ),
        (
            "upload to unknown hearing",
            admin
                .http
                .post(server.url("/api/hearings/999/recordings"))
                .body(vec![1u8; 10]),
            404,
            "hearing",
        ),
        (
            "malformed json",
            admin
                .http
                .post(server.url("/api/cases"))
                .header("content-type", "application/json")
                .body("{\"number\":"),
            400,
            "json",
        ),
        (
            "missing field",
            admin
                .http
                .post(server.url("/api/cases"))
                .json(&json!({"number": "1"})),
            422,
            "title",
        ),
        (
            "not json",
            admin.http.post(server.url("/api/cases")).body("number=1"),
            415,
            "content-type",
        ),
        (
            "bad kind",
            admin
                .http
                .post(server.url("/api/cases"))
                .json(&json!({"number": "9/2026", "title": "t", "kind": "piracy"})),
            400,
            "kind",
        ),
        (
            "duplicate case",
            admin
                .http
                .post(server.url("/api/cases"))
                .json(&json!({"number": "7/2026/HC-ST", "title": "t", "kind": "administrative"})),
            409,
            "exists",
        ),
        (
            "bad language",
            admin
                .http
                .post(server.url(&format!("/api/cases/{case}/hearings")))
                .json(&json!({"language": "klingon"})),
            400,
            "language",
        ),
        (
            "bad role",
            admin
                .http
                .post(server.url("/api/users"))
                .json(&json!({"username": "a", "password": "password-123", "role": "king"})),
            422,
            "role",
        ),
        (
            "short password",
            admin
                .http
                .post(server.url("/api/users"))
                .json(&json!({"username": "b", "password": "x", "role": "judge"})),
            400,
            "password",
        ),
        (
            "unknown hearing",
            admin
                .http
                .get(server.url("/api/hearings/424242/transcript")),
            404,
            "424242",
        ),
        (
            "unknown case",
            admin
                .http
                .post(server.url("/api/cases/5000/hearings"))
                .json(&json!({"language": "vi"})),
            404,
            "case",
        ),
        (
            "id that is not a number",
            admin.http.get(server.url("/api/hearings/abc/verify")),
            404,
            "abc",
        ),
        (
            "amendment id that is not a number",
            admin
                .http
                .post(server.url(&format!("/api/hearings/{hearing}/amendments/abc/sign"))),
            404,
            "abc",
        ),
        (
            "no transcript yet",
            admin
                .http
                .get(server.url(&format!("/api/hearings/{hearing}/transcript"))),
            404,
            "no recording",
        ),
        (
            "unknown endpoint",
            admin.http.get(server.url("/api/nothing")),
            404,
            "endpoint",
        ),
        (
            "oversized json",
            admin
                .http
                .post(server.url("/api/cases"))
                .header("content-type", "application/json")
                .body(format!("{{\"number\":\"{}\"}}", "x".repeat(5 << 20))),
            413,
            "length limit",
        ),
        (
            "empty search",
            admin.http.get(server.url("/api/search?q=")),
            400,
            "q",
        ),
    ];
    for (what, req, expected, needle) in cases {
        let (status, body) = admin.send(req).await;
        assert_eq!(status, expected, "{what}: {body}");
        let msg = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("{what}: not a JSON error: {body}"));
        assert!(
            msg.to_lowercase().contains(needle),
            "{what}: {msg:?} should mention {needle:?}"
        );
    }
    // Nothing half-written: no recording row, no audio file, no upload left in tmp/.
    let (_, recs) = admin
        .get(&format!("/api/hearings/{hearing}/recordings"))
        .await;
    assert_eq!(recs, json!([]));
    let files = |sub: &str| {
        std::fs::read_dir(server.data.join(sub))
            .map(|r| r.count())
            .unwrap_or(0)
    };
    assert_eq!((files("tmp"), files("recordings")), (0, 0));

    // Password guessing is throttled per user name (3 attempts a minute here); a wrong password
    // or an unknown user is 401; the throttled name does not lock out the others.
    let anon = Client::anonymous(&server.base);
    let (_, clerk) = admin
        .post_json(
            "/api/users",
            &json!({"username": "thuky", "password": "password-123", "role": "secretary"}),
        )
        .await;
    assert!(clerk["id"].is_i64(), "{clerk}");
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            anon.post_json(
                "/api/auth/login",
                &json!({"username": "thuky", "password": "guess"}),
            )
            .await
            .0,
        );
    }
    assert_eq!(statuses, [401, 401, 401, 429, 429]);
    let (s, body) = anon
        .post_json(
            "/api/auth/login",
            &json!({"username": "nobody", "password": "guess"}),
        )
        .await;
    assert_eq!(s, 401, "{body}");
    // Tokens expire; an unattended station's token lives longer (30 days by default).
    let station = server.user(&admin, "phong1", "station", json!({})).await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let (s, body) = admin.get("/api/cases").await;
    assert_eq!(s, 401, "{body}");
    let (s, body) = station.get("/api/auth/me").await;
    assert_eq!(
        (s, body["username"].as_str()),
        (200, Some("phong1")),
        "{body}"
    );
    // Still healthy.
    assert_eq!(anon.get("/healthz").await.0, 200);
    assert_eq!(anon.get("/readyz").await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_during_a_job_then_restart_completes_once_and_tampering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let wav = vietnamese_hearing(dir.path());
    let mut server = Server::start(&dir.path().join("data"), &[]);
    let admin = server.admin().await;
    let (_, hearing) = admin.case_and_hearing("45/2026/HS-ST", "vi").await;
    admin.upload(hearing, &wav).await;
    // Wait until the job is decoding, then kill the server without warning.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let (s, body) = admin
            .get(&format!("/api/hearings/{hearing}/transcript"))
            .await;
        assert_eq!(s, 202, "finished before it could be interrupted: {body}");
        if body["status"] == "running" && body["progress"].as_f64().unwrap() > 0.0 {
            break;
        }
        assert!(Instant::now() < deadline, "job never ran");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The job decodes at the lowest CPU priority (live captions and requests go first); the
    // server's other threads keep the normal one.
    let threads = server.threads();
    let job = threads.iter().find(|(name, _)| name.starts_with("job-"));
    assert_eq!(job.map(|j| j.1), Some(19), "{threads:?}");
    assert!(
        threads
            .iter()
            .any(|(name, nice)| !name.starts_with("job-") && *nice == 0),
        "{threads:?}"
    );
    server.kill9();
    server.restart();
    let admin = server.admin().await;
    let t = admin.wait_transcript(hearing, 300).await;
    let segments = t["segments"].as_array().unwrap();
    assert!(segments.len() >= 3, "{t}");
    let ids: Vec<i64> = segments.iter().map(|s| s["id"].as_i64().unwrap()).collect();
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(ids, unique, "duplicated segments");
    assert!(
        segments
            .windows(2)
            .all(|w| w[0]["start"].as_f64() <= w[1]["start"].as_f64()),
        "{t}"
    );
    assert!(
        t["audio"]["duration"].as_f64().unwrap() < courtscribe_testkit::duration(&wav) + 0.01,
        "audio counted twice"
    );
    let (_, revisions) = admin
        .get(&format!("/api/hearings/{hearing}/revisions"))
        .await;
    assert_eq!(revisions.as_array().unwrap().len(), 1, "{revisions}");

    // Search ignores diacritics: a word of the transcript, typed without them, finds the hearing.
    let word = segments
        .iter()
        .flat_map(|s| s["words"].as_array().unwrap())
        .map(|w| {
            w["text"]
                .as_str()
                .unwrap()
                .trim()
                .trim_matches(|c: char| !c.is_alphanumeric())
                .to_string()
        })
        .find(|w| strip_diacritics(w) != w.to_lowercase() && w.chars().count() >= 3)
        .expect("a word with diacritics");
    let (_, hits) = admin
        .get(&format!("/api/search?q={}", strip_diacritics(&word)))
        .await;
    assert!(
        hits.as_array()
            .unwrap()
            .iter()
            .any(|h| h["hearing_id"] == hearing),
        "`{word}`: {hits}"
    );

    let (_, v) = admin.get(&format!("/api/hearings/{hearing}/verify")).await;
    assert_eq!(v["ok"], true, "{v}");
    // Flip one byte of the stored audio: the API and the offline check both see it.
    let stored: PathBuf = std::fs::read_dir(server.data.join(format!("recordings/h{hearing}")))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mut bytes = std::fs::read(&stored).unwrap();
    let k = bytes.len() / 2;
    bytes[k] ^= 0x01;
    std::fs::write(&stored, &bytes).unwrap();
    let (_, v) = admin.get(&format!("/api/hearings/{hearing}/verify")).await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["problems"][0].as_str().unwrap().contains("recording"),
        "{v}"
    );
    let out = common::bin()
        .arg("verify")
        .arg("--data")
        .arg(&server.data)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("ALTERED"));
    bytes[k] ^= 0x01;
    std::fs::write(&stored, &bytes).unwrap();
    let out = common::bin()
        .arg("verify")
        .arg("--data")
        .arg(&server.data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // Edit a revision behind the server's back: detected as well.
    server.kill9();
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        server.data.join("courtscribe.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE revisions SET content = replace(content, 'phiên', 'phiếm')")
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let out = common::bin()
        .arg("verify")
        .arg("--data")
        .arg(&server.data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !out.status.success() && stdout.contains("revision"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_ingest_resumes_after_a_dropped_connection_without_gap_or_duplicate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = speak(d, "a", "vi", "Bị cáo Nguyễn Văn An có mặt tại phiên tòa.");
    let b = speak(d, "b", "vi", "Hội đồng xét xử bắt đầu làm việc.");
    let p = silence(d, "p", 2.0);
    let wav = concat(d, "live", &[a, p.clone(), b, p]);
    let pcm = wav_pcm(&wav);
    let expected = {
        use sha2::Digest as _;
        hex::encode(sha2::Sha256::digest(&pcm))
    };
    let server = Server::start(&d.join("data"), &[]);
    let admin = server.admin().await;
    let station = server.user(&admin, "phong1", "station", json!({})).await;
    let (_, hearing) = admin.case_and_hearing("88/2026/HS-ST", "vi").await;

    // A clerk's screen subscribes to the captions first.
    let captions = collect_captions(&server, &admin, hearing).await;
    let hello = json!({"type": "hello", "version": 1, "station": "phong1", "hearing": hearing,
        "session": "phong1-test", "channels": 1, "sample_rate": 16000, "format": "s16le"});
    let frame_bytes = 2 * 1600; // 100 ms
    let frames: Vec<&[u8]> = pcm.chunks(frame_bytes).collect();
    let frame = |seq: usize| {
        let mut f = (seq as u64).to_le_bytes().to_vec();
        f.extend_from_slice(frames[seq]);
        Message::Binary(f.into())
    };
    // First connection: half the frames, then the network drops (no close handshake).
    let mut ws = ws_connect(&server, &station).await;
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let ready = next_json(&mut ws).await;
    assert_eq!(
        (ready["type"].as_str(), ready["next_seq"].as_u64()),
        (Some("ready"), Some(0)),
        "{ready}"
    );
    let half = frames.len() / 2;
    for seq in 0..half {
        ws.send(frame(seq)).await.unwrap();
    }
    let mut acked = 0;
    while acked + 1 < half / 2 {
        acked = next_json(&mut ws).await["seq"].as_u64().unwrap() as usize;
    }
    drop(ws);

    // Reconnect: the server says where to resume; retransmitted frames are harmless.
    let mut ws = ws_connect(&server, &station).await;
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    let ready = next_json(&mut ws).await;
    let next = ready["next_seq"].as_u64().unwrap() as usize;
    assert!(
        next > acked && next <= half,
        "resume at {next}, acked {acked}, sent {half}: {ready}"
    );
    // A clerk's marker, sent twice (as after a lost acknowledgement), is stored once.
    let marker = json!({"type": "marker", "id": "m1", "offset": 1.0, "text": "Bắt đầu xét hỏi"});
    for _ in 0..2 {
        ws.send(Message::Text(marker.to_string().into()))
            .await
            .unwrap();
        let ack = next_json(&mut ws).await;
        assert_eq!(
            (ack["type"].as_str(), ack["id"].as_str()),
            (Some("marker_ack"), Some("m1")),
            "{ack}"
        );
    }
    for seq in next.saturating_sub(3)..frames.len() {
        ws.send(frame(seq)).await.unwrap();
    }
    let mut last = 0;
    while last + 1 < frames.len() {
        let m = next_json(&mut ws).await;
        assert_eq!(m["type"], "ack", "{m}");
        last = m["seq"].as_u64().unwrap() as usize;
    }
    // A late retransmission is acknowledged again and dropped.
    ws.send(frame(0)).await.unwrap();
    assert_eq!(
        next_json(&mut ws).await["seq"].as_u64(),
        Some(frames.len() as u64 - 1),
        "a retransmission is acknowledged again"
    );
    ws.send(Message::Text(json!({"type": "end"}).to_string().into()))
        .await
        .unwrap();
    let done = next_json(&mut ws).await;
    assert_eq!(done["type"], "done", "{done}");
    assert_eq!(
        done["pcm_sha256"],
        expected.as_str(),
        "server audio differs from what was sent"
    );
    assert_eq!(done["frames"].as_u64(), Some(pcm.len() as u64 / 2));

    // Saying hello again for the finished session gets the same answer (a lost `done` is safe).
    let mut ws = ws_connect(&server, &station).await;
    ws.send(Message::Text(hello.to_string().into()))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["recording"], done["recording"]);

    let (_, recs) = admin
        .get(&format!("/api/hearings/{hearing}/recordings"))
        .await;
    assert_eq!(recs.as_array().unwrap().len(), 1, "{recs}");
    assert_eq!(recs[0]["pcm_sha256"], expected.as_str());
    assert_eq!(recs[0]["source"], "live");

    let (_, markers) = admin.get(&format!("/api/hearings/{hearing}/markers")).await;
    assert_eq!(markers.as_array().unwrap().len(), 1, "{markers}");
    assert_eq!(
        (markers[0]["text"].as_str(), markers[0]["author"].as_str()),
        (Some("Bắt đầu xét hỏi"), Some("phong1"))
    );

    let events = captions.await.unwrap();
    assert!(
        events
            .iter()
            .any(|e| e["kind"] == "marker" && e["text"] == "Bắt đầu xét hỏi"),
        "{events:?}"
    );
    let caption = events
        .iter()
        .find(|e| e["kind"] == "final")
        .unwrap_or_else(|| panic!("no caption arrived: {events:?}"));
    assert!(!caption["text"].as_str().unwrap().is_empty(), "{caption}");
    assert!(caption["end"].as_f64() > caption["start"].as_f64());
    assert!(
        caption["end"].as_f64().unwrap() <= pcm.len() as f64 / 32000.0 + 0.5,
        "{caption}"
    );

    let t = admin.wait_transcript(hearing, 300).await;
    assert!(!t["segments"].as_array().unwrap().is_empty(), "{t}");
    let (_, v) = admin.get(&format!("/api/hearings/{hearing}/verify")).await;
    assert_eq!(v["ok"], true, "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_station_streams_only_to_hearings_of_its_courtroom() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("data"), &[]);
    let admin = server.admin().await;
    let (_, room2) = admin
        .post_json("/api/courtrooms", &json!({"name": "Phòng xử án số 2"}))
        .await;
    let station = server
        .user(
            &admin,
            "phong2",
            "station",
            json!({"courtroom_id": room2["id"]}),
        )
        .await;
    let (_, hearing) = admin.case_and_hearing("3/2026/KDTM-ST", "vi").await;
    let hello = |hearing: i64, session: &str| {
        json!({"type": "hello", "version": 1, "station": "phong2", "hearing": hearing,
            "session": session, "channels": 2, "sample_rate": 48000, "format": "s16le"})
    };
    let mut ws = ws_connect(&server, &station).await;
    send_json(&mut ws, &hello(hearing, "s1")).await;
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("courtroom"),
        "{reply}"
    );

    // In its own courtroom it may stream, but a frame out of sequence is refused.
    let (_, case) = admin.get("/api/cases").await;
    let (_, own) = admin
        .post_json(
            &format!("/api/cases/{}/hearings", case[0]["id"]),
            &json!({"language": "vi", "courtroom_id": room2["id"]}),
        )
        .await;
    let mut ws = ws_connect(&server, &station).await;
    send_json(&mut ws, &hello(own["id"].as_i64().unwrap(), "s2")).await;
    assert_eq!(next_json(&mut ws).await["type"], "ready");
    let mut frame = 5u64.to_le_bytes().to_vec();
    frame.extend_from_slice(&[0u8; 4 * 480]);
    ws.send(Message::Binary(frame.into())).await.unwrap();
    let reply = next_json(&mut ws).await;
    assert_eq!(reply["type"], "error", "{reply}");
    assert!(
        reply["message"].as_str().unwrap().contains("0 is next"),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn partial_captions_follow_a_long_utterance_streamed_in_real_time() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let long = speak(
        d,
        "long",
        "vi",
        "Căn cứ vào kết quả tranh tụng tại phiên tòa, Hội đồng xét xử nhận định rằng bị cáo đã thực hiện hành vi trộm cắp tài sản của người khác.",
    );
    let wav = concat(d, "rt", &[long, silence(d, "tail", 1.5)]);
    let pcm = wav_pcm(&wav);
    let server = Server::start(&d.join("data"), &[]);
    let admin = server.admin().await;
    let (_, hearing) = admin.case_and_hearing("9/2026/HS-PT", "vi").await;
    let captions = collect_captions(&server, &admin, hearing).await;
    let mut ws = ws_connect(&server, &admin).await;
    send_json(
        &mut ws,
        &json!({"type": "hello", "version": 1, "station": "bench", "hearing": hearing,
        "session": "rt", "channels": 1, "sample_rate": 16000, "format": "s16le"}),
    )
    .await;
    assert_eq!(next_json(&mut ws).await["next_seq"], 0);
    // 200 ms frames at the pace of speech.
    let start = Instant::now();
    for (seq, chunk) in pcm.chunks(6400).enumerate() {
        let due = start + Duration::from_millis(200 * seq as u64);
        tokio::time::sleep_until(due.into()).await;
        let mut f = (seq as u64).to_le_bytes().to_vec();
        f.extend_from_slice(chunk);
        ws.send(Message::Binary(f.into())).await.unwrap();
    }
    send_json(&mut ws, &json!({"type": "end"})).await;
    loop {
        let m = next_json(&mut ws).await;
        if m["type"] == "done" {
            break;
        }
    }
    let events = captions.await.unwrap();
    let first_final = events
        .iter()
        .position(|e| e["kind"] == "final")
        .unwrap_or_else(|| {
            panic!(
                "no final caption: {events:?}\nserver log:\n{}",
                server.log_tail(30)
            )
        });
    let partials: Vec<&Value> = events[..first_final]
        .iter()
        .filter(|e| e["kind"] == "partial")
        .collect();
    assert!(
        !partials.is_empty(),
        "no partial caption while the judge was speaking: {events:?}"
    );
    for p in &partials {
        assert!(!p["text"].as_str().unwrap().is_empty(), "{p}");
    }
    // A partial caption shows the speech so far: fewer words than the final caption.
    let words = |e: &Value| e["text"].as_str().unwrap().split_whitespace().count();
    let final_words: usize = events
        .iter()
        .filter(|e| e["kind"] == "final")
        .map(words)
        .sum();
    assert!(words(partials[0]) < final_words, "{events:?}");
    // Finals (settled segments of a partial caption, then the rest of the stretch) follow each
    // other in time and never caption the same audio twice.
    let finals: Vec<(f64, f64)> = events
        .iter()
        .filter(|e| e["kind"] == "final")
        .map(|e| (e["start"].as_f64().unwrap(), e["end"].as_f64().unwrap()))
        .collect();
    for w in finals.windows(2) {
        assert!(w[1].0 >= w[0].1 - 0.05, "overlapping finals: {events:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minutes_are_corrected_approved_frozen_and_amended() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wav = speak(d, "m", "vi", "Bị cáo Nguyễn Văn An có mặt tại phiên tòa.");
    let server = Server::start(&d.join("data"), &[]);
    let admin = server.admin().await;
    let clerk = server.user(&admin, "thuky", "secretary", json!({})).await;
    let judge = server.user(&admin, "chutoa", "judge", json!({})).await;
    let reviewer = server.user(&admin, "phuctham", "reviewer", json!({})).await;
    let (_, hearing) = clerk.case_and_hearing("12/2026/HS-ST", "vi").await;
    let h = format!("/api/hearings/{hearing}");
    clerk.upload(hearing, &wav).await;
    let mut t = clerk.wait_transcript(hearing, 300).await;

    // The clerk corrects the first segment and names its speaker.
    t["segments"][0]["text"] = json!("Bị cáo Nguyễn Văn Ân có mặt tại phiên tòa.");
    t["segments"][0]["speaker"] = json!("CHU_TOA");
    t["speakers"] = json!([{"id": "CHU_TOA", "label": "Chủ tọa phiên tòa", "role": "CHU_TOA"}]);
    let transcript = format!("{h}/transcript");
    let on_base_1 = format!("{h}/transcript?base_revision=1");
    let (s, saved) = clerk.put_json(&on_base_1, &t).await;
    assert_eq!((s, saved["number"].as_i64()), (201, Some(2)), "{saved}");
    let (s, _) = reviewer.put_json(&transcript, &t).await;
    assert_eq!(s, 403, "reviewers never write minutes");
    let (s, body) = judge.put_json(&on_base_1, &t).await;
    assert_eq!(
        s, 409,
        "a save on a stale revision must not overwrite: {body}"
    );
    let mut bad = t.clone();
    bad["segments"][0]["end"] = json!(-1.0);
    assert_eq!(clerk.put_json(&transcript, &bad).await.0, 422);
    let (_, now) = reviewer.get(&format!("{h}/transcript")).await;
    assert_eq!(
        now["segments"][0]["text"],
        "Bị cáo Nguyễn Văn Ân có mặt tại phiên tòa."
    );

    let (_, revs) = reviewer.get(&format!("{h}/revisions")).await;
    let kinds: Vec<&str> = revs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["asr", "edit"]);
    assert_eq!(revs[1]["author"], "thuky");
    let (_, draft) = reviewer.get(&format!("{h}/revisions/1")).await;
    assert_ne!(
        draft["segments"][0]["text"], now["segments"][0]["text"],
        "the ASR draft is kept"
    );
    let (_, diff) = reviewer.get(&format!("{h}/diff?from=1&to=2")).await;
    assert!(
        diff.as_array()
            .unwrap()
            .iter()
            .any(|p| p["op"] == "insert" && p["text"].as_str().unwrap().contains("Ân")),
        "{diff}"
    );

    // Approval: the clerk co-signs only after the presiding judge; then the minutes are frozen.
    assert_eq!(
        clerk.post_json(&format!("{h}/approve"), &json!({})).await.0,
        409
    );
    assert_eq!(
        reviewer
            .post_json(&format!("{h}/approve"), &json!({}))
            .await
            .0,
        403
    );
    let (s, a) = judge.post_json(&format!("{h}/approve"), &json!({})).await;
    assert_eq!((s, a["revision"].as_i64()), (201, Some(2)), "{a}");
    assert_eq!(
        clerk.post_json(&format!("{h}/approve"), &json!({})).await.0,
        201
    );
    assert_eq!(
        judge.post_json(&format!("{h}/approve"), &json!({})).await.0,
        409
    );
    let (s, body) = clerk.put_json(&transcript, &t).await;
    assert_eq!(s, 409, "approved minutes are frozen: {body}");

    // Corrections afterwards are amendments, appended with author and time.
    let amend = json!({"text": "Bổ sung: bị cáo xin vắng mặt buổi chiều"});
    assert_eq!(
        reviewer
            .post_json(&format!("{h}/amendments"), &amend)
            .await
            .0,
        403
    );
    let (s, _) = clerk.post_json(&format!("{h}/amendments"), &amend).await;
    assert_eq!(s, 201);
    let (_, list) = reviewer.get(&format!("{h}/amendments")).await;
    assert_eq!(
        (list[0]["author"].as_str(), list[0]["text"].as_str()),
        (Some("thuky"), amend["text"].as_str())
    );

    // Amendments are co-signed by the other of the two: the judge signs the clerk's, the clerk
    // the judge's; never by the author's own role, never twice.
    let first = list[0]["id"].as_i64().unwrap();
    assert_eq!(list[0]["author_role"], "secretary", "{list}");
    assert!(list[0]["signature"].is_null(), "{list}");
    let sign = |n: i64| format!("{h}/amendments/{n}/sign");
    let (s, body) = clerk.post_json(&sign(first), &json!({})).await;
    assert_eq!(s, 403, "the clerk cannot co-sign her own amendment: {body}");
    assert_eq!(reviewer.post_json(&sign(first), &json!({})).await.0, 403);
    assert_eq!(
        judge.post_json(&sign(first + 1000), &json!({})).await.0,
        404
    );
    assert_eq!(
        judge
            .post_json(
                &format!("/api/hearings/{}/amendments/{first}/sign", hearing + 1000),
                &json!({})
            )
            .await
            .0,
        404
    );
    let (s, signed) = judge.post_json(&sign(first), &json!({})).await;
    assert_eq!(
        (s, signed["username"].as_str()),
        (201, Some("chutoa")),
        "{signed}"
    );
    let (s, body) = judge.post_json(&sign(first), &json!({})).await;
    assert_eq!(s, 409, "{body}");
    assert!(body["error"].is_string());
    let by_judge = json!({"text": "Đính chính: phiên tòa kết thúc lúc 11 giờ 30 phút"});
    let (s, created) = judge.post_json(&format!("{h}/amendments"), &by_judge).await;
    assert_eq!(s, 201);
    let second = created["id"].as_i64().unwrap();
    assert_eq!(judge.post_json(&sign(second), &json!({})).await.0, 403);
    assert_eq!(clerk.post_json(&sign(second), &json!({})).await.0, 201);
    let (_, list) = reviewer.get(&format!("{h}/amendments")).await;
    let signers: Vec<(&str, &str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["author_role"].as_str().unwrap(),
                a["signature"]["username"].as_str().unwrap(),
                a["signature"]["role"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        signers,
        [
            ("secretary", "chutoa", "judge"),
            ("judge", "thuky", "secretary")
        ]
    );

    // Exports.
    let export = |format: &str| {
        reviewer
            .http
            .get(server.url(&format!("{h}/export?format={format}")))
            .bearer_auth(reviewer.token.as_ref().unwrap())
            .send()
    };
    let resp = export("docx").await.unwrap();
    assert_eq!(resp.status(), 200);
    let bytes = resp.bytes().await.unwrap().to_vec();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("word/document.xml").unwrap(), &mut xml)
        .unwrap();
    let needles = [
        "BIÊN BẢN PHIÊN TÒA",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "12/2026/HS-ST",
        "Nguyễn Văn Ân",
        "Chủ tọa phiên tòa",
        "Bổ sung: bị cáo xin vắng mặt buổi chiều",
        "đã ký xác nhận bởi Chủ tọa phiên tòa chutoa",
        "đã ký xác nhận bởi Thư ký phiên tòa thuky",
        "THƯ KÝ PHIÊN TÒA",
        "đã phê duyệt: chutoa",
    ];
    for needle in needles {
        assert!(xml.contains(needle), "DOCX lacks {needle:?}");
    }

    // The same minutes as an A4 PDF, read back with poppler's pdftotext.
    let resp = export("pdf").await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "application/pdf");
    let pdf = resp.bytes().await.unwrap().to_vec();
    assert!(pdf.starts_with(b"%PDF-"));
    assert!(
        pdf.len() < 100_000,
        "{} bytes: the fonts must be subset",
        pdf.len()
    );
    let text = common::pdf_text(&pdf, d);
    for needle in needles.iter().chain(&[
        "Đính chính: phiên tòa kết thúc lúc 11 giờ 30 phút",
        "Trang 1/1",
    ]) {
        assert!(text.contains(needle), "PDF lacks {needle:?}:\n{text}");
    }
    let place = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("PDF lacks {needle:?}:\n{text}"))
    };
    assert!(
        place("Độc lập - Tự do - Hạnh phúc") < place("BIÊN BẢN PHIÊN TÒA")
            && place("BIÊN BẢN PHIÊN TÒA") < place("DIỄN BIẾN PHIÊN TÒA")
            && place("DIỄN BIẾN PHIÊN TÒA") < place("Nguyễn Văn Ân")
            && place("Nguyễn Văn Ân") < place("SỬA ĐỔI, BỔ SUNG BIÊN BẢN")
            && place("Bổ sung: bị cáo") < place("Đính chính: phiên tòa kết thúc")
            && place("Đính chính: phiên tòa kết thúc") < place("THƯ KÝ PHIÊN TÒA"),
        "the PDF's parts are out of order:\n{text}"
    );
    // JSON carries the co-signatures too.
    let (s, j) = reviewer.get(&format!("{h}/export?format=json")).await;
    assert_eq!(s, 200);
    assert_eq!(j["amendments"][1]["signature"]["username"], "thuky", "{j}");

    let (s, vtt) = reviewer.get(&format!("{h}/export?format=vtt")).await;
    assert_eq!(s, 200);
    assert!(
        vtt.as_str()
            .unwrap()
            .contains("<v CHU_TOA>Bị cáo Nguyễn Văn Ân"),
        "{vtt}"
    );
    let (s, body) = reviewer.get(&format!("{h}/export?format=odt")).await;
    assert_eq!(s, 400);
    assert!(
        body["error"].as_str().unwrap().contains("docx or pdf"),
        "{body}"
    );

    // recordings, ASR and edit revisions, two approvals, two amendments, two co-signatures
    let (_, v) = reviewer.get(&format!("{h}/verify")).await;
    assert_eq!(
        (v["ok"].as_bool(), v["entries"].as_i64()),
        (Some(true), Some(9)),
        "{v}"
    );
    // A co-signature rewritten behind the server's back is caught.
    let db = sqlx::SqlitePool::connect(&format!(
        "sqlite://{}",
        server.data.join("courtscribe.db").display()
    ))
    .await
    .unwrap();
    sqlx::query("UPDATE amendment_signatures SET user_id = (SELECT id FROM users WHERE username = 'phuctham') WHERE amendment_id = ?")
        .bind(first)
        .execute(&db)
        .await
        .unwrap();
    db.close().await;
    let (_, v) = reviewer.get(&format!("{h}/verify")).await;
    assert_eq!(v["ok"], false, "{v}");
    assert!(
        v["problems"][0]
            .as_str()
            .unwrap()
            .contains("amendment_signature"),
        "{v}"
    );
}
