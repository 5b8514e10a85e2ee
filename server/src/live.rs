//! Live ingest from courtroom stations and live captions for the clerk's screen.
//!
//! Ingest (protocol in `docs/protocol.md`, version [`PROTOCOL_VERSION`]): a station opens a
//! WebSocket at `/api/ingest`, says `hello` (session id, hearing, channels, sample rate), and
//! sends binary frames `seq (u64 LE) ‖ interleaved s16le PCM`. Each frame is appended to
//! `DATA/live/SESSION.pcm`, fsync'd, and recorded in `live_sessions` before it is acknowledged, so
//! an ack means "on disk". A reconnect with the same session id resumes after the last
//! acknowledged frame; retransmitted frames are acknowledged again and dropped; a torn tail left by
//! a crash is cut back to the last acknowledged byte. `end` turns the session into a WAV recording
//! of the hearing (hash-chained, queued for the full diarized transcription at live priority).
//!
//! Captions: while audio arrives, finished stretches of speech (followed by a pause) are cut and
//! decoded by the workers ahead of any job; the resulting segments are pushed to every subscriber
//! of the hearing (`/api/hearings/{id}/captions`, server-sent events).

use std::collections::{HashMap, VecDeque};
use std::io::{Read, Write as _};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::{Notify, broadcast};

use crate::AppState;
use crate::auth::{Caller, SENDERS};
use crate::error::ApiError;
use crate::jobs::Engine;
use courtscribe_transcriber::whisper::WhisperRecognizer;

pub const PROTOCOL_VERSION: u32 = 1;
/// Largest binary frame accepted (8-byte sequence number + PCM).
pub const MAX_FRAME_BYTES: usize = 1 << 20;
/// How often the server pings a station's connection.
const PING_EVERY: Duration = Duration::from_secs(15);
/// How long a closing connection waits for the station's Close before it is dropped.
const CLOSE_WAIT: Duration = Duration::from_secs(2);
/// Captions a late subscriber is sent first.
const RECENT_CAPTIONS: usize = 200;
/// A stretch of speech is captioned at the latest when it is this long, pause or not: a caption
/// cannot appear before its stretch is cut, so this bounds the latency of continuous speech.
const MAX_CAPTION_WINDOW_SECS: f64 = 6.0;
/// Past this length a stretch is also cut at a short pause (a breath between sentences).
const BREATH_CUT_AFTER_SECS: f64 = 1.5;
/// A gap this long between two speech regions (cut with [`caption_vad`]) is a breath: a pause of
/// about 0.4 s, as between two sentences. Pauses inside a sentence (~0.2–0.3 s) give no gap.
const BREATH_SECS: f64 = 0.2;
/// A segment of a partial caption followed by this much more speech is settled: published as
/// final at once.
const SETTLED_AFTER_SECS: f64 = 0.5;
/// How often the captioner looks for a pause (seconds of audio): each look adds up to this much
/// to a caption's latency.
const LOOK_EVERY_SECS: f64 = 0.2;
/// While someone is still speaking, a partial caption at most this often (seconds of audio).
const PARTIAL_EVERY_SECS: f64 = 3.0;
/// A partial caption not started within this time is not worth decoding any more.
const MAX_PARTIAL_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    Hello {
        version: u32,
        station: String,
        hearing: i64,
        session: String,
        channels: u16,
        sample_rate: u32,
        format: String,
    },
    /// A clerk's marker at `offset` seconds into the session.
    Marker {
        id: String,
        offset: f64,
        text: String,
    },
    End,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ServerMessage {
    Ready {
        session: String,
        next_seq: u64,
    },
    Ack {
        seq: u64,
    },
    MarkerAck {
        id: String,
    },
    Done {
        recording: i64,
        pcm_sha256: String,
        frames: u64,
        duration: f64,
    },
    Error {
        message: String,
    },
}

/// One caption: a segment of live speech, or a clerk's marker. Times are seconds from the start
/// of the session's recording.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Caption {
    pub session: String,
    /// `final` (decoded speech), `partial` (speech still going on: replaced by the next partial or
    /// final caption of the session) or `marker` (a clerk's note; `start` = `end` = its time).
    pub kind: String,
    pub start: f64,
    pub end: f64,
    pub text: String,
}

/// A stretch of live speech waiting for a worker.
#[derive(Debug)]
pub struct CaptionTask {
    hearing: i64,
    session: String,
    language: String,
    /// 16 kHz mono.
    samples: Vec<f32>,
    /// Where `samples` start in the session's recording, seconds.
    offset: f64,
    /// When the end of the speech arrived (for the caption latency metric, assuming audio
    /// arrives in real time); for a partial caption, when it was queued.
    cut_at: Instant,
    /// Speech still going on: decoded for a provisional caption only when a worker is free.
    partial: bool,
    /// The hearing's participants' names: the decoder's case vocabulary, as for the job.
    names: Arc<Vec<String>>,
}

