//! Tamper evidence. Per hearing, an append-only chain of entries, one per stored recording,
//! transcript revision, approval, amendment and amendment co-signature. Each entry holds the sha256
//! of its content (the audio file's bytes, the revision's JSON text, who signed what in which
//! capacity, the amendment's text) and the hash of the previous entry; its own hash covers all of that.
//! [`verify`] recomputes everything from the stored bytes: a changed byte in an audio file or a
//! revision, a removed or reordered entry, or an edited entry all show up as problems.
//!
//! An attacker who can rewrite the whole database and every file can rebuild a consistent chain;
//! the head hash ([`Verification::head`]) is what to publish or sign outside the server.

use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{Sqlite, SqlitePool, Transaction};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a chain entry vouches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Recording,
    Revision,
    Approval,
    Amendment,
    AmendmentSignature,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Recording => "recording",
            Kind::Revision => "revision",
            Kind::Approval => "approval",
            Kind::Amendment => "amendment",
            Kind::AmendmentSignature => "amendment_signature",
        }
    }
}

fn entry_hash(
    hearing: i64,
    seq: i64,
    kind: &str,
    ref_id: i64,
    content: &str,
    prev: &str,
    at: &str,
) -> String {
    let text = format!(
        "courtscribe-chain-v1\n{hearing}\n{seq}\n{kind}\n{ref_id}\n{content}\n{prev}\n{at}"
    );
    hex::encode(Sha256::digest(text.as_bytes()))
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Appends an entry inside `tx` (which must be an immediate transaction, so no other writer can
/// slip an entry in between reading the head and writing the next one).
pub async fn append(
    tx: &mut Transaction<'_, Sqlite>,
    hearing: i64,
    kind: Kind,
    ref_id: i64,
    content_sha256: &str,
) -> sqlx::Result<()> {
    let head: Option<(i64, String)> = sqlx::query_as(
        "SELECT seq, hash FROM chain WHERE hearing_id = ? ORDER BY seq DESC LIMIT 1",
    )
    .bind(hearing)
    .fetch_optional(&mut **tx)
    .await?;
    let (seq, prev) = match head {
        Some((s, h)) => (s + 1, h),
        None => (0, GENESIS.to_string()),
    };
    let at = crate::db::now();
    let hash = entry_hash(
        hearing,
        seq,
        kind.as_str(),
        ref_id,
        content_sha256,
        &prev,
        &at,
    );
    sqlx::query(
        "INSERT INTO chain (hearing_id, seq, kind, ref_id, content_sha256, prev_hash, hash, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(hearing)
    .bind(seq)
    .bind(kind.as_str())
    .bind(ref_id)
    .bind(content_sha256)
    .bind(&prev)
    .bind(&hash)
    .bind(&at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The result of checking one hearing.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Verification {
    pub ok: bool,
    /// One sentence per problem found; empty when `ok`.
    pub problems: Vec<String>,
    /// Entries checked.
    pub entries: usize,
    /// Hash of the last entry (publish or sign it to anchor the chain outside the server).
    pub head: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Entry {
    seq: i64,
    kind: String,
    ref_id: i64,
    content_sha256: String,
    prev_hash: String,
    hash: String,
    created_at: String,
}

/// Recomputes the chain of `hearing` from the stored audio files (under `data`) and revisions.
pub async fn verify(db: &SqlitePool, data: &Path, hearing: i64) -> sqlx::Result<Verification> {
    let entries: Vec<Entry> = sqlx::query_as(
        "SELECT seq, kind, ref_id, content_sha256, prev_hash, hash, created_at FROM chain
         WHERE hearing_id = ? ORDER BY seq",
    )
    .bind(hearing)
    .fetch_all(db)
    .await?;
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut covered_recordings = Vec::new();
    let mut covered_revisions = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let at = format!("chain entry {} ({} {})", e.seq, e.kind, e.ref_id);
        if e.seq != i as i64 {
            problems.push(format!("{at}: entry {i} is missing or out of order"));
        }
        if e.prev_hash != prev {
            problems.push(format!("{at}: does not follow the previous entry"));
        }
        let expect = entry_hash(
            hearing,
            e.seq,
            &e.kind,
            e.ref_id,
            &e.content_sha256,
            &e.prev_hash,
            &e.created_at,
        );
        if expect != e.hash {
            problems.push(format!("{at}: the entry itself was altered"));
        }
        prev = e.hash.clone();
        let actual = match e.kind.as_str() {
            "recording" => {
                covered_recordings.push(e.ref_id);
                recording_sha256(db, data, hearing, e.ref_id).await?
            }
            "revision" => {
                covered_revisions.push(e.ref_id);
                revision_sha256(db, hearing, e.ref_id).await?
            }
            "approval" => approval_sha256(db, hearing, e.ref_id).await?,
            "amendment" => {
                let text: Option<String> = sqlx::query_scalar(
                    "SELECT text FROM amendments WHERE id = ? AND hearing_id = ?",
                )
                .bind(e.ref_id)
                .bind(hearing)
                .fetch_optional(db)
                .await?;
                text.map(|t| sha256_hex(t.as_bytes()))
                    .ok_or_else(|| format!("amendment {} is missing from the database", e.ref_id))
            }
            "amendment_signature" => amendment_signature_sha256(db, hearing, e.ref_id).await?,
            other => Err(format!("unknown entry kind `{other}`")),
        };
        match actual {
            Ok(h) if h == e.content_sha256 => {}
            Ok(_) => problems.push(format!("{at}: content changed since it was recorded")),
            Err(why) => problems.push(format!("{at}: {why}")),
        }
    }
    let recordings: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM recordings WHERE hearing_id = ? ORDER BY id")
            .bind(hearing)
            .fetch_all(db)
            .await?;
    for r in recordings
        .iter()
        .filter(|r| !covered_recordings.contains(r))
    {
        problems.push(format!("recording {r} is not in the chain"));
    }
    let revisions: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM revisions WHERE hearing_id = ? ORDER BY id")
            .bind(hearing)
            .fetch_all(db)
            .await?;
    for r in revisions.iter().filter(|r| !covered_revisions.contains(r)) {
        problems.push(format!("revision {r} is not in the chain"));
    }
    Ok(Verification {
        ok: problems.is_empty(),
        problems,
        entries: entries.len(),
        head: entries.last().map(|e| e.hash.clone()),
    })
}

async fn recording_sha256(
    db: &SqlitePool,
    data: &Path,
    hearing: i64,
    id: i64,
) -> sqlx::Result<Result<String, String>> {
    let path: Option<String> =
        sqlx::query_scalar("SELECT path FROM recordings WHERE id = ? AND hearing_id = ?")
            .bind(id)
            .bind(hearing)
            .fetch_optional(db)
            .await?;
    let Some(path) = path else {
        return Ok(Err(format!("recording {id} is missing from the database")));
    };
    let full = data.join(&path);
    let hashed = tokio::task::spawn_blocking(move || courtscribe_audio::sha256_file(&full)).await;
    Ok(match hashed {
        Ok(Ok(h)) => Ok(h),
        Ok(Err(e)) => Err(format!("audio file {path} cannot be read: {e}")),
        Err(e) => Err(format!("audio file {path} could not be hashed: {e}")),
    })
}

async fn approval_sha256(
    db: &SqlitePool,
    hearing: i64,
    id: i64,
) -> sqlx::Result<Result<String, String>> {
    let row: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT revision_id, user_id, role FROM approvals WHERE id = ? AND hearing_id = ?",
    )
    .bind(id)
    .bind(hearing)
    .fetch_optional(db)
    .await?;
    Ok(row
        .map(|(rev, user, role)| crate::minutes::approval_sha256(rev, user, &role))
        .ok_or_else(|| format!("approval {id} is missing from the database")))
}

async fn amendment_signature_sha256(
    db: &SqlitePool,
    hearing: i64,
    id: i64,
) -> sqlx::Result<Result<String, String>> {
    let row: Option<(i64, i64, String)> = sqlx::query_as(
        "SELECT amendment_id, user_id, role FROM amendment_signatures WHERE id = ? AND hearing_id = ?",
    )
    .bind(id)
    .bind(hearing)
    .fetch_optional(db)
    .await?;
    Ok(row
        .map(|(amendment, user, role)| {
            crate::minutes::amendment_signature_sha256(amendment, user, &role)
        })
        .ok_or_else(|| format!("amendment signature {id} is missing from the database")))
}

async fn revision_sha256(
    db: &SqlitePool,
    hearing: i64,
    id: i64,
) -> sqlx::Result<Result<String, String>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT content, content_sha256 FROM revisions WHERE id = ? AND hearing_id = ?",
    )
    .bind(id)
    .bind(hearing)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Err(format!("revision {id} is missing from the database")),
        // The stored `content_sha256` is not trusted: the text is hashed afresh.
        Some((content, _)) => Ok(sha256_hex(content.as_bytes())),
    })
}
