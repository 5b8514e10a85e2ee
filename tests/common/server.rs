//! A real `courtscribe serve` process on 127.0.0.1:0 with its own data folder and SQLite file, and
//! a small JSON client for it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const ADMIN: (&str, &str) = ("admin", "admin-pass-123");

pub struct Server {
    child: Child,
    pub base: String,
    pub data: PathBuf,
    env: Vec<(String, String)>,
}

impl Server {
    /// Starts a server on `data` with one worker of one thread (tests run two at a time on two
    /// cores) plus `env`, and waits until it is ready (model loaded).
    pub fn start(data: &Path, env: &[(&str, &str)]) -> Server {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let (child, base) = spawn(data, &env);
        let server = Server {
            child,
            base,
            data: data.to_path_buf(),
            env,
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if http_status(&format!("{}/readyz", self.base)) == Some(200) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        panic!("server at {} not ready within 120 s", self.base);
    }

    /// `(thread name, nice value)` of every thread of the server process (Linux `/proc`).
    pub fn threads(&self) -> Vec<(String, i64)> {
        let task = format!("/proc/{}/task", self.child.id());
        let Ok(dir) = std::fs::read_dir(task) else {
            return Vec::new();
        };
        dir.filter_map(|t| {
            let stat = std::fs::read_to_string(t.ok()?.path().join("stat")).ok()?;
            let (name, rest) = stat.split_once(" (")?.1.rsplit_once(") ")?;
            // Fields after the name start at field 3 (state); nice is field 19.
            let nice = rest.split_whitespace().nth(16)?.parse().ok()?;
            Some((name.to_string(), nice))
        })
        .collect()
    }

    /// The last `n` lines of the server's log, for a failure message.
    pub fn log_tail(&self, n: usize) -> String {
        let log = std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }

    /// `kill -9`: no shutdown code runs.
    pub fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }

    /// Starts the server again on the same data folder (a new port).
    pub fn restart(&mut self) {
        let env: Vec<(String, String)> = self.env.clone();
        let (child, base) = spawn(&self.data, &env);
        self.child = child;
        self.base = base;
        self.wait_ready();
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client logged in as the bootstrap administrator.
    pub async fn admin(&self) -> Client {
        self.login(ADMIN.0, ADMIN.1).await
    }

    pub async fn login(&self, user: &str, password: &str) -> Client {
        let mut c = Client::anonymous(&self.base);
        let (status, body) = c
            .post_json(
                "/api/auth/login",
                &serde_json::json!({"username": user, "password": password}),
            )
            .await;
        assert_eq!(status, 200, "login {user}: {body}");
        c.token = Some(body["token"].as_str().expect("token").to_string());
        c
    }

    /// Creates a user with `role` (as admin) and logs in as them.
    pub async fn user(&self, admin: &Client, name: &str, role: &str, extra: Value) -> Client {
        let mut body =
            serde_json::json!({"username": name, "password": "password-123", "role": role});
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            b.extend(e.clone());
        }
        let (status, reply) = admin.post_json("/api/users", &body).await;
        assert_eq!(status, 201, "create {name}: {reply}");
        self.login(name, "password-123").await
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(data: &Path, env: &[(String, String)]) -> (Child, String) {
    std::fs::create_dir_all(data).unwrap();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(data.with_extension("log"))
        .unwrap();
    let mut cmd = super::bin();
    cmd.arg("serve")
        .arg("--data")
        .arg(data)
        .args(["--listen", "127.0.0.1:0"])
        .env(
            "COURTSCRIBE_BOOTSTRAP_ADMIN",
            format!("{}:{}", ADMIN.0, ADMIN.1),
        )
        .env("COURTSCRIBE_WORKERS", "1")
        .env("COURTSCRIBE_THREADS", "1")
        .env("COURTSCRIBE_LOG", "info,whisper_rs=off")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log));
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| {
            panic!(
                "unexpected first line {line:?}; see {}",
                data.with_extension("log").display()
            )
        })
        .to_string();
    (child, format!("http://{addr}"))
}

/// Status of a plain blocking GET (used while waiting for readiness, outside any runtime).
fn http_status(url: &str) -> Option<u16> {
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_string()), |(h, p)| (h, format!("/{p}")));
    let mut s = std::net::TcpStream::connect(host).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut buf = String::new();
    s.read_to_string(&mut buf).ok()?;
    buf.split_whitespace().nth(1)?.parse().ok()
}

