//! A hearing's case vocabulary: its participants' names, given to the decoder as its initial
//! prompt by the transcription job and by the live captions. `base` writes a name it has never
//! seen as it sounds ("Tran Thay Mai" for Trần Thị Mai), and names are what minutes must get
//! right (BENCHMARKS.md).

use courtscribe_transcriber::WhisperEngine;

/// The names in a hearing's stored `participants` column.
pub fn participant_names(participants_json: &str) -> Vec<String> {
    crate::api::Participant::list_from_column(participants_json)
        .into_iter()
        .map(|p| p.name)
        .collect()
}

/// `names` joined as the decoder's prompt, and how many were left out because the prompt would
/// have grown longer than the model takes (an over-long prompt fails the decode). No names give
/// no prompt.
pub fn case_vocabulary(whisper: &WhisperEngine, names: &[String]) -> (Option<String>, usize) {
    let mut prompt = String::new();
    for (i, name) in names.iter().map(|n| n.trim()).enumerate() {
        if name.is_empty() {
            continue;
        }
        let longer = if prompt.is_empty() {
            name.to_owned()
        } else {
            format!("{prompt}, {name}")
        };
        let fits = whisper
            .token_count(&longer)
            .is_ok_and(|n| n <= whisper.max_prompt_tokens());
        if !fits {
            return (Some(prompt).filter(|p| !p.is_empty()), names.len() - i);
        }
        prompt = longer;
    }
    ((!prompt.is_empty()).then_some(prompt), 0)
}
