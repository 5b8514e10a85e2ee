//! Server settings: defaults, then a TOML file (`--config`), then `COURTSCRIBE_*` environment
//! variables, then the command line (`--data`, `--listen`). Unknown keys in the file are errors, so
//! a misspelt setting is never silently ignored.

use std::path::{Path, PathBuf};

use courtscribe_transcriber::Spelling;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to listen on, e.g. `127.0.0.1:8080` (`:0` picks a free port; the chosen address is
    /// printed on stdout as `listening on ADDR`).
    pub listen: String,
    /// Folder holding the database (`courtscribe.db`) and the audio files.
    pub data: PathBuf,
    /// Installed whisper model the workers load (`courtscribe models list`).
    pub model: String,
    /// Job workers (each holds one decoding state on the one loaded model while it transcribes),
    /// and as many live caption workers.
    pub workers: usize,
    /// CPU threads per worker. `workers × threads` should not exceed the idle cores: whisper.cpp's
    /// threads spin at barriers, and oversubscription slows decoding several times over. Running
    /// jobs share all `workers × threads` window by window, so a lone job decodes on all of them
    /// (as 1-thread states, at most four beyond its worker's own), each state ~150–200 MB for
    /// `base`.
    pub threads: usize,
    /// Put speakers into transcripts (channel mode for multi-microphone recordings, voice
    /// clustering otherwise).
    pub diarize: bool,
    /// Largest accepted upload, in MiB.
    pub max_upload_mb: u64,
    /// Largest JSON request body, in KiB.
    pub max_json_kb: usize,
    /// Lifetime of a login token, in seconds.
    pub token_ttl_secs: u64,
    /// Lifetime of a station's login token, in seconds: stations run unattended for days.
    pub station_token_ttl_secs: u64,
    /// Login attempts allowed per user name and client address per minute (a burst of this many,
    /// then one more every 60/N seconds).
    pub login_attempts_per_minute: u32,
    /// Names of the court and courtroom created on first start.
    pub court_name: String,
    pub courtroom_name: String,
    /// Live captions: seconds of silence that end a caption segment.
    pub caption_pause_secs: f64,
    /// Spelling of English minutes and captions: "british" (honour, defence; Vietnam's official
    /// English) or "american".
    pub english_spelling: Spelling,
}

impl Default for Config {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            listen: "127.0.0.1:8080".into(),
            data: PathBuf::from("courtscribe-data"),
            model: courtscribe_models::DEFAULT_MODEL.into(),
            workers: cores.max(1),
            threads: 1,
            diarize: true,
            max_upload_mb: 4096,
            max_json_kb: 4096,
            token_ttl_secs: 12 * 3600,
            station_token_ttl_secs: 30 * 24 * 3600,
            login_attempts_per_minute: 10,
            court_name: "Tòa án nhân dân".into(),
            courtroom_name: "Phòng xử án số 1".into(),
            caption_pause_secs: 0.4,
            english_spelling: Spelling::British,
        }
    }
}

