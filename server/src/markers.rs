//! Clerk markers: timestamped notes on a hearing ("Bắt đầu xét hỏi", "Tạm nghỉ", free text), sent by
//! a station during a live session (protocol message `marker`) or added over the API. A marker
//! carrying the station's own id is stored once however often it is sent.

use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use unicode_normalization::UnicodeNormalization as _;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Marker {
    pub id: i64,
    /// The live session `offset` refers to; absent for the hearing's first recording.
    pub session: Option<String>,
    /// Seconds from the start of the session's (or the hearing's) audio.
    pub offset: f64,
    pub text: String,
    pub author: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewMarker {
    pub offset: f64,
    pub text: String,
    pub session: Option<String>,
    /// The sender's id for this marker (makes re-sending harmless).
    pub client_id: Option<String>,
}

/// Stores a marker (or finds the one with the same `client_id`); returns its id.
pub async fn insert(db: &SqlitePool, hearing: i64, author: i64, m: &NewMarker) -> ApiResult<i64> {
    let text: String = m.text.trim().nfc().collect();
    if text.is_empty() || text.chars().count() > 2000 {
        return Err(ApiError::bad_request(
            "marker text must be 1–2000 characters",
        ));
    }
    if !m.offset.is_finite() || m.offset < 0.0 {
        return Err(ApiError::bad_request("marker offset must be seconds ≥ 0"));
    }
    sqlx::query(
        "INSERT INTO markers (hearing_id, session, offset, text, client_id, author_id, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hearing_id, client_id) DO NOTHING",
    )
    .bind(hearing)
    .bind(&m.session)
    .bind(m.offset)
    .bind(&text)
    .bind(&m.client_id)
    .bind(author)
    .bind(crate::db::now())
    .execute(db)
    .await?;
    let id: i64 = match &m.client_id {
        Some(c) => {
            sqlx::query_scalar("SELECT id FROM markers WHERE hearing_id = ? AND client_id = ?")
                .bind(hearing)
                .bind(c)
                .fetch_one(db)
                .await?
        }
        None => {
            sqlx::query_scalar("SELECT last_insert_rowid()")
                .fetch_one(db)
                .await?
        }
    };
    Ok(id)
}

pub async fn list(db: &SqlitePool, hearing: i64) -> sqlx::Result<Vec<Marker>> {
    sqlx::query_as(
        "SELECT m.id, m.session, m.offset, m.text, u.username AS author, m.created_at
         FROM markers m JOIN users u ON u.id = m.author_id WHERE m.hearing_id = ? ORDER BY m.session, m.offset, m.id",
    )
    .bind(hearing)
    .fetch_all(db)
    .await
}
