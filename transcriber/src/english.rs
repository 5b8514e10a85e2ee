//! English that whisper writes in a way no speaker means, mended where only one reading is
//! possible: amounts split in two, "of" heard as "on", the currency, "misses" for "Mrs",
//! "you're Honour", a word no one says in its phrase, the roll call's "is present", court words
//! split or misspelt.
//!
//! **Amounts split in two.** Told "one hundred and twenty million dong", whisper `base`
//! sometimes writes "100 and 20 million dong" (the eval hearing, twice in eight hearings of its
//! script; BENCHMARKS.md, stop 18). Minutes state amounts as one number, so such a run of words
//! becomes one word, "120", spanning the three it replaces.
//!
//! Only a run that cannot be two numbers is joined: a whole hundred (100 … 900, or N,N00), "and",
//! a number under 100, then a scale word ("thousand", "million", "billion"). "Exhibits 100 and 20"
//! and "between 300 and 40" are left alone. English only: Vietnamese has no "and" inside numbers.
//!
//! **"The 15th on June", "the crime on theft".** whisper `base` hears "of" as "on": 34 times in
//! the sixteen English hearings, more than any other wrong word but the parties' names, and at
//! every decoding setting measured (greedy, beam 3, with and without timestamps). Where English
//! allows only "of" it is put back:
//! - after an ordinal and before a month ("the 15th on June"), unless a day follows the month
//!   ("came fourth on August 3");
//! - between a noun and what can only be its "of" phrase ([`OF_PHRASES`]): a sentence on a
//!   length ("a sentence on 18 months"), a night on a date, a crime on an offence, theft on
//!   property, the minutes on a hearing, custody on a child, a date on a pronouncement, a
//!   shop or a petition on a named person, the agreement or the trial on the parties, months
//!   on imprisonment, the floor on a room, copies on documents. Each pair is one where "on" has
//!   no meaning ("impose obligations on the parties" has one, so "obligations" is not in the
//!   table); the table is short on purpose, and an "on" outside it is kept.
//!
//! **"40 million don".** Amounts in a Vietnamese court are in dong; whisper writes the word
//! "don" (13 times in the sixteen hearings, every time after "million"). After a number or a
//! scale word "don" is no English, so it is written "dong". whisper also writes "on" ("3 million
//! on per month", "40 million on. I have a receipt": 4 times in the sixteen hearings, 4 in two
//! hearings written afterwards to check the mends); after a scale word, an "on" with no object
//! (a stop, or a preposition or conjunction next) can only be the currency. And it writes a
//! weight ("80 million tonne.", "40 million ton?", "Tong": 8 times in the sixteen hearings);
//! after a number of millions or billions with no "of" after it ("2 million tonnes of rice"),
//! that too is the currency.
//!
//! **"While the panel delivers."** A hearing is adjourned "while the panel deliberates" (the
//! trial panel's *nghị án*); whisper `base` wrote "delivers" 6 times in the sixteen hearings.
//! "The panel delivers" ending a sentence has no object to deliver, so there it is
//! "deliberates"; "the panel delivers its judgment" is kept. So are "the panel has delivered."
//! and "the panel will now retire to deliver it." or "deliver 8." (5 times in the sixteen
//! hearings, 4 in two written afterwards): a bench that delivers nothing, or "it" or a
//! number at the end of the clause, deliberates.
//!
//! **"The plaintiff misses Tran Thi Mai".** The clerk names each party by role and title;
//! whisper `base` writes "Mrs" as "misses" (9 times in the sixteen hearings). Between a role
//! ("the plaintiff", "the witness") and a capitalised word, "misses" is the title; "the plaintiff
//! misses her son" is kept.
//!
//! **"You're Honour".** A party answering the bench ("Yes, Your Honour") is written "Yes, you're
//! honour" (5 times in the sixteen hearings). Before "Honour" or "Honours" only "Your" is English.
//!
//! **A word no one says there.** After its word, a court phrase has only one reading: "the first
//! instance queering" is a hearing, "the defence council" is counsel, "in instalment over six
//! months" is instalments, and "interest and not the principle" is the principal (4, 3, 4 and 4
//! times in 24 English hearings of stop 22). The clerk's roll call "Mr. Ho Quang Vinh his
//! present," is "is present" ("his" for "is" 10 times; "preempt" 3 times and the non-word
//! "prenant" 3 times for "present"); "he gave her his present." is kept, for "present" is "is
//! present" only after a role or a title in the segment.
//!
//! **Court words.** "Courtroom" and "courthouse" are one word; whisper writes "court room" (5
//! times). The court's own terms that whisper `base` misspells into words that do not exist
//! ("procurecy" for "procuracy", "procureator" for "procurator": Vietnam's People's Procuracy
//! takes part in hearings) are written correctly, and so is the surname of four in ten
//! Vietnamese, which whisper writes "Nuyen" (8 times in the sixteen hearings); a table of
//! non-words only, so no real word is ever replaced, and a word of the case vocabulary is
//! always written as given.

