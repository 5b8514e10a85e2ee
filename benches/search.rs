//! Search over many hearings (issue 6 target: 1,000 hearings answer in < 200 ms). Builds a case
//! record of `HEARINGS` hearings, each with a transcript of `SEGMENTS` Vietnamese segments, in a
//! real SQLite file through the server's own code (`revisions::insert`, which indexes the latest
//! revision for search), then times `search::search` — the function behind `GET /api/search` —
//! for queries typed without diacritics.
//!
//! Run: `cargo bench --bench search [-- HEARINGS SEGMENTS]` (defaults 1000 and 300).

use std::time::Instant;

use courtscribe_server::{db, revisions, search};
use courtscribe_transcriber::{AudioInfo, ModelInfo, Segment, Transcript, Word};

const SUBJECTS: &[&str] = &[
    "Bị cáo",
    "Chủ tọa phiên tòa",
    "Kiểm sát viên",
    "Luật sư bào chữa",
    "Người làm chứng",
    "Nguyên đơn",
    "Bị đơn",
    "Thư ký phiên tòa",
];
const VERBS: &[&str] = &[
    "trình bày rằng",
    "khai nhận",
    "đề nghị Hội đồng xét xử",
    "xác nhận",
    "không đồng ý với",
    "yêu cầu làm rõ",
    "đã nhận được",
    "giữ nguyên ý kiến về",
];
const OBJECTS: &[&str] = &[
    "hợp đồng vay tài sản",
    "số tiền hai trăm triệu đồng",
    "biên bản giao nhận",
    "lời khai tại cơ quan điều tra",
    "chiếc xe máy bị mất",
    "giấy chứng nhận quyền sử dụng đất",
    "khoản lãi theo thỏa thuận",
    "tình tiết giảm nhẹ",
];
const NAMES: &[&str] = &[
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Văn Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Em",
    "Đặng Thị Giang",
    "Vũ Văn Hải",
    "Bùi Thị Lan",
];

fn transcript(h: usize, n: usize) -> Transcript {
    let mut rng = (h as u64)
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut pick = |list: &[&'static str]| {
        rng = rng
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        list[(rng >> 33) as usize % list.len()]
    };
    let segments = (0..n)
        .map(|i| {
            let text = format!(
                "{} {} {} {}.",
                pick(SUBJECTS),
                pick(NAMES),
                pick(VERBS),
                pick(OBJECTS)
            );
            let start = i as f64 * 6.0;
            let words = text
                .split_whitespace()
                .enumerate()
                .map(|(k, w)| Word {
                    start: start + k as f64 * 0.3,
                    end: start + k as f64 * 0.3 + 0.25,
                    text: format!(" {w}"),
                    probability: 0.9,
                    speaker: None,
                })
                .collect();
            Segment {
                id: i,
                start,
                end: start + 5.5,
                text,
                speaker: None,
                channel: None,
                avg_logprob: -0.2,
                no_speech_prob: 0.01,
                words,
            }
        })
        .collect();
    Transcript {
        audio: AudioInfo {
            path: format!("recordings/h{h}/a.wav"),
            duration: 6.0 * n as f64,
            sample_rate: 16_000,
            channels: 1,
            sha256: String::new(),
            pcm_sha256: None,
        },
        model: ModelInfo {
            name: "base".into(),
            sha256: String::new(),
        },
        language: "vi".into(),
        language_probability: None,
        segments,
        speakers: Vec::new(),
    }
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let hearings = args.first().copied().unwrap_or(1000);
    let segments = args.get(1).copied().unwrap_or(300);
    let dir = tempfile::tempdir()?;
    let pool = db::open(dir.path()).await?;
    db::ensure_default_courtroom(
        &pool,
        "Tòa án nhân dân thành phố Hà Nội",
        "Phòng xử án số 1",
    )
    .await?;
    sqlx::query("INSERT INTO users (username, password_hash, role, created_at) VALUES ('bench', 'x', 'admin', ?)")
        .bind(db::now())
        .execute(&pool)
        .await?;
    let built = Instant::now();
    for h in 1..=hearings {
        sqlx::query("INSERT INTO cases (id, court_id, number, title, kind, created_by, created_at) VALUES (?, 1, ?, 'Vụ án', 'civil', 1, ?)")
            .bind(h as i64)
            .bind(format!("{h}/2026/DS-ST"))
            .bind(db::now())
            .execute(&pool)
            .await?;
        sqlx::query("INSERT INTO hearings (id, case_id, courtroom_id, language, created_by, created_at) VALUES (?, ?, 1, 'vi', 1, ?)")
            .bind(h as i64)
            .bind(h as i64)
            .bind(db::now())
            .execute(&pool)
            .await?;
        let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
        revisions::insert(
            &mut tx,
            h as i64,
            "asr",
            None,
            None,
            "ASR",
            &transcript(h, segments),
        )
        .await?;
        tx.commit().await?;
    }
    eprintln!(
        "built {hearings} hearings × {segments} segments in {:.1} s",
        built.elapsed().as_secs_f64()
    );
    println!("| query | hits (limit 50) | p50 ms | p95 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    for q in [
        "bi cao",
        "hop dong vay tai san",
        "nguyen van an",
        "dang thi giang khai nhan",
        "tinh tiet giam nhe",
        "khong co tu nay",
    ] {
        let mut times = Vec::new();
        let mut hits = 0;
        for _ in 0..50 {
            let t = Instant::now();
            hits = search::search(&pool, q, 50).await?.len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let max = times.iter().copied().fold(0.0, f64::max);
        println!(
            "| `{q}` | {hits} | {:.1} | {:.1} | {max:.1} |",
            percentile(&mut times, 0.5),
            percentile(&mut times, 0.95)
        );
    }
    Ok(())
}
