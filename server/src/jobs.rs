//! The durable job queue and its workers. A job is "transcribe recording R": a row in `jobs`,
//! claimed atomically by one worker, its result committed in one transaction with the revision
//! it produces (`revisions.job_id` is unique), so a job that is interrupted by `kill -9` is simply
//! claimed again after the restart and can never add its segments twice. Live hearings' jobs have a
//! higher priority than uploads, and live caption windows go before any job: a worker decodes the
//! captions waiting between two windows of the recording it transcribes.
//!
//! All workers share one loaded model ([`Engine`]); each decodes with its own whisper state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use courtscribe_models::InstalledModel;
use courtscribe_transcriber::whisper::WhisperRecognizer;
use courtscribe_transcriber::{
    Language, PipelineOptions, TranscribeOptions, Transcript, WhisperEngine,
};
use sqlx::SqlitePool;
use tokio::sync::Notify;

use crate::AppState;

/// A job that crashed the server this many times is given up (a poisoned recording must not stop
/// every other hearing's transcription).
const MAX_ATTEMPTS: i64 = 3;

/// Priority of jobs for recordings that came from a live courtroom.
pub const LIVE_PRIORITY: i64 = 10;

/// The loaded model all workers share.
#[derive(Debug, Clone)]
pub struct Engine {
    pub whisper: WhisperEngine,
    /// The same model loaded for short windows (live captions): encoder context fitted to each
    /// window, no DTW.
    pub captions: WhisperEngine,
    pub model: InstalledModel,
}

/// Worker wake-ups, busy workers and in-flight progress.
#[derive(Debug, Default)]
pub struct Jobs {
    wake: Notify,
    busy: AtomicUsize,
    progress: Mutex<HashMap<i64, f64>>,
}

/// Counts a worker as busy while it lives.
struct Busy<'a>(&'a AtomicUsize);

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Jobs {
    fn busy(&self) -> Busy<'_> {
        self.busy.fetch_add(1, Ordering::SeqCst);
        Busy(&self.busy)
    }

    /// A partial caption is worth a worker only while every other worker is idle: it holds its
    /// worker for as long as a final caption, which would then wait for it.
    fn partials_allowed(&self) -> bool {
        self.busy.load(Ordering::SeqCst) == 0
    }

    /// Tells a waiting worker that there is work.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Fraction done of a running job.
    pub fn progress(&self, job: i64) -> Option<f64> {
        self.progress.lock().ok()?.get(&job).copied()
    }

    fn set_progress(&self, job: i64, p: Option<f64>) {
        if let Ok(mut m) = self.progress.lock() {
            match p {
                Some(p) => m.insert(job, p),
                None => m.remove(&job),
            };
        }
    }
}

/// Jobs left `running` by a previous process that died go back to the queue.
pub async fn requeue_interrupted(db: &SqlitePool) -> sqlx::Result<u64> {
    Ok(
        sqlx::query("UPDATE jobs SET status = 'queued' WHERE status = 'running'")
            .execute(db)
            .await?
            .rows_affected(),
    )
}

/// Starts `workers` workers on `engine`.
pub fn start(state: &Arc<AppState>, engine: Arc<Engine>) {
    for n in 0..state.config.workers {
        let state = state.clone();
        let engine = engine.clone();
        tokio::spawn(async move {
            tracing::info!("worker {n} ready");
            worker(state, engine, n).await;
        });
    }
}

