//! The minutes (biên bản phiên tòa) as people work on them: saving a corrected transcript as a new
//! revision, comparing revisions, the presiding judge's approval that freezes them (the clerk
//! co-signs), amendments appended after approval and co-signed by the other of the two (the clerk
//! for the presiding judge's, the judge for the clerk's), and exports (JSON, SRT, WebVTT, DOCX,
//! PDF). Every write is a new row hashed into the hearing's chain; nothing is edited in place.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use courtscribe_transcriber::{OutputFormat, Transcript};
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization as _;
use utoipa::ToSchema;

use crate::AppState;
use crate::api::{Created, ErrorBody};
use crate::auth::{Caller, READERS, Role};
use crate::chain;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::minutes_doc::{Minutes, docx, pdf};

type S = State<Arc<AppState>>;

/// Roles that correct minutes.
const EDITORS: &[Role] = &[Role::Secretary, Role::Judge];

pub fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/api/hearings/{id}/transcript",
            axum::routing::put(put_transcript),
        )
        .route("/api/hearings/{id}/revisions/{number}", get(get_revision))
        .route("/api/hearings/{id}/diff", get(diff))
        .route("/api/hearings/{id}/approve", post(approve))
        .route("/api/hearings/{id}/approvals", get(list_approvals))
        .route(
            "/api/hearings/{id}/amendments",
            post(add_amendment).get(list_amendments),
        )
        .route(
            "/api/hearings/{id}/amendments/{amendment}/sign",
            post(sign_amendment),
        )
        .route("/api/hearings/{id}/export", get(export))
}

async fn hearing_exists(state: &AppState, id: i64) -> ApiResult<Option<i64>> {
    let row: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, approved_revision FROM hearings WHERE id = ?")
            .bind(id)
            .fetch_optional(&state.db)
            .await?;
    row.map(|(_, approved)| approved)
        .ok_or_else(|| ApiError::not_found("hearing", id))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SaveQuery {
    /// The revision number the edit was made on: refused with 409 when someone saved since.
    base_revision: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Saved {
    id: i64,
    number: i64,
}

/// Saves a corrected transcript as the hearing's next revision (secretaries and judges; 409 once
/// the minutes are approved, or when `base_revision` is not the latest).
#[utoipa::path(put, path = "/api/hearings/{id}/transcript", params(("id" = i64, Path), SaveQuery),
    request_body(content = Object, description = "the transcript JSON"),
    responses((status = 201, body = Saved), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn put_transcript(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<SaveQuery>,
    ApiJson(mut t): ApiJson<Transcript>,
) -> ApiResult<(StatusCode, Json<Saved>)> {
    caller.require(EDITORS)?;
    if hearing_exists(&state, id).await?.is_some() {
        return Err(ApiError::conflict(
            "the minutes are approved and frozen; add an amendment instead",
        ));
    }
    check_transcript(&mut t)?;
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let latest: Option<i64> =
        sqlx::query_scalar("SELECT MAX(number) FROM revisions WHERE hearing_id = ?")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
    let Some(latest) = latest else {
        return Err(ApiError::conflict("there is no draft to correct yet"));
    };
    if let Some(base) = q.base_revision
        && base != latest
    {
        return Err(ApiError::conflict(format!(
            "revision {latest} was saved after revision {base} you edited; reload and redo the change"
        )));
    }
    let rev = crate::revisions::insert(
        &mut tx,
        id,
        "edit",
        None,
        Some(caller.id),
        &caller.username,
        &t,
    )
    .await
    .map_err(ApiError::internal)?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Saved {
            id: rev,
            number: latest + 1,
        }),
    ))
}

/// A saved transcript must still be one: text in NFC, segments in order, words inside their
/// segment, times finite and non-negative.
fn check_transcript(t: &mut Transcript) -> ApiResult<()> {
    let bad = |m: String| Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, m));
    let mut previous = 0.0f64;
    for (k, s) in t.segments.iter_mut().enumerate() {
        if !(s.start.is_finite() && s.end.is_finite()) || s.start < 0.0 || s.end < s.start {
            return bad(format!(
                "segment {k}: start/end must be seconds with start ≤ end"
            ));
        }
        if s.start + 1e-6 < previous {
            return bad(format!("segment {k} starts before the segment before it"));
        }
        previous = s.start;
        s.text = s.text.nfc().collect();
        for (j, w) in s.words.iter_mut().enumerate() {
            if !(w.start.is_finite() && w.end.is_finite()) || w.end < w.start {
                return bad(format!(
                    "segment {k}, word {j}: start/end must be seconds with start ≤ end"
                ));
            }
            w.text = w.text.nfc().collect();
        }
    }
    for s in &mut t.speakers {
        s.label = s.label.as_ref().map(|l| l.nfc().collect());
    }
    Ok(())
}