use crate::spelling::same_case;
use crate::transcript::{CLAUSE_ENDS, Word, ends_clause};

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
        let amount = written_like(h + u, &hundreds.text);
        let joined = one_word(&out[n - 3..], &amount);
        out.truncate(n - 3);
        out.push(joined);
    }
    out
}

/// `words` as one word written `text` (after the first word's leading space): from the first's
/// start to the last's end, as sure as the least sure of them.
fn one_word(words: &[Word], text: &str) -> Word {
    let first = &words[0];
    Word {
        start: first.start,
        end: words[words.len() - 1].end,
        text: format!("{}{text}", leading_space(&first.text)),
        probability: words
            .iter()
            .map(|w| w.probability)
            .fold(f32::INFINITY, f32::min),
        speaker: first.speaker.clone(),
    }
}

/// The spaces a word's text starts with (whisper writes a word with the space before it).
fn leading_space(text: &str) -> &str {
    &text[..text.len() - text.trim_start().len()]
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

/// `words` with "you're" written "your" before "Honour(s)" or "Honor(s)", in the case it had.
pub(crate) fn your_honour(mut words: Vec<Word>) -> Vec<Word> {
    for i in 0..words.len().saturating_sub(1) {
        let addressed = ["honour", "honours", "honor", "honors"]
            .contains(&bare(&words[i + 1].text).to_lowercase().as_str());
        let heard = words[i].text.trim().replace('\u{2019}', "'");
        if addressed && heard.eq_ignore_ascii_case("you're") {
            write_as(&mut words[i], "your");
        }
    }
    words
}

/// A court phrase whisper writes with a word no one would say there.
struct Misheard {
    /// The word before it.
    after: &'static str,
    heard: &'static str,
    meant: &'static str,
    /// Whether the phrase must end there: a clause end or one of [`PHRASE_ENDS`] next.
    ends_phrase: bool,
    /// A word that must be said within [`NEAR`] words of it: what tells the two readings apart.
    near: Option<&'static str>,
}

/// How far (in words) [`Misheard::near`] is looked for either side.
const NEAR: usize = 8;

const MISHEARD_AFTER: [Misheard; 6] = [
    Misheard::after("instance", "queering", "hearing"),
    Misheard::after("defence", "council", "counsel"),
    Misheard::after("defense", "council", "counsel"),
    Misheard::after("in", "instalment", "instalments").ending_there(),
    Misheard::after("in", "installment", "installments").ending_there(),
    // A loan's principal, not a principle.
    Misheard::after("the", "principle", "principal")
        .ending_there()
        .near("interest"),
];

impl Misheard {
    const fn after(after: &'static str, heard: &'static str, meant: &'static str) -> Self {
        Self {
            after,
            heard,
            meant,
            ends_phrase: false,
            near: None,
        }
    }

    const fn ending_there(self) -> Self {
        Self {
            ends_phrase: true,
            ..self
        }
    }

    const fn near(self, word: &'static str) -> Self {
        Self {
            near: Some(word),
            ..self
        }
    }

    /// Whether `words[i]` is this phrase's word, as it can only be meant.
    fn fits(&self, words: &[Word], i: usize) -> bool {
        let before = &words[i - 1].text;
        let phrase_ends = || {
            ends_clause(&words[i].text)
                || words.get(i + 1).is_none_or(|next| {
                    PHRASE_ENDS.contains(&next.text.trim().to_lowercase().as_str())
                })
        };
        let said_near = |near: &str| {
            words[i.saturating_sub(NEAR)..words.len().min(i + NEAR + 1)]
                .iter()
                .any(|w| bare(&w.text).eq_ignore_ascii_case(near))
        };
        bare(&words[i].text).eq_ignore_ascii_case(self.heard)
            && plain(before)
            && bare(before).eq_ignore_ascii_case(self.after)
            && (!self.ends_phrase || phrase_ends())
            && self.near.is_none_or(said_near)
    }
}

/// `words` with each word of [`MISHEARD_AFTER`] written as meant after its word: "the first
/// instance queering" → "hearing", "the defence council is present" → "counsel", "in
/// instalment over six months" → "in instalments" ("in instalment payments" is kept), "interest
/// and not the principle." → "principal" (only where "interest" is said near it).
pub(crate) fn misheard_after(mut words: Vec<Word>) -> Vec<Word> {
    for i in 1..words.len() {
        if let Some(m) = MISHEARD_AFTER.iter().find(|m| m.fits(&words, i)) {
            write_as(&mut words[i], m.meant);
        }
    }
    words
}

/// `word` written `meant`, in the case it had, with its spaces and punctuation.
fn write_as(word: &mut Word, meant: &str) {
    let written = bare(&word.text).to_owned();
    word.text = word.text.replacen(&written, &same_case(&written, meant), 1);
}

/// Words that cannot follow a noun phrase's head inside it: after "in instalment" or "the
/// principle", one of them means the phrase ended there. Not "of", "to" or "that", which may
/// go on with it ("the principle of", "the principle that").
const PHRASE_ENDS: [&str; 8] = ["over", "for", "within", "from", "by", "and", "or", "until"];

/// `words` as the clerk reports who is in the courtroom: "preempt" or "prenant" after "is",
/// "are" or "his" at a clause's end is "present", and "his" before "present" or "absent" at a
/// clause's end is "is" ("Mr. Ho Quang Vinh his present,"). "Absent" is no noun, so "his
/// absent." is always "is absent."; "his present." can be a gift, so it is "is present" only
/// where a role or a title names someone earlier in the segment ("the defendant … his
/// present").
pub(crate) fn is_present(mut words: Vec<Word>) -> Vec<Word> {
    let lower = |w: &Word| bare(&w.text).to_lowercase();
    for i in 1..words.len() {
        let state = lower(&words[i]);
        let at_end = ends_clause(&words[i].text) || i + 1 == words.len();
        let before = lower(&words[i - 1]);
        let heard_for_present = ["preempt", "prenant"].contains(&state.as_str());
        if heard_for_present && at_end && ["is", "are", "his"].contains(&before.as_str()) {
            write_as(&mut words[i], "present");
        }
        let state = lower(&words[i]);
        let named = || {
            words[..i - 1].iter().any(|w| {
                let w = lower(w);
                ROLES.contains(&w.as_str()) || TITLES.contains(&w.as_str())
            })
        };
        let reported = state == "absent" || (state == "present" && named());
        if before == "his" && plain(&words[i - 1].text) && at_end && reported {
            write_as(&mut words[i - 1], "is");
        }
    }
    words
}

/// Words that cannot begin what "on" is about: after "3 million on", one of them means the "on"
/// has no object.
const NOT_AN_OBJECT: [&str; 16] = [
    "per", "for", "if", "in", "into", "within", "together", "from", "before", "and", "but", "or",
    "so", "because", "until", "unless",
];

/// What whisper writes for "dong" after "million" or "billion" that is a unit of weight in
/// English: kept when "of" follows ("2 million tonnes of rice").
const DONG_AS_WEIGHT: [&str; 5] = ["ton", "tons", "tonne", "tonnes", "tong"];

/// `words` with "don" after an amount ("40 million don", "500 don"), "on" with no object after
/// a scale word ("3 million on per month", "40 million on."), and a weight with no "of" after
/// a number of millions or billions ("80 million tonne.") written "dong", the currency.
pub(crate) fn dong_after_amount(mut words: Vec<Word>) -> Vec<Word> {
    for i in 1..words.len() {
        // A comma or a stop after the amount ends it.
        let before = words[i - 1].text.trim().to_lowercase();
        let after_scale = SCALES.contains(&before.as_str());
        let counted = |word: &Word| {
            let word = word.text.trim();
            whole_number(word).is_some() || NUMBER_WORDS.contains(&word.to_lowercase().as_str())
        };
        let after_amount = after_scale || counted(&words[i - 1]);
        let after_money_scale =
            ["million", "billion"].contains(&before.as_str()) && i >= 2 && counted(&words[i - 2]);
        let heard = bare(&words[i].text).to_owned();
        let without_object = || {
            ends_clause(&words[i].text)
                || words.get(i + 1).is_some_and(|next| {
                    NOT_AN_OBJECT.contains(&next.text.trim().to_lowercase().as_str())
                })
        };
        let of_follows = || {
            !ends_clause(&words[i].text)
                && words
                    .get(i + 1)
                    .is_some_and(|next| next.text.trim().eq_ignore_ascii_case("of"))
        };
        let lower = heard.to_lowercase();
        let currency = (after_amount && lower == "don")
            || (after_scale && lower == "on" && without_object())
            || (after_money_scale && DONG_AS_WEIGHT.contains(&lower.as_str()) && !of_follows());
        if currency {
            words[i].text = words[i].text.replacen(&heard, "dong", 1);
        }
    }
    words
}

/// The roles a clerk names people by: after one of them, "misses" and a name is the title.
const ROLES: [&str; 16] = [
    "plaintiff",
    "defendant",
    "petitioner",
    "respondent",
    "witness",
    "victim",
    "applicant",
    "appellant",
    "claimant",
    "complainant",
    "accused",
    "interpreter",
    "counsel",
    "lawyer",
    "representative",
    "expert",
];

/// `words` with "the plaintiff misses Tran Thi Mai" written "the plaintiff Mrs. Tran Thi Mai":
/// "misses" between a role ([`ROLES`]) and a capitalised word. "The plaintiff misses her son"
/// and "the defendant misses the deadline" are kept.
pub(crate) fn mrs_before_name(mut words: Vec<Word>) -> Vec<Word> {
    for i in 1..words.len().saturating_sub(1) {
        let role = &words[i - 1].text;
        let name = bare(&words[i + 1].text);
        if words[i].text.trim().eq_ignore_ascii_case("misses")
            && plain(role)
            && ROLES.contains(&bare(role).to_lowercase().as_str())
            && name.chars().next().is_some_and(char::is_uppercase)
            && name != "I"
        {
            write_as(&mut words[i], "Mrs.");
        }
    }
    words
}

/// Who deliberates in a courtroom.
const BENCHES: [&str; 5] = ["panel", "court", "jury", "council", "bench"];

/// Words that may stand between a bench and what it does: "the panel will now retire to
/// deliberate", "the court has deliberated".
const AUXILIARIES: [&str; 10] = [
    "will", "shall", "now", "has", "have", "then", "retire", "retires", "to", "must",
];

/// What whisper writes for a bench's "deliberate": (heard, meant).
const DELIBERATES: [(&str, &str); 3] = [
    ("delivers", "deliberates"),
    ("delivered", "deliberated"),
    ("deliver", "deliberate"),
];

/// `words` with a bench ([`BENCHES`], after "the") that delivers nothing written as
/// deliberating: "the panel delivers." → "deliberates.", "the panel has delivered." →
/// "deliberated.", and "the panel will now retire to deliver it." or "deliver 8." →
/// "deliberate." (one word spanning the two). Only [`AUXILIARIES`] may come between the bench
/// and the verb, and the verb or its "it" must end a clause.
pub(crate) fn panel_deliberates(words: Vec<Word>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::with_capacity(words.len());
    let mut rest = words.into_iter();
    while let Some(mut word) = rest.next() {
        let heard = bare(&word.text).to_owned();
        let meant = DELIBERATES
            .iter()
            .find(|(verb, _)| heard == *verb)
            .map(|&(_, meant)| meant);
        if let Some(meant) = meant.filter(|_| after_bench(&out)) {
            let ahead = rest.as_slice();
            // The word `k` places ahead ends a clause, or the segment.
            let ends = |k: usize| k + 1 >= ahead.len() || ends_clause(&ahead[k].text);
            // "deliver it." or "deliver 8" with nothing after it that the 8 could count.
            let delivers_nothing = heard == "deliver"
                && ahead.first().is_some_and(|next| match bare(&next.text) {
                    "it" => ends(0),
                    "8" | "eight" => {
                        ends(0)
                            || ahead.get(1).is_some_and(|after| {
                                NOT_AN_OBJECT.contains(&after.text.trim().to_lowercase().as_str())
                            })
                    }
                    _ => false,
                });
            let verb_ends = ends_clause(&word.text) || ahead.is_empty();
            let object = if delivers_nothing { rest.next() } else { None };
            if let Some(object) = object {
                let text = format!("{meant}{}", trailing(&object.text));
                word = one_word(&[word, object], &text);
            } else if verb_ends {
                write_as(&mut word, meant);
            }
        }
        out.push(word);
    }
    out
}

/// Whether `before` ends with "the" and a bench (one word may come between: "the trial
/// panel"), then only [`AUXILIARIES`].
fn after_bench(before: &[Word]) -> bool {
    let plain = |w: &Word| plain(&w.text);
    let between = before
        .iter()
        .rev()
        .take_while(|w| plain(w) && AUXILIARIES.contains(&bare(&w.text).to_lowercase().as_str()))
        .count();
    let Some(bench_at) = before.len().checked_sub(between + 1) else {
        return false;
    };
    let bench = &before[bench_at];
    let the = |at: usize| plain(&before[at]) && bare(&before[at].text).eq_ignore_ascii_case("the");
    // "the panel", or with one word before it: "the trial panel".
    plain(bench)
        && BENCHES.contains(&bare(&bench.text).to_lowercase().as_str())
        && (bench_at.checked_sub(1).is_some_and(the)
            || bench_at
                .checked_sub(2)
                .is_some_and(|at| plain(&before[at + 1]) && the(at)))
}

/// Whether a word's text is the word alone, with no punctuation around it.
fn plain(text: &str) -> bool {
    text.trim() == bare(text)
}

/// The punctuation after a word's letters and digits ("." of "it.").
fn trailing(text: &str) -> &str {
    let text = text.trim_end();
    &text[text.trim_end_matches(|c: char| !c.is_alphanumeric()).len()..]
}

/// Compounds whisper writes as two words: (first, second) → the one word.
const COMPOUNDS: [(&str, &str, &str); 4] = [
    ("court", "room", "courtroom"),
    ("court", "rooms", "courtrooms"),
    ("court", "house", "courthouse"),
    ("court", "houses", "courthouses"),
];

/// `words` with "court room" written "courtroom" (and the other [`COMPOUNDS`]): one word
/// spanning both, in the case of the first, with the punctuation of the second.
pub(crate) fn join_compounds(words: Vec<Word>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::with_capacity(words.len());
    for word in words {
        let compound = out.last().and_then(|first: &Word| {
            let (a, b) = (first.text.trim(), bare(&word.text));
            COMPOUNDS
                .iter()
                .find(|(x, y, _)| a.eq_ignore_ascii_case(x) && b.eq_ignore_ascii_case(y))
                .map(|(_, _, joined)| *joined)
        });
        match (compound, out.pop()) {
            (Some(joined), Some(first)) => {
                let text = format!(
                    "{}{}",
                    same_case(first.text.trim(), joined),
                    trailing(&word.text)
                );
                out.push(one_word(&[first, word], &text));
            }
            (_, first) => out.extend(first.into_iter().chain([word])),
        }
    }
    out
}

/// Court terms and names whisper `base` misspells into non-words: (written, meant).
const MISSPELT_TERMS: [(&str, &str); 5] = [
    ("procurecy", "procuracy"),
    ("procureator", "procurator"),
    ("procureators", "procurators"),
    ("procurecies", "procuracies"),
    ("nuyen", "nguyen"),
];

/// The court term `word` misspells, in `word`'s case; `None` for any other word.
pub(crate) fn court_term(word: &str) -> Option<String> {
    let lower = word.to_lowercase();
    MISSPELT_TERMS
        .iter()
        .find(|(written, _)| *written == lower)
        .map(|(_, meant)| same_case(word, meant))
}

/// Ordinals written as words, as whisper writes a date's day when it does not use digits.
const ORDINAL_WORDS: [&str; 31] = [
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
    "twentieth",
    "twenty-first",
    "twenty-second",
    "twenty-third",
    "twenty-fourth",
    "twenty-fifth",
    "twenty-sixth",
    "twenty-seventh",
    "twenty-eighth",
    "twenty-ninth",
    "thirtieth",
    "thirty-first",
];

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// What must follow "on" for it to be a misheard "of" after one of an [`OfPhrase`]'s nouns.
enum Then {
    /// One of these words.
    Word(&'static [&'static str]),
    /// One of the first words, then one of the second ("the" + "hearing").
    Words(&'static [&'static str], &'static [&'static str]),
    /// A number or a range ("9 to 12"), then one of these units ("18 months").
    Quantity(&'static [&'static str]),
    /// "the" and an ordinal ("the 4th").
    Day,
}