/// With two or more workers, worker 0 keeps itself for captions while any station streams: a job
/// holds its worker for a whole recording, and live captions must not wait behind one. With no
/// live session it takes jobs like the others.
async fn worker(state: Arc<AppState>, engine: Arc<Engine>, n: usize) {
    let reserved = n == 0 && state.config.workers >= 2;
    let mut recognizer = None;
    loop {
        if let Some(task) = state.live.next_caption_task(state.jobs.partials_allowed()) {
            let _busy = state.jobs.busy();
            let (s, e, mut kept) = (state.clone(), engine.clone(), recognizer.take());
            let decoded = tokio::task::spawn_blocking(move || {
                crate::live::caption(&s, &e, &mut kept, task);
                kept
            });
            match decoded.await {
                Ok(kept) => recognizer = kept,
                Err(e) => tracing::error!("caption worker crashed: {e}"),
            }
            continue;
        }
        if reserved && state.metrics.live_sessions.get() > 0 {
            let _ =
                tokio::time::timeout(Duration::from_millis(250), state.jobs.wake.notified()).await;
            continue;
        }
        match claim(&state.db).await {
            Ok(Some(job)) => {
                let _busy = state.jobs.busy();
                run(&state, &engine, &mut recognizer, job).await;
            }
            Ok(None) => {
                let _ =
                    tokio::time::timeout(Duration::from_secs(1), state.jobs.wake.notified()).await;
            }
            Err(e) => {
                tracing::error!("job queue: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
struct Claimed {
    id: i64,
    recording_id: i64,
    hearing_id: i64,
    attempts: i64,
}

async fn claim(db: &SqlitePool) -> sqlx::Result<Option<Claimed>> {
    sqlx::query_as(
        "UPDATE jobs SET status = 'running', attempts = attempts + 1
         WHERE id = (SELECT id FROM jobs WHERE status = 'queued' ORDER BY priority DESC, id LIMIT 1)
         RETURNING id, recording_id, hearing_id, attempts",
    )
    .fetch_optional(db)
    .await
}

/// Runs one job. Between the windows of the recording the worker decodes any caption waiting
/// (with `recognizer`, its caption state): a long job must not hold back live captions.
async fn run(
    state: &Arc<AppState>,
    engine: &Arc<Engine>,
    recognizer: &mut Option<WhisperRecognizer>,
    job: Claimed,
) {
    if job.attempts > MAX_ATTEMPTS {
        let why = format!("gave up after {MAX_ATTEMPTS} interrupted attempts");
        finish_failed(&state.db, job.id, &why).await;
        return;
    }
    let row: Result<(String, String), _> = sqlx::query_as(
        "SELECT r.path, h.language FROM recordings r JOIN hearings h ON h.id = r.hearing_id WHERE r.id = ?",
    )
    .bind(job.recording_id)
    .fetch_one(&state.db)
    .await;
    let (rel, language) = match row {
        Ok(r) => r,
        Err(e) => return finish_failed(&state.db, job.id, &format!("recording: {e}")).await,
    };
    tracing::info!(
        job = job.id,
        recording = job.recording_id,
        "transcribing {rel}"
    );
    state.jobs.set_progress(job.id, Some(0.0));
    let path = state.data.join(&rel);
    let diarize = state.config.diarize;
    let engine = engine.clone();
    let worker_state = state.clone();
    let job_id = job.id;
    let mut kept = recognizer.take();
    let result = tokio::task::spawn_blocking(move || {
        let progress = |f: f64| {
            worker_state.jobs.set_progress(job_id, Some(f));
            while let Some(task) = worker_state.live.next_caption_task(false) {
                crate::live::caption(&worker_state, &engine, &mut kept, task);
            }
        };
        let result = transcribe_file(&engine, &path, &rel, &language, diarize, progress);
        (result, kept)
    })
    .await
    .map(|(result, kept)| {
        *recognizer = kept;
        result
    });
    state.jobs.set_progress(job.id, None);
    match result {
        Ok(Ok(transcript)) => {
            if let Err(e) = commit(state, &job, transcript).await {
                tracing::error!(job = job.id, "cannot store the transcript: {e}");
                // Back to the queue: the revision was not written, so a retry cannot duplicate it.
                let _ = sqlx::query("UPDATE jobs SET status = 'queued' WHERE id = ?")
                    .bind(job.id)
                    .execute(&state.db)
                    .await;
            } else {
                state.metrics.jobs_done.inc();
            }
        }
        Ok(Err(e)) => finish_failed(&state.db, job.id, &e).await,
        Err(e) => finish_failed(&state.db, job.id, &format!("worker crashed: {e}")).await,
    }
}

async fn finish_failed(db: &SqlitePool, job: i64, why: &str) {
    tracing::error!(job, "transcription failed: {why}");
    let r =
        sqlx::query("UPDATE jobs SET status = 'failed', error = ?, finished_at = ? WHERE id = ?")
            .bind(why)
            .bind(crate::db::now())
            .bind(job)
            .execute(db)
            .await;
    if let Err(e) = r {
        tracing::error!(job, "cannot mark the job failed: {e}");
    }
}

/// Decodes, transcribes and (when asked) diarizes one stored recording. Blocking.
fn transcribe_file(
    engine: &Engine,
    path: &Path,
    rel: &str,
    language: &str,
    diarize: bool,
    mut progress: impl FnMut(f64),
) -> Result<Transcript, String> {
    let audio = courtscribe_audio::decode_file(path).map_err(|e| format!("audio: {e}"))?;
    let sha = courtscribe_audio::sha256_file(path).map_err(|e| format!("audio: {e}"))?;
    let language = match language {
        "auto" => Language::Auto,
        code => Language::Fixed(code.to_string()),
    };
    let opts = TranscribeOptions {
        pipeline: PipelineOptions {
            language,
            ..PipelineOptions::default()
        },
    };
    let mut transcript = courtscribe_transcriber::transcribe(
        &engine.whisper,
        &engine.model,
        &audio,
        &PathBuf::from(rel),
        &sha,
        &opts,
        &mut |f| progress(f * if diarize { 0.9 } else { 1.0 }),
    )
    .map_err(|e| e.to_string())?;
    if diarize {
        let opts = courtscribe_diarization::Options::default();
        match courtscribe_diarization::diarize(&audio, &opts) {
            Ok(d) => courtscribe_diarization::merge::apply(&mut transcript, &d),
            // Text without speakers is still the record of what was said.
            Err(e) => {
                tracing::warn!("diarization of {rel} failed, transcript kept without speakers: {e}")
            }
        }
    }
    progress(1.0);
    Ok(transcript)
}

/// Stores the job's transcript as the hearing's next ASR revision (appended after what the hearing
/// already has), in one transaction with the chain entry, the search index and the job's status.
async fn commit(state: &AppState, job: &Claimed, transcript: Transcript) -> anyhow::Result<()> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let done: Option<i64> = sqlx::query_scalar("SELECT id FROM revisions WHERE job_id = ?")
        .bind(job.id)
        .fetch_optional(&mut *tx)
        .await?;
    if done.is_none() {
        let latest: Option<String> = sqlx::query_scalar(
            "SELECT content FROM revisions WHERE hearing_id = ? ORDER BY number DESC LIMIT 1",
        )
        .bind(job.hearing_id)
        .fetch_optional(&mut *tx)
        .await?;
        let merged = match latest {
            Some(text) => {
                let mut base: Transcript = serde_json::from_str(&text)?;
                append_recording(&mut base, transcript);
                base
            }
            None => transcript,
        };
        crate::revisions::insert(
            &mut tx,
            job.hearing_id,
            "asr",
            Some(job.id),
            None,
            "ASR",
            &merged,
        )
        .await?;
    }
    sqlx::query("UPDATE jobs SET status = 'done', error = NULL, finished_at = ? WHERE id = ?")
        .bind(crate::db::now())
        .bind(job.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Appends the transcript of a later recording of the same hearing: its times shifted by the
/// length of what came before, its anonymous speakers renumbered after the existing ones (a
/// `SPEAKER_1` in the second recording is not known to be the first recording's `SPEAKER_1`).
pub fn append_recording(base: &mut Transcript, next: Transcript) {
    let offset = base.audio.duration;
    let mut anonymous = base
        .speakers
        .iter()
        .filter(|s| s.id.starts_with("SPEAKER_"))
        .count();
    let mut renamed: HashMap<String, String> = HashMap::new();
    for s in next.speakers {
        let id = if s.id.starts_with("SPEAKER_") {
            anonymous += 1;
            let id = format!("SPEAKER_{anonymous}");
            renamed.insert(s.id.clone(), id.clone());
            id
        } else {
            s.id.clone()
        };
        if !base.speakers.iter().any(|b| b.id == id) {
            base.speakers
                .push(courtscribe_transcriber::transcript::SpeakerInfo { id, ..s });
        }
    }
    let rename = |s: &mut Option<String>| {
        if let Some(new) = s.as_ref().and_then(|id| renamed.get(id)) {
            *s = Some(new.clone());
        }
    };
    let first_id = base.segments.iter().map(|s| s.id + 1).max().unwrap_or(0);
    for (k, mut seg) in next.segments.into_iter().enumerate() {
        seg.id = first_id + k;
        seg.start += offset;
        seg.end += offset;
        rename(&mut seg.speaker);
        for w in &mut seg.words {
            w.start += offset;
            w.end += offset;
            rename(&mut w.speaker);
        }
        base.segments.push(seg);
    }
    base.audio.duration += next.audio.duration;
}
