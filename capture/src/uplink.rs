//! The uplink: the spool, streamed to the server over live ingest protocol v1
//! (`docs/protocol.md`).
//!
//! Sequence number `k` is sample frames `[k·F, (k+1)·F)` of the session (F from `session.json`),
//! so numbering depends only on the spool: after a reconnect or a restart the server's
//! `ready.next_seq` says exactly which frame to send next, and the uplink reads it back from the
//! spool. Only synced audio is sent; a short last frame only once the recording has ended. The
//! server's cumulative acks are recorded in `uplink.json`; `end` is sent when every frame is
//! acknowledged, and the session counts as delivered only when `done.pcm_sha256` equals the sha256
//! of the spooled PCM.
//!
//! A connection that gives no answer for [`ANSWER_TIMEOUT`] while frames are outstanding is taken
//! for dead (a cut network sends no RST); reconnects back off from 0.5 s doubling to 30 s.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;

use crate::spool::{Done, Spool, SpoolReader, UplinkState, unix_now};
use crate::status::{Link, Shared};

/// Frames in flight (sent, not acknowledged): 5 s of audio at 200 ms a frame.
const WINDOW: u64 = 25;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// No message from the server for this long while it owes one: the connection is dead.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(8);
const BACKOFF_START: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Acks are recorded in the spool at most this often (a lost one only means a retransmission).
const ACK_PERSIST_INTERVAL: Duration = Duration::from_secs(1);

#[derive(Debug, Clone)]
pub struct UplinkConfig {
    /// `ws://HOST:PORT/api/ingest`.
    pub url: String,
    pub token: Option<String>,
}

/// Why the uplink stopped trying.
#[derive(Debug, thiserror::Error)]
pub enum Fatal {
    #[error(
        "the server's pcm_sha256 {server} differs from the spool's {local}: audio kept in {dir}"
    )]
    Mismatch {
        server: String,
        local: String,
        dir: String,
    },
    #[error("{0}")]
    Conflict(String),
}

enum Failure {
    /// Try again after a pause (the connection was up when `online` is true).
    Retry {
        why: String,
        online: bool,
    },
    Fatal(Fatal),
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::Retry {
            why: e.to_string(),
            online: false,
        }
    }
}