/// Nouns whose "on" is a misheard "of" when what follows is [`Then`].
struct OfPhrase {
    nouns: &'static [&'static str],
    then: Then,
}

const TITLES: &[&str] = &["mr", "mrs", "ms", "miss", "mister"];
const PARTIES: &[&str] = &[
    "parties",
    "litigants",
    "plaintiff",
    "plaintiffs",
    "defendant",
    "defendants",
    "accused",
    "petitioner",
    "respondent",
];
const CHILDREN: &[&str] = &[
    "son",
    "sons",
    "daughter",
    "daughters",
    "child",
    "children",
    "kids",
    "boy",
    "girl",
];
const OWNERS: &[&str] = &["our", "my", "his", "her", "their", "your", "the"];
const ROOMS: &[&str] = &[
    "kitchen",
    "bathroom",
    "bedroom",
    "room",
    "house",
    "flat",
    "apartment",
    "shop",
    "hall",
    "garage",
    "basement",
    "warehouse",
    "office",
];
const DOCUMENTS: &[&str] = &[
    "letter",
    "letters",
    "contract",
    "contracts",
    "receipt",
    "receipts",
    "documents",
    "invoice",
    "invoices",
    "will",
    "minutes",
    "messages",
    "statements",
    "agreement",
];

/// Where "on" can only be "of" (see the module's notes).
const OF_PHRASES: &[OfPhrase] = &[
    OfPhrase {
        nouns: &[
            "sentence", "term", "period", "total", "sum", "amount", "fine", "penalty",
        ],
        then: Then::Quantity(&[
            "months", "years", "days", "weeks", "hours", "million", "billion", "thousand", "dong",
        ]),
    },
    OfPhrase {
        nouns: &["night", "morning", "afternoon", "evening", "day"],
        then: Then::Day,
    },
    OfPhrase {
        nouns: &[
            "crime", "crimes", "offence", "offences", "offense", "offenses", "charge", "charges",
        ],
        then: Then::Word(&[
            "theft",
            "fraud",
            "murder",
            "robbery",
            "embezzlement",
            "embezzling",
            "assault",
            "swindling",
            "misappropriation",
            "appropriating",
            "bribery",
            "smuggling",
            "trafficking",
            "stealing",
            "causing",
            "intentionally",
            "deliberately",
            "illegally",
            "disturbing",
            "abusing",
            "destroying",
            "damaging",
        ]),
    },
    OfPhrase {
        nouns: &[
            "theft",
            "misappropriation",
            "appropriation",
            "embezzlement",
            "division",
            "partition",
            "destruction",
            "seizure",
            "confiscation",
        ],
        then: Then::Word(&["property", "assets"]),
    },
    OfPhrase {
        nouns: &["minutes"],
        then: Then::Words(
            &["the", "this", "today's"],
            &["hearing", "meeting", "session", "trial", "proceedings"],
        ),
    },
    OfPhrase {
        nouns: &["custody", "guardianship"],
        then: Then::Words(OWNERS, CHILDREN),
    },
    OfPhrase {
        nouns: &["date", "day"],
        then: Then::Word(&[
            "pronouncement",
            "delivery",
            "receipt",
            "signing",
            "issuance",
            "announcement",
            "birth",
        ]),
    },
    OfPhrase {
        nouns: &[
            "shop", "house", "home", "store", "petition", "contract", "wife", "husband", "son",
            "daughter", "family", "children", "employer", "property",
        ],
        then: Then::Word(TITLES),
    },
    OfPhrase {
        nouns: &["agreement", "consent", "trial"],
        then: Then::Words(&["the", "both", "all"], PARTIES),
    },
    OfPhrase {
        nouns: &["months", "years", "weeks", "days"],
        then: Then::Word(&["imprisonment", "detention", "re-education"]),
    },
    OfPhrase {
        nouns: &["floor", "ceiling"],
        then: Then::Words(OWNERS, ROOMS),
    },
    OfPhrase {
        nouns: &["copy", "copies"],
        then: Then::Words(
            &[
                "both", "all", "these", "those", "my", "his", "her", "their", "our", "your", "the",
            ],
            DOCUMENTS,
        ),
    },
];

