//! The database: one SQLite file under the data folder, opened in WAL mode with full fsync (a
//! committed revision survives a power cut), foreign keys on, schema from `migrations/`.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::SqlitePool;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

pub const FILE_NAME: &str = "courtscribe.db";

/// Opens (creating if needed) and migrates the database in `data`.
pub async fn open(data: &Path) -> anyhow::Result<SqlitePool> {
    std::fs::create_dir_all(data)
        .map_err(|e| anyhow::anyhow!("cannot create data folder {}: {e}", data.display()))?;
    let path = data.join(FILE_NAME);
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open database {}: {e}", path.display()))?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(|e| anyhow::anyhow!("cannot migrate database {}: {e}", path.display()))?;
    Ok(pool)
}

/// Now, RFC 3339 UTC with second precision.
pub fn now() -> String {
    let t = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Now in unix seconds.
pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// The court and courtroom every request falls back to; created on first start.
pub async fn ensure_default_courtroom(
    db: &SqlitePool,
    court: &str,
    courtroom: &str,
) -> sqlx::Result<(i64, i64)> {
    sqlx::query("INSERT OR IGNORE INTO courts (id, name) VALUES (1, ?)")
        .bind(court)
        .execute(db)
        .await?;
    sqlx::query("INSERT OR IGNORE INTO courtrooms (id, court_id, name) VALUES (1, 1, ?)")
        .bind(courtroom)
        .execute(db)
        .await?;
    Ok((1, 1))
}