impl Config {
    /// Defaults, overlaid by `file` (when given) and by the environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let mut config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| anyhow::anyhow!("cannot read config {}: {e}", path.display()))?;
                toml::from_str(&text)
                    .map_err(|e| anyhow::anyhow!("config {}: {e}", path.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        Ok(config)
    }

    /// Overrides from `COURTSCRIBE_LISTEN`, `COURTSCRIBE_DATA`, `COURTSCRIBE_MODEL`,
    /// `COURTSCRIBE_WORKERS`, `COURTSCRIBE_THREADS`, `COURTSCRIBE_DIARIZE`,
    /// `COURTSCRIBE_MAX_UPLOAD_MB`, `COURTSCRIBE_TOKEN_TTL_SECS`, `COURTSCRIBE_STATION_TOKEN_TTL_SECS`,
    /// `COURTSCRIBE_LOGIN_ATTEMPTS_PER_MINUTE`, `COURTSCRIBE_ENGLISH_SPELLING`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        fn parse<T: std::str::FromStr>(key: &str, v: &str) -> anyhow::Result<T> {
            v.trim()
                .parse()
                .map_err(|_| anyhow::anyhow!("{key}={v:?} is not a valid value"))
        }
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        if let Some(v) = get("COURTSCRIBE_LISTEN") {
            self.listen = v;
        }
        if let Some(v) = get("COURTSCRIBE_DATA") {
            self.data = PathBuf::from(v);
        }
        if let Some(v) = get("COURTSCRIBE_MODEL") {
            self.model = v;
        }
        if let Some(v) = get("COURTSCRIBE_WORKERS") {
            self.workers = parse("COURTSCRIBE_WORKERS", &v)?;
        }
        if let Some(v) = get("COURTSCRIBE_THREADS") {
            self.threads = parse("COURTSCRIBE_THREADS", &v)?;
        }
        if let Some(v) = get("COURTSCRIBE_DIARIZE") {
            self.diarize = parse("COURTSCRIBE_DIARIZE", &v)?;
        }
        if let Some(v) = get("COURTSCRIBE_MAX_UPLOAD_MB") {
            self.max_upload_mb = parse("COURTSCRIBE_MAX_UPLOAD_MB", &v)?;
        }
        if let Some(v) = get("COURTSCRIBE_STATION_TOKEN_TTL_SECS") {
            self.station_token_ttl_secs = parse("COURTSCRIBE_STATION_TOKEN_TTL_SECS", &v)?;
        }
        if let Some(v) = get("COURTSCRIBE_TOKEN_TTL_SECS") {
            self.token_ttl_secs = parse("COURTSCRIBE_TOKEN_TTL_SECS", &v)?;
        }
        if let Some(v) = get("COURTSCRIBE_LOGIN_ATTEMPTS_PER_MINUTE") {
            self.login_attempts_per_minute = parse("COURTSCRIBE_LOGIN_ATTEMPTS_PER_MINUTE", &v)?;
        }
        if let Some(v) = get("COURTSCRIBE_ENGLISH_SPELLING") {
            self.english_spelling = parse("COURTSCRIBE_ENGLISH_SPELLING", &v)?;
        }
        self.check()
    }

    fn check(&self) -> anyhow::Result<()> {
        anyhow::ensure!(self.workers >= 1, "workers must be at least 1");
        anyhow::ensure!(self.threads >= 1, "threads must be at least 1");
        anyhow::ensure!(self.max_upload_mb >= 1, "max_upload_mb must be at least 1");
        anyhow::ensure!(
            self.login_attempts_per_minute >= 1,
            "login_attempts_per_minute must be at least 1"
        );
        anyhow::ensure!(
            self.token_ttl_secs >= 1,
            "token_ttl_secs must be at least 1"
        );
        Ok(())
    }

    pub fn max_upload_bytes(&self) -> u64 {
        self.max_upload_mb.saturating_mul(1024 * 1024)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_the_file_and_bad_values_are_refused() {
        let mut c: Config = toml::from_str("workers = 3\nmodel = \"tiny.en\"").expect("toml");
        assert_eq!(c.workers, 3);
        c.apply_env(|k| (k == "COURTSCRIBE_WORKERS").then(|| "1".to_string()))
            .expect("env");
        assert_eq!((c.workers, c.model.as_str()), (1, "tiny.en"));
        let err = c
            .apply_env(|k| (k == "COURTSCRIBE_THREADS").then(|| "many".to_string()))
            .expect_err("bad number");
        assert!(err.to_string().contains("COURTSCRIBE_THREADS"), "{err}");
        assert!(
            toml::from_str::<Config>("wokers = 3").is_err(),
            "misspelt key accepted"
        );
        let american: Config = toml::from_str("english_spelling = \"american\"").expect("toml");
        assert_eq!(american.english_spelling, Spelling::American);
        assert_eq!(Config::default().english_spelling, Spelling::British);
        let err = toml::from_str::<Config>("english_spelling = \"australian\"")
            .expect_err("unknown spelling");
        assert!(err.to_string().contains("australian"), "{err}");
        let mut c = Config::default();
        c.apply_env(|k| (k == "COURTSCRIBE_ENGLISH_SPELLING").then(|| "en-US".to_string()))
            .expect("env");
        assert_eq!(c.english_spelling, Spelling::American);
    }
}