/// Small numbers as whisper writes them in words.
const NUMBER_WORDS: [&str; 12] = [
    "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve",
];

impl Then {
    /// Whether `next` (the words after "on") is what this asks for. A word followed by
    /// punctuation ends the phrase, so only the last word looked at may carry it.
    fn follows(&self, next: &[Word]) -> bool {
        let plain = |i: usize| next.get(i).map(|w| w.text.trim().to_lowercase());
        // A possessive ("the parties' debts") is another phrase: only stops and commas go.
        let word = |i: usize| {
            next.get(i)
                .map(|w| w.text.trim().trim_end_matches(CLAUSE_ENDS).to_lowercase())
        };
        match self {
            Then::Word(words) => word(0).is_some_and(|w| words.contains(&w.as_str())),
            Then::Words(first, second) => {
                plain(0).is_some_and(|w| first.contains(&w.as_str()))
                    && word(1).is_some_and(|w| second.contains(&w.as_str()))
            }
            Then::Quantity(units) => {
                let number =
                    |w: String| whole_number(&w).is_some() || NUMBER_WORDS.contains(&w.as_str());
                // "18 months", or a range: "9 to 12 months".
                let unit_at = if plain(1).as_deref() == Some("to") {
                    3
                } else {
                    1
                };
                plain(0).is_some_and(number)
                    && (unit_at == 1 || plain(2).is_some_and(number))
                    && word(unit_at).is_some_and(|w| units.contains(&w.as_str()))
            }
            Then::Day => {
                plain(0).as_deref() == Some("the")
                    && next.get(1).is_some_and(|w| is_ordinal(&w.text))
            }
        }
    }
}

