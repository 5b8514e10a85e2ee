//! The minutes as a Word document in the customary layout of a "BIÊN BẢN PHIÊN TÒA": court and
//! national motto, title, case, time and place, the panel and participants, the hearing's
//! developments in order with times and speakers, markers, amendments, and the signature blocks of
//! the clerk and the presiding judge. Written with docx-rs.

use std::io::Cursor;

use courtscribe_transcriber::Transcript;
use docx_rs::{AlignmentType, Docx, Paragraph, Run};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Vietnamese names of the role codes used in room profiles and participant lists.
pub fn role_label(code: &str) -> Option<&'static str> {
    Some(match code {
        "CHU_TOA" => "Chủ tọa phiên tòa",
        "HOI_THAM" => "Hội thẩm nhân dân",
        "THAM_PHAN" => "Thẩm phán",
        "THU_KY" => "Thư ký phiên tòa",
        "KIEM_SAT_VIEN" => "Kiểm sát viên",
        "BI_CAO" => "Bị cáo",
        "NGUYEN_DON" => "Nguyên đơn",
        "BI_DON" => "Bị đơn",
        "LUAT_SU" => "Luật sư",
        "NHAN_CHUNG" => "Người làm chứng",
        "NGUOI_BI_HAI" => "Người bị hại",
        "PHIEN_DICH" => "Người phiên dịch",
        _ => return None,
    })
}

/// Everything the document shows.
#[derive(Debug)]
pub struct Minutes {
    court: String,
    courtroom: String,
    case_number: String,
    case_title: String,
    when: String,
    participants: Vec<(String, String)>,
    transcript: Transcript,
    markers: Vec<(f64, String)>,
    amendments: Vec<(String, String, String)>,
    approvals: Vec<(String, String, String)>,
}

