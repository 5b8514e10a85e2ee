//! The durable job queue and its workers. A job is "transcribe recording R": a row in `jobs`,
//! claimed atomically by one worker, its result committed in one transaction with the revision
//! it produces (`revisions.job_id` is unique), so a job that is interrupted by `kill -9` is simply
//! claimed again after the restart and can never add its segments twice. Live hearings' jobs have a
//! higher priority than uploads. Live captions have their own workers (see [`crate::live`]); jobs
//! run at the lowest CPU priority, so captions take the cores whenever they need them.
//!
//! All workers share one loaded model ([`Engine`]); each decodes with its own whisper state.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use courtscribe_models::InstalledModel;
use courtscribe_transcriber::{
    DecodeSlots, Language, MAX_PARALLEL_STATES, PipelineOptions, Spelling, TranscribeOptions,
    Transcript, WhisperEngine,
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
    /// Loaded for jobs, with [`job_threads`].
    pub whisper: WhisperEngine,
    /// The same model loaded for short windows (live captions): no DTW, word times from whisper's
    /// token timestamps.
    pub captions: WhisperEngine,
    pub model: InstalledModel,
    /// Spelling of English text, for jobs and captions alike (`english_spelling` setting).
    pub spelling: Spelling,
    /// The CPU threads of all job workers (`workers × threads`), which running jobs share
    /// window by window.
    pub slots: Arc<DecodeSlots>,
}

/// Worker wake-ups and in-flight progress.
#[derive(Debug, Default)]
pub struct Jobs {
    wake: Notify,
    progress: Mutex<HashMap<i64, f64>>,
}

impl Jobs {
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

/// Starts `workers` job workers and as many caption workers on `engine`.
pub fn start(state: &Arc<AppState>, engine: Arc<Engine>) {
    for n in 0..state.config.workers {
        tokio::spawn(crate::live::caption_worker(state.clone(), engine.clone()));
        let state = state.clone();
        let engine = engine.clone();
        tokio::spawn(async move {
            tracing::info!("worker {n} ready");
            worker(state, engine, n).await;
        });
    }
}

/// A job worker. Jobs decode on threads of the lowest CPU priority, so live captions (decoded by
/// the caption workers at normal priority) take the cores whenever they need them. While live
/// captions are running, one worker fewer takes jobs (at least one does): each job holds a decoding
/// state of ~150–200 MB, and the caption workers hold theirs.
async fn worker(state: Arc<AppState>, engine: Arc<Engine>, n: usize) {
    let workers = state.config.workers;
    loop {
        let limit = if state.metrics.live_sessions.get() == 0 && state.live.captions_idle() {
            workers
        } else {
            (workers - 1).max(1)
        };
        if n >= limit {
            let _ =
                tokio::time::timeout(Duration::from_millis(250), state.jobs.wake.notified()).await;
            continue;
        }
        match claim(&state.db).await {
            Ok(Some(job)) => run(&state, &engine, job).await,
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

/// CPU threads a job decodes with: every job worker's ([`Engine::slots`] shares them among the
/// jobs running at once), as 1-thread states ([`MAX_PARALLEL_STATES`] at most) beyond a worker's
/// own. A lone job on an idle 2-core server decodes on two 1-thread states, not one.
pub fn job_threads(threads_per_worker: usize, workers: usize) -> usize {
    (threads_per_worker * workers)
        .min(MAX_PARALLEL_STATES)
        .max(threads_per_worker)
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

async fn run(state: &Arc<AppState>, engine: &Arc<Engine>, job: Claimed) {
    if job.attempts > MAX_ATTEMPTS {
        let why = format!("gave up after {MAX_ATTEMPTS} interrupted attempts");
        finish_failed(&state.db, job.id, &why).await;
        return;
    }
    let row: Result<(String, String, String), _> = sqlx::query_as(
        "SELECT r.path, h.language, h.participants FROM recordings r JOIN hearings h ON h.id = r.hearing_id WHERE r.id = ?",
    )
    .bind(job.recording_id)
    .fetch_one(&state.db)
    .await;
    let (rel, language, participants) = match row {
        Ok(r) => r,
        Err(e) => return finish_failed(&state.db, job.id, &format!("recording: {e}")).await,
    };
    let names = crate::vocabulary::participant_names(&participants);
    tracing::info!(
        job = job.id,
        recording = job.recording_id,
        "transcribing {rel}"
    );
    state.jobs.set_progress(job.id, Some(0.0));
    let path = state.data.join(&rel);
    let diarize = state.config.diarize;
    let engine = engine.clone();
    let progress_state = state.clone();
    let job_id = job.id;
    let (done, result) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name(format!("job-{job_id}"))
        .spawn(move || {
            lowest_priority();
            let progress = move |f: f64| progress_state.jobs.set_progress(job_id, Some(f));
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                transcribe_file(&engine, &path, &rel, &language, &names, diarize, progress)
            }))
            .unwrap_or_else(|panic| {
                let why = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(format!("worker crashed: {why}"))
            });
            let _ = done.send(result);
        });
    let result = match thread {
        Ok(_) => result
            .await
            .unwrap_or_else(|_| Err("worker crashed: the job thread ended".into())),
        Err(e) => Err(format!("cannot start a job thread: {e}")),
    };
    state.jobs.set_progress(job.id, None);
    match result {
        Ok(transcript) => {
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
        Err(e) => finish_failed(&state.db, job.id, &e).await,
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

/// Puts the calling thread at the lowest CPU priority (Linux: `SCHED_BATCH`, nice 19), where a
/// job yields the cores to live captions and to the server's requests. Where that is refused the
/// job runs at normal priority.
fn lowest_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy, thread_native_id,
    };
    let batch = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
    if let Err(e) = thread_priority::set_thread_priority_and_policy(
        thread_native_id(),
        ThreadPriority::Min,
        batch,
    ) {
        tracing::warn!("cannot lower the priority of a job thread: {e:?}");
    }
}

/// Decodes, transcribes and (when asked) diarizes one stored recording. Blocking.
fn transcribe_file(
    engine: &Engine,
    path: &Path,
    rel: &str,
    language: &str,
    names: &[String],
    diarize: bool,
    mut progress: impl FnMut(f64),
) -> Result<Transcript, String> {
    let audio = courtscribe_audio::decode_file_16k(path).map_err(|e| format!("audio: {e}"))?;
    let sha = courtscribe_audio::sha256_file(path).map_err(|e| format!("audio: {e}"))?;
    let language = match language {
        "auto" => Language::Auto,
        code => Language::Fixed(code.to_string()),
    };
    let (prompt, left_out) = crate::vocabulary::case_vocabulary(&engine.whisper, names);
    if left_out > 0 {
        tracing::warn!(
            left_out,
            "the hearing's participants' names do not all fit the decoder's prompt"
        );
    }
    let opts = TranscribeOptions {
        pipeline: PipelineOptions {
            language,
            prompt,
            spelling: engine.spelling,
            slots: Some(engine.slots.clone()),
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
        match courtscribe_diarization::diarize_16k(&audio.channels, &opts) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_job_takes_every_workers_threads_in_one_thread_states() {
        // 2 workers of 1 thread: a job decodes on both cores.
        assert_eq!(job_threads(1, 2), 2);
        // Never fewer than a worker's threads.
        assert_eq!(job_threads(8, 1), 8);
        // Beyond a worker's own threads only as 1-thread states.
        assert_eq!(job_threads(4, 2), 4);
        assert_eq!(job_threads(1, 8), MAX_PARALLEL_STATES);
    }
}
