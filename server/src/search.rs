//! Search across hearings that understands Vietnamese: text is folded (NFC → NFD, combining marks
//! dropped, đ → d, lower case) before it is indexed and before it is searched, so "bi cao" finds
//! "bị cáo" and "Đơn" finds "don". SQLite FTS5 holds one row per segment of each hearing's latest
//! revision, with the segment's start so a result can jump to that moment in the audio.

use serde::Serialize;
use sqlx::{Sqlite, SqlitePool, Transaction};
use unicode_normalization::UnicodeNormalization as _;
use unicode_normalization::char::is_combining_mark;

use courtscribe_transcriber::Transcript;

/// `text` without diacritics, in lower case.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .map(|c| match c {
            'đ' | 'Đ' => 'd',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect()
}

/// Replaces the index rows of `hearing` with the segments of `transcript`.
pub async fn reindex(
    tx: &mut Transaction<'_, Sqlite>,
    hearing: i64,
    transcript: &Transcript,
) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM search WHERE hearing_id = ?")
        .bind(hearing)
        .execute(&mut **tx)
        .await?;
    for s in &transcript.segments {
        sqlx::query("INSERT INTO search (folded, text, hearing_id, start) VALUES (?, ?, ?, ?)")
            .bind(fold(&s.text))
            .bind(s.text.trim())
            .bind(hearing)
            .bind(s.start)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// One place where the words were said.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Hit {
    pub hearing_id: i64,
    pub case_id: i64,
    pub case_number: String,
    pub case_title: String,
    /// Seconds from the start of the hearing's audio.
    pub start: f64,
    /// The segment, with its diacritics.
    pub text: String,
}

/// Segments containing `query` as a phrase (diacritics and case ignored), best first.
pub async fn search(db: &SqlitePool, query: &str, limit: i64) -> sqlx::Result<Vec<Hit>> {
    let folded = fold(query);
    let words: Vec<&str> = folded
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    // A phrase query of plain words: nothing the user types is read as FTS5 syntax.
    let phrase = format!("\"{}\"", words.join(" "));
    let rows: Vec<(i64, i64, String, String, f64, String)> = sqlx::query_as(
        "SELECT s.hearing_id, c.id, c.number, c.title, s.start, s.text
         FROM search s JOIN hearings h ON h.id = s.hearing_id JOIN cases c ON c.id = h.case_id
         WHERE search MATCH ? ORDER BY rank LIMIT ?",
    )
    .bind(phrase)
    .bind(limit)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(hearing_id, case_id, case_number, case_title, start, text)| Hit {
                hearing_id,
                case_id,
                case_number,
                case_title,
                start,
                text,
            },
        )
        .collect())
}

#[cfg(test)]
mod tests {
    use super::fold;

    #[test]
    fn folding_drops_vietnamese_diacritics() {
        assert_eq!(fold("Bị cáo ĐÃ khai"), "bi cao da khai");
        assert_eq!(fold("Nguyễn Văn Đức"), "nguyen van duc");
        // Decomposed input folds like composed input.
        let nfd: String = unicode_normalization::UnicodeNormalization::nfd("phiên tòa").collect();
        assert_eq!(fold(&nfd), fold("phiên tòa"));
    }
}
