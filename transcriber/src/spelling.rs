//! One spelling in the minutes, whichever form whisper happened to write.
//!
//! **English.** whisper writes American and British forms in the same
//! transcript, even in the same hearing: "Your Honour" in one turn, "Your Honor" in the next,
//! "defense" beside "neighbour" (measured on 16 English hearings: "honour" 13 times, "honor" 8).
//! Minutes take one house style. The default is British, the style of Vietnam's official English
//! (the "Labour Code", "defence counsel", "offence" in the translated procedure codes);
//! `American` gives the other.
//!
//! Only the spelling of a word changes, never the word: the table pairs spellings of the same
//! word and leaves out every spelling that is also a different word in the other style ("check"
//! and "cheque", "program" and "programme", "meter" and "metre", "license" as a verb, "Gray"
//! as a surname). Written by hand: no maintained crate carries such a table.
//!
//! **Vietnamese.** A syllable ending in oa, oe or uy takes its tone mark on the first vowel in
//! the traditional placement ("Tòa án", "hòa giải", "khỏe", "thủy") and on the second in the
//! newer one ("Toà án", "hoà giải", "khoẻ", "thuỷ"). Web text mixes the two, and so does whisper,
//! which learnt from it; so do keyboards (Unikey has a switch for it). The court writes the
//! traditional one — "Tòa án nhân dân tối cao" is its name — and the minutes take it
//! throughout. The letters and the tone stay; only where the mark sits changes.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use unicode_normalization::UnicodeNormalization as _;

use crate::english;
use crate::transcript::Word;

/// How one transcript's text is written: English in `english`'s spelling, Vietnamese with the
/// traditional tone placement, any other language as it is; and the words of the case
/// vocabulary exactly as given, whatever the style says — a party's name is spelt as the case
/// file spells it ("Nguyễn Thị Thuỷ" stays "Thuỷ" when the participants list has it so).
#[derive(Debug, Clone)]
pub struct HouseStyle {
    language: String,
    english: Spelling,
    kept: HashSet<String>,
}

impl HouseStyle {
    pub fn new(language: &str, english: Spelling, vocabulary: Option<&str>) -> Self {
        let mut kept = HashSet::new();
        map_words(
            &vocabulary.unwrap_or_default().nfc().collect::<String>(),
            |w| {
                kept.insert(w.to_string());
                None
            },
        );
        Self {
            language: language.to_string(),
            english,
            kept,
        }
    }

    /// `text` in this style.
    /// A segment's words in the house style: each word restyled, and in English an amount
    /// whisper split in two ("100 and 20 million") joined into one word, an "of" that whisper
    /// heard as "on" put back where only "of" is English ("the 15th on June", "the crime on
    /// theft"), "40 million don" written "40 million dong", "while the panel delivers." written
    /// "deliberates", "the plaintiff misses Lan" written "the plaintiff Mrs. Lan", "you're
    /// Honour" written "your Honour", "the defence council" written "counsel", "Mr. Vinh his
    /// present" written "is present", "court room" written "courtroom" ([`english`]). Words of the
    /// case vocabulary are kept from every mend that replaces a word.
    pub fn apply_words(&self, words: Vec<Word>) -> Vec<Word> {
        let words = words
            .into_iter()
            .map(|word| Word {
                text: self.apply(&word.text),
                ..word
            })
            .collect();
        match self.language.as_str() {
            "en" => {
                let mut words = english::join_split_hundreds(words);
                for mend in [
                    english::of_heard_as_on,
                    english::dong_after_amount,
                    english::mrs_before_name,
                    english::your_honour,
                    english::misheard_after,
                    english::is_present,
                ] {
                    words = self.shielded(words, mend);
                }
                english::join_compounds(english::panel_deliberates(words))
            }
            _ => words,
        }
    }

