//! The audit log: who did what, when, with what outcome: every API request that touches the case
//! record (reads of minutes included), written by the [`crate::auth::authenticate`] middleware.
//! Liveness probes, metrics and the OpenAPI document are not audited.

use axum::http::StatusCode;

use crate::AppState;
use crate::auth::Caller;

/// Records one request. Failure to write the audit row is logged, never hidden.
pub async fn record(state: &AppState, caller: Option<&Caller>, action: &str, status: StatusCode) {
    let path = action.split_once(' ').map_or(action, |(_, p)| p);
    if !path.starts_with("/api/") || path == "/api/openapi.json" {
        return;
    }
    let r = sqlx::query(
        "INSERT INTO audit (at, user_id, username, action, object, status) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(crate::db::now())
    .bind(caller.map(|c| c.id))
    .bind(caller.map(|c| c.username.clone()))
    .bind(action)
    .bind(object_of(path))
    .bind(i64::from(status.as_u16()))
    .execute(&state.db)
    .await;
    if let Err(e) = r {
        tracing::error!("audit log write failed for {action}: {e}");
    }
}

/// `hearing:12` for `/api/hearings/12/transcript`, and so on: what the request was about.
fn object_of(path: &str) -> Option<String> {
    let mut parts = path.trim_start_matches("/api/").split('/');
    let kind = parts.next()?;
    let id = parts.next()?;
    id.parse::<i64>()
        .ok()
        .map(|id| format!("{}:{id}", kind.trim_end_matches('s')))
}

#[cfg(test)]
mod tests {
    #[test]
    fn objects_are_named_by_kind_and_id() {
        assert_eq!(
            super::object_of("/api/hearings/12/transcript").as_deref(),
            Some("hearing:12")
        );
        assert_eq!(super::object_of("/api/cases/3").as_deref(), Some("case:3"));
        assert_eq!(super::object_of("/api/search"), None);
    }
}
