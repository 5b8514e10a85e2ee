//! The transcription service and case record. `courtscribe serve` runs [`serve`]: an axum HTTP
//! API ([`api`]) over a SQLite case record ([`db`], migrations in `migrations/`), audio files under
//! the data folder written atomically, a durable job queue whose workers share one loaded whisper
//! model ([`jobs`]), live WebSocket ingest and captions ([`live`], protocol in
//! `docs/protocol.md`), users, roles and tokens ([`auth`]), an audit log ([`audit`]), a hash chain
//! over recordings and transcript revisions ([`chain`]), diacritic-insensitive search
//! ([`search`]) and Prometheus metrics ([`metrics`]).
//!
//! Data folder layout: `courtscribe.db` (+ WAL), `recordings/hN/*.{wav,flac,…}` (hearing N's audio,
//! never modified after it is written), `live/SESSION.pcm` (sessions still streaming), `tmp/`
//! (uploads in flight; removed when they fail).

pub mod api;
pub mod audit;
pub mod auth;
pub mod chain;
pub mod config;
pub mod db;
pub mod error;
pub mod jobs;
pub mod live;
pub mod malloc;
pub mod markers;
pub mod metrics;
pub mod minutes;
pub mod minutes_doc;
pub mod revisions;
pub mod search;
pub mod ui;
pub mod vocabulary;
pub mod workbench_api;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sqlx::SqlitePool;

pub use config::Config;

/// What every handler and worker shares.
#[derive(Debug)]
pub struct AppState {
    pub config: Config,
    pub data: PathBuf,
    pub db: SqlitePool,
    pub default_courtroom: i64,
    pub login_limiter: auth::LoginLimiter,
    pub jobs: jobs::Jobs,
    pub live: live::Live,
    pub metrics: metrics::Metrics,
    /// The model is loaded and the workers run.
    pub ready: AtomicBool,
}

/// Runs the server until the process is stopped. Prints `listening on ADDR` on stdout once the
/// socket is bound (tests and scripts read it to learn the port).
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let data = config.data.clone();
    let db = db::open(&data).await?;
    let (_, courtroom) =
        db::ensure_default_courtroom(&db, &config.court_name, &config.courtroom_name).await?;
    let bootstrap = std::env::var("COURTSCRIBE_BOOTSTRAP_ADMIN").ok();
    if let Some(user) = auth::bootstrap_admin(&db, bootstrap.as_deref()).await? {
        tracing::info!("created administrator `{user}`");
    }
    let requeued = jobs::requeue_interrupted(&db).await?;
    if requeued > 0 {
        tracing::warn!("{requeued} job(s) interrupted by the last shutdown are queued again");
    }
    // Resolve the model before listening: a missing model is a start-up error, not a failed job.
    let store = courtscribe_models::ModelStore::from_env()?;
    let model = store.resolve(&config.model)?;
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    let state = Arc::new(AppState {
        login_limiter: auth::LoginLimiter::new(config.login_attempts_per_minute),
        data,
        db,
        default_courtroom: courtroom,
        jobs: jobs::Jobs::default(),
        live: live::Live::default(),
        metrics: metrics::Metrics::default(),
        ready: AtomicBool::new(false),
        config,
    });
    let loader = state.clone();
    tokio::spawn(async move {
        let (threads, workers) = (loader.config.threads, loader.config.workers);
        let spelling = loader.config.english_spelling;
        let loaded = tokio::task::spawn_blocking(move || {
            let whisper = courtscribe_transcriber::WhisperEngine::load(
                &model,
                jobs::job_threads(threads, workers),
            )?;
            let captions =
                courtscribe_transcriber::WhisperEngine::load_for_short_windows(&model, threads)?;
            Ok::<_, courtscribe_transcriber::Error>(jobs::Engine {
                whisper,
                captions,
                model,
                spelling,
                slots: Arc::new(courtscribe_transcriber::DecodeSlots::new(workers * threads)),
            })
        })
        .await;
        match loaded {
            Ok(Ok(engine)) => {
                jobs::start(&loader, Arc::new(engine));
                loader.ready.store(true, Ordering::Release);
            }
            Ok(Err(e)) => tracing::error!("cannot load the model: {e}"),
            Err(e) => tracing::error!("model loader crashed: {e}"),
        }
    });
    println!("listening on {addr}");
    let app = api::router(state);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return ctrl_c.await.unwrap_or(()),
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// `courtscribe verify`: checks the hash chains of one hearing (or all) in a data folder, offline.
/// Returns (hearing, result) pairs.
pub async fn verify_offline(
    data: &Path,
    hearing: Option<i64>,
) -> anyhow::Result<Vec<(i64, chain::Verification)>> {
    anyhow::ensure!(
        data.join(db::FILE_NAME).is_file(),
        "{} holds no courtscribe database",
        data.display()
    );
    let db = db::open(data).await?;
    let hearings: Vec<i64> = match hearing {
        Some(h) => vec![h],
        None => {
            sqlx::query_scalar("SELECT id FROM hearings ORDER BY id")
                .fetch_all(&db)
                .await?
        }
    };
    let mut out = Vec::new();
    for h in hearings {
        let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM hearings WHERE id = ?")
            .bind(h)
            .fetch_optional(&db)
            .await?;
        anyhow::ensure!(exists.is_some(), "no hearing with id {h}");
        out.push((h, chain::verify(&db, data, h).await?));
    }
    Ok(out)
}