/// Live state shared by connections, workers and subscribers.
#[derive(Debug, Default)]
pub struct Live {
    tasks: Mutex<VecDeque<CaptionTask>>,
    hubs: Mutex<HashMap<i64, broadcast::Sender<Caption>>>,
    recent: Mutex<HashMap<i64, VecDeque<Caption>>>,
    /// Per session: where its last final caption ended (seconds); a partial caption decoded from
    /// audio before that is stale.
    final_until: Mutex<HashMap<String, f64>>,
    /// Per session: the generation of the connection that owns it (a reconnect takes over).
    owners: Mutex<HashMap<String, Arc<tokio::sync::Mutex<u64>>>>,
    /// Caption workers waiting for a task.
    wake: Notify,
    /// Caption workers decoding now.
    decoding: AtomicUsize,
    /// Decoding states the caption workers hold (kept while stations stream).
    states: AtomicUsize,
}

impl Live {
    /// No caption is waiting or being decoded and the caption workers hold no decoding state
    /// (they drop theirs when no station streams any more).
    pub fn captions_idle(&self) -> bool {
        self.states.load(Ordering::SeqCst) == 0 && self.tasks.lock().is_ok_and(|q| q.is_empty())
    }

    /// The next caption to decode: final captions first, then, when `partials` is allowed, the
    /// freshest partial ones (a partial caption that waited too long is stale and dropped).
    pub fn next_caption_task(&self, partials: bool) -> Option<CaptionTask> {
        let mut q = self.tasks.lock().ok()?;
        if let Some(i) = q.iter().position(|t| !t.partial) {
            return q.remove(i);
        }
        if !partials {
            return None;
        }
        while let Some(t) = q.pop_front() {
            if t.cut_at.elapsed() < MAX_PARTIAL_WAIT {
                return Some(t);
            }
        }
        None
    }

    fn push_task(&self, t: CaptionTask) {
        if let Ok(mut q) = self.tasks.lock() {
            // Whatever comes next for a session supersedes its queued partial caption.
            q.retain(|old| !(old.partial && old.session == t.session));
            q.push_back(t);
        }
        self.wake.notify_one();
    }

    /// Subscribes to a hearing's captions: the recent ones, then a live receiver.
    pub fn subscribe(&self, hearing: i64) -> (Vec<Caption>, broadcast::Receiver<Caption>) {
        let rx = match self.hubs.lock() {
            Ok(mut hubs) => hubs
                .entry(hearing)
                .or_insert_with(|| broadcast::channel(256).0)
                .subscribe(),
            Err(_) => broadcast::channel(1).1,
        };
        let recent = self
            .recent
            .lock()
            .ok()
            .and_then(|r| r.get(&hearing).map(|q| q.iter().cloned().collect()))
            .unwrap_or_default();
        (recent, rx)
    }

    fn publish(&self, hearing: i64, c: Caption) {
        if c.kind != "partial"
            && let Ok(mut r) = self.recent.lock()
        {
            let q = r.entry(hearing).or_default();
            q.push_back(c.clone());
            while q.len() > RECENT_CAPTIONS {
                q.pop_front();
            }
        }
        if let Ok(hubs) = self.hubs.lock()
            && let Some(tx) = hubs.get(&hearing)
        {
            let _ = tx.send(c);
        }
    }

    fn publish_marker(&self, hearing: i64, session: &str, offset: f64, text: &str) {
        self.publish(
            hearing,
            Caption {
                session: session.to_string(),
                kind: "marker".into(),
                start: offset,
                end: offset,
                text: text.trim().to_string(),
            },
        );
    }

    /// Publishes `segments` (times relative to `offset`) as the session's final captions of its
    /// audio up to `until` (seconds in the recording).
    fn publish_finals(
        &self,
        hearing: i64,
        session: &str,
        offset: f64,
        until: f64,
        segments: Vec<courtscribe_transcriber::Segment>,
    ) {
        self.set_final_until(session, until);
        for seg in segments {
            self.publish(
                hearing,
                Caption {
                    session: session.to_string(),
                    kind: "final".into(),
                    start: offset + seg.start,
                    end: offset + seg.end,
                    text: seg.text.trim().to_string(),
                },
            );
        }
    }

    fn final_until(&self, session: &str) -> f64 {
        self.final_until
            .lock()
            .ok()
            .and_then(|m| m.get(session).copied())
            .unwrap_or(0.0)
    }

    fn set_final_until(&self, session: &str, until: f64) {
        if let Ok(mut m) = self.final_until.lock() {
            let e = m.entry(session.to_string()).or_insert(0.0);
            *e = e.max(until);
        }
    }

    fn owner(&self, session: &str) -> Arc<tokio::sync::Mutex<u64>> {
        match self.owners.lock() {
            Ok(mut o) => o.entry(session.to_string()).or_default().clone(),
            Err(_) => Arc::default(),
        }
    }
}

/// `GET /api/ingest` (WebSocket): live audio from a station.
pub async fn ingest(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    caller.require(SENDERS)?;
    let ws = ws.map_err(|r| {
        ApiError::new(
            axum::http::StatusCode::UPGRADE_REQUIRED,
            format!("{r}: connect with a WebSocket client (docs/protocol.md)"),
        )
    })?;
    Ok(ws
        .max_message_size(MAX_FRAME_BYTES + 1024)
        .on_upgrade(move |socket| connection(state, caller, socket)))
}

