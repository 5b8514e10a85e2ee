//! Amounts whisper split in two. Told "one hundred and twenty million dong", whisper `base`
//! sometimes writes "100 and 20 million dong" (the eval hearing, twice in eight hearings of its
//! script; BENCHMARKS.md, stop 18). Minutes state amounts as one number, so such a run of words
//! becomes one word, "120", spanning the three it replaces.
//!
//! Only a run that cannot be two numbers is joined: a whole hundred (100 … 900, or N,N00), "and",
//! a number under 100, then a scale word ("thousand", "million", "billion"). "Exhibits 100 and 20"
//! and "between 300 and 40" are left alone. English only: Vietnamese has no "and" inside numbers.

use crate::transcript::Word;

/// Words that make what comes before them an amount.
const SCALES: [&str; 4] = ["thousand", "million", "billion", "trillion"];

/// `words` with each "N00 and M <scale>" joined into "N+M <scale>".
pub(crate) fn join_split_hundreds(words: Vec<Word>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::with_capacity(words.len());
    let mut rest = words.into_iter().peekable();
    while let Some(word) = rest.next() {
        out.push(word);
        let n = out.len();
        if n < 3 {
            continue;
        }
        let Some(scale) = rest.peek() else { continue };
        if !SCALES.contains(&bare(&scale.text).to_lowercase().as_str()) {
            continue;
        }
        let (hundreds, and, units) = (&out[n - 3], &out[n - 2], &out[n - 1]);
        let (Some(h), Some(u)) = (
            whole_number(&hundreds.text),
            whole_number(units.text.trim()),
        ) else {
            continue;
        };
        if h < 100 || !h.is_multiple_of(100) || !(1..100).contains(&u) || and.text.trim() != "and" {
            continue;
        }
        let leading = &hundreds.text[..hundreds.text.len() - hundreds.text.trim_start().len()];
        let joined = Word {
            start: hundreds.start,
            end: units.end,
            text: format!("{leading}{}", written_like(h + u, &hundreds.text)),
            probability: hundreds
                .probability
                .min(and.probability)
                .min(units.probability),
            speaker: hundreds.speaker.clone(),
        };
        out.truncate(n - 3);
        out.push(joined);
    }
    out
}

/// `n` in digits, with thousands commas when `like` has them.
fn written_like(n: u64, like: &str) -> String {
    let digits = n.to_string();
    if !like.contains(',') {
        return digits;
    }
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The word without surrounding spaces and punctuation.
fn bare(text: &str) -> &str {
    text.trim().trim_matches(|c: char| !c.is_alphanumeric())
}

/// A whole number written in digits, with or without thousands commas ("1,200"); `None` for
/// anything else, including a number followed by punctuation (a sentence or list ends there).
fn whole_number(text: &str) -> Option<u64> {
    let text = text.trim();
    let groups: Vec<&str> = text.split(',').collect();
    let well_grouped = groups.len() == 1
        || (!groups[0].is_empty()
            && groups[0].len() <= 3
            && groups[1..].iter().all(|g| g.len() == 3));
    if !well_grouped || !text.chars().all(|c| c.is_ascii_digit() || c == ',') {
        return None;
    }
    groups.concat().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Word> {
        text.split_inclusive(' ')
            .enumerate()
            .map(|(i, w)| Word {
                start: i as f64,
                end: i as f64 + 0.5,
                text: format!(" {}", w.trim()),
                probability: 0.9 - i as f32 * 0.01,
                speaker: None,
            })
            .collect()
    }

    fn text(words: &[Word]) -> String {
        words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<String>()
            .trim()
            .to_string()
    }

    #[test]
    fn a_split_amount_becomes_one_number_spanning_its_words() {
        let joined = join_split_hundreds(words("repay me 100 and 20 million dong"));
        assert_eq!(text(&joined), "repay me 120 million dong");
        let amount = &joined[2];
        assert_eq!((amount.start, amount.end), (2.0, 4.5));
        assert!(
            (amount.probability - 0.86).abs() < 1e-6,
            "the least sure of the three"
        );
        assert_eq!(
            text(&join_split_hundreds(words("pay 1,300 and 5 thousand."))),
            "pay 1,305 thousand."
        );
        assert_eq!(
            text(&join_split_hundreds(words("borrowed 900 and 99 Million,"))),
            "borrowed 999 Million,"
        );
    }

    #[test]
    fn two_numbers_stay_two() {
        for said in [
            "exhibits 100 and 20 were filed",
            "between 300 and 40",
            "100 and 20",
            "120 and 5 million",
            "100 and 100 million",
            "100 and 0 million",
            "100, and 20 million",
            "100 and 20, million",
            "100 or 20 million",
            "1,30 and 5 million",
        ] {
            assert_eq!(text(&join_split_hundreds(words(said))), said);
        }
    }
}
