//! The HTTP API: routes, handlers and the OpenAPI document (`/api/openapi.json`). Every handler
//! states which roles may call it ([`Caller::require`]); every error leaves as `{"error": "..."}`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::StreamExt as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt as _;
use utoipa::{OpenApi, ToSchema};

use crate::AppState;
use crate::auth::{self, CLERKS, Caller, READERS, Role, SENDERS};
use crate::chain::{self, Verification};
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery, ApiResult};
use crate::markers::{Marker, NewMarker};
use crate::revisions::RevisionInfo;
use crate::search::Hit;

type S = State<Arc<AppState>>;

pub fn router(state: Arc<AppState>) -> Router {
    let max_json = state.config.max_json_kb * 1024;
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/api/openapi.json", get(openapi))
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/auth/me", get(me))
        .route("/api/users", post(create_user).get(list_users))
        .route(
            "/api/courtrooms",
            post(create_courtroom).get(list_courtrooms),
        )
        .route("/api/cases", post(create_case).get(list_cases))
        .route("/api/cases/{id}", get(get_case))
        .route("/api/cases/{id}/hearings", post(create_hearing))
        .route("/api/hearings/{id}", get(get_hearing))
        .route(
            "/api/hearings/{id}/recordings",
            post(upload_recording)
                .layer(DefaultBodyLimit::disable())
                .get(list_recordings),
        )
        .route("/api/hearings/{id}/transcript", get(get_transcript))
        .route("/api/hearings/{id}/revisions", get(list_revisions))
        .route("/api/hearings/{id}/verify", get(verify))
        .route("/api/hearings/{id}/captions", get(captions))
        .route(
            "/api/hearings/{id}/markers",
            post(add_marker).get(list_markers),
        )
        .route("/api/search", get(search))
        .route("/api/audit", get(audit_log))
        .route("/api/ingest", get(crate::live::ingest))
        .merge(crate::minutes::routes())
        .merge(crate::ui::routes())
        .merge(crate::workbench_api::routes())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(max_json))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_requests,
        ))
        .with_state(state)
}

async fn count_requests(
    State(state): S,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    state.metrics.count_request(response.status().as_u16());
    response
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; see /api/openapi.json",
    )
}

#[derive(OpenApi)]
#[openapi(
    info(title = "courtscribe", description = "Hearing minutes (biên bản phiên tòa) from courtroom audio: case record, transcription jobs, live ingest."),
    paths(
        healthz, readyz, login, logout, me, create_user, list_users, create_courtroom, list_courtrooms,
        create_case, list_cases, get_case, create_hearing, get_hearing, upload_recording,
        list_recordings, crate::workbench_api::media, get_transcript, list_revisions, verify, captions, add_marker,
        list_markers, search, audit_log,
        crate::minutes::put_transcript, crate::minutes::get_revision, crate::minutes::diff,
        crate::minutes::approve, crate::minutes::list_approvals, crate::minutes::add_amendment,
        crate::minutes::list_amendments, crate::minutes::sign_amendment, crate::minutes::export
    ),
    components(schemas(ErrorBody, Role)),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: String,
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// The process is up.
#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "alive")))]
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// The database answers and the model is loaded: the server can take work.
#[utoipa::path(get, path = "/readyz", responses((status = 200, description = "ready"), (status = 503, description = "not yet", body = ErrorBody)))]
async fn readyz(State(state): S) -> ApiResult<Json<serde_json::Value>> {
    sqlx::query("SELECT 1").execute(&state.db).await?;
    if !state.ready.load(Ordering::Acquire) {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the model is still loading",
        ));
    }
    Ok(Json(
        serde_json::json!({ "status": "ready", "model": state.config.model }),
    ))
}

async fn metrics(State(state): S) -> Response {
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "SELECT status, COUNT(*) FROM jobs WHERE status IN ('queued', 'running') GROUP BY status",
    )
    .fetch_all(&state.db)
    .await
    .unwrap_or_default();
    let get = |s: &str| counts.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
    state.metrics.queued_jobs.set(get("queued"));
    state.metrics.running_jobs.set(get("running"));
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
        .into_response()
}

// ---------------------------------------------------------------------------------------------
// Users and sessions

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    username: String,
    password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    token: String,
    /// Unix seconds.
    expires_at: i64,
    role: Role,
}

