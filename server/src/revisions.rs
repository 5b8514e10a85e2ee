//! Transcript revisions: the ASR draft and every later save are kept forever, numbered per
//! hearing, each hashed into the hearing's chain and the latest one indexed for search.

use courtscribe_transcriber::Transcript;
use serde::Serialize;
use sqlx::{Sqlite, Transaction};

use crate::chain;

/// Stores `transcript` as the next revision of `hearing` inside `tx` (an immediate transaction).
/// Returns the revision's id.
pub async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    hearing: i64,
    kind: &str,
    job: Option<i64>,
    author_id: Option<i64>,
    author: &str,
    transcript: &Transcript,
) -> anyhow::Result<i64> {
    let content = serde_json::to_string(transcript)?;
    let sha = chain::sha256_hex(content.as_bytes());
    let number: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(number), 0) + 1 FROM revisions WHERE hearing_id = ?",
    )
    .bind(hearing)
    .fetch_one(&mut **tx)
    .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO revisions (hearing_id, number, kind, job_id, author_id, author, created_at, content, content_sha256)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(hearing)
    .bind(number)
    .bind(kind)
    .bind(job)
    .bind(author_id)
    .bind(author)
    .bind(crate::db::now())
    .bind(&content)
    .bind(&sha)
    .fetch_one(&mut **tx)
    .await?;
    chain::append(tx, hearing, chain::Kind::Revision, id, &sha).await?;
    crate::search::reindex(tx, hearing, transcript).await?;
    Ok(id)
}

/// A revision as listed (without its content).
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct RevisionInfo {
    pub id: i64,
    pub number: i64,
    pub kind: String,
    pub author: String,
    pub created_at: String,
    pub content_sha256: String,
}