impl Minutes {
    /// Gathers the hearing's record around `transcript`; `amendments` are (author, time, text).
    pub async fn load(
        state: &AppState,
        hearing: i64,
        transcript: Transcript,
        amendments: Vec<(String, String, String)>,
    ) -> ApiResult<Minutes> {
        let (court, courtroom, case_number, case_title, scheduled, created, participants): (
            String,
            String,
            String,
            String,
            Option<String>,
            String,
            String,
        ) = sqlx::query_as(
            "SELECT co.name, r.name, c.number, c.title, h.scheduled_at, h.created_at, h.participants
             FROM hearings h JOIN cases c ON c.id = h.case_id JOIN courtrooms r ON r.id = h.courtroom_id
             JOIN courts co ON co.id = r.court_id WHERE h.id = ?",
        )
        .bind(hearing)
        .fetch_optional(&state.db)
        .await?
        .ok_or_else(|| ApiError::not_found("hearing", hearing))?;
        let participants: Vec<serde_json::Value> =
            serde_json::from_str(&participants).unwrap_or_default();
        let participants = participants
            .iter()
            .map(|p| {
                let role = p["role"].as_str().unwrap_or_default();
                (
                    role_label(role).unwrap_or(role).to_string(),
                    p["name"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect();
        let markers = crate::markers::list(&state.db, hearing)
            .await?
            .into_iter()
            .map(|m| (m.offset, m.text))
            .collect();
        let approvals: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT u.username, a.role, a.created_at FROM approvals a JOIN users u ON u.id = a.user_id
             WHERE a.hearing_id = ? ORDER BY a.id",
        )
        .bind(hearing)
        .fetch_all(&state.db)
        .await?;
        Ok(Minutes {
            court,
            courtroom,
            case_number,
            case_title,
            when: scheduled.unwrap_or(created),
            participants,
            transcript,
            markers,
            amendments,
            approvals,
        })
    }

    fn speaker_name(&self, id: &str) -> String {
        let info = self.transcript.speakers.iter().find(|s| s.id == id);
        info.and_then(|s| s.label.clone())
            .or_else(|| {
                info.and_then(|s| s.role.as_deref())
                    .and_then(role_label)
                    .map(str::to_string)
            })
            .or_else(|| role_label(id).map(str::to_string))
            .unwrap_or_else(|| id.replace("SPEAKER_", "Người nói "))
    }

    /// The .docx bytes.
    pub fn render(&self) -> Result<Vec<u8>, String> {
        let text = |t: &str| Run::new().add_text(t).size(26);
        let bold = |t: &str| Run::new().add_text(t).size(26).bold();
        let centred = |r: Run| Paragraph::new().add_run(r).align(AlignmentType::Center);
        let mut doc = Docx::new()
            .add_paragraph(Paragraph::new().add_run(bold(&self.court.to_uppercase())))
            .add_paragraph(centred(bold("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")))
            .add_paragraph(centred(
                bold("Độc lập - Tự do - Hạnh phúc").underline("single"),
            ))
            .add_paragraph(Paragraph::new())
            .add_paragraph(centred(
                Run::new().add_text("BIÊN BẢN PHIÊN TÒA").size(32).bold(),
            ))
            .add_paragraph(centred(text(&format!(
                "Vụ án số {}: {}",
                self.case_number, self.case_title
            ))))
            .add_paragraph(Paragraph::new().add_run(text(&format!("Thời gian: {}", self.when))))
            .add_paragraph(Paragraph::new().add_run(text(&format!(
                "Địa điểm: {}, {}",
                self.courtroom, self.court
            ))));
        if !self.participants.is_empty() {
            doc = doc.add_paragraph(Paragraph::new().add_run(bold(
                "Thành phần Hội đồng xét xử và những người tiến hành, tham gia tố tụng:",
            )));
            for (role, name) in &self.participants {
                doc =
                    doc.add_paragraph(Paragraph::new().add_run(text(&format!("- {role}: {name}"))));
            }
        }
        doc = doc.add_paragraph(Paragraph::new().add_run(bold("DIỄN BIẾN PHIÊN TÒA")));
        let mut markers = self.markers.iter().peekable();
        for seg in &self.transcript.segments {
            while let Some((at, m)) = markers.next_if(|(at, _)| *at <= seg.start) {
                doc = doc.add_paragraph(
                    Paragraph::new().add_run(text(&format!("[{}] — {m} —", clock(*at))).italic()),
                );
            }
            let who = seg.speaker.as_deref().map(|s| self.speaker_name(s));
            let mut p = Paragraph::new().add_run(text(&format!("[{}] ", clock(seg.start))));
            if let Some(who) = who {
                p = p.add_run(bold(&format!("{who}: ")));
            }
            doc = doc.add_paragraph(p.add_run(text(seg.text.trim())));
        }
        for (at, m) in markers {
            doc = doc.add_paragraph(
                Paragraph::new().add_run(text(&format!("[{}] — {m} —", clock(*at))).italic()),
            );
        }
        if !self.amendments.is_empty() {
            doc = doc.add_paragraph(Paragraph::new().add_run(bold("SỬA ĐỔI, BỔ SUNG BIÊN BẢN")));
            for (author, at, t) in &self.amendments {
                doc = doc.add_paragraph(
                    Paragraph::new().add_run(text(&format!("{at} — {author}: {t}"))),
                );
            }
        }
        doc = doc.add_paragraph(Paragraph::new());
        for (title, role) in [
            ("THƯ KÝ PHIÊN TÒA", "secretary"),
            ("CHỦ TỌA PHIÊN TÒA", "judge"),
        ] {
            doc = doc.add_paragraph(centred(bold(title)));
            let signed = self.approvals.iter().find(|(_, r, _)| r == role);
            let line = match signed {
                Some((user, _, at)) => format!("(đã phê duyệt: {user}, {at})"),
                None => "(chưa ký)".to_string(),
            };
            doc = doc.add_paragraph(centred(text(&line).italic()));
        }
        let mut out = Cursor::new(Vec::new());
        doc.build().pack(&mut out).map_err(|e| e.to_string())?;
        Ok(out.into_inner())
    }
}

/// `hh:mm:ss`.
fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