/// `words` with each "on" that can only be a misheard "of" written "of": in a date ("the 15th on
/// June", unless a day follows the month) and in the phrases of [`OF_PHRASES`].
pub(crate) fn of_heard_as_on(mut words: Vec<Word>) -> Vec<Word> {
    for i in 1..words.len().saturating_sub(1) {
        if words[i].text.trim() != "on" {
            continue;
        }
        let before = words[i - 1].text.trim().to_lowercase();
        let next = &words[i + 1..];
        let in_a_date = is_ordinal(&words[i - 1].text)
            && MONTHS.contains(&bare(&next[0].text))
            && !next.get(1).is_some_and(|w| {
                bare(&w.text).starts_with(|c: char| c.is_ascii_digit()) || is_ordinal(&w.text)
            });
        let in_a_phrase = OF_PHRASES
            .iter()
            .any(|p| p.nouns.contains(&before.as_str()) && p.then.follows(next));
        if in_a_date || in_a_phrase {
            words[i].text = words[i].text.replace("on", "of");
        }
    }
    words
}

/// "15th", "1st", "fifteenth", "Twenty-first": a word with no punctuation after it.
fn is_ordinal(text: &str) -> bool {
    let word = text.trim();
    let lower = word.to_lowercase();
    let digits = lower.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &lower[digits.len()..];
    (!digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
        && ["st", "nd", "rd", "th"].contains(&suffix))
        || ORDINAL_WORDS.contains(&lower.as_str())
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
pub(crate) mod tests {
    use super::*;

    /// One word per space-separated piece, a second apart, each with its leading space.
    pub(crate) fn words(text: &str) -> Vec<Word> {
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

    use crate::transcript::text_of as text;

    /// Asserts that `mend` writes each `(heard, meant)` as meant and leaves each of `kept` as it is.
    fn assert_mends(mend: fn(Vec<Word>) -> Vec<Word>, mended: &[(&str, &str)], kept: &[&str]) {
        for (heard, meant) in mended {
            assert_eq!(text(&mend(words(heard))), *meant, "heard {heard:?}");
        }
        for kept in kept {
            assert_eq!(text(&mend(words(kept))), *kept, "said {kept:?}");
        }
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
        assert_mends(
            join_split_hundreds,
            &[],
            &[
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
            ],
        );
    }

    #[test]
    fn a_dates_on_is_of() {
        assert_mends(
            of_heard_as_on,
            &[
                ("signed on the 15th on June.", "signed on the 15th of June."),
                (
                    "before the thirtieth on June next year",
                    "before the thirtieth of June next year",
                ),
                ("the 1st on March", "the 1st of March"),
            ],
            &[
                "came fourth on August 3",
                "came fourth on August 3rd",
                "the 15th on may be",
                "the 15th, on June",
                "the 15th on the list",
                "at 15 on June",
                "the fifteenth upon June",
            ],
        );
    }

    #[test]
    fn an_on_that_can_only_be_of_is_of() {
        assert_mends(
            of_heard_as_on,
            &[
                (
                    "proposes a sentence on 18 months of imprisonment",
                    "proposes a sentence of 18 months of imprisonment",
                ),
                ("a term on three years", "a term of three years"),
                (
                    "on the night on the 4th of August",
                    "on the night of the 4th of August",
                ),
                (
                    "prosecuted for the crime on theft on property.",
                    "prosecuted for the crime of theft of property.",
                ),
                (
                    "to sign the minutes on the meeting",
                    "to sign the minutes of the meeting",
                ),
                ("custody on our son", "custody of our son"),
                (
                    "from the date on pronouncement",
                    "from the date of pronouncement",
                ),
                (
                    "entered the shop on Mrs. Lan",
                    "entered the shop of Mrs. Lan",
                ),
                ("the petition on Mr Thanh", "the petition of Mr Thanh"),
                (
                    "records the agreement on the parties.",
                    "records the agreement of the parties.",
                ),
                (
                    "criminal trial on the defendant",
                    "criminal trial of the defendant",
                ),
                ("The division on property", "The division of property"),
                (
                    "proposes a sentence on 9 to 12 months on imprisonment.",
                    "proposes a sentence of 9 to 12 months of imprisonment.",
                ),
                (
                    "water on the floor on the kitchen in November",
                    "water on the floor of the kitchen in November",
                ),
                (
                    "I have copies on both letters.",
                    "I have copies of both letters.",
                ),
            ],
            &[],
        );
    }

    #[test]
    fn an_on_that_means_on_is_kept() {
        assert_mends(
            of_heard_as_on,
            &[],
            &[
                "passed sentence on 18 defendants",
                "a sentence on appeal",
                "a fine on the 4th of May",
                "the night on the train",
                "a crime on the street",
                "theft on the bus",
                "ten minutes on the hearing's agenda",
                "the minutes, on the hearing",
                "custody on weekends",
                "custody on the weekends",
                "the date on the judgment",
                "the attack on Mrs Lan",
                "a report on Mr Thanh",
                "impose obligations on the parties",
                "agreement on custody",
                "the agreement on the parties' debts",
                "a trial on the merits",
                "the crime on, theft",
                "the crime on",
                "the shop on",
                "a sentence on 9 to 12 defendants",
                "a sentence on 9 to 12",
                "two years on probation",
                "sat on the floor on the 4th of May",
                "the copies on the table",
                "copies on both sides",
            ],
        );
    }

    #[test]
    fn don_after_an_amount_is_the_currency() {
        assert_mends(
            dong_after_amount,
            &[
                ("repaid 40 million Don.", "repaid 40 million dong."),
                (
                    "borrowed 120 million don from",
                    "borrowed 120 million dong from",
                ),
                ("costs 500 don?", "costs 500 dong?"),
                ("twenty thousand Don", "twenty thousand dong"),
                ("pay 3 million on per month", "pay 3 million dong per month"),
                (
                    "repaid 40 million on. I have",
                    "repaid 40 million dong. I have",
                ),
                ("60 million on if the", "60 million dong if the"),
                (
                    "the plaintiff 80 million tonne.",
                    "the plaintiff 80 million dong.",
                ),
                ("repaid 40 million ton?", "repaid 40 million dong?"),
                (
                    "the full 80 Million Tong before",
                    "the full 80 Million dong before",
                ),
                ("2 billion tons, and", "2 billion dong, and"),
            ],
            &[
                "120 million don't together",
                "Don Quixote",
                "they don the robes",
                "million, don",
                "a million donations",
                "spent 40 million on the house",
                "paid 5 million on time",
                "2 million on each child",
                "passed 3 million on to his son",
                "page 3 on per",
                "3 million, on per month",
                "2 million tonnes of rice",
                "5 thousand tonnes.",
                "a million tons",
                "80 million, Tong Van Hai",
            ],
        );
    }

    #[test]
    fn misses_before_a_name_is_the_title() {
        assert_mends(
            mrs_before_name,
            &[
                (
                    "the plaintiff misses Trunn's I-My is present",
                    "the plaintiff Mrs. Trunn's I-My is present",
                ),
                (
                    "between the plaintiff Misses Tran Thi Mai",
                    "between the plaintiff Mrs. Tran Thi Mai",
                ),
                (
                    "the witness misses Ngo Thi Thu,",
                    "the witness Mrs. Ngo Thi Thu,",
                ),
            ],
            &[
                "the plaintiff misses her son",
                "the defendant misses the deadline",
                "the plaintiff, misses Lan",
                "the witness misses. Lan",
                "the plaintiff misses I think",
                "she misses Hanoi",
                "the plaintiff misses",
            ],
        );
    }

    #[test]
    fn a_panel_that_delivers_nothing_deliberates() {
        assert_mends(
            panel_deliberates,
            &[
                (
                    "adjourned while the panel delivers. The judgment",
                    "adjourned while the panel deliberates. The judgment",
                ),
                ("while the court delivers,", "while the court deliberates,"),
                ("while the Panel delivers", "while the Panel deliberates"),
                (
                    "The trial panel will now retire to deliver it. Everyone",
                    "The trial panel will now retire to deliberate. Everyone",
                ),
                (
                    "The panel will now deliver 8. Everyone",
                    "The panel will now deliberate. Everyone",
                ),
                (
                    "the panel will retire to deliver 8 and will",
                    "the panel will retire to deliberate and will",
                ),
                (
                    "The panel has delivered. Everyone",
                    "The panel has deliberated. Everyone",
                ),
                (
                    "the court will now deliver it",
                    "the court will now deliberate",
                ),
            ],
            &[
                "the panel delivers its judgment.",
                "the panel delivers the verdict",
                "the postman delivers.",
                "the panel, delivers.",
                "a panel delivers.",
                "the panel will now deliver its judgment.",
                "the court has delivered the verdict.",
                "the panel will deliver it tomorrow.",
                "the postman will deliver it.",
                "the panel said it will deliver 8.",
                "the panel delivered 8 judgments.",
            ],
        );
    }

    #[test]
    fn a_word_no_one_says_after_its_word_is_what_was_said() {
        assert_mends(
            misheard_after,
            &[
                (
                    "open the first instance queering on the civil case",
                    "open the first instance hearing on the civil case",
                ),
                (
                    "the defence council is present, and",
                    "the defence counsel is present, and",
                ),
                ("The Defence Council,", "The Defence Counsel,"),
                (
                    "repay the amount in instalment over six months.",
                    "repay the amount in instalments over six months.",
                ),
                ("to pay in instalment.", "to pay in instalments."),
                (
                    "that money was interest and not the principle.",
                    "that money was interest and not the principal.",
                ),
                (
                    "the principle and the interest",
                    "the principal and the interest",
                ),
            ],
            &[
                "the city council is present",
                "the defence, council",
                "in instalment payments",
                "in instalment of 5 million",
                "the principle of compound interest",
                "the principle that interest is owed",
                "the principle. The defendant",
                "that is not the principle.",
                "the queering of",
            ],
        );
    }

    #[test]
    fn the_clerk_reports_who_is_present() {
        assert_mends(
            is_present,
            &[
                (
                    "the defendant Mr. Ho Quang Vinh his present, and",
                    "the defendant Mr. Ho Quang Vinh is present, and",
                ),
                (
                    "the plaintiff Mr. Muehkwok and his preempt, the",
                    "the plaintiff Mr. Muehkwok and is present, the",
                ),
                (
                    "the witness, Mr. Iman, for his absent.",
                    "the witness, Mr. Iman, for is absent.",
                ),
                ("and the witness is preempt.", "and the witness is present."),
                ("the lawyers are preempt", "the lawyers are present"),
                (
                    "Mr Le Maneun is Prenant, and",
                    "Mr Le Maneun is Present, and",
                ),
            ],
            &[
                "he gave her his present.",
                "he gave her his present, a watch",
                "the defendant gave his present to her",
                "his absent father",
                "the plaintiff says his, present",
                "the court will preempt the appeal.",
            ],
        );
    }

    #[test]
    fn you_re_honour_is_your_honour() {
        assert_mends(
            your_honour,
            &[
                ("Yes, you're honour, I agree", "Yes, your honour, I agree"),
                ("You're Honours, I maintain", "Your Honours, I maintain"),
                ("No, you\u{2019}re honor.", "No, your honor."),
            ],
            &[
                "you're honest",
                "you're right, Honour",
                "you're an honourable man",
            ],
        );
    }

    #[test]
    fn court_words_are_whole_and_spelt() {
        let joined = join_compounds(words("Everyone in the court room, please rise"));
        assert_eq!(text(&joined), "Everyone in the courtroom, please rise");
        assert_eq!((joined[3].start, joined[3].end), (3.0, 4.5));
        assert_eq!(
            text(&join_compounds(words("Court Houses. court"))),
            "Courthouses. court"
        );
        assert_mends(
            join_compounds,
            &[],
            &["the court, room 3", "court roomy", "a court ruled"],
        );
        assert_eq!(court_term("Procurecy").as_deref(), Some("Procuracy"));
        assert_eq!(court_term("procureator").as_deref(), Some("procurator"));
        assert_eq!(court_term("procurator"), None);
        assert_eq!(court_term("procure"), None);
        assert_eq!(court_term("Nuyen").as_deref(), Some("Nguyen"));
    }
}
