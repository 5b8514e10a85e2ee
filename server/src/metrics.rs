//! Prometheus metrics at `/metrics`: request counts by status class, jobs, live sessions and
//! bytes, caption latency and decoding time, queue depth (read from the database at scrape time).

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<Vec<(String, String)>, Counter>,
    pub jobs_done: Counter,
    pub live_sessions: Gauge,
    pub live_bytes: Counter,
    pub caption_latency: Histogram,
    /// Time a worker spends decoding one caption, by `kind` (final, partial).
    pub caption_decode: Family<Vec<(String, String)>, Histogram>,
    pub queued_jobs: Gauge,
    pub running_jobs: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("courtscribe");
        let requests = Family::<Vec<(String, String)>, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by status class",
            requests.clone(),
        );
        let jobs_done = Counter::default();
        registry.register(
            "jobs_done",
            "Transcription jobs completed",
            jobs_done.clone(),
        );
        let live_sessions = Gauge::default();
        registry.register(
            "live_sessions",
            "Stations streaming now",
            live_sessions.clone(),
        );
        let live_bytes = Counter::default();
        registry.register(
            "live_audio_bytes",
            "PCM bytes received from stations",
            live_bytes.clone(),
        );
        let caption_latency =
            Histogram::new([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0]);
        registry.register(
            "caption_latency_seconds",
            "From the end of a stretch of live speech to its caption",
            caption_latency.clone(),
        );
        let caption_decode =
            Family::<Vec<(String, String)>, Histogram>::new_with_constructor(|| {
                Histogram::new([0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0])
            });
        registry.register(
            "caption_decode_seconds",
            "Time a worker spends decoding one caption, by kind",
            caption_decode.clone(),
        );
        let queued_jobs = Gauge::default();
        registry.register(
            "jobs_queued",
            "Jobs waiting for a worker",
            queued_jobs.clone(),
        );
        let running_jobs = Gauge::default();
        registry.register(
            "jobs_running",
            "Jobs being transcribed",
            running_jobs.clone(),
        );
        Self {
            registry,
            requests,
            jobs_done,
            live_sessions,
            live_bytes,
            caption_latency,
            caption_decode,
            queued_jobs,
            running_jobs,
        }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!("metrics encoding: {e}");
        }
        out
    }

    pub fn count_request(&self, status: u16) {
        let class = format!("{}xx", status / 100);
        self.requests
            .get_or_create(&vec![("status".to_string(), class)])
            .inc();
    }
}