/// Streams `spool` until the server has confirmed the whole recording (`Ok`) or a fatal
/// disagreement (`Err`). Runs for as long as it is not cancelled; the caller decides how long to
/// wait after the recording ends.
pub async fn run(
    spool: Spool,
    shared: Arc<Shared>,
    config: UplinkConfig,
    mut markers: mpsc::UnboundedReceiver<()>,
) -> Result<Done, Fatal> {
    let mut state = spool.uplink_state().unwrap_or_default();
    if let Some(done) = state.done.clone() {
        shared.set_link(Link::Verified);
        return Ok(done);
    }
    let mut up = Uplink {
        reader: SpoolReader::new(spool.clone()),
        spool,
        shared,
        config,
        acked_persisted: state.acked_next,
        state: std::mem::take(&mut state),
        last_persist: Instant::now(),
        persist_error_logged: None,
    };
    up.publish_acked();
    let mut backoff = BACKOFF_START;
    let mut ever_online = false;
    let mut last_logged: Option<(String, Instant)> = None;
    loop {
        up.shared.set_link(Link::Connecting);
        match up.connection(&mut markers).await {
            Ok(done) => return Ok(done),
            Err(Failure::Fatal(f)) => {
                up.shared.set_link(Link::Offline("refused".into()));
                return Err(f);
            }
            Err(Failure::Retry { why, online }) => {
                if online {
                    backoff = BACKOFF_START;
                    ever_online = true;
                }
                // Say it once, and again when it changes or every minute: a station log is read
                // by people.
                let repeat = last_logged
                    .as_ref()
                    .is_none_or(|(w, t)| *w != why || t.elapsed() >= Duration::from_secs(60));
                if repeat {
                    let what = if online {
                        "connection lost"
                    } else if !ever_online {
                        "server unreachable at start"
                    } else {
                        "server still unreachable"
                    };
                    up.shared.log(format!(
                        "{what} ({why}); recording continues locally, retrying (backoff {:.1} s)",
                        backoff.as_secs_f64()
                    ));
                    last_logged = Some((why.clone(), Instant::now()));
                }
                up.shared.set_link(Link::Offline(why));
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
}

struct Uplink {
    spool: Spool,
    reader: SpoolReader,
    shared: Arc<Shared>,
    config: UplinkConfig,
    state: UplinkState,
    acked_persisted: u64,
    last_persist: Instant,
    persist_error_logged: Option<Instant>,
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Uplink {
    fn frame_frames(&self) -> u64 {
        self.spool.meta.frame_frames
    }

    /// Sample frames the server holds, as far as we know.
    fn publish_acked(&self) {
        let durable = self.shared.durable_frames.load(Ordering::Acquire);
        let acked = (self.state.acked_next * self.frame_frames())
            .min(durable.max(self.spool.ended().ok().flatten().map_or(0, |e| e.frames)));
        self.shared.acked_frames.store(acked, Ordering::Relaxed);
    }

    fn persist(&mut self, force: bool) {
        if self.state.acked_next == self.acked_persisted && !force {
            return;
        }
        if !force && self.last_persist.elapsed() < ACK_PERSIST_INTERVAL {
            return;
        }
        match self.spool.set_uplink_state(&self.state) {
            Ok(()) => {
                self.acked_persisted = self.state.acked_next;
                self.last_persist = Instant::now();
            }
            Err(e) => {
                if self
                    .persist_error_logged
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
                {
                    self.shared.log(format!(
                        "cannot record the server's ack in the spool: {e} (the server keeps its own count; retrying)"
                    ));
                    self.persist_error_logged = Some(Instant::now());
                }
            }
        }
    }

    /// (sendable frames, the recording's total if it has ended).
    fn sendable(&self) -> (u64, Option<u64>) {
        if self.shared.ended.load(Ordering::Acquire) {
            let total = self.shared.durable_frames.load(Ordering::Acquire);
            (self.spool.meta.seq_count(total), Some(total))
        } else {
            let durable = self.shared.durable_frames.load(Ordering::Acquire);
            (durable / self.frame_frames(), None)
        }
    }

    fn frame(&mut self, seq: u64, total: Option<u64>) -> std::io::Result<Message> {
        let f = self.frame_frames();
        let start = seq * f;
        let end = match total {
            Some(t) => ((seq + 1) * f).min(t),
            None => (seq + 1) * f,
        };
        let mut bytes = seq.to_le_bytes().to_vec();
        bytes.extend(self.reader.read(start, end - start)?);
        Ok(Message::Binary(bytes.into()))
    }

    async fn connect(&self) -> Result<Ws, Failure> {
        let mut req = self.config.url.as_str().into_client_request()?;
        if let Some(token) = &self.config.token {
            req.headers_mut()
                .insert("authorization", format!("Bearer {token}").parse()?);
        }
        let (ws, _) = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(req))
            .await
            .map_err(|_| "no answer within 5 s".to_string())??;
        Ok(ws)
    }

    async fn connection(
        &mut self,
        markers: &mut mpsc::UnboundedReceiver<()>,
    ) -> Result<Done, Failure> {
        let mut ws = self.connect().await?;
        let meta = &self.spool.meta;
        let hello = json!({"type": "hello", "version": 1, "station": meta.station,
            "hearing": meta.hearing, "session": meta.session, "channels": meta.channels,
            "sample_rate": meta.sample_rate, "format": "s16le"});
        send(&mut ws, Message::Text(hello.to_string().into())).await?;
        let first = tokio::time::timeout(Duration::from_secs(10), next_json(&mut ws))
            .await
            .map_err(|_| "no answer to hello within 10 s".to_string())??;
        let next_seq = match first["type"].as_str() {
            Some("ready") => first["next_seq"].as_u64().ok_or("ready without next_seq")?,
            Some("done") => return self.verify(&first).await,
            Some("error") => {
                return Err(Failure::Retry {
                    why: format!(
                        "server refused: {}",
                        first["message"].as_str().unwrap_or("?")
                    ),
                    online: false,
                });
            }
            _ => return Err(format!("unexpected answer to hello: {first}").into()),
        };
        let (sendable, total) = self.sendable();
        if next_seq > sendable && (total.is_some() || next_seq > sendable + WINDOW) {
            return Err(Failure::Fatal(Fatal::Conflict(format!(
                "the server holds {next_seq} frames of session {} but this spool only {sendable}: the spool is not the one the session was recorded in",
                self.spool.meta.session
            ))));
        }
        let behind = self.state.acked_next.saturating_sub(next_seq);
        self.state.acked_next = next_seq;
        self.persist(true);
        self.publish_acked();
        self.shared.set_link(Link::Online);
        self.shared.log(format!(
            "connected: the server has {:.1} s of session {}{}; backlog {:.1} s",
            self.spool.meta.secs(next_seq * self.frame_frames()),
            self.spool.meta.session,
            if behind > 0 {
                format!(" ({behind} acknowledged frame(s) are sent again)")
            } else {
                String::new()
            },
            self.shared.backlog_secs()
        ));
        self.stream(&mut ws, next_seq, markers).await
    }

    async fn stream(
        &mut self,
        ws: &mut Ws,
        mut next: u64,
        markers: &mut mpsc::UnboundedReceiver<()>,
    ) -> Result<Done, Failure> {
        let lost = |why: String| Failure::Retry { why, online: true };
        let mut sent_markers = HashSet::new();
        self.send_markers(ws, &mut sent_markers).await?;
        let mut end_sent = false;
        // Since when the server owes us an answer (frames outstanding or `end` sent).
        let mut owed_since: Option<Instant> = None;
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        loop {
            tokio::select! {
                m = ws.next() => {
                    let m = match m {
                        Some(Ok(Message::Text(t))) => serde_json::from_str::<Value>(&t)
                            .map_err(|e| lost(format!("bad message from the server: {e}")))?,
                        Some(Ok(Message::Close(_))) | None => return Err(lost("the server closed the connection".into())),
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => return Err(lost(e.to_string())),
                    };
                    match m["type"].as_str() {
                        Some("ack") => {
                            let seq = m["seq"].as_u64().ok_or_else(|| lost(format!("bad ack {m}")))?;
                            self.state.acked_next = self.state.acked_next.max(seq + 1);
                            self.publish_acked();
                            self.persist(false);
                            owed_since = (next > self.state.acked_next || end_sent).then(Instant::now);
                        }
                        Some("marker_ack") => {
                            if let Some(id) = m["id"].as_str() {
                                if let Err(e) = self.spool.ack_marker(id) {
                                    self.shared.log(format!("cannot record marker ack {id}: {e}"));
                                }
                                self.shared.log(format!("marker {id} stored by the server"));
                            }
                        }
                        Some("done") => return self.verify(&m).await,
                        Some("error") => {
                            return Err(lost(format!("server error: {}", m["message"].as_str().unwrap_or("?"))));
                        }
                        _ => {}
                    }
                }
                Some(()) = markers.recv() => {
                    self.send_markers(ws, &mut sent_markers).await.map_err(|e| match e {
                        Failure::Retry { why, .. } => lost(why),
                        f => f,
                    })?;
                }
                _ = tick.tick() => {
                    let (sendable, total) = self.sendable();
                    while next < sendable && next < self.state.acked_next + WINDOW {
                        let frame = self.frame(next, total).map_err(|e| {
                            Failure::Fatal(Fatal::Conflict(format!("cannot read frame {next} from the spool: {e}")))
                        })?;
                        send(ws, frame).await.map_err(|e| lost(e.to_string()))?;
                        if owed_since.is_none() {
                            owed_since = Some(Instant::now());
                        }
                        next += 1;
                    }
                    if let Some(total) = total
                        && !end_sent
                        && self.state.acked_next >= self.spool.meta.seq_count(total)
                    {
                        self.persist(true);
                        send(ws, Message::Text(json!({"type": "end"}).to_string().into()))
                            .await
                            .map_err(|e| lost(e.to_string()))?;
                        end_sent = true;
                        owed_since = Some(Instant::now());
                    }
                    if owed_since.is_some_and(|t| t.elapsed() >= ANSWER_TIMEOUT) {
                        return Err(lost(format!("no answer from the server for {} s", ANSWER_TIMEOUT.as_secs())));
                    }
                    self.persist(false);
                }
            }
        }
    }

    async fn send_markers(
        &mut self,
        ws: &mut Ws,
        sent: &mut HashSet<String>,
    ) -> Result<(), Failure> {
        let acked = self.spool.acked_markers()?;
        for m in self.spool.markers()? {
            if acked.contains(&m.id) || sent.contains(&m.id) {
                continue;
            }
            let msg = json!({"type": "marker", "id": m.id, "offset": m.offset, "text": m.text});
            send(ws, Message::Text(msg.to_string().into())).await?;
            sent.insert(m.id);
        }
        Ok(())
    }

    /// The server's `done`: compared with the spool's own hash before anything counts as delivered.
    async fn verify(&mut self, done: &Value) -> Result<Done, Failure> {
        let ended = self.spool.ended()?.ok_or_else(|| {
            Failure::Fatal(Fatal::Conflict(format!(
                "the server says session {} has ended, but this station is still recording it",
                self.spool.meta.session
            )))
        })?;
        let server = done["pcm_sha256"].as_str().unwrap_or_default().to_string();
        let spool = self.spool.clone();
        let local = tokio::task::spawn_blocking(move || spool.pcm_sha256(ended.frames))
            .await
            .map_err(|e| e.to_string())??;
        if server != local {
            return Err(Failure::Fatal(Fatal::Mismatch {
                server,
                local,
                dir: self.spool.dir.display().to_string(),
            }));
        }
        let done = Done {
            recording: done["recording"].as_i64().unwrap_or_default(),
            pcm_sha256: server,
            verified_at: unix_now(),
        };
        self.state.acked_next = self.spool.meta.seq_count(ended.frames);
        self.state.done = Some(done.clone());
        self.persist(true);
        self.publish_acked();
        self.shared.set_link(Link::Verified);
        Ok(done)
    }
}

async fn send(ws: &mut Ws, m: Message) -> Result<(), String> {
    // A cut network fills the socket's buffers and then blocks: bound every send.
    match tokio::time::timeout(ANSWER_TIMEOUT, ws.send(m)).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "sending blocked for {} s",
            ANSWER_TIMEOUT.as_secs()
        )),
    }
}

