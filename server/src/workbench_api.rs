//! What the workbench needs beyond the core API: a recording's audio with HTTP byte ranges
//! (`Range: bytes=A-B` → 206), so the browser's player can seek in a three-hour recording without
//! downloading it first (browsers do not seek in media served without ranges).

use std::io::SeekFrom;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt as _;
use tokio::io::{AsyncReadExt as _, AsyncSeekExt as _};

use crate::AppState;
use crate::auth::{Caller, READERS};
use crate::error::{ApiError, ApiPath, ApiResult};

pub fn routes() -> Router<Arc<AppState>> {
    Router::new().route("/api/recordings/{id}/audio", get(media))
}

/// Bytes sent per chunk of a response body.
const CHUNK_BYTES: usize = 64 * 1024;

/// The recording's stored file, as uploaded, whole (200) or one byte range (206): what the
/// workbench's player plays and seeks in.
#[utoipa::path(get, path = "/api/recordings/{id}/audio", params(("id" = i64, Path)),
    responses((status = 200, content_type = "audio/*"), (status = 206, content_type = "audio/*"),
        (status = 404, body = crate::api::ErrorBody), (status = 416, body = crate::api::ErrorBody)),
    security(("bearer" = [])))]
pub async fn media(
    State(state): State<Arc<AppState>>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    caller.require(READERS)?;
    let rel: String = sqlx::query_scalar("SELECT path FROM recordings WHERE id = ?")
        .bind(id)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("recording", id))?;
    let mut file = tokio::fs::File::open(state.data.join(&rel)).await?;
    let size = file.metadata().await?.len();
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, size));
    let (status, start, end) = match range {
        None => (StatusCode::OK, 0, size),
        Some(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Some(None) => {
            let mut r = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("the range is outside the file's {size} bytes"),
            )
            .into_response();
            r.headers_mut().insert(
                header::CONTENT_RANGE,
                header_value(&format!("bytes */{size}")),
            );
            return Ok(r);
        }
    };
    file.seek(SeekFrom::Start(start)).await?;
    let body = Body::from_stream(
        futures_util::stream::unfold((file, end - start), |(mut f, left)| async move {
            if left == 0 {
                return None;
            }
            let mut buf = vec![0u8; CHUNK_BYTES.min(usize::try_from(left).unwrap_or(CHUNK_BYTES))];
            match f.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    buf.truncate(n);
                    Some((Ok::<_, std::io::Error>(buf), (f, left - n as u64)))
                }
                Err(e) => Some((Err(e), (f, 0))),
            }
        })
        .boxed(),
    );
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(mime_of(&rel)),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CONTENT_LENGTH,
        header_value(&(end - start).to_string()),
    );
    // The stored file never changes (the hash chain vouches for it), so the browser may keep it.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=86400, immutable"),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            header_value(&format!("bytes {start}-{}/{size}", end - 1)),
        );
    }
    Ok(response)
}

fn header_value(s: &str) -> HeaderValue {
    HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""))
}

fn mime_of(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "wav" => "audio/wav",
        "flac" => "audio/flac",
        "mp3" => "audio/mpeg",
        "ogg" => "audio/ogg",
        "m4a" => "audio/mp4",
        _ => "application/octet-stream",
    }
}

/// `bytes=A-B`, `bytes=A-` or `bytes=-N` (one range; browsers ask for no more) → the half-open
/// byte interval, or `None` when it lies outside the file. Several ranges are answered with the
/// first only, which RFC 9110 allows a server to do by ignoring the others.
fn parse_range(value: &str, size: u64) -> Option<(u64, u64)> {
    let spec = value.trim().strip_prefix("bytes=")?;
    let first = spec.split(',').next()?.trim();
    let (a, b) = first.split_once('-')?;
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (size.saturating_sub(n), size)
    } else {
        let start: u64 = a.parse().ok()?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>().ok()?.saturating_add(1).min(size)
        };
        (start, end)
    };
    (start < end && start < size).then_some((start, end))
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges_are_read_as_browsers_send_them() {
        assert_eq!(parse_range("bytes=0-", 100), Some((0, 100)));
        assert_eq!(parse_range("bytes=10-19", 100), Some((10, 20)));
        assert_eq!(parse_range("bytes=90-200", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=0-0,5-6", 100), Some((0, 1)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-2", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=-0", 100), None);
    }
}
