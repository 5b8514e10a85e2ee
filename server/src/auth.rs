//! Who is calling and what they may do. Passwords are argon2id hashes; a login hands out a random
//! bearer token of which only the sha256 is stored, valid for `token_ttl_secs`. The
//! [`authenticate`] middleware resolves the token once per request and leaves a [`Caller`] in the
//! request; handlers ask it for the roles an endpoint allows ([`Caller::require`]).

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::SqlitePool;

use crate::AppState;
use crate::error::ApiError;

/// What a user is for. Stations only send audio; reviewers (appeal judges) only read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Station,
    Secretary,
    Judge,
    Reviewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Station => "station",
            Role::Secretary => "secretary",
            Role::Judge => "judge",
            Role::Reviewer => "reviewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "admin" => Role::Admin,
            "station" => Role::Station,
            "secretary" => Role::Secretary,
            "judge" => Role::Judge,
            "reviewer" => Role::Reviewer,
            _ => return None,
        })
    }
}

/// Roles that read hearings and their minutes.
pub const READERS: &[Role] = &[Role::Admin, Role::Secretary, Role::Judge, Role::Reviewer];
/// Roles that create cases and hearings.
pub const CLERKS: &[Role] = &[Role::Admin, Role::Secretary, Role::Judge];
/// Roles that send audio.
pub const SENDERS: &[Role] = &[Role::Admin, Role::Secretary, Role::Station];

/// The authenticated user of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: i64,
    pub username: String,
    pub role: Role,
    /// The courtroom a station records in.
    pub courtroom_id: Option<i64>,
}

impl Caller {
    /// `Ok` when the caller's role is one of `roles`, else 403.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "a {} may not do this",
                self.role.as_str()
            )))
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(ApiError::unauthorized)
    }
}

/// Resolves `Authorization: Bearer TOKEN` (or `?token=` for browsers' WebSocket and EventSource,
/// which cannot set headers) into a [`Caller`] extension. Requests without a valid token go on
/// without one; handlers that need a caller answer 401.
pub async fn authenticate(
    State(state): State<Arc<AppState>>,
    mut request: Request,
    next: Next,
) -> Response {
    let header_token = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string());
    let token = header_token.or_else(|| {
        request.uri().query().and_then(|q| {
            q.split('&')
                .find_map(|kv| kv.strip_prefix("token="))
                .map(str::to_string)
        })
    });
    if let Some(token) = token {
        match caller_for_token(&state.db, &token).await {
            Ok(Some(caller)) => {
                request.extensions_mut().insert(caller);
            }
            Ok(None) => {}
            Err(e) => return axum::response::IntoResponse::into_response(ApiError::from(e)),
        }
    }
    let caller = request.extensions().get::<Caller>().cloned();
    let action = format!("{} {}", request.method(), request.uri().path());
    let response = next.run(request).await;
    crate::audit::record(&state, caller.as_ref(), &action, response.status()).await;
    response
}

async fn caller_for_token(db: &SqlitePool, token: &str) -> sqlx::Result<Option<Caller>> {
    let row: Option<(i64, String, String, Option<i64>)> = sqlx::query_as(
        "SELECT u.id, u.username, u.role, u.courtroom_id FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_sha256 = ? AND t.expires_at > ?",
    )
    .bind(token_sha256(token))
    .bind(crate::db::unix_now())
    .fetch_optional(db)
    .await?;
    Ok(row.and_then(|(id, username, role, courtroom_id)| {
        Some(Caller {
            id,
            username,
            role: Role::parse(&role)?,
            courtroom_id,
        })
    }))
}

fn token_sha256(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal(format!("argon2: {e}")))
}

/// Checks a password against a stored PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Issues a token for `user_id`, valid for `ttl_secs`. Returns the token and its expiry (unix s).
pub async fn issue_token(
    db: &SqlitePool,
    user_id: i64,
    ttl_secs: u64,
) -> sqlx::Result<(String, i64)> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex::encode(bytes);
    let now = crate::db::unix_now();
    let expires = now.saturating_add(i64::try_from(ttl_secs).unwrap_or(i64::MAX));
    // Expired tokens are swept whenever a new one is issued.
    sqlx::query("DELETE FROM tokens WHERE expires_at <= ?")
        .bind(now)
        .execute(db)
        .await?;
    sqlx::query("INSERT INTO tokens (token_sha256, user_id, expires_at) VALUES (?, ?, ?)")
        .bind(token_sha256(&token))
        .bind(user_id)
        .bind(expires)
        .execute(db)
        .await?;
    Ok((token, expires))
}

pub async fn revoke_token(db: &SqlitePool, token: &str) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM tokens WHERE token_sha256 = ?")
        .bind(token_sha256(token))
        .execute(db)
        .await?;
    Ok(())
}

/// Throttles password guessing per (client address, user name).
#[derive(Debug)]
pub struct LoginLimiter(DefaultKeyedRateLimiter<(IpAddr, String)>);

impl LoginLimiter {
    pub fn new(per_minute: u32) -> Self {
        let n = NonZeroU32::new(per_minute.max(1)).unwrap_or(NonZeroU32::MIN);
        Self(RateLimiter::keyed(Quota::per_minute(n)))
    }

    /// `Err(seconds to wait)` when this client has tried this user name too often.
    pub fn check(&self, ip: IpAddr, username: &str) -> Result<(), u64> {
        self.0
            .check_key(&(ip, username.to_string()))
            .map_err(|not_until| {
                not_until
                    .wait_time_from(governor::clock::Clock::now(
                        &governor::clock::DefaultClock::default(),
                    ))
                    .as_secs()
                    .max(1)
            })
    }
}

/// Creates the first administrator from `COURTSCRIBE_BOOTSTRAP_ADMIN=user:password` when the
/// database has no user at all. Returns the user name created.
pub async fn bootstrap_admin(
    db: &SqlitePool,
    spec: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(db)
        .await?;
    let Some(spec) = spec.filter(|s| !s.is_empty()) else {
        if users == 0 {
            tracing::warn!(
                "no user exists; set COURTSCRIBE_BOOTSTRAP_ADMIN=user:password to create the first administrator"
            );
        }
        return Ok(None);
    };
    if users > 0 {
        return Ok(None);
    }
    let (user, password) = spec
        .split_once(':')
        .filter(|(u, p)| !u.trim().is_empty() && !p.is_empty())
        .ok_or_else(|| anyhow::anyhow!("COURTSCRIBE_BOOTSTRAP_ADMIN must be user:password"))?;
    let hash = hash_password(password).map_err(|e| anyhow::anyhow!("{}", e.message))?;
    sqlx::query(
        "INSERT INTO users (username, password_hash, role, courtroom_id, created_at) VALUES (?, ?, 'admin', NULL, ?)",
    )
    .bind(user.trim())
    .bind(hash)
    .bind(crate::db::now())
    .execute(db)
    .await?;
    Ok(Some(user.trim().to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("mật khẩu đúng").expect("hash");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("mật khẩu đúng", &h));
        assert!(!verify_password("mat khau dung", &h));
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn login_limiter_stops_guessing_for_one_name_only() {
        let l = LoginLimiter::new(3);
        let ip: IpAddr = [127, 0, 0, 1].into();
        for _ in 0..3 {
            assert!(l.check(ip, "thuky").is_ok());
        }
        let wait = l
            .check(ip, "thuky")
            .expect_err("fourth attempt within a minute");
        assert!((1..=60).contains(&wait), "{wait}");
        assert!(
            l.check(ip, "chutoa").is_ok(),
            "another user name is not throttled"
        );
    }
}