async fn next_json(ws: &mut Ws) -> Result<Value, Failure> {
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) => return Ok(serde_json::from_str(&t)?),
            Some(Ok(Message::Close(_))) | None => {
                return Err("the server closed the connection".into());
            }
            Some(Ok(_)) => {}
            Some(Err(e)) => return Err(e.into()),
        }
    }
}

/// `ws://HOST:PORT/api/ingest` for a server base URL (`http://HOST:PORT`, or a `ws://` URL used as
/// given). TLS is not built in (the workspace's HTTP clients have none either).
pub fn ingest_url(server: &str) -> Result<String, String> {
    let server = server.trim().trim_end_matches('/');
    let (scheme, rest) = server
        .split_once("://")
        .ok_or_else(|| format!("server URL `{server}` must start with http:// or ws://"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("server URL `{server}` has no host"));
    }
    let url = match scheme {
        "http" => format!("ws://{rest}/api/ingest"),
        "ws" if rest.contains('/') => format!("ws://{rest}"),
        "ws" => format!("ws://{rest}/api/ingest"),
        "https" | "wss" => {
            return Err(format!(
                "server URL `{server}`: TLS is not built into this agent; use http:// on the court network or a local TLS tunnel"
            ));
        }
        _ => {
            return Err(format!(
                "server URL `{server}` must start with http:// or ws://"
            ));
        }
    };
    url.as_str()
        .into_client_request()
        .map_err(|e| format!("server URL `{server}`: {e}"))?;
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::ingest_url;

    #[test]
    fn server_urls_become_the_ingest_socket_or_a_clear_error() {
        let ok = [
            ("http://10.0.0.5:8080", "ws://10.0.0.5:8080/api/ingest"),
            ("http://127.0.0.1:9/", "ws://127.0.0.1:9/api/ingest"),
            ("ws://h:1", "ws://h:1/api/ingest"),
            ("ws://h:1/api/ingest", "ws://h:1/api/ingest"),
        ];
        for (given, want) in ok {
            assert_eq!(ingest_url(given).as_deref(), Ok(want), "{given}");
        }
        for bad in [
            "10.0.0.5:8080",
            "ftp://h",
            "http://",
            "https://h",
            "wss://h",
        ] {
            assert!(ingest_url(bad).is_err(), "{bad}");
        }
    }
}