async fn send(socket: &mut WebSocket, m: &ServerMessage) -> bool {
    let text = serde_json::to_string(m).unwrap_or_default();
    socket.send(Message::Text(text.into())).await.is_ok()
}

async fn refuse(socket: &mut WebSocket, message: impl Into<String>) {
    let message = message.into();
    tracing::warn!("live ingest refused: {message}");
    let _ = send(socket, &ServerMessage::Error { message }).await;
    close(socket).await;
}

/// Ends the connection with the closing handshake: our Close, then whatever the station still
/// sends (a Pong to the last ping, its own Close) is read and dropped, for up to
/// [`CLOSE_WAIT`]. Dropping the connection with unread bytes makes the kernel reset it, and a
/// reset can destroy the last message before the station reads it: the `done` that names the
/// stored recording was lost that way (a test saw "connection reset" instead of it).
async fn close(socket: &mut WebSocket) {
    if socket.send(Message::Close(None)).await.is_err() {
        return;
    }
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(message)) = socket.recv().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

/// The part of a session a connection holds.
struct Session {
    id: String,
    hearing: i64,
    channels: usize,
    sample_rate: u32,
    language: String,
    next_seq: u64,
    bytes: u64,
    file: tokio::fs::File,
    generation: u64,
    owner: Arc<tokio::sync::Mutex<u64>>,
    captions: Captioner,
    user_id: i64,
    /// The hearing's participants' names when the session opened.
    names: Arc<Vec<String>>,
}

async fn connection(state: Arc<AppState>, caller: Caller, mut socket: WebSocket) {
    let first = tokio::time::timeout(Duration::from_secs(10), socket.recv()).await;
    let hello = match first {
        Ok(Some(Ok(Message::Text(t)))) => serde_json::from_str::<ClientMessage>(&t),
        _ => return refuse(&mut socket, "the first message must be a text `hello`").await,
    };
    let mut session = match hello {
        Ok(ClientMessage::Hello {
            version,
            station,
            hearing,
            session,
            channels,
            sample_rate,
            format,
        }) => {
            if version != PROTOCOL_VERSION {
                return refuse(&mut socket, format!("protocol version {version} is not supported; this server speaks {PROTOCOL_VERSION}")).await;
            }
            if format != "s16le" {
                return refuse(
                    &mut socket,
                    format!("format `{format}` is not supported; send s16le"),
                )
                .await;
            }
            let hello = Hello {
                station,
                hearing,
                session,
                channels,
                sample_rate,
            };
            match open(&state, &caller, hello).await {
                Ok(Opened::Open(s)) => *s,
                Ok(Opened::Closed(done)) => {
                    let _ = send(&mut socket, &done).await;
                    return;
                }
                Err(e) => return refuse(&mut socket, e.message).await,
            }
        }
        Ok(ClientMessage::End | ClientMessage::Marker { .. }) | Err(_) => {
            return refuse(&mut socket, "the first message must be a `hello`").await;
        }
    };
    state.metrics.live_sessions.inc();
    let ready = ServerMessage::Ready {
        session: session.id.clone(),
        next_seq: session.next_seq,
    };
    if send(&mut socket, &ready).await {
        serve_frames(&state, &mut socket, &mut session).await;
    }
    state.metrics.live_sessions.dec();
}

async fn serve_frames(state: &Arc<AppState>, socket: &mut WebSocket, session: &mut Session) {
    // A ping now and then, so a station whose network vanished without a word is noticed and its
    // session freed for the reconnect.
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let message = tokio::select! {
            m = socket.recv() => match m {
                Some(m) => m,
                None => return,
            },
            _ = ping.tick() => {
                if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return;
                }
                continue;
            }
        };
        match message {
            Ok(Message::Binary(frame)) => match append(state, session, &frame).await {
                Ok(acked) => {
                    if !send(socket, &ServerMessage::Ack { seq: acked }).await {
                        return;
                    }
                }
                Err(e) => return refuse(socket, e.message).await,
            },
            Ok(Message::Text(t)) => match serde_json::from_str::<ClientMessage>(&t) {
                Ok(ClientMessage::End) => {
                    match finish(state, session).await {
                        Ok(done) => {
                            let _ = send(socket, &done).await;
                            close(socket).await;
                        }
                        Err(e) => refuse(socket, e.message).await,
                    }
                    return;
                }
                Ok(ClientMessage::Marker { id, offset, text }) => {
                    let m = crate::markers::NewMarker {
                        offset,
                        text,
                        session: Some(session.id.clone()),
                        client_id: Some(format!("{}:{id}", session.id)),
                    };
                    match crate::markers::insert(&state.db, session.hearing, session.user_id, &m)
                        .await
                    {
                        Ok(_) => {
                            state.live.publish_marker(
                                session.hearing,
                                &session.id,
                                offset,
                                &m.text,
                            );
                            if !send(socket, &ServerMessage::MarkerAck { id }).await {
                                return;
                            }
                        }
                        Err(e) => return refuse(socket, e.message).await,
                    }
                }
                _ => return refuse(socket, "expected a binary frame, `marker` or `end`").await,
            },
            Ok(Message::Close(_)) | Err(_) => return,
            Ok(Message::Ping(_) | Message::Pong(_)) => {}
        }
    }
}

