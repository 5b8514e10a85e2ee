//! The minutes as a document in the customary layout of a "BIÊN BẢN PHIÊN TÒA": court and
//! national motto (Quốc hiệu và tiêu ngữ), title, case, time and place, the panel and
//! participants, the hearing's developments in order with times and speakers, markers,
//! amendments with their co-signatures, and the signature blocks of the clerk and the presiding
//! judge.
//!
//! The layout is written once: [`Minutes::blocks`] turns the hearing's record into a neutral list
//! of [`Block`]s, and the two renderers only walk it — [`docx`] (docx-rs) and [`pdf`] (krilla,
//! with DejaVu Serif embedded and subset, so the server needs no system font).

pub mod docx;
pub mod pdf;

use courtscribe_transcriber::Transcript;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::minutes::Amendment;

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

/// The capacity in which a user (by server role) signs the minutes.
pub fn signer_label(role: &str) -> &'static str {
    match role {
        "judge" => "Chủ tọa phiên tòa",
        _ => "Thư ký phiên tòa",
    }
}

/// A piece of text in one style.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    pub text: String,
    pub bold: bool,
    pub italic: bool,
    pub underline: bool,
}

impl Run {
    fn plain(text: impl Into<String>) -> Run {
        Run {
            text: text.into(),
            bold: false,
            italic: false,
            underline: false,
        }
    }
    fn bold(text: impl Into<String>) -> Run {
        Run {
            bold: true,
            ..Run::plain(text)
        }
    }
    fn italic(text: impl Into<String>) -> Run {
        Run {
            italic: true,
            ..Run::plain(text)
        }
    }
}

/// One block of the document, top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph, wrapped to the page width.
    Paragraph { runs: Vec<Run>, centred: bool },
    /// The document's title, centred and larger.
    Title(String),
    /// A section heading (bold; kept with the lines after it).
    Heading(String),
    /// An empty line.
    Space,
    /// Signature blocks side by side: (capacity, the line under it).
    Signatures(Vec<(String, String)>),
}

fn para(runs: Vec<Run>) -> Block {
    Block::Paragraph {
        runs,
        centred: false,
    }
}

fn centred(runs: Vec<Run>) -> Block {
    Block::Paragraph {
        runs,
        centred: true,
    }
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
    amendments: Vec<Amendment>,
    approvals: Vec<(String, String, String)>,
}

impl Minutes {
    /// Gathers the hearing's record around `transcript` and its `amendments`.
    pub async fn load(
        state: &AppState,
        hearing: i64,
        transcript: Transcript,
        amendments: Vec<Amendment>,
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

    /// The document's title, for the file's metadata.
    pub fn title(&self) -> String {
        format!("Biên bản phiên tòa — vụ án số {}", self.case_number)
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

    /// The document, top to bottom.
    pub fn blocks(&self) -> Vec<Block> {
        let mut doc = vec![
            para(vec![Run::bold(self.court.to_uppercase())]),
            centred(vec![Run::bold("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")]),
            centred(vec![Run {
                underline: true,
                ..Run::bold("Độc lập - Tự do - Hạnh phúc")
            }]),
            Block::Space,
            Block::Title("BIÊN BẢN PHIÊN TÒA".into()),
            centred(vec![Run::plain(format!(
                "Vụ án số {}: {}",
                self.case_number, self.case_title
            ))]),
            para(vec![Run::plain(format!(
                "Thời gian: {}",
                vn_time(&self.when)
            ))]),
            para(vec![Run::plain(format!(
                "Địa điểm: {}, {}",
                self.courtroom, self.court
            ))]),
        ];
        if !self.participants.is_empty() {
            doc.push(Block::Heading(
                "Thành phần Hội đồng xét xử và những người tiến hành, tham gia tố tụng:".into(),
            ));
            for (role, name) in &self.participants {
                doc.push(para(vec![Run::plain(format!("- {role}: {name}"))]));
            }
        }
        doc.push(Block::Heading("DIỄN BIẾN PHIÊN TÒA".into()));
        let marker = |at: f64, m: &str| para(vec![Run::italic(format!("[{}] — {m} —", clock(at)))]);
        let mut markers = self.markers.iter().peekable();
        for seg in &self.transcript.segments {
            while let Some((at, m)) = markers.next_if(|(at, _)| *at <= seg.start) {
                doc.push(marker(*at, m));
            }
            let mut runs = vec![Run::plain(format!("[{}] ", clock(seg.start)))];
            if let Some(who) = seg.speaker.as_deref() {
                runs.push(Run::bold(format!("{}: ", self.speaker_name(who))));
            }
            runs.push(Run::plain(seg.text.trim()));
            doc.push(para(runs));
        }
        for (at, m) in markers {
            doc.push(marker(*at, m));
        }
        if !self.amendments.is_empty() {
            doc.push(Block::Heading("SỬA ĐỔI, BỔ SUNG BIÊN BẢN".into()));
            for (k, a) in self.amendments.iter().enumerate() {
                doc.push(para(vec![
                    Run::bold(format!(
                        "Đính chính {}, {} — {} ({}): ",
                        k + 1,
                        vn_time(&a.created_at),
                        a.author,
                        signer_label(&a.author_role)
                    )),
                    Run::plain(a.text.as_str()),
                ]));
                let signed = match &a.signature {
                    Some(s) => format!(
                        "(đã ký xác nhận bởi {} {}, {})",
                        signer_label(&s.role),
                        s.username,
                        vn_time(&s.created_at)
                    ),
                    None => "(chưa ký xác nhận)".to_string(),
                };
                doc.push(para(vec![Run::italic(signed)]));
            }
        }
        doc.push(Block::Space);
        doc.push(Block::Signatures(
            [
                ("THƯ KÝ PHIÊN TÒA", "secretary"),
                ("CHỦ TỌA PHIÊN TÒA", "judge"),
            ]
            .into_iter()
            .map(|(title, role)| {
                let signed = self.approvals.iter().find(|(_, r, _)| r == role);
                let line = match signed {
                    Some((user, _, at)) => format!("(đã phê duyệt: {user}, {})", vn_time(at)),
                    None => "(chưa ký)".to_string(),
                };
                (title.to_string(), line)
            })
            .collect(),
        ));
        doc
    }
}

/// A stored UTC time (RFC 3339) as Vietnamese documents write it, in Vietnam's time (UTC+7 all
/// year): `20 giờ 18 phút, ngày 26/11/2026`. Anything unparsable is shown as stored.
fn vn_time(stored: &str) -> String {
    use time::format_description::well_known::Rfc3339;
    let Ok(t) = time::OffsetDateTime::parse(stored, &Rfc3339) else {
        return stored.to_string();
    };
    let t = t.to_offset(time::UtcOffset::from_hms(7, 0, 0).unwrap_or(time::UtcOffset::UTC));
    format!(
        "{:02} giờ {:02} phút, ngày {:02}/{:02}/{}",
        t.hour(),
        t.minute(),
        t.day(),
        u8::from(t.month()),
        t.year()
    )
}

/// `hh:mm:ss`.
fn clock(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

#[cfg(test)]
mod tests {
    use super::vn_time;

    #[test]
    fn times_are_written_in_vietnam_time_the_vietnamese_way() {
        assert_eq!(
            vn_time("2026-11-26T13:18:03Z"),
            "20 giờ 18 phút, ngày 26/11/2026"
        );
        // Past midnight in Vietnam is the next day.
        assert_eq!(
            vn_time("2026-12-31T17:05:00Z"),
            "00 giờ 05 phút, ngày 01/01/2027"
        );
        assert_eq!(vn_time("not a time"), "not a time");
    }
}