/// Logs in; the token goes in `Authorization: Bearer TOKEN`.
#[utoipa::path(post, path = "/api/auth/login", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): S,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<Json<LoginResponse>> {
    if let Err(wait) = state.login_limiter.check(addr.ip(), &req.username) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "too many login attempts for `{}`; try again in {wait} s",
                req.username
            ),
        ));
    }
    let row: Option<(i64, String, String)> =
        sqlx::query_as("SELECT id, password_hash, role FROM users WHERE username = ?")
            .bind(&req.username)
            .fetch_optional(&state.db)
            .await?;
    let password = req.password.clone();
    let (id, role) = match row {
        Some((id, hash, role)) => {
            let ok = tokio::task::spawn_blocking(move || auth::verify_password(&password, &hash))
                .await
                .map_err(ApiError::internal)?;
            if !ok {
                return Err(bad_credentials());
            }
            (id, role)
        }
        None => return Err(bad_credentials()),
    };
    let role = Role::parse(&role)
        .ok_or_else(|| ApiError::internal(format!("user {id} has role {role}")))?;
    let ttl = match role {
        Role::Station => state.config.station_token_ttl_secs,
        _ => state.config.token_ttl_secs,
    };
    let (token, expires_at) = auth::issue_token(&state.db, id, ttl).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        role,
    }))
}

fn bad_credentials() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "wrong user name or password")
}