/// hearing, channels, sample rate, next seq, bytes, state, recording.
type StoredSession = (i64, i64, i64, i64, i64, String, Option<i64>);

struct Hello {
    station: String,
    hearing: i64,
    session: String,
    channels: u16,
    sample_rate: u32,
}

enum Opened {
    Open(Box<Session>),
    Closed(ServerMessage),
}

fn live_dir(data: &Path) -> PathBuf {
    data.join("live")
}

async fn open(state: &AppState, caller: &Caller, h: Hello) -> Result<Opened, ApiError> {
    let valid_id = !h.session.is_empty()
        && h.session.len() <= 64
        && h.session
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !valid_id {
        return Err(ApiError::bad_request(
            "session must be 1–64 characters of A–Z, a–z, 0–9, - or _",
        ));
    }
    if !(1..=32).contains(&h.channels) || !(8_000..=192_000).contains(&h.sample_rate) {
        return Err(ApiError::bad_request(
            "channels must be 1–32 and sample_rate 8000–192000 Hz",
        ));
    }
    let hearing = crate::api::hearing_for_sender(state, caller, h.hearing).await?;
    let owner = state.live.owner(&h.session);
    let mut generation = owner.lock().await;
    *generation += 1;
    let row: Option<StoredSession> = sqlx::query_as(
        "SELECT hearing_id, channels, sample_rate, next_seq, bytes, state, recording_id FROM live_sessions WHERE id = ?",
    )
    .bind(&h.session)
    .fetch_optional(&state.db)
    .await?;
    let (next_seq, bytes) = match row {
        None => {
            sqlx::query(
                "INSERT INTO live_sessions (id, hearing_id, user_id, station, channels, sample_rate, created_at)
                 VALUES (?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(&h.session)
            .bind(h.hearing)
            .bind(caller.id)
            .bind(&h.station)
            .bind(i64::from(h.channels))
            .bind(i64::from(h.sample_rate))
            .bind(crate::db::now())
            .execute(&state.db)
            .await?;
            (0, 0)
        }
        Some((hearing_id, channels, rate, next_seq, bytes, st, recording)) => {
            if hearing_id != h.hearing
                || channels != i64::from(h.channels)
                || rate != i64::from(h.sample_rate)
            {
                return Err(ApiError::conflict(format!(
                    "session {} belongs to hearing {hearing_id} with {channels} channel(s) at {rate} Hz",
                    h.session
                )));
            }
            if st == "closed" {
                return Ok(Opened::Closed(done_message(state, recording).await?));
            }
            (next_seq as u64, bytes as u64)
        }
    };
    let dir = live_dir(&state.data);
    tokio::fs::create_dir_all(&dir).await?;
    let path = dir.join(format!("{}.pcm", h.session));
    let mut file = tokio::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .await?;
    // Bytes past the last acknowledged frame were never acknowledged: a crash tore them.
    file.set_len(bytes).await?;
    file.seek(std::io::SeekFrom::Start(bytes)).await?;
    let my_generation = *generation;
    drop(generation);
    let pause = state.config.caption_pause_secs;
    Ok(Opened::Open(Box::new(Session {
        id: h.session.clone(),
        hearing: h.hearing,
        channels: usize::from(h.channels),
        sample_rate: h.sample_rate,
        language: hearing.language,
        next_seq,
        bytes,
        file,
        generation: my_generation,
        owner,
        captions: Captioner::new(h.sample_rate, bytes / (2 * u64::from(h.channels)), pause),
        user_id: caller.id,
        names: Arc::new(crate::vocabulary::participant_names(&hearing.participants)),
    })))
}

async fn done_message(state: &AppState, recording: Option<i64>) -> Result<ServerMessage, ApiError> {
    let id = recording.ok_or_else(|| ApiError::internal("closed session without a recording"))?;
    let (pcm_sha256, duration, rate): (String, f64, i64) =
        sqlx::query_as("SELECT pcm_sha256, duration, sample_rate FROM recordings WHERE id = ?")
            .bind(id)
            .fetch_one(&state.db)
            .await?;
    Ok(ServerMessage::Done {
        recording: id,
        pcm_sha256,
        frames: (duration * rate as f64).round() as u64,
        duration,
    })
}

/// Appends one frame; returns the sequence number to acknowledge (cumulative).
async fn append(state: &AppState, s: &mut Session, frame: &[u8]) -> Result<u64, ApiError> {
    let (head, pcm) = frame
        .split_first_chunk::<8>()
        .ok_or_else(|| ApiError::bad_request("a frame starts with an 8-byte sequence number"))?;
    let seq = u64::from_le_bytes(*head);
    let block = 2 * s.channels;
    if pcm.is_empty() || pcm.len() % block != 0 {
        return Err(ApiError::bad_request(format!(
            "frame {seq}: PCM must be whole sample frames of {block} bytes"
        )));
    }
    if seq < s.next_seq {
        // A retransmission of something already on disk.
        return Ok(s.next_seq - 1);
    }
    if seq > s.next_seq {
        return Err(ApiError::bad_request(format!(
            "frame {seq} arrived but {} is next; reconnect and resume",
            s.next_seq
        )));
    }
    if s.bytes + pcm.len() as u64 > u64::from(courtscribe_audio::MAX_WAV_DATA_BYTES) {
        return Err(ApiError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "this session holds 4 GiB of audio; end it and continue in a new session",
        ));
    }
    let generation = s.owner.lock().await;
    if *generation != s.generation {
        return Err(ApiError::conflict(
            "another connection took over this session",
        ));
    }
    s.file.write_all(pcm).await?;
    s.file.sync_data().await?;
    let bytes = s.bytes + pcm.len() as u64;
    sqlx::query("UPDATE live_sessions SET next_seq = ?, bytes = ? WHERE id = ?")
        .bind((seq + 1) as i64)
        .bind(bytes as i64)
        .bind(&s.id)
        .execute(&state.db)
        .await?;
    drop(generation);
    s.next_seq = seq + 1;
    s.bytes = bytes;
    state.metrics.live_bytes.inc_by(pcm.len() as u64);
    s.captions.captioned_until(state.live.final_until(&s.id));
    let tasks = s.captions.push(pcm, s.channels);
    queue_captions(state, s, tasks);
    Ok(seq)
}

/// Hands the stretches the captioner cut to the workers, labelled with the session they belong to.
fn queue_captions(state: &AppState, s: &Session, tasks: Vec<CaptionTask>) {
    for task in tasks {
        state.live.push_task(CaptionTask {
            hearing: s.hearing,
            session: s.id.clone(),
            language: s.language.clone(),
            names: Arc::clone(&s.names),
            ..task
        });
    }
}

/// Turns the session's PCM into a WAV recording of the hearing.
async fn finish(state: &AppState, s: &mut Session) -> Result<ServerMessage, ApiError> {
    let generation = s.owner.lock().await;
    if *generation != s.generation {
        return Err(ApiError::conflict(
            "another connection took over this session",
        ));
    }
    if s.bytes == 0 {
        return Err(ApiError::bad_request(
            "no audio was received in this session",
        ));
    }
    let tasks = s.captions.flush();
    queue_captions(state, s, tasks);
    let raw = live_dir(&state.data).join(format!("{}.pcm", s.id));
    let rel = format!("recordings/h{}/live-{}.wav", s.hearing, s.id);
    let dst = state.data.join(&rel);
    let (channels, rate, bytes) = (s.channels as u16, s.sample_rate, s.bytes);
    let (file_sha256, pcm_sha256) =
        tokio::task::spawn_blocking(move || write_wav(&raw, &dst, channels, rate, bytes))
            .await
            .map_err(ApiError::internal)??;
    let frames = s.bytes / (2 * s.channels as u64);
    let duration = frames as f64 / f64::from(s.sample_rate);
    let meta = crate::api::NewRecording {
        hearing: s.hearing,
        rel: rel.clone(),
        source: "live",
        codec: "pcm_s16le".into(),
        channels: s.channels as i64,
        sample_rate: i64::from(s.sample_rate),
        duration,
        bytes: s.bytes as i64 + 44,
        file_sha256,
        pcm_sha256: pcm_sha256.clone(),
        priority: crate::jobs::LIVE_PRIORITY,
        created_by: s.user_id,
    };
    let (recording, _job) = crate::api::store_recording(state, &meta, Some(&s.id)).await?;
    drop(generation);
    let _ = tokio::fs::remove_file(live_dir(&state.data).join(format!("{}.pcm", s.id))).await;
    Ok(ServerMessage::Done {
        recording,
        pcm_sha256,
        frames,
        duration,
    })
}

/// Writes `raw` (interleaved s16le) as a WAV file at `dst`, durably; returns the sha256 of the
/// file and of the PCM.
fn write_wav(
    raw: &Path,
    dst: &Path,
    channels: u16,
    rate: u32,
    bytes: u64,
) -> Result<(String, String), ApiError> {
    let dir = dst
        .parent()
        .ok_or_else(|| ApiError::internal("recording path has no folder"))?;
    std::fs::create_dir_all(dir)?;
    let data_len = u32::try_from(bytes).map_err(ApiError::internal)?;
    let header = courtscribe_audio::wav_header_s16(channels, rate, data_len);
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    let mut file_hash = Sha256::new();
    let mut pcm_hash = Sha256::new();
    tmp.write_all(&header)?;
    file_hash.update(&header);
    let mut src = std::fs::File::open(raw)?.take(bytes);
    let mut buf = vec![0u8; 1 << 16];
    let mut copied = 0u64;
    loop {
        let n = src.read(&mut buf)?;
        if n == 0 {
            break;
        }
        tmp.write_all(&buf[..n])?;
        file_hash.update(&buf[..n]);
        pcm_hash.update(&buf[..n]);
        copied += n as u64;
    }
    if copied != bytes {
        return Err(ApiError::internal(format!(
            "live audio file {} holds {copied} bytes, {bytes} were acknowledged",
            raw.display()
        )));
    }
    courtscribe_models::persist_file(tmp, dst)?;
    Ok((
        hex::encode(file_hash.finalize()),
        hex::encode(pcm_hash.finalize()),
    ))
}

/// Speech regions for cutting caption stretches: finer than the record's VAD (which splits only
/// at 0.3 s of silence and keeps 0.2 s around each region), so that the pause between two
/// sentences of one speaker shows as a gap and a long turn is captioned sentence by sentence.
fn caption_vad() -> courtscribe_transcriber::vad::VadConfig {
    courtscribe_transcriber::vad::VadConfig {
        min_silence_secs: 0.2,
        pad_secs: 0.1,
        ..Default::default()
    }
}

/// Cuts live audio into stretches of speech for captioning: a stretch ends at a pause of
/// `pause_secs`, or at [`MAX_CAPTION_WINDOW_SECS`]. Silence is dropped here, so it never reaches
/// the decoder.
#[derive(Debug)]
struct Captioner {
    rate: u32,
    pause_secs: f64,
    /// Mono samples at the native rate not yet captioned.
    pending: Vec<f32>,
    /// Frame index (in the recording) of `pending[0]`.
    pending_start: u64,
    /// Pending length at the last look.
    looked_at: usize,
    /// Pending length when the last partial caption was queued.
    partial_at: usize,
}

impl Captioner {
    fn new(rate: u32, start_frame: u64, pause_secs: f64) -> Self {
        Self {
            rate,
            pause_secs,
            pending: Vec::new(),
            pending_start: start_frame,
            looked_at: 0,
            partial_at: 0,
        }
    }

    fn push(&mut self, pcm: &[u8], channels: usize) -> Vec<CaptionTask> {
        let scale = 1.0 / (32768.0 * channels as f32);
        self.pending
            .extend(pcm.chunks_exact(2 * channels).map(|frame| {
                frame
                    .chunks_exact(2)
                    .map(|s| f32::from(i16::from_le_bytes([s[0], s[1]])))
                    .sum::<f32>()
                    * scale
            }));
        if self.pending.len() < self.looked_at + (LOOK_EVERY_SECS * f64::from(self.rate)) as usize {
            return Vec::new();
        }
        self.looked_at = self.pending.len();
        self.cut(false)
    }

    /// Drops pending audio before `until` (seconds in the recording): a worker already published
    /// final captions for it (the settled segments of a partial caption).
    fn captioned_until(&mut self, until: f64) {
        let frame = (until * f64::from(self.rate)).floor() as u64;
        if frame <= self.pending_start {
            return;
        }
        let n = ((frame - self.pending_start) as usize).min(self.pending.len());
        self.pending.drain(..n);
        self.pending_start += n as u64;
        self.looked_at = self.looked_at.saturating_sub(n);
        self.partial_at = self.partial_at.saturating_sub(n);
    }

    fn flush(&mut self) -> Vec<CaptionTask> {
        self.cut(true)
    }

    fn cut(&mut self, at_end: bool) -> Vec<CaptionTask> {
        let Ok(samples) = courtscribe_audio::resample(&self.pending, self.rate, 16_000) else {
            return Vec::new();
        };
        let regions = courtscribe_transcriber::vad::speech_regions(&samples, &caption_vad());
        let len = samples.len();
        let secs = |n: usize| n as f64 / 16_000.0;
        let pause = (self.pause_secs * 16_000.0) as usize;
        // Cut after the last region followed by a pause (or everything at the end of the session,
        // or everything when the stretch is too long to wait for a pause).
        let cut = if at_end || secs(len) >= MAX_CAPTION_WINDOW_SECS {
            len
        } else {
            // After a few seconds, a breath between two stretches of speech is pause enough.
            let breath = (BREATH_SECS * 16_000.0) as usize;
            let at_breath = regions
                .windows(2)
                .rev()
                .find(|w| {
                    w[1].start >= w[0].end + breath && secs(w[0].end) >= BREATH_CUT_AFTER_SECS
                })
                .map(|w| w[0].end);
            match regions.iter().rev().find(|r| r.end + pause <= len) {
                Some(r) => at_breath.map_or(r.end, |b| b.max(r.end)),
                None if at_breath.is_some() => at_breath.unwrap_or(len),
                None if regions.is_empty() && len > pause => len - pause,
                None => return self.partial(samples, &regions),
            }
        };
        let mut tasks = Vec::new();
        let speech = regions.iter().any(|r| r.start < cut);
        let offset = self.pending_start as f64 / f64::from(self.rate);
        if speech {
            tasks.push(CaptionTask {
                hearing: 0,
                session: String::new(),
                language: String::new(),
                samples: samples[..cut].to_vec(),
                offset,
                cut_at: Instant::now()
                    .checked_sub(Duration::from_secs_f64(secs(len - cut)))
                    .unwrap_or_else(Instant::now),
                partial: false,
                names: Arc::default(),
            });
        }
        let native_cut = ((cut as f64 / 16_000.0) * f64::from(self.rate)).round() as usize;
        let native_cut = native_cut.min(self.pending.len());
        self.pending.drain(..native_cut);
        self.pending_start += native_cut as u64;
        self.looked_at = self.pending.len();
        self.partial_at = 0;
        tasks
    }

    /// A provisional caption of the speech so far, when someone has been speaking for a while
    /// since the last one.
    fn partial(
        &mut self,
        samples: Vec<f32>,
        regions: &[courtscribe_transcriber::vad::Region],
    ) -> Vec<CaptionTask> {
        let every = (PARTIAL_EVERY_SECS * f64::from(self.rate)) as usize;
        if regions.is_empty() || self.pending.len() < self.partial_at + every {
            return Vec::new();
        }
        self.partial_at = self.pending.len();
        vec![CaptionTask {
            hearing: 0,
            session: String::new(),
            language: String::new(),
            samples,
            offset: self.pending_start as f64 / f64::from(self.rate),
            cut_at: Instant::now(),
            partial: true,
            names: Arc::default(),
        }]
    }
}

/// A caption worker: decodes captions as they are cut, at normal CPU priority (jobs run at the
/// lowest, so captions take the cores they need). Its decoding state on the caption engine is made
/// on first use and kept while stations stream (a state is ~150 MB of buffers: making one per
/// caption costs time), and dropped when the hearings stop, so the memory goes back to jobs.
pub async fn caption_worker(state: Arc<AppState>, engine: Arc<Engine>) {
    let live = &state.live;
    let mut recognizer: Option<WhisperRecognizer> = None;
    loop {
        // A partial caption holds its worker as long as a final one, which would wait for it:
        // decode one only while no other caption is being decoded.
        let partials = live.decoding.load(Ordering::SeqCst) == 0;
        let Some(task) = live.next_caption_task(partials) else {
            if recognizer.is_some() && state.metrics.live_sessions.get() == 0 {
                recognizer = None;
                live.states.fetch_sub(1, Ordering::SeqCst);
            }
            let _ = tokio::time::timeout(Duration::from_millis(250), live.wake.notified()).await;
            continue;
        };
        live.decoding.fetch_add(1, Ordering::SeqCst);
        let had = recognizer.is_some();
        let (s, e, mut kept) = (state.clone(), engine.clone(), recognizer.take());
        let decoded = tokio::task::spawn_blocking(move || {
            caption(&s, &e, &mut kept, task);
            kept
        });
        match decoded.await {
            Ok(kept) => recognizer = kept,
            Err(e) => tracing::error!("caption worker crashed: {e}"),
        }
        live.decoding.fetch_sub(1, Ordering::SeqCst);
        match (had, recognizer.is_some()) {
            (false, true) => live.states.fetch_add(1, Ordering::SeqCst),
            (true, false) => live.states.fetch_sub(1, Ordering::SeqCst),
            _ => 0,
        };
    }
}

/// Decodes one caption task and publishes its segments. Blocking. `recognizer` is the worker's
/// decoding state on the caption engine, made here when it has none.
fn caption(
    state: &AppState,
    engine: &Engine,
    recognizer: &mut Option<WhisperRecognizer>,
    task: CaptionTask,
) {
    let CaptionTask {
        hearing,
        session,
        language,
        mut samples,
        mut offset,
        cut_at,
        partial,
        names,
    } = task;
    let until = offset + samples.len() as f64 / 16_000.0;
    // The start of this stretch may already be captioned (settled segments of a partial caption
    // decoded while this stretch waited): decode only the rest.
    let captioned = state.live.final_until(&session);
    if !partial && captioned > offset {
        let skip = (((captioned - offset) * 16_000.0) as usize).min(samples.len());
        samples.drain(..skip);
        offset += skip as f64 / 16_000.0;
        if samples.len() < 1_600 {
            return;
        }
    }
    let started = Instant::now();
    let decoded = (|| -> Result<Vec<courtscribe_transcriber::Segment>, String> {
        let recognizer = match recognizer {
            Some(r) => r,
            None => recognizer.insert(engine.captions.recognizer().map_err(|e| e.to_string())?),
        };
        // The job warns about names that do not fit; captions drop them as quietly.
        let (prompt, _) = crate::vocabulary::case_vocabulary(&engine.captions, &names);
        let opts = courtscribe_transcriber::PipelineOptions {
            language: match language.as_str() {
                "auto" => courtscribe_transcriber::Language::Auto,
                code => courtscribe_transcriber::Language::Fixed(code.to_string()),
            },
            prompt,
            retry_loops: false,
            spelling: engine.spelling,
            ..Default::default()
        };
        courtscribe_transcriber::pipeline::recognise(
            std::slice::from_mut(recognizer),
            &samples,
            &opts,
            &mut |_| {},
        )
        .map(|r| r.segments)
        .map_err(|e| e.to_string())
    })();
    let kind = if partial { "partial" } else { "final" };
    state
        .metrics
        .caption_decode
        .get_or_create(&vec![("kind".to_string(), kind.to_string())])
        .observe(started.elapsed().as_secs_f64());
    match decoded {
        Ok(mut segments) if partial => {
            if state.live.final_until(&session) > offset {
                return;
            }
            // Segments the speaker has finished, followed by at least SETTLED_AFTER_SECS of
            // speech, do not change when more audio comes: they are published as final now (the
            // captioner drops their audio), so a long stretch does not hold them back.
            let settled_until = until - SETTLED_AFTER_SECS;
            let settled = segments
                .iter()
                .rposition(|seg| offset + seg.end <= settled_until)
                .map_or(0, |k| k + 1)
                .min(segments.len().saturating_sub(1));
            if settled > 0 {
                let rest = segments.split_off(settled);
                let end = segments.last().map_or(offset, |seg| offset + seg.end);
                state
                    .live
                    .publish_finals(hearing, &session, offset, end, segments);
                segments = rest;
            }
            let (Some(first), Some(last)) = (segments.first(), segments.last()) else {
                return;
            };
            let text: Vec<&str> = segments.iter().map(|s| s.text.trim()).collect();
            state.live.publish(
                hearing,
                Caption {
                    session,
                    kind: "partial".into(),
                    start: offset + first.start,
                    end: offset + last.end,
                    text: text.join(" "),
                },
            );
        }
        Ok(segments) => {
            state
                .live
                .publish_finals(hearing, &session, offset, until, segments);
            state
                .metrics
                .caption_latency
                .observe(cut_at.elapsed().as_secs_f64());
        }
        Err(e) => tracing::warn!(hearing, "caption failed: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    /// Speech from espeak-ng as 16-bit PCM at its own rate, or `None` (with a message) when
    /// espeak-ng is not installed.
    fn speech(text: &str) -> Option<(u32, Vec<u8>)> {
        // A file, not --stdout: espeak-ng's streamed WAV header declares no real length.
        let wav = tempfile::Builder::new()
            .suffix(".wav")
            .tempfile()
            .expect("a temporary file");
        let Ok(status) = std::process::Command::new("espeak-ng")
            .args(["-v", "en", "-w"])
            .arg(wav.path())
            .arg(text)
            .status()
        else {
            eprintln!("SKIP: espeak-ng is not installed (scripts/deps installs it)");
            return None;
        };
        assert!(status.success(), "espeak-ng failed");
        let audio = courtscribe_audio::decode_file(wav.path()).expect("espeak-ng wrote a WAV file");
        let pcm = audio
            .mono()
            .iter()
            .flat_map(|s| ((s * 32767.0).round() as i16).to_le_bytes())
            .collect();
        Some((audio.sample_rate, pcm))
    }

    /// Pushes `pcm` in 0.1 s frames, as a station sends it, and returns the final stretches cut
    /// before the end of the stream (start, end in seconds).
    fn stretches(rate: u32, pcm: &[u8]) -> Vec<(f64, f64)> {
        let mut captioner = Captioner::new(rate, 0, Config::default().caption_pause_secs);
        let frame = 2 * rate as usize / 10;
        pcm.chunks(frame)
            .flat_map(|chunk| captioner.push(chunk, 1))
            .filter(|t| !t.partial)
            .map(|t| (t.offset, t.offset + t.samples.len() as f64 / 16_000.0))
            .collect()
    }

    #[test]
    fn a_turn_of_two_sentences_is_captioned_sentence_by_sentence() {
        let Some((rate, pcm)) = speech(
            "The trial panel records the agreement of the parties. \
             The hearing is adjourned while the panel deliberates, and everyone waits.",
        ) else {
            return;
        };
        let cut = stretches(rate, &pcm);
        // The first sentence (~3 s) is cut at the pause after it, not held until the 6 s cap.
        let (start, end) = cut.first().copied().expect("no stretch was cut");
        assert!(start < 0.5, "{cut:?}");
        assert!(
            (2.0..MAX_CAPTION_WINDOW_SECS - 1.0).contains(&end),
            "the first stretch should end between the sentences: {cut:?}"
        );
    }

    #[test]
    fn pauses_inside_a_sentence_do_not_cut_it() {
        let Some((rate, pcm)) = speech(
            "Your honours, the court clerk reports: the plaintiff is present, \
             the defendant is present.",
        ) else {
            return;
        };
        let total = pcm.len() as f64 / 2.0 / f64::from(rate);
        let cut = stretches(rate, &pcm);
        // No cut before the sentence has been going on for the breath minimum and the cap.
        assert!(
            cut.iter()
                .all(|&(_, end)| end >= (MAX_CAPTION_WINDOW_SECS - 0.5).min(total - 1.0)),
            "a comma split the sentence ({total:.1} s): {cut:?}"
        );
    }
}
