//! RTTM, the NIST "who spoke when" text format every diarization scorer reads: one line per turn,
//! `SPEAKER <file> 1 <start> <duration> <NA> <NA> <speaker> <NA> <NA>`, times in seconds.

use crate::{Error, Turn};

/// Renders turns as RTTM lines for the recording called `file_id` (spaces are replaced, RTTM
/// fields are whitespace-separated).
pub fn to_rttm(file_id: &str, turns: &[Turn]) -> String {
    let id = sanitize(file_id);
    let mut out = String::new();
    for t in turns {
        out.push_str(&format!(
            "SPEAKER {id} 1 {:.3} {:.3} <NA> <NA> {} <NA> <NA>\n",
            t.start,
            (t.end - t.start).max(0.0),
            sanitize(&t.speaker)
        ));
    }
    out
}

/// Reads the `SPEAKER` lines of an RTTM document (other line types are skipped).
pub fn parse_rttm(text: &str) -> Result<Vec<Turn>, Error> {
    let mut turns = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.first() != Some(&"SPEAKER") {
            continue;
        }
        let bad = || {
            Error::Rttm(format!(
                "line {}: expected `SPEAKER file chan start dur <NA> <NA> name …`",
                n + 1
            ))
        };
        if f.len() < 8 {
            return Err(bad());
        }
        let start: f64 = f[3].parse().map_err(|_| bad())?;
        let dur: f64 = f[4].parse().map_err(|_| bad())?;
        if !start.is_finite() || !dur.is_finite() || dur < 0.0 {
            return Err(bad());
        }
        turns.push(Turn {
            start,
            end: start + dur,
            speaker: f[7].to_string(),
            channel: None,
        });
    }
    Ok(turns)
}

fn sanitize(s: &str) -> String {
    let t: String = s
        .chars()
        .map(|c| if c.is_whitespace() { '_' } else { c })
        .collect();
    if t.is_empty() { "unknown".into() } else { t }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let turns = vec![Turn {
            start: 1.0,
            end: 2.5,
            speaker: "CHU TOA".into(),
            channel: Some(1),
        }];
        let text = to_rttm("a b", &turns);
        assert_eq!(
            text,
            "SPEAKER a_b 1 1.000 1.500 <NA> <NA> CHU_TOA <NA> <NA>\n"
        );
        let back = parse_rttm(&text).expect("parses");
        assert_eq!(back[0].speaker, "CHU_TOA");
        assert!((back[0].end - 2.5).abs() < 1e-9);
    }

    #[test]
    fn malformed_line_is_an_error() {
        assert!(matches!(
            parse_rttm("SPEAKER x 1 abc 1 <NA> <NA> s"),
            Err(Error::Rttm(_))
        ));
    }
}
