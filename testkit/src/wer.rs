//! Word error rate with the scoring conventions of `../shared/eval/README.md`: lowercase, NFC,
//! punctuation removed, numbers in one form (spelled-out English numbers become digits, so "120"
//! and "one hundred and twenty" score the same). Shared by the tests and the benchmarks.

use unicode_normalization::UnicodeNormalization;

/// Lowercase NFC words with punctuation removed and English number words turned into digits.
pub fn normalise(text: &str) -> Vec<String> {
    let lower: String = text.nfc().collect::<String>().to_lowercase();
    // Digit grouping ("120,000") is one number; hyphenated words ("twenty-five") split below.
    let chars: Vec<char> = lower.chars().collect();
    let cleaned: String = chars
        .iter()
        .enumerate()
        .filter(|&(i, &c)| {
            !(c == ','
                && i > 0
                && chars[i - 1].is_ascii_digit()
                && chars.get(i + 1).is_some_and(char::is_ascii_digit))
        })
        .map(|(_, &c)| c)
        .collect();
    let words: Vec<String> = cleaned
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').to_string())
        .filter(|w| !w.is_empty())
        .collect();
    numbers_to_digits(&words)
}

fn unit(w: &str) -> Option<u64> {
    const UNITS: [&str; 20] = [
        "zero",
        "one",
        "two",
        "three",
        "four",
        "five",
        "six",
        "seven",
        "eight",
        "nine",
        "ten",
        "eleven",
        "twelve",
        "thirteen",
        "fourteen",
        "fifteen",
        "sixteen",
        "seventeen",
        "eighteen",
        "nineteen",
    ];
    const TENS: [&str; 8] = [
        "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety",
    ];
    UNITS
        .iter()
        .position(|u| *u == w)
        .map(|i| i as u64)
        .or_else(|| {
            TENS.iter()
                .position(|t| *t == w)
                .map(|i| (i as u64 + 2) * 10)
        })
}

/// "fifteenth" → 15 and "15th" → 15: ordinals compare in one form with cardinals.
fn ordinal(w: &str) -> Option<u64> {
    const ORDINALS: [&str; 20] = [
        "zeroth",
        "first",
        "second",
        "third",
        "fourth",
        "fifth",
        "sixth",
        "seventh",
        "eighth",
        "ninth",
        "tenth",
        "eleventh",
        "twelfth",
        "thirteenth",
        "fourteenth",
        "fifteenth",
        "sixteenth",
        "seventeenth",
        "eighteenth",
        "nineteenth",
    ];
    const TENS: [&str; 8] = [
        "twentieth",
        "thirtieth",
        "fortieth",
        "fiftieth",
        "sixtieth",
        "seventieth",
        "eightieth",
        "ninetieth",
    ];
    let digits = ["st", "nd", "rd", "th"]
        .iter()
        .find_map(|suffix| w.strip_suffix(suffix));
    if let Some(n) = digits.and_then(|d| d.parse().ok()) {
        return Some(n);
    }
    ORDINALS
        .iter()
        .position(|o| *o == w)
        .map(|i| i as u64)
        .or_else(|| {
            TENS.iter()
                .position(|t| *t == w)
                .map(|i| (i as u64 + 2) * 10)
        })
}

fn scale(w: &str) -> Option<u64> {
    match w {
        "hundred" => Some(100),
        "thousand" => Some(1_000),
        "million" => Some(1_000_000),
        "billion" => Some(1_000_000_000),
        _ => None,
    }
}

/// Replaces runs of English number words ("one hundred and twenty") with digits ("120").
/// Scale words after digits stay words ("120 million" and "one hundred and twenty million" both
/// become "120 million"), since whisper writes it that way.
fn numbers_to_digits(words: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        if unit(&words[i]).is_none() {
            out.push(ordinal(&words[i]).map_or_else(|| words[i].clone(), |n| n.to_string()));
            i += 1;
            continue;
        }
        let (mut total, mut current) = (0u64, 0u64);
        let mut j = i;
        while j < words.len() {
            let w = words[j].as_str();
            if let Some(u) = unit(w) {
                current += u;
            } else if let Some(o) = ordinal(w).filter(|_| j > i) {
                // "thirty first": the ordinal ends the number.
                current += o;
                j += 1;
                break;
            } else if w == "hundred" {
                current *= 100;
            } else if let Some(s) = scale(w).filter(|&s| s >= 1000) {
                // Keep "million" as a word when nothing follows the number, matching "120 million".
                let more = words.get(j + 1).is_some_and(|n| unit(n).is_some());
                if !more {
                    break;
                }
                total += current * s;
                current = 0;
            } else if w == "and" && j > i && words.get(j + 1).is_some_and(|n| unit(n).is_some()) {
                // "one hundred and twenty"
            } else {
                break;
            }
            j += 1;
        }
        out.push((total + current).to_string());
        i = j;
    }
    out
}

/// Word error rate of `hypothesis` against `reference` after [`normalise`].
pub fn wer(reference: &str, hypothesis: &str) -> f64 {
    let (r, h) = (normalise(reference), normalise(hypothesis));
    if r.is_empty() {
        return if h.is_empty() { 0.0 } else { 1.0 };
    }
    let mut prev: Vec<usize> = (0..=h.len()).collect();
    for (i, rw) in r.iter().enumerate() {
        let mut cur = vec![i + 1; h.len() + 1];
        for (j, hw) in h.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(rw != hw))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[h.len()] as f64 / r.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_punctuation_normalise() {
        assert_eq!(
            normalise("I ask for one hundred and twenty million dong."),
            normalise("I ask for 120 million dong")
        );
        assert_eq!(
            normalise("Twenty-five thousand, three hundred"),
            vec!["25300"]
        );
        assert_eq!(normalise("120,000 dollars"), vec!["120000", "dollars"]);
        assert_eq!(
            normalise("on the fifteenth of June"),
            normalise("on the 15th of June")
        );
        assert_eq!(normalise("the thirty first"), vec!["the", "31"]);
        assert_eq!(
            normalise("Bị cáo, đứng dậy!"),
            vec!["bị", "cáo", "đứng", "dậy"]
        );
    }

    #[test]
    fn wer_counts_edits() {
        assert_eq!(wer("a b c d", "a b c d"), 0.0);
        assert!((wer("a b c d", "a x c") - 0.5).abs() < 1e-9);
    }
}