/// A JSON client; `token` is sent as a bearer token when present.
#[derive(Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub fn anonymous(base: &str) -> Client {
        Client {
            http: reqwest::Client::new(),
            base: base.to_string(),
            token: None,
        }
    }

    fn auth(&self, r: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.token {
            Some(t) => r.bearer_auth(t),
            None => r,
        }
    }

    pub async fn send(&self, r: reqwest::RequestBuilder) -> (u16, Value) {
        let resp = self.auth(r).send().await.expect("request");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.expect("body");
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, body)
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.http.get(format!("{}{path}", self.base)))
            .await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn put_json(&self, path: &str, body: &Value) -> (u16, Value) {
        self.send(self.http.put(format!("{}{path}", self.base)).json(body))
            .await
    }

    pub async fn post_bytes(&self, path: &str, body: Vec<u8>) -> (u16, Value) {
        self.send(self.http.post(format!("{}{path}", self.base)).body(body))
            .await
    }

    /// Creates a case and one hearing in `language`; returns (case, hearing).
    pub async fn case_and_hearing(&self, number: &str, language: &str) -> (i64, i64) {
        let (s, c) = self
            .post_json("/api/cases", &serde_json::json!({"number": number, "title": "Vụ án thử nghiệm", "kind": "criminal"}))
            .await;
        assert_eq!(s, 201, "{c}");
        let case = c["id"].as_i64().unwrap();
        let hearing = self
            .hearing(case, &serde_json::json!({"language": language}))
            .await;
        (case, hearing)
    }

    /// Creates a hearing of `case` from `body` (`POST /api/cases/{case}/hearings`); returns its id.
    pub async fn hearing(&self, case: i64, body: &Value) -> i64 {
        let (s, h) = self
            .post_json(&format!("/api/cases/{case}/hearings"), body)
            .await;
        assert_eq!(s, 201, "{h}");
        h["id"].as_i64().unwrap()
    }

    /// Uploads the audio file at `path` as a recording of `hearing`; asserts 202 Accepted and
    /// returns the answer.
    pub async fn upload(&self, hearing: i64, path: &Path) -> Value {
        let (s, accepted) = self
            .post_bytes(
                &format!("/api/hearings/{hearing}/recordings"),
                std::fs::read(path).unwrap(),
            )
            .await;
        assert_eq!(s, 202, "{accepted}");
        accepted
    }

    /// Polls the hearing's transcript until it is done (200) or `secs` pass.
    pub async fn wait_transcript(&self, hearing: i64, secs: u64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let (s, body) = self
                .get(&format!("/api/hearings/{hearing}/transcript"))
                .await;
            match s {
                200 => return body,
                202 if Instant::now() < deadline => {
                    assert!(
                        body["progress"]
                            .as_f64()
                            .is_some_and(|p| (0.0..=1.0).contains(&p)),
                        "{body}"
                    );
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                _ => panic!("transcript of hearing {hearing}: {s} {body}"),
            }
        }
    }
}

/// sha256 of the `data` chunk of a PCM WAV file: the recording's `pcm_sha256`, computed here
/// without the server's decoder.
pub fn wav_pcm_sha256(path: &Path) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(wav_pcm(path)))
}

/// The interleaved s16le samples of a PCM WAV file.
pub fn wav_pcm(path: &Path) -> Vec<u8> {
    let bytes = std::fs::read(path).unwrap();
    let mut i = 12;
    while i + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[i + 4..i + 8].try_into().unwrap()) as usize;
        if &bytes[i..i + 4] == b"data" {
            return bytes[i + 8..i + 8 + len].to_vec();
        }
        i += 8 + len + (len & 1);
    }
    panic!("{} has no data chunk", path.display());
}

/// Text without Vietnamese diacritics, lower case (written here independently of the server).
pub fn strip_diacritics(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization as _;
    s.nfd()
        .filter(|c| !('\u{300}'..='\u{36f}').contains(c))
        .map(|c| if c == 'đ' || c == 'Đ' { 'd' } else { c })
        .collect::<String>()
        .to_lowercase()
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the live ingest WebSocket as `client`.
pub async fn ws_connect(server: &Server, client: &Client) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
    let url = server.url("/api/ingest").replacen("http", "ws", 1);
    let mut req = url.into_client_request().unwrap();
    let bearer = format!("Bearer {}", client.token.as_ref().unwrap());
    req.headers_mut()
        .insert("authorization", bearer.parse().unwrap());
    tokio_tungstenite::connect_async(req).await.unwrap().0
}

/// The next JSON text message from the server.
pub async fn next_json(ws: &mut Ws) -> Value {
    use futures_util::StreamExt as _;
    use tokio_tungstenite::tungstenite::Message;
    loop {
        match ws.next().await.expect("connection open").expect("message") {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Close(_) => panic!("closed"),
            _ => {}
        }
    }
}

/// Sends a JSON text message.
pub async fn send_json(ws: &mut Ws, v: &Value) {
    use futures_util::SinkExt as _;
    ws.send(tokio_tungstenite::tungstenite::Message::Text(
        v.to_string().into(),
    ))
    .await
    .unwrap();
}

/// Subscribes to a hearing's captions and collects the events until a final caption has arrived
/// and nothing more came for 5 s (or 240 s pass).
pub async fn collect_captions(
    server: &Server,
    client: &Client,
    hearing: i64,
) -> tokio::task::JoinHandle<Vec<Value>> {
    use futures_util::StreamExt as _;
    let resp = client
        .http
        .get(server.url(&format!("/api/hearings/{hearing}/captions")))
        .bearer_auth(client.token.as_ref().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    tokio::spawn(async move {
        let mut stream = resp.bytes_stream();
        let mut text = String::new();
        let deadline = Instant::now() + Duration::from_secs(240);
        while Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
                Ok(Some(Ok(chunk))) => text.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(_) => break,
                Err(_) if text.contains("\"kind\":\"final\"") => break,
                Err(_) => {}
            }
        }
        text.lines()
            .filter_map(|l| l.strip_prefix("data:"))
            .map(|d| serde_json::from_str(d.trim()).unwrap())
            .collect()
    })
}