/// Ends the caller's token.
#[utoipa::path(post, path = "/api/auth/logout", responses((status = 204)), security(("bearer" = [])))]
async fn logout(State(state): S, _caller: Caller, headers: HeaderMap) -> ApiResult<StatusCode> {
    if let Some(token) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
    {
        auth::revoke_token(&state.db, token.trim()).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct UserInfo {
    id: i64,
    username: String,
    role: String,
    courtroom_id: Option<i64>,
    created_at: String,
}

/// The caller.
#[utoipa::path(get, path = "/api/auth/me", responses((status = 200, body = UserInfo), (status = 401, body = ErrorBody)), security(("bearer" = [])))]
async fn me(State(state): S, caller: Caller) -> ApiResult<Json<UserInfo>> {
    let u = sqlx::query_as(
        "SELECT id, username, role, courtroom_id, created_at FROM users WHERE id = ?",
    )
    .bind(caller.id)
    .fetch_one(&state.db)
    .await?;
    Ok(Json(u))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUser {
    username: String,
    password: String,
    role: Role,
    /// The courtroom a station records in (default: the court's first courtroom).
    courtroom_id: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Creates a user (admin).
#[utoipa::path(post, path = "/api/users", request_body = NewUser,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn create_user(
    State(state): S,
    caller: Caller,
    ApiJson(u): ApiJson<NewUser>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(&[Role::Admin])?;
    let username = u.username.trim().to_string();
    if username.is_empty()
        || username.chars().count() > 64
        || username.contains(char::is_whitespace)
    {
        return Err(ApiError::bad_request(
            "username must be 1–64 characters without spaces",
        ));
    }
    if u.password.chars().count() < 8 {
        return Err(ApiError::bad_request(
            "password must be at least 8 characters",
        ));
    }
    let courtroom = match (u.role, u.courtroom_id) {
        (_, Some(c)) => {
            exists(&state, "courtrooms", c, "courtroom").await?;
            Some(c)
        }
        (Role::Station, None) => Some(state.default_courtroom),
        _ => None,
    };
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
        .bind(&username)
        .fetch_optional(&state.db)
        .await?;
    if taken.is_some() {
        return Err(ApiError::conflict(format!(
            "user `{username}` already exists"
        )));
    }
    let password = u.password;
    let hash = tokio::task::spawn_blocking(move || auth::hash_password(&password))
        .await
        .map_err(ApiError::internal)??;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO users (username, password_hash, role, courtroom_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&username)
    .bind(hash)
    .bind(u.role.as_str())
    .bind(courtroom)
    .bind(crate::db::now())
    .fetch_one(&state.db)
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Lists users (admin).
#[utoipa::path(get, path = "/api/users", responses((status = 200, body = [UserInfo])), security(("bearer" = [])))]
async fn list_users(State(state): S, caller: Caller) -> ApiResult<Json<Vec<UserInfo>>> {
    caller.require(&[Role::Admin])?;
    let users = sqlx::query_as(
        "SELECT id, username, role, courtroom_id, created_at FROM users ORDER BY username",
    )
    .fetch_all(&state.db)
    .await?;
    Ok(Json(users))
}

async fn exists(state: &AppState, table: &str, id: i64, what: &str) -> ApiResult<()> {
    let found: Option<i64> = sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = ?"))
        .bind(id)
        .fetch_optional(&state.db)
        .await?;
    found
        .map(|_| ())
        .ok_or_else(|| ApiError::not_found(what, id))
}

// ---------------------------------------------------------------------------------------------
// Courtrooms, cases, hearings

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCourtroom {
    name: String,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CourtroomInfo {
    id: i64,
    name: String,
    court: String,
}

/// Adds a courtroom to the court (admin).
#[utoipa::path(post, path = "/api/courtrooms", request_body = NewCourtroom,
    responses((status = 201, body = Created), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
async fn create_courtroom(
    State(state): S,
    caller: Caller,
    ApiJson(c): ApiJson<NewCourtroom>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(&[Role::Admin])?;
    let name = nfc_nonempty(&c.name, "name", 200)?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO courtrooms (court_id, name) VALUES (1, ?) ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&name)
    .fetch_optional(&state.db)
    .await?;
    let id = id.ok_or_else(|| ApiError::conflict(format!("courtroom `{name}` already exists")))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Lists the court's courtrooms.
#[utoipa::path(get, path = "/api/courtrooms", responses((status = 200, body = [CourtroomInfo])), security(("bearer" = [])))]
async fn list_courtrooms(State(state): S, caller: Caller) -> ApiResult<Json<Vec<CourtroomInfo>>> {
    caller.require(READERS)?;
    let rooms = sqlx::query_as(
        "SELECT r.id, r.name, c.name AS court FROM courtrooms r JOIN courts c ON c.id = r.court_id ORDER BY r.id",
    )
    .fetch_all(&state.db)
    .await?;
    Ok(Json(rooms))
}

/// Trimmed NFC text, refused when empty or longer than `max` characters.
fn nfc_nonempty(s: &str, field: &str, max: usize) -> ApiResult<String> {
    use unicode_normalization::UnicodeNormalization as _;
    let t: String = s.trim().nfc().collect();
    if t.is_empty() || t.chars().count() > max {
        return Err(ApiError::bad_request(format!(
            "{field} must be 1–{max} characters"
        )));
    }
    Ok(t)
}

/// Kinds of case (vụ án / vụ việc) a Vietnamese court hears.
const CASE_KINDS: &[&str] = &[
    "criminal",
    "civil",
    "administrative",
    "economic",
    "labour",
    "marriage_family",
    "bankruptcy",
    "other",
];

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewCase {
    /// e.g. `123/2026/HS-ST`.
    number: String,
    title: String,
    /// criminal, civil, administrative, economic, labour, marriage_family, bankruptcy, other.
    kind: String,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct CaseInfo {
    id: i64,
    number: String,
    title: String,
    kind: String,
    created_at: String,
}

/// Opens a case.
#[utoipa::path(post, path = "/api/cases", request_body = NewCase,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 409, body = ErrorBody)), security(("bearer" = [])))]
async fn create_case(
    State(state): S,
    caller: Caller,
    ApiJson(c): ApiJson<NewCase>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(CLERKS)?;
    let number = nfc_nonempty(&c.number, "number", 64)?;
    let title = nfc_nonempty(&c.title, "title", 500)?;
    let kind = c.kind.trim().to_lowercase();
    if !CASE_KINDS.contains(&kind.as_str()) {
        return Err(ApiError::bad_request(format!(
            "kind must be one of {}",
            CASE_KINDS.join(", ")
        )));
    }
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO cases (court_id, number, title, kind, created_by, created_at) VALUES (1, ?, ?, ?, ?, ?)
         ON CONFLICT DO NOTHING RETURNING id",
    )
    .bind(&number)
    .bind(&title)
    .bind(&kind)
    .bind(caller.id)
    .bind(crate::db::now())
    .fetch_optional(&state.db)
    .await?;
    let id = id.ok_or_else(|| ApiError::conflict(format!("case {number} already exists")))?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Lists cases, newest first.
#[utoipa::path(get, path = "/api/cases", responses((status = 200, body = [CaseInfo])), security(("bearer" = [])))]
async fn list_cases(State(state): S, caller: Caller) -> ApiResult<Json<Vec<CaseInfo>>> {
    caller.require(READERS)?;
    let cases =
        sqlx::query_as("SELECT id, number, title, kind, created_at FROM cases ORDER BY id DESC")
            .fetch_all(&state.db)
            .await?;
    Ok(Json(cases))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CaseDetail {
    #[serde(flatten)]
    case: CaseInfo,
    hearings: Vec<HearingInfo>,
}

/// A case and its hearings.
#[utoipa::path(get, path = "/api/cases/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = CaseDetail), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn get_case(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<CaseDetail>> {
    caller.require(READERS)?;
    let case: CaseInfo =
        sqlx::query_as("SELECT id, number, title, kind, created_at FROM cases WHERE id = ?")
            .bind(id)
            .fetch_optional(&state.db)
            .await?
            .ok_or_else(|| ApiError::not_found("case", id))?;
    let rows: Vec<HearingRow> = sqlx::query_as(&format!(
        "{HEARING_SELECT} WHERE h.case_id = ? ORDER BY h.id"
    ))
    .bind(id)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(CaseDetail {
        case,
        hearings: rows.into_iter().map(HearingInfo::from).collect(),
    }))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
pub struct Participant {
    pub name: String,
    /// CHU_TOA, HOI_THAM, THU_KY, KIEM_SAT_VIEN, BI_CAO, NGUYEN_DON, BI_DON, LUAT_SU, NHAN_CHUNG, …
    role: String,
}

impl Participant {
    /// The list stored in a hearing's `participants` column. The API only stores a well-formed
    /// list; an unreadable one reads as empty, never as an error for the hearing.
    pub fn list_from_column(json: &str) -> Vec<Self> {
        serde_json::from_str(json).unwrap_or_default()
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewHearing {
    /// ISO 639-1 code (`vi`, `en`) or `auto`.
    #[serde(default = "default_language")]
    language: String,
    courtroom_id: Option<i64>,
    /// RFC 3339.
    scheduled_at: Option<String>,
    #[serde(default)]
    participants: Vec<Participant>,
}

fn default_language() -> String {
    "vi".into()
}

const HEARING_SELECT: &str = "SELECT h.id, h.case_id, h.courtroom_id, h.language, h.scheduled_at, h.participants, h.created_at, c.number AS case_number FROM hearings h JOIN cases c ON c.id = h.case_id";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HearingRow {
    pub id: i64,
    pub case_id: i64,
    pub courtroom_id: i64,
    pub language: String,
    pub scheduled_at: Option<String>,
    pub participants: String,
    pub created_at: String,
    pub case_number: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HearingInfo {
    id: i64,
    case_id: i64,
    case_number: String,
    courtroom_id: i64,
    language: String,
    scheduled_at: Option<String>,
    participants: Vec<Participant>,
    created_at: String,
}

impl From<HearingRow> for HearingInfo {
    fn from(h: HearingRow) -> Self {
        Self {
            id: h.id,
            case_id: h.case_id,
            case_number: h.case_number,
            courtroom_id: h.courtroom_id,
            language: h.language,
            scheduled_at: h.scheduled_at,
            participants: Participant::list_from_column(&h.participants),
            created_at: h.created_at,
        }
    }
}

/// Schedules a hearing of a case.
#[utoipa::path(post, path = "/api/cases/{id}/hearings", params(("id" = i64, Path)), request_body = NewHearing,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn create_hearing(
    State(state): S,
    caller: Caller,
    ApiPath(case): ApiPath<i64>,
    ApiJson(h): ApiJson<NewHearing>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require(CLERKS)?;
    exists(&state, "cases", case, "case").await?;
    let language = h.language.trim().to_lowercase();
    let known = language == "auto" || courtscribe_transcriber::whisper::language_known(&language);
    if !known {
        return Err(ApiError::bad_request(format!(
            "language `{language}` is not one whisper knows (vi, en, … or auto)"
        )));
    }
    let courtroom = h.courtroom_id.unwrap_or(state.default_courtroom);
    exists(&state, "courtrooms", courtroom, "courtroom").await?;
    if let Some(t) = &h.scheduled_at {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map_err(|_| ApiError::bad_request("scheduled_at must be an RFC 3339 time"))?;
    }
    let participants = h
        .participants
        .iter()
        .map(|p| {
            Ok(Participant {
                name: nfc_nonempty(&p.name, "participant name", 200)?,
                role: nfc_nonempty(&p.role, "participant role", 64)?,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO hearings (case_id, courtroom_id, language, scheduled_at, participants, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(case)
    .bind(courtroom)
    .bind(&language)
    .bind(&h.scheduled_at)
    .bind(serde_json::to_string(&participants).map_err(ApiError::internal)?)
    .bind(caller.id)
    .bind(crate::db::now())
    .fetch_one(&state.db)
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

async fn hearing_row(state: &AppState, id: i64) -> ApiResult<HearingRow> {
    sqlx::query_as(&format!("{HEARING_SELECT} WHERE h.id = ?"))
        .bind(id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("hearing", id))
}

/// The hearing `id` when `caller` may send it audio: senders only, and a station only to hearings
/// in its own courtroom.
pub async fn hearing_for_sender(
    state: &AppState,
    caller: &Caller,
    id: i64,
) -> ApiResult<HearingRow> {
    caller.require(SENDERS)?;
    let h = hearing_row(state, id).await?;
    if caller.role == Role::Station && caller.courtroom_id != Some(h.courtroom_id) {
        return Err(ApiError::forbidden(format!(
            "this station records in another courtroom than hearing {id}"
        )));
    }
    Ok(h)
}

/// A hearing.
#[utoipa::path(get, path = "/api/hearings/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = HearingInfo), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn get_hearing(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<HearingInfo>> {
    caller.require(READERS)?;
    Ok(Json(hearing_row(&state, id).await?.into()))
}

// ---------------------------------------------------------------------------------------------
// Recordings

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct RecordingInfo {
    id: i64,
    source: String,
    codec: String,
    channels: i64,
    sample_rate: i64,
    /// Seconds.
    duration: f64,
    bytes: i64,
    file_sha256: String,
    /// sha256 of the interleaved s16le PCM at the native rate and channel count.
    pcm_sha256: String,
    created_at: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecordingAccepted {
    id: i64,
    job_id: i64,
    status: String,
    channels: i64,
    sample_rate: i64,
    duration: f64,
    pcm_sha256: String,
}

/// A recording about to enter the case record.
#[derive(Debug)]
pub struct NewRecording {
    pub hearing: i64,
    /// Path of the (already durable) file, relative to the data folder.
    pub rel: String,
    pub source: &'static str,
    pub codec: String,
    pub channels: i64,
    pub sample_rate: i64,
    pub duration: f64,
    pub bytes: i64,
    pub file_sha256: String,
    pub pcm_sha256: String,
    pub priority: i64,
    pub created_by: i64,
}

/// Registers a stored audio file: the recording row, its chain entry and its transcription job
/// in one transaction (and, for a live session, the session's closing). Returns (recording, job).
pub async fn store_recording(
    state: &AppState,
    r: &NewRecording,
    live_session: Option<&str>,
) -> ApiResult<(i64, i64)> {
    let mut tx = state.db.begin_with("BEGIN IMMEDIATE").await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO recordings (hearing_id, path, source, codec, channels, sample_rate, duration, bytes, file_sha256, pcm_sha256, created_by, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(r.hearing)
    .bind(&r.rel)
    .bind(r.source)
    .bind(&r.codec)
    .bind(r.channels)
    .bind(r.sample_rate)
    .bind(r.duration)
    .bind(r.bytes)
    .bind(&r.file_sha256)
    .bind(&r.pcm_sha256)
    .bind(r.created_by)
    .bind(crate::db::now())
    .fetch_one(&mut *tx)
    .await?;
    chain::append(
        &mut tx,
        r.hearing,
        chain::Kind::Recording,
        id,
        &r.file_sha256,
    )
    .await?;
    let job: i64 = sqlx::query_scalar(
        "INSERT INTO jobs (recording_id, hearing_id, priority, created_at) VALUES (?, ?, ?, ?) RETURNING id",
    )
    .bind(id)
    .bind(r.hearing)
    .bind(r.priority)
    .bind(crate::db::now())
    .fetch_one(&mut *tx)
    .await?;
    if let Some(session) = live_session {
        sqlx::query("UPDATE live_sessions SET state = 'closed', recording_id = ? WHERE id = ?")
            .bind(id)
            .bind(session)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    state.jobs.wake();
    Ok((id, job))
}

/// How much of a refused upload the server still reads, and throws away, before answering.
const DISCARD_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads and drops what is left of a refused upload's body, up to [`DISCARD_LIMIT`]. A client
/// that sends the whole body before reading the answer (most do: no `Expect: 100-continue`) would
/// otherwise see the connection closed under its upload — a broken pipe instead of the 413 that
/// says why. Past the limit the connection is closed anyway.
async fn discard_rest(mut stream: axum::body::BodyDataStream) {
    let mut discarded: u64 = 0;
    while discarded <= DISCARD_LIMIT {
        match stream.next().await {
            Some(Ok(chunk)) => discarded += chunk.len() as u64,
            _ => return,
        }
    }
}

/// Uploads a recording (body = the audio file's bytes: wav, flac, mp3, ogg, m4a/aac, mp4/mkv).
/// The content is recognised from the bytes, not from any name; it is stored and queued for
/// transcription (and diarization).
#[utoipa::path(post, path = "/api/hearings/{id}/recordings", params(("id" = i64, Path)),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 202, body = RecordingAccepted), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)),
    security(("bearer" = [])))]
async fn upload_recording(
    State(state): S,
    caller: Caller,
    ApiPath(hearing): ApiPath<i64>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<RecordingAccepted>)> {
    hearing_for_sender(&state, &caller, hearing).await?;
    let max = state.config.max_upload_bytes();
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the upload is over the limit of {} MiB",
                state.config.max_upload_mb
            ),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        discard_rest(body.into_data_stream()).await;
        return Err(too_large());
    }
    let tmp_dir = state.data.join("tmp");
    tokio::fs::create_dir_all(&tmp_dir).await?;
    let tmp = tempfile::NamedTempFile::new_in(&tmp_dir)?;
    let mut file = tokio::fs::File::from_std(tmp.reopen()?);
    let mut stream = body.into_data_stream();
    let mut hasher = Sha256::new();
    let mut received: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|e| ApiError::bad_request(format!("the upload was interrupted: {e}")))?;
        received += chunk.len() as u64;
        if received > max {
            discard_rest(stream).await;
            return Err(too_large());
        }
        hasher.update(&chunk);
        file.write_all(&chunk).await?;
    }
    if received == 0 {
        return Err(ApiError::bad_request(
            "the body is empty: send the audio file's bytes",
        ));
    }
    file.sync_all().await?;
    drop(file);
    let file_sha256 = hex::encode(hasher.finalize());

    let path = tmp.path().to_path_buf();
    // Checked by decoding without keeping the samples: the job decodes the file again anyway.
    let audio = tokio::task::spawn_blocking(move || courtscribe_audio::inspect_file(&path))
        .await
        .map_err(ApiError::internal)??;
    if audio.frames == 0 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the recording holds no samples",
        ));
    }
    let ext = extension_for(&audio.codec);
    let rel = format!("recordings/h{hearing}/{}.{ext}", random_name());
    let dst = state.data.join(&rel);
    let meta = NewRecording {
        hearing,
        rel: rel.clone(),
        source: "upload",
        codec: audio.codec.clone(),
        channels: audio.channels as i64,
        sample_rate: i64::from(audio.sample_rate),
        duration: audio.duration(),
        bytes: received as i64,
        file_sha256,
        pcm_sha256: audio.pcm_sha256,
        priority: 0,
        created_by: caller.id,
    };
    let persisted = dst.clone();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        if let Some(dir) = persisted.parent() {
            std::fs::create_dir_all(dir)?;
        }
        courtscribe_models::persist_file(tmp, &persisted)
    })
    .await
    .map_err(ApiError::internal)??;
    let (id, job_id) = match store_recording(&state, &meta, None).await {
        Ok(ids) => ids,
        Err(e) => {
            // Not in the record, so not kept: no file without its row.
            let _ = tokio::fs::remove_file(&dst).await;
            return Err(e);
        }
    };
    Ok((
        StatusCode::ACCEPTED,
        Json(RecordingAccepted {
            id,
            job_id,
            status: "queued".into(),
            channels: meta.channels,
            sample_rate: meta.sample_rate,
            duration: meta.duration,
            pcm_sha256: meta.pcm_sha256,
        }),
    ))
}

fn extension_for(codec: &str) -> &'static str {
    match codec {
        c if c.starts_with("pcm") => "wav",
        "flac" => "flac",
        "mp3" => "mp3",
        "vorbis" => "ogg",
        "aac" => "m4a",
        _ => "audio",
    }
}

fn random_name() -> String {
    use rand::RngCore as _;
    let mut b = [0u8; 12];
    rand::rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// The hearing's recordings.
#[utoipa::path(get, path = "/api/hearings/{id}/recordings", params(("id" = i64, Path)),
    responses((status = 200, body = [RecordingInfo]), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn list_recordings(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<RecordingInfo>>> {
    caller.require(READERS)?;
    hearing_row(&state, id).await?;
    let rows = sqlx::query_as(
        "SELECT id, source, codec, channels, sample_rate, duration, bytes, file_sha256, pcm_sha256, created_at
         FROM recordings WHERE hearing_id = ? ORDER BY id",
    )
    .bind(id)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(rows))
}

// ---------------------------------------------------------------------------------------------
// Transcript, revisions, verification, captions, search, audit

#[derive(Debug, Serialize, ToSchema)]
pub struct Pending {
    /// `queued` or `running`.
    status: String,
    /// 0..1 over the hearing's unfinished recordings.
    progress: f64,
}

/// The hearing's transcript (latest revision; the transcription issue's JSON with speakers), or
/// 202 with the progress while recordings are still being transcribed.
#[utoipa::path(get, path = "/api/hearings/{id}/transcript", params(("id" = i64, Path)),
    responses((status = 200, description = "transcript JSON", body = Object), (status = 202, body = Pending),
        (status = 404, body = ErrorBody), (status = 500, body = ErrorBody)),
    security(("bearer" = [])))]
async fn get_transcript(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    caller.require(READERS)?;
    hearing_row(&state, id).await?;
    let jobs: Vec<(i64, String, Option<String>)> =
        sqlx::query_as("SELECT id, status, error FROM jobs WHERE hearing_id = ? ORDER BY id")
            .bind(id)
            .fetch_all(&state.db)
            .await?;
    if jobs.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("hearing {id} has no recording yet"),
        ));
    }
    let open: Vec<&(i64, String, Option<String>)> = jobs
        .iter()
        .filter(|(_, s, _)| s == "queued" || s == "running")
        .collect();
    if !open.is_empty() {
        let status = if open.iter().any(|(_, s, _)| s == "running") {
            "running"
        } else {
            "queued"
        };
        let progress = open
            .iter()
            .map(|(j, _, _)| state.jobs.progress(*j).unwrap_or(0.0))
            .sum::<f64>()
            / open.len() as f64;
        return Ok((
            StatusCode::ACCEPTED,
            Json(Pending {
                status: status.into(),
                progress,
            }),
        )
            .into_response());
    }
    let latest: Option<String> = sqlx::query_scalar(
        "SELECT content FROM revisions WHERE hearing_id = ? ORDER BY number DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&state.db)
    .await?;
    match latest {
        Some(content) => {
            Ok(([(header::CONTENT_TYPE, "application/json")], content).into_response())
        }
        None => {
            let why = jobs
                .iter()
                .find_map(|(_, _, e)| e.clone())
                .unwrap_or_else(|| "unknown".into());
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("transcription failed: {why}"),
            ))
        }
    }
}

/// The hearing's revisions, oldest first (the ASR draft is number 1).
#[utoipa::path(get, path = "/api/hearings/{id}/revisions", params(("id" = i64, Path)),
    responses((status = 200, body = [RevisionInfo]), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn list_revisions(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<RevisionInfo>>> {
    caller.require(READERS)?;
    hearing_row(&state, id).await?;
    let rows = sqlx::query_as(
        "SELECT id, number, kind, author, created_at, content_sha256 FROM revisions WHERE hearing_id = ? ORDER BY number",
    )
    .bind(id)
    .fetch_all(&state.db)
    .await?;
    Ok(Json(rows))
}

/// Recomputes the hearing's hash chain from the stored audio files and revisions.
#[utoipa::path(get, path = "/api/hearings/{id}/verify", params(("id" = i64, Path)),
    responses((status = 200, body = Verification), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn verify(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Verification>> {
    caller.require(READERS)?;
    hearing_row(&state, id).await?;
    Ok(Json(chain::verify(&state.db, &state.data, id).await?))
}

/// Live captions of the hearing as server-sent events (`event: caption`, data = JSON): the recent
/// ones first, then each new one as it is decoded.
#[utoipa::path(get, path = "/api/hearings/{id}/captions", params(("id" = i64, Path)),
    responses((status = 200, content_type = "text/event-stream"), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn captions(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Response> {
    caller.require(READERS)?;
    hearing_row(&state, id).await?;
    let (recent, rx) = state.live.subscribe(id);
    let event = |c: &crate::live::Caption| {
        Event::default()
            .event("caption")
            .json_data(c)
            .unwrap_or_else(|_| Event::default().comment("unencodable caption"))
    };
    let first = futures_util::stream::iter(recent.iter().map(event).collect::<Vec<_>>());
    let live = futures_util::stream::unfold(rx, move |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(c) => return Some((event(&c), rx)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    let stream = first.chain(live).map(Ok::<_, std::convert::Infallible>);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SearchQuery {
    /// Words to find; diacritics and case are ignored ("bi cao" finds "bị cáo").
    q: String,
    #[serde(default = "default_limit")]
    limit: i64,
}

fn default_limit() -> i64 {
    50
}

/// Finds where words were said, across all hearings.
#[utoipa::path(get, path = "/api/search", params(SearchQuery),
    responses((status = 200, body = [Hit]), (status = 400, body = ErrorBody)), security(("bearer" = [])))]
async fn search(
    State(state): S,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<Vec<Hit>>> {
    caller.require(READERS)?;
    if q.q.trim().is_empty() || q.q.chars().count() > 500 {
        return Err(ApiError::bad_request("q must be 1–500 characters"));
    }
    Ok(Json(
        crate::search::search(&state.db, &q.q, q.limit.clamp(1, 500)).await?,
    ))
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct AuditEntry {
    id: i64,
    at: String,
    username: Option<String>,
    action: String,
    object: Option<String>,
    status: i64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AuditQuery {
    /// Only entries about this object, e.g. `hearing:12`.
    object: Option<String>,
    #[serde(default = "default_limit")]
    limit: i64,
}

/// The audit log, newest first (admin).
#[utoipa::path(get, path = "/api/audit", params(AuditQuery), responses((status = 200, body = [AuditEntry])), security(("bearer" = [])))]
async fn audit_log(
    State(state): S,
    caller: Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<Json<Vec<AuditEntry>>> {
    caller.require(&[Role::Admin])?;
    let rows = sqlx::query_as(
        "SELECT id, at, username, action, object, status FROM audit WHERE (?1 IS NULL OR object = ?1) ORDER BY id DESC LIMIT ?2",
    )
    .bind(q.object)
    .bind(q.limit.clamp(1, 10_000))
    .fetch_all(&state.db)
    .await?;
    Ok(Json(rows))
}

/// Adds a clerk's marker to the hearing (stations of its courtroom, secretaries, judges, admins).
#[utoipa::path(post, path = "/api/hearings/{id}/markers", params(("id" = i64, Path)), request_body = NewMarker,
    responses((status = 201, body = Created), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn add_marker(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiJson(m): ApiJson<NewMarker>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    if caller.role == Role::Judge {
        hearing_row(&state, id).await?;
    } else {
        hearing_for_sender(&state, &caller, id).await?;
    }
    let marker = crate::markers::insert(&state.db, id, caller.id, &m).await?;
    Ok((StatusCode::CREATED, Json(Created { id: marker })))
}

/// The hearing's markers, in time order per session.
#[utoipa::path(get, path = "/api/hearings/{id}/markers", params(("id" = i64, Path)),
    responses((status = 200, body = [Marker]), (status = 404, body = ErrorBody)), security(("bearer" = [])))]
async fn list_markers(
    State(state): S,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Vec<Marker>>> {
    caller.require(READERS)?;
    hearing_row(&state, id).await?;
    Ok(Json(crate::markers::list(&state.db, id).await?))
}