/// One revision's transcript.
#[utoipa::path(get, path = "/api/hearings/{id}/revisions/{number}", params(("id" = i64, Path), ("number" = i64, Path)),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn get_revision(
    State(state): S,
    caller: Caller,
    ApiPath((id, number)): ApiPath<(i64, i64)>,
) -> ApiResult<Response> {
    caller.require(READERS)?;
    let content = revision_content(&state, id, Some(number)).await?;
    Ok(([(header::CONTENT_TYPE, "application/json")], content).into_response())
}

async fn revision_content(
    state: &AppState,
    hearing: i64,
    number: Option<i64>,
) -> ApiResult<String> {
    hearing_exists(state, hearing).await?;
    let content: Option<String> = match number {
        Some(n) => {
            sqlx::query_scalar("SELECT content FROM revisions WHERE hearing_id = ? AND number = ?")
                .bind(hearing)
                .bind(n)
                .fetch_optional(&state.db)
                .await?
        }
        None => {
            sqlx::query_scalar(
                "SELECT content FROM revisions WHERE hearing_id = ? ORDER BY number DESC LIMIT 1",
            )
            .bind(hearing)
            .fetch_optional(&state.db)
            .await?
        }
    };
    content.ok_or_else(|| match number {
        Some(n) => ApiError::not_found("revision", n),
        None => ApiError::new(
            StatusCode::NOT_FOUND,
            format!("hearing {hearing} has no transcript yet"),
        ),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DiffQuery {
    from: i64,
    to: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DiffPart {
    /// `equal`, `delete` (only in `from`) or `insert` (only in `to`).
    op: String,
    text: String,
}

/// Word-level differences between two revisions' text (e.g. the ASR draft and the approved
/// minutes).
#[utoipa::path(get, path = "/api/hearings/{id}/diff", params(("id" = i64, Path), DiffQuery),
    responses((status = 200, body = [DiffPart]), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
pub async fn diff(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<Vec<DiffPart>>> {
    caller.require(READERS)?;
    let text = |content: String| -> ApiResult<String> {
        let t: Transcript = serde_json::from_str(&content).map_err(ApiError::internal)?;
        Ok(t.segments
            .iter()
            .map(|s| s.text.trim())
            .collect::<Vec<_>>()
            .join("\n"))
    };
    let a = text(revision_content(&state, id, Some(q.from)).await?)?;
    let b = text(revision_content(&state, id, Some(q.to)).await?)?;
    let d = similar::TextDiff::from_words(&a, &b);
    let mut parts: Vec<DiffPart> = Vec::new();
    for change in d.iter_all_changes() {
        let op = match change.tag() {
            similar::ChangeTag::Equal => "equal",
            similar::ChangeTag::Delete => "delete",
            similar::ChangeTag::Insert => "insert",
        };
        match parts.last_mut() {
            Some(last) if last.op == op => last.text.push_str(change.value()),
            _ => parts.push(DiffPart {
                op: op.into(),
                text: change.value().to_string(),
            }),
        }
    }
    Ok(Json(parts))
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct Approval {
    username: String,
    role: String,
    revision: i64,
    created_at: String,
}

/// Approves the minutes as they stand: the presiding judge's approval freezes them; the clerk's
/// is a co-signature.
#[utoipa::path(post, path = "/api/hearings/{id}/approve", params(("id" = i64, Path)),
    responses((status = 201, body = Approval), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn approve(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<(StatusCode, Json<Approval>)> {
    caller.require(EDITORS)?;
    let frozen = hearing_exists(&state, id).await?;
    if caller.role == Role::Secretary && frozen.is_none() {
        return Err(ApiError::conflict(
            "the presiding judge approves first; the clerk then co-signs",
        ));
    }
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let latest: Option<(i64, i64)> = sqlx::query_as(
        "SELECT id, number FROM revisions WHERE hearing_id = ? ORDER BY number DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?;
    let (revision, number) = match (frozen, latest) {
        (_, None) => return Err(ApiError::conflict("there is no transcript to approve yet")),
        (Some(approved), _) => {
            let n: i64 = sqlx::query_scalar("SELECT number FROM revisions WHERE id = ?")
                .bind(approved)
                .fetch_one(&mut *tx)
                .await?;
            (approved, n)
        }
        (None, Some(r)) => r,
    };
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO approvals (hearing_id, revision_id, user_id, role, created_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(id)
    .bind(revision)
    .bind(caller.id)
    .bind(caller.role.as_str())
    .bind(crate::db::now())
    .fetch_optional(&mut *tx)
    .await?;
    let approval =
        inserted.ok_or_else(|| ApiError::conflict("you have already approved these minutes"))?;
    if caller.role == Role::Judge && frozen.is_none() {
        sqlx::query("UPDATE hearings SET approved_revision = ? WHERE id = ?")
            .bind(revision)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let sha = approval_sha256(revision, caller.id, caller.role.as_str());
    chain::append(&mut tx, id, chain::Kind::Approval, approval, &sha).await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Approval {
            username: caller.username,
            role: caller.role.as_str().into(),
            revision: number,
            created_at: crate::db::now(),
        }),
    ))
}

/// What an approval's chain entry vouches for: which revision, by whom, in which capacity.
pub fn approval_sha256(revision: i64, user: i64, role: &str) -> String {
    chain::sha256_hex(format!("approval\n{revision}\n{user}\n{role}").as_bytes())
}

/// Who approved the minutes.
#[utoipa::path(get, path = "/api/hearings/{id}/approvals", params(("id" = i64, Path)),
    responses((status = 200, body = [Approval])), security(("bearer" = [])))]
pub async fn list_approvals(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Approval>>> {
    caller.require(READERS)?;
    hearing_exists(&state, id).await?;
    Ok(Json(approvals(&state, id).await?))
}

async fn approvals(state: &AppState, id: i64) -> sqlx::Result<Vec<Approval>> {
    sqlx::query_as(
        "SELECT u.username, a.role, r.number AS revision, a.created_at FROM approvals a
         JOIN users u ON u.id = a.user_id JOIN revisions r ON r.id = a.revision_id
         WHERE a.hearing_id = ? ORDER BY a.id",
    )
    .bind(id)
    .fetch_all(&state.db)
    .await
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewAmendment {
    text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Amendment {
    pub id: i64,
    pub text: String,
    pub author: String,
    /// The capacity the author wrote it in: `judge` or `secretary`.
    pub author_role: String,
    pub created_at: String,
    /// The other role's co-signature (the clerk's for a judge's amendment, the presiding judge's
    /// for the clerk's); null until signed.
    pub signature: Option<Signature>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Signature {
    pub username: String,
    /// `judge` or `secretary`.
    pub role: String,
    pub created_at: String,
}

/// Appends an amendment to approved minutes (secretaries and judges); it then awaits the other
/// role's co-signature (`POST …/amendments/{amendment}/sign`).
#[utoipa::path(post, path = "/api/hearings/{id}/amendments", params(("id" = i64, Path)), request_body = NewAmendment,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
pub async fn add_amendment(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(a): ApiJson<NewAmendment>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(EDITORS)?;
    if hearing_exists(&state, id).await?.is_none() {
        return Err(ApiError::conflict(
            "the minutes are not approved yet; correct them directly",
        ));
    }
    let text: String = a.text.trim().nfc().collect();
    if text.is_empty() || text.chars().count() > 20_000 {
        return Err(ApiError::bad_request("an amendment is 1–20000 characters"));
    }
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let amendment: i64 = sqlx::query_scalar(
        "INSERT INTO amendments (hearing_id, text, author_id, author_role, created_at)
         VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(id)
    .bind(&text)
    .bind(caller.id)
    .bind(caller.role.as_str())
    .bind(crate::db::now())
    .fetch_one(&mut *tx)
    .await?;
    chain::append(
        &mut tx,
        id,
        chain::Kind::Amendment,
        amendment,
        &chain::sha256_hex(text.as_bytes()),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(Created { id: amendment })))
}

/// The amendments, oldest first.
#[utoipa::path(get, path = "/api/hearings/{id}/amendments", params(("id" = i64, Path)),
    responses((status = 200, body = [Amendment])), security(("bearer" = [])))]
pub async fn list_amendments(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Amendment>>> {
    caller.require(READERS)?;
    hearing_exists(&state, id).await?;
    Ok(Json(amendments(&state, id).await?))
}

type AmendmentRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

async fn amendments(state: &AppState, id: i64) -> sqlx::Result<Vec<Amendment>> {
    let rows: Vec<AmendmentRow> = sqlx::query_as(
        "SELECT a.id, a.text, u.username, a.author_role, a.created_at, su.username, s.role, s.created_at
         FROM amendments a JOIN users u ON u.id = a.author_id
         LEFT JOIN amendment_signatures s ON s.amendment_id = a.id
         LEFT JOIN users su ON su.id = s.user_id
         WHERE a.hearing_id = ? ORDER BY a.id",
    )
    .bind(id)
    .fetch_all(&state.db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(id, text, author, author_role, created_at, signer, role, signed_at)| Amendment {
                id,
                text,
                author,
                author_role,
                created_at,
                signature: signer
                    .zip(role)
                    .zip(signed_at)
                    .map(|((username, role), created_at)| Signature {
                        username,
                        role,
                        created_at,
                    }),
            },
        )
        .collect())
}

/// Co-signs an amendment: the clerk signs the presiding judge's, the judge signs the clerk's (403
/// for the author's own role, 409 once signed). The signature is chained like the amendment.
#[utoipa::path(post, path = "/api/hearings/{id}/amendments/{amendment}/sign",
    params(("id" = i64, Path), ("amendment" = i64, Path, description = "the amendment's id")),
    responses((status = 201, body = Signature), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn sign_amendment(
    State(state): S,
    caller: Caller,
    ApiPath((id, amendment)): ApiPath<(i64, i64)>,
) -> ApiResult<(StatusCode, Json<Signature>)> {
    caller.require(EDITORS)?;
    hearing_exists(&state, id).await?;
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let author_role: String =
        sqlx::query_scalar("SELECT author_role FROM amendments WHERE id = ? AND hearing_id = ?")
            .bind(amendment)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| ApiError::not_found("amendment", amendment))?;
    if author_role == caller.role.as_str() {
        return Err(ApiError::forbidden(match caller.role {
            Role::Judge => "the presiding judge wrote this amendment; the clerk co-signs it",
            _ => "the clerk wrote this amendment; the presiding judge co-signs it",
        }));
    }
    let at = crate::db::now();
    let signature: Option<i64> = sqlx::query_scalar(
        "INSERT INTO amendment_signatures (amendment_id, hearing_id, user_id, role, created_at)
         VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(amendment)
    .bind(id)
    .bind(caller.id)
    .bind(caller.role.as_str())
    .bind(&at)
    .fetch_optional(&mut *tx)
    .await?;
    let signature =
        signature.ok_or_else(|| ApiError::conflict("this amendment is already co-signed"))?;
    let sha = amendment_signature_sha256(amendment, caller.id, caller.role.as_str());
    chain::append(
        &mut tx,
        id,
        chain::Kind::AmendmentSignature,
        signature,
        &sha,
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(Signature {
            username: caller.username,
            role: caller.role.as_str().into(),
            created_at: at,
        }),
    ))
}

/// What an amendment signature's chain entry vouches for: which amendment, by whom, in which
/// capacity.
pub fn amendment_signature_sha256(amendment: i64, user: i64, role: &str) -> String {
    chain::sha256_hex(format!("amendment-signature\n{amendment}\n{user}\n{role}").as_bytes())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// json, srt, vtt, docx or pdf.
    format: String,
}

/// The minutes for download: the approved revision when there is one (else the latest), with
/// amendments appended.
#[utoipa::path(get, path = "/api/hearings/{id}/export", params(("id" = i64, Path), ExportQuery),
    responses((status = 200, description = "the file"), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
pub async fn export(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    caller.require(READERS)?;
    let approved = hearing_exists(&state, id).await?;
    let content = match approved {
        Some(rev) => {
            sqlx::query_scalar("SELECT content FROM revisions WHERE id = ?")
                .bind(rev)
                .fetch_one(&state.db)
                .await?
        }
        None => revision_content(&state, id, None).await?,
    };
    let transcript: Transcript = serde_json::from_str(&content).map_err(ApiError::internal)?;
    let amendments = amendments(&state, id).await?;
    let name = format!("bien-ban-phien-toa-{id}");
    let file = |mime: &str, ext: &str, body: Vec<u8>| {
        (
            [
                (header::CONTENT_TYPE, mime.to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.{ext}\""),
                ),
            ],
            body,
        )
            .into_response()
    };
    Ok(match q.format.as_str() {
        "json" => {
            let mut v = serde_json::to_value(&transcript).map_err(ApiError::internal)?;
            v["amendments"] = serde_json::to_value(&amendments).map_err(ApiError::internal)?;
            v["approvals"] =
                serde_json::to_value(approvals(&state, id).await?).map_err(ApiError::internal)?;
            file("application/json", "json", v.to_string().into_bytes())
        }
        "srt" => file(
            "application/x-subrip",
            "srt",
            transcript.render(OutputFormat::Srt).into_bytes(),
        ),
        "vtt" => file(
            "text/vtt",
            "vtt",
            transcript.render(OutputFormat::Vtt).into_bytes(),
        ),
        "docx" | "pdf" => {
            let doc = Minutes::load(&state, id, transcript, amendments).await?;
            let blocks = doc.blocks();
            if q.format == "pdf" {
                let title = doc.title();
                let bytes = tokio::task::spawn_blocking(move || pdf::render(&blocks, &title))
                    .await
                    .map_err(ApiError::internal)?
                    .map_err(ApiError::internal)?;
                file("application/pdf", "pdf", bytes)
            } else {
                file(
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    "docx",
                    docx::render(&blocks).map_err(ApiError::internal)?,
                )
            }
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "format `{other}` is not offered; use json, srt, vtt, docx or pdf"
            )));
        }
    })
}
