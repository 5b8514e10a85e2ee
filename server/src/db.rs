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
    let pool = open_unmigrated(data).await?;
    sqlx::migrate!("./migrations")
        .run(&pool)
        .await
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot migrate database {}: {e}",
                data.join(FILE_NAME).display()
            )
        })?;
    Ok(pool)
}

/// The database in `data` as it is on disk, with our connection settings.
async fn open_unmigrated(data: &Path) -> anyhow::Result<SqlitePool> {
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// A database created by a build that had only the first `n` migrations.
    async fn migrated_up_to(data: &Path, n: usize) {
        let all = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let early = data.join("early-migrations");
        std::fs::create_dir_all(&early).expect("a folder for the early migrations");
        let mut files: Vec<_> = std::fs::read_dir(&all)
            .expect("the migrations folder")
            .map(|e| e.expect("a migration file").path())
            .collect();
        files.sort();
        for file in &files[..n] {
            let name = file.file_name().expect("a file name");
            std::fs::copy(file, early.join(name)).expect("a copied migration");
        }
        let pool = super::open_unmigrated(data).await.expect("a database");
        sqlx::migrate::Migrator::new(early.as_path())
            .await
            .expect("the early migrations")
            .run(&pool)
            .await
            .expect("the early migrations applied");
        pool.close().await;
    }

    /// Migration 0004 records the capacity each existing amendment was written in, from its
    /// author's role: a record kept before co-signatures existed must not change meaning.
    #[tokio::test]
    async fn migration_0004_gives_existing_amendments_their_authors_role() {
        let dir = tempfile::tempdir().expect("a temporary folder");
        migrated_up_to(dir.path(), 3).await;
        let pool = super::open_unmigrated(dir.path())
            .await
            .expect("the old database");
        for statement in [
            "INSERT INTO courts (id, name) VALUES (1, 'TAND TP Hà Nội')",
            "INSERT INTO courtrooms (id, court_id, name) VALUES (1, 1, 'Phòng 1')",
            "INSERT INTO users (id, username, password_hash, role, created_at) VALUES \
             (1, 'chu_toa', 'x', 'judge', 'now'), (2, 'thu_ky', 'x', 'secretary', 'now'), \
             (3, 'quan_tri', 'x', 'admin', 'now')",
            "INSERT INTO cases (id, court_id, number, title, kind, created_by, created_at) \
             VALUES (1, 1, '12/2026/DS-ST', 'Tranh chấp hợp đồng vay', 'civil', 2, 'now')",
            "INSERT INTO hearings (id, case_id, courtroom_id, language, created_by, created_at) \
             VALUES (1, 1, 1, 'vi', 2, 'now')",
            "INSERT INTO amendments (id, hearing_id, text, author_id, created_at) VALUES \
             (1, 1, 'Sửa tên bị đơn', 1, 'now'), (2, 1, 'Bổ sung lời khai', 2, 'now'), \
             (3, 1, 'Ghi chú của quản trị', 3, 'now')",
        ] {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect("a row of the old schema");
        }
        pool.close().await;

        let pool = super::open(dir.path())
            .await
            .expect("the database migrated");
        let roles: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, author_role FROM amendments ORDER BY id")
                .fetch_all(&pool)
                .await
                .expect("the amendments");
        // An author who is neither judge nor clerk gets the column's default.
        assert_eq!(
            roles,
            [
                (1, "judge".to_string()),
                (2, "secretary".to_string()),
                (3, "secretary".to_string())
            ]
        );
        let signatures: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM amendment_signatures")
            .fetch_one(&pool)
            .await
            .expect("the signatures");
        assert_eq!(signatures, 0, "no amendment is signed by a migration");
    }
}
