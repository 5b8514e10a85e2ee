//! API errors: every failure leaves as `{"error": "..."}` with the status that says whose problem
//! it is. Client mistakes are 4xx with a sentence the client can act on; 500 only for our faults,
//! logged with their cause.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(m: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, m)
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "log in first: send `Authorization: Bearer TOKEN` (POST /api/auth/login)",
        )
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, m)
    }
    pub fn not_found(what: &str, id: impl std::fmt::Display) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("no {what} with id {id}"))
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, m)
    }
    /// Our fault: the cause goes to the log, the client gets a generic sentence.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!("internal error: {cause}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; the server log has the details",
        )
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(serde_json::json!({ "error": self.message })),
        )
            .into_response()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::RowNotFound => Self::new(StatusCode::NOT_FOUND, "not found"),
            e => Self::internal(format!("database: {e}")),
        }
    }
}

impl From<std::io::Error> for ApiError {
    fn from(e: std::io::Error) -> Self {
        Self::internal(format!("i/o: {e}"))
    }
}

impl From<courtscribe_audio::Error> for ApiError {
    /// A recording that cannot be read is the uploader's problem; the status says which kind.
    fn from(e: courtscribe_audio::Error) -> Self {
        use courtscribe_audio::Error as E;
        let status = match &e {
            E::UnsupportedFormat { .. } | E::NoAudioTrack => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            E::TooLong { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            E::Empty | E::Corrupt { .. } | E::Truncated { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            _ => return Self::internal(e),
        };
        Self::new(status, e.to_string())
    }
}

/// Rejections of axum's extractors (malformed JSON, wrong content type, bad path parameters) in
/// our error shape.
pub fn from_rejection(r: impl IntoResponse + std::fmt::Display) -> ApiError {
    let message = r.to_string();
    let status = r.into_response().status();
    ApiError::new(status, message)
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        from_rejection(r)
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(r: axum::extract::rejection::PathRejection) -> Self {
        let mut e = from_rejection(r);
        // An id that is not a number names nothing: 404, like an unknown number.
        if e.status == StatusCode::BAD_REQUEST {
            e.status = StatusCode::NOT_FOUND;
        }
        e
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        from_rejection(r)
    }
}

/// `axum::Json` whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequest)]
#[from_request(via(Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Path` whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// `axum::extract::Query` whose rejections are [`ApiError`]s.
#[derive(Debug, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);