    /// `mend(words)`, except that a word of the case vocabulary stays as whisper wrote it: a
    /// party named Tong keeps his name after "80 million". For mends that replace words one for
    /// one.
    fn shielded(&self, words: Vec<Word>, mend: fn(Vec<Word>) -> Vec<Word>) -> Vec<Word> {
        if self.kept.is_empty() {
            return mend(words);
        }
        let heard: Vec<String> = words.iter().map(|w| w.text.clone()).collect();
        let mut mended = mend(words);
        debug_assert_eq!(mended.len(), heard.len(), "a mend that joins words");
        for (word, heard) in mended.iter_mut().zip(heard) {
            let letters = heard.trim().trim_matches(|c: char| !c.is_alphabetic());
            if word.text != heard && self.kept.contains(letters) {
                word.text = heard;
            }
        }
        mended
    }

    pub fn apply(&self, text: &str) -> String {
        // Composed first: a combining mark is not a letter, and would split the word.
        let text: String = text.nfc().collect();
        let kept = |w: &str| self.kept.contains(w);
        match self.language.as_str() {
            "en" => map_words(&text, |w| {
                (self.english.respell(w).or_else(|| english::court_term(w))).filter(|_| !kept(w))
            }),
            "vi" => map_words(&text, |w| traditional_tone_mark(w).filter(|_| !kept(w))),
            _ => text,
        }
    }
}

/// `text` with each run of letters replaced where `respell` returns a new form.
fn map_words(text: &str, mut respell: impl FnMut(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(text.len() + 4);
    let mut word = String::new();
    let mut flush = |word: &mut String, out: &mut String| {
        match respell(word) {
            Some(respelt) => out.push_str(&respelt),
            None => out.push_str(word),
        }
        word.clear();
    };
    for c in text.chars() {
        if c.is_alphabetic() {
            word.push(c);
        } else {
            flush(&mut word, &mut out);
            out.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The five Vietnamese tone marks as combining characters: huyền, sắc, hỏi, ngã, nặng.
const TONE_MARKS: [char; 5] = ['\u{300}', '\u{301}', '\u{309}', '\u{303}', '\u{323}'];

/// A letter split into its base (with any circumflex, breve or horn) and its tone mark.
fn split_tone(c: char) -> (char, Option<char>) {
    let mut tone = None;
    let base: String = std::iter::once(c)
        .nfd()
        .filter(|m| {
            let is_tone = TONE_MARKS.contains(m);
            if is_tone {
                tone = Some(*m);
            }
            !is_tone
        })
        .nfc()
        .collect();
    (base.chars().next().unwrap_or(c), tone)
}

/// A syllable ending in oa, oe or uy (after anything but q: in "quý" the u belongs to the
/// consonant) with its tone mark moved from the last vowel to the one before; `None` when
/// nothing moves. A final consonant ("hoàn", "thuyết") or a marked vowel ("thuế") keeps the mark
/// where both placements put it.
fn traditional_tone_mark(word: &str) -> Option<String> {
    let mut chars: Vec<char> = word.chars().collect();
    let n = chars.len();
    if n < 2 {
        return None;
    }
    let before = n.checked_sub(3).map(|i| chars[i]);
    (chars[n - 2], chars[n - 1]) = moved_tone(before, chars[n - 2], chars[n - 1])?;
    Some(chars.into_iter().collect())
}

/// The last two letters with the tone moved to the first, when the pair is oa, oe or uy.
fn moved_tone(before: Option<char>, first: char, last: char) -> Option<(char, char)> {
    let ((first_base, None), (last_base, Some(tone))) = (split_tone(first), split_tone(last))
    else {
        return None;
    };
    let lower = |c: char| c.to_lowercase().next().unwrap_or(c);
    let pair = (lower(first_base), lower(last_base));
    let after_q = before.is_some_and(|c| lower(c) == 'q');
    let moves = match pair {
        ('o', 'a' | 'e') => true,
        ('u', 'y') => !after_q,
        _ => false,
    };
    if !moves {
        return None;
    }
    let marked = format!("{first_base}{tone}").nfc().next()?;
    Some((marked, last_base))
}

/// The house style of English text. Read from settings as "british" or "american" (or "en-GB",
/// "en-US").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(try_from = "String")]
pub enum Spelling {
    /// honour, defence, recognise, travelled, centre, instalment.
    #[default]
    British,
    /// honor, defense, recognize, traveled, center, installment.
    American,
}

impl std::str::FromStr for Spelling {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_lowercase().as_str() {
            "british" | "en-gb" => Ok(Self::British),
            "american" | "en-us" => Ok(Self::American),
            other => Err(format!(
                "unknown spelling `{other}` (use british or american)"
            )),
        }
    }
}

impl TryFrom<String> for Spelling {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl Spelling {
    /// `text` with every listed word in this style; case, punctuation and all other words kept.
    pub fn apply(self, text: &str) -> String {
        map_words(text, |word| self.respell(word))
    }

    /// `word` in this style, when that differs from how it is written.
    fn respell(self, word: &str) -> Option<String> {
        let table = match self {
            Self::British => &TABLES.to_british,
            Self::American => &TABLES.to_american,
        };
        table
            .get(word.to_lowercase().as_str())
            .map(|respelt| same_case(word, respelt))
    }
}

/// `respelt` (lower case) in the case of `original`: "HONOR" → "HONOUR", "Honor" → "Honour".
pub(crate) fn same_case(original: &str, respelt: &str) -> String {
    let mut chars = original.chars();
    let first_upper = chars.next().is_some_and(char::is_uppercase);
    if first_upper && original.chars().count() > 1 && original.chars().all(char::is_uppercase) {
        respelt.to_uppercase()
    } else if first_upper {
        let mut r = respelt.chars();
        r.next()
            .map(|f| f.to_uppercase().chain(r).collect())
            .unwrap_or_default()
    } else {
        respelt.to_string()
    }
}

struct Tables {
    to_british: HashMap<String, String>,
    to_american: HashMap<String, String>,
}

static TABLES: LazyLock<Tables> = LazyLock::new(|| {
    let mut to_british = HashMap::new();
    let mut to_american = HashMap::new();
    for (british, american) in pairs() {
        to_american.insert(british.clone(), american.clone());
        to_british.insert(american, british);
    }
    Tables {
        to_british,
        to_american,
    }
});

/// Stems spelt -our in British, -or in American. Left out: "humor" ("humoral" is a medical
/// word in both), "rigor" ("rigor mortis" in both), "arbor" (Ann Arbor), "glamour" (both), and
/// the -ous forms ("rigorous", "humorous"), which have no u in either.
const OUR_STEMS: &[&str] = &[
    "ardo", "armo", "behavio", "cando", "clamo", "colo", "endeavo", "favo", "flavo", "harbo",
    "hono", "labo", "neighbo", "odo", "parlo", "ranco", "rumo", "savo", "splendo", "tumo", "valo",
    "vapo", "vigo",
];
const OUR_ENDINGS: &[&str] = &[
    "", "s", "ed", "ing", "able", "ably", "al", "ally", "er", "ers", "ite", "ites", "ful", "less",
    "hood", "hoods", "ly",
];

/// Stems of verbs spelt -ise in British, -ize in American. Only stems whose -ise form is not
/// another word; verbs that are -ise in both ("supervise", "advise", "exercise") need no entry.
const ISE_STEMS: &[&str] = &[
    "agon",
    "antagon",
    "apolog",
    "author",
    "bapt",
    "capital",
    "categor",
    "central",
    "character",
    "civil",
    "computer",
    "critic",
    "crystall",
    "digit",
    "emphas",
    "energ",
    "equal",
    "familiar",
    "fantas",
    "final",
    "formal",
    "general",
    "global",
    "harmon",
    "hospital",
    "hypothes",
    "ideal",
    "immun",
    "industrial",
    "internal",
    "item",
    "jeopard",
    "legal",
    "legitim",
    "liberal",
    "local",
    "marginal",
    "material",
    "maxim",
    "memor",
    "mesmer",
    "minim",
    "mobil",
    "modern",
    "monopol",
    "moral",
    "national",
    "natural",
    "neutral",
    "normal",
    "optim",
    "organ",
    "patron",
    "penal",
    "personal",
    "plagiar",
    "polar",
    "popular",
    "priorit",
    "privat",
    "public",
    "radical",
    "random",
    "rational",
    "real",
    "recogn",
    "regular",
    "revolution",
    "sanit",
    "scrutin",
    "sensit",
    "serial",
    "social",
    "special",
    "stabil",
    "standard",
    "steril",
    "subsid",
    "summar",
    "symbol",
    "sympath",
    "synchron",
    "terror",
    "trivial",
    "util",
    "vandal",
    "victim",
    "visual",
    "vocal",
];
const ISE_ENDINGS: &[(&str, &str)] = &[
    ("ise", "ize"),
    ("ises", "izes"),
    ("ised", "ized"),
    ("ising", "izing"),
    ("isation", "ization"),
    ("isations", "izations"),
    ("iser", "izer"),
    ("isers", "izers"),
];

/// -yse (British) and -yze (American).
const YSE_STEMS: &[&str] = &["anal", "catal", "dial", "electrol", "paral"];
const YSE_ENDINGS: &[(&str, &str)] = &[
    ("yse", "yze"),
    ("yses", "yzes"),
    ("ysed", "yzed"),
    ("ysing", "yzing"),
    ("yser", "yzer"),
    ("ysers", "yzers"),
];

/// -re (British) and -er (American). Left out: "metre", which is also "meter", the instrument.
const RE_STEMS: &[&str] = &[
    "calib", "cent", "centimet", "fib", "kilomet", "lit", "lust", "meag", "millimet", "mit", "sab",
    "scept", "somb", "spect", "theat",
];
const RE_ENDINGS: &[(&str, &str)] = &[
    ("re", "er"),
    ("res", "ers"),
    ("red", "ered"),
    ("ring", "ering"),
];

/// Verbs ending in one l that British doubles before an ending and American does not:
/// "travelled", "counsellor", "initialled", "libelled".
const LL_STEMS: &[&str] = &[
    "barrel", "bevel", "cancel", "channel", "chisel", "counsel", "dial", "duel", "enamel", "equal",
    "fuel", "funnel", "gravel", "grovel", "initial", "jewel", "label", "level", "libel", "marvel",
    "model", "panel", "parcel", "pedal", "pencil", "quarrel", "refuel", "remodel", "revel",
    "rival", "shovel", "signal", "snorkel", "spiral", "total", "travel", "tunnel", "yodel",
];
const LL_ENDINGS: &[&str] = &["ed", "ing", "er", "ers", "or", "ors"];

/// Single words: (British, American).
const WORDS: &[(&str, &str)] = &[
    ("ageing", "aging"),
    ("aluminium", "aluminum"),
    ("anaemia", "anemia"),
    ("anaesthetic", "anesthetic"),
    ("anaesthetics", "anesthetics"),
    ("analogue", "analog"),
    ("artefact", "artifact"),
    ("artefacts", "artifacts"),
    ("catalogue", "catalog"),
    ("catalogues", "catalogs"),
    ("cosy", "cozy"),
    ("defence", "defense"),
    ("defences", "defenses"),
    ("defenceless", "defenseless"),
    ("dialogue", "dialog"),
    ("dialogues", "dialogs"),
    ("diarrhoea", "diarrhea"),
    ("distil", "distill"),
    ("distils", "distills"),
    ("encyclopaedia", "encyclopedia"),
    ("enrol", "enroll"),
    ("enrols", "enrolls"),
    ("enrolment", "enrollment"),
    ("enrolments", "enrollments"),
    ("foetus", "fetus"),
    ("fulfil", "fulfill"),
    ("fulfils", "fulfills"),
    ("fulfilment", "fulfillment"),
    ("haemorrhage", "hemorrhage"),
    ("instil", "instill"),
    ("instils", "instills"),
    ("instalment", "installment"),
    ("instalments", "installments"),
    ("jewellery", "jewelry"),
    ("leukaemia", "leukemia"),
    ("manoeuvre", "maneuver"),
    ("manoeuvres", "maneuvers"),
    ("manoeuvred", "maneuvered"),
    ("manoeuvring", "maneuvering"),
    ("marvellous", "marvelous"),
    ("mould", "mold"),
    ("moulds", "molds"),
    ("mouldy", "moldy"),
    ("moustache", "mustache"),
    ("oestrogen", "estrogen"),
    ("offence", "offense"),
    ("offences", "offenses"),
    ("orthopaedic", "orthopedic"),
    ("paediatric", "pediatric"),
    ("paediatrician", "pediatrician"),
    ("plough", "plow"),
    ("pretence", "pretense"),
    ("pyjamas", "pajamas"),
    ("sceptic", "skeptic"),
    ("sceptical", "skeptical"),
    ("skilful", "skillful"),
    ("skilfully", "skillfully"),
    ("smoulder", "smolder"),
    ("sulphur", "sulfur"),
    ("wilful", "willful"),
    ("wilfully", "willfully"),
];

/// Every (British, American) pair, in lower case.
fn pairs() -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = WORDS
        .iter()
        .map(|(b, a)| (b.to_string(), a.to_string()))
        .collect();
    for stem in OUR_STEMS {
        for ending in OUR_ENDINGS {
            pairs.push((format!("{stem}ur{ending}"), format!("{stem}r{ending}")));
        }
    }
    let with_endings = |stems: &[&str], endings: &[(&str, &str)], pairs: &mut Vec<_>| {
        for stem in stems {
            for (british, american) in endings {
                pairs.push((format!("{stem}{british}"), format!("{stem}{american}")));
            }
        }
    };
    with_endings(ISE_STEMS, ISE_ENDINGS, &mut pairs);
    with_endings(YSE_STEMS, YSE_ENDINGS, &mut pairs);
    with_endings(RE_STEMS, RE_ENDINGS, &mut pairs);
    for stem in LL_STEMS {
        for ending in LL_ENDINGS {
            pairs.push((format!("{stem}l{ending}"), format!("{stem}{ending}")));
        }
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::english::tests::words;
    use crate::transcript::text_of;

    #[test]
    fn a_segments_words_take_the_style_and_english_is_mended() {
        let joined =
            |style: &HouseStyle, text: &str| -> String { text_of(&style.apply_words(words(text))) };
        let english = HouseStyle::new("en", Spelling::British, None);
        assert_eq!(
            joined(
                &english,
                "you're Honor, 100 and 20 million dong by the 15th on June, court room of the Procurecy"
            ),
            "your Honour, 120 million dong by the 15th of June, courtroom of the Procuracy"
        );
        let named = HouseStyle::new("en", Spelling::British, Some("Tong Van Hai, Don"));
        assert_eq!(
            joined(&named, "owes 80 million Tong and 5 million don to Tong"),
            "owes 80 million Tong and 5 million dong to Tong",
            "the case vocabulary's words are kept, as they are spelt there"
        );
        assert_eq!(
            joined(&english, "owes 80 million Tong and 5 million don"),
            "owes 80 million dong and 5 million dong"
        );
        let vietnamese = HouseStyle::new("vi", Spelling::British, None);
        assert_eq!(
            joined(
                &vietnamese,
                "Toà 100 and 20 million 15th on June court room procurecy"
            ),
            "Tòa 100 and 20 million 15th on June court room procurecy"
        );
    }

    #[test]
    fn american_forms_become_british_in_the_case_they_were_written() {
        let text = "Your Honor, the defense recognizes that the LABOR contract was canceled.";
        assert_eq!(
            Spelling::British.apply(text),
            "Your Honour, the defence recognises that the LABOUR contract was cancelled."
        );
    }

    #[test]
    fn british_forms_become_american() {
        let text = "The counsellor's offence: instalments unpaid, neighbour's centre vandalised.";
        assert_eq!(
            Spelling::American.apply(text),
            "The counselor's offense: installments unpaid, neighbor's center vandalized."
        );
    }

    #[test]
    fn each_style_leaves_its_own_spelling_alone() {
        for text in [
            "Your Honour, the defence has no further questions.",
            "The witness travelled to the centre.",
        ] {
            assert_eq!(Spelling::British.apply(text), text);
        }
        let american = "Your Honor, the defense has no further questions.";
        assert_eq!(Spelling::American.apply(american), american);
    }

    #[test]
    fn words_that_only_look_like_a_pair_are_untouched() {
        // Each of these is a word in both styles, or a different word in the other one.
        let text = "Check the meter, the size, the program and the supervisor: a humorous, \
                    rigorous Mr Gray will license the vigorous prize.";
        assert_eq!(Spelling::British.apply(text), text);
        assert_eq!(Spelling::American.apply(text), text);
    }

    #[test]
    fn vietnamese_text_and_words_with_diacritics_pass_through() {
        let text = "Bị cáo Nguyễn Văn An, labor: lao động.";
        assert_eq!(
            Spelling::British.apply(text),
            "Bị cáo Nguyễn Văn An, labour: lao động."
        );
    }

    #[test]
    fn no_british_spelling_is_also_an_american_one() {
        // A word in both columns would flip back and forth between the styles.
        let pairs = pairs();
        let american: HashSet<&str> = pairs.iter().map(|(_, a)| a.as_str()).collect();
        for (british, _) in &pairs {
            assert!(!american.contains(british.as_str()), "{british}");
        }
    }

    #[test]
    fn vietnamese_tone_marks_sit_where_the_court_writes_them() {
        let style = |t: &str| HouseStyle::new("vi", Spelling::British, None).apply(t);
        assert_eq!(
            style("TOÀ ÁN nhân dân: Toà án hoà giải; bị đơn khoẻ, thuỷ, uỷ ban, loè, tuỳ, xoá."),
            "TÒA ÁN nhân dân: Tòa án hòa giải; bị đơn khỏe, thủy, ủy ban, lòe, tùy, xóa."
        );
        // Already traditional, or the same in both placements: a final consonant (hoàn, thuyết,
        // Quỳnh), a marked vowel (thuế, thuở), three vowels (ngoài, khuỷu, xoáy), qu (quý, quà).
        let same = "Tòa án hòa giải hoàn thuyết Quỳnh thuế thuở ngoài khuỷu xoáy quý quà khuya.";
        assert_eq!(style(same), same);
    }

    #[test]
    fn each_language_gets_its_own_house_style_and_no_other() {
        let style = |language| HouseStyle::new(language, Spelling::British, None);
        assert_eq!(style("vi").apply("Toà, Honor"), "Tòa, Honor");
        assert_eq!(style("en").apply("Toà, Honor"), "Toà, Honour");
        assert_eq!(style("fr").apply("Toà, Honor"), "Toà, Honor");
    }

    #[test]
    fn case_vocabulary_is_written_as_given() {
        let vi = HouseStyle::new("vi", Spelling::British, Some("Nguyễn Thị Thuỷ, Lê Văn Hoà"));
        assert_eq!(
            vi.apply("Bà Nguyễn Thị Thuỷ, ông Lê Văn Hoà: hoà giải, thuỷ sản."),
            "Bà Nguyễn Thị Thuỷ, ông Lê Văn Hoà: hòa giải, thủy sản."
        );
        let en = HouseStyle::new("en", Spelling::British, Some("Pearl Harbor Traders"));
        assert_eq!(
            en.apply("Pearl Harbor Traders, Your Honor, harbor the goods."),
            "Pearl Harbor Traders, Your Honour, harbour the goods."
        );
    }

    #[test]
    fn styles_are_parsed_by_name() {
        assert_eq!("British".parse(), Ok(Spelling::British));
        assert_eq!("en-US".parse(), Ok(Spelling::American));
        assert!("canadian".parse::<Spelling>().is_err());
    }
}
