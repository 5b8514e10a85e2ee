//! Which languages a Whisper model transcribes, from its vocabulary size.

use crate::ggml::Hparams;

/// Whisper's language codes in token order (`<|en|>` is the first language token). large-v3
/// added `yue` as the 100th.
pub const WHISPER_LANGUAGES: [&str; 100] = [
    "en", "zh", "de", "es", "ru", "ko", "fr", "ja", "pt", "tr", "pl", "ca", "nl", "ar", "sv", "it",
    "id", "hi", "fi", "vi", "he", "uk", "el", "ms", "cs", "ro", "da", "hu", "ta", "no", "th", "ur",
    "hr", "bg", "lt", "la", "mi", "ml", "cy", "sk", "te", "fa", "lv", "bn", "sr", "az", "sl", "kn",
    "et", "mk", "br", "eu", "is", "hy", "ne", "mn", "bs", "kk", "sq", "sw", "gl", "mr", "pa", "si",
    "km", "sn", "yo", "so", "af", "oc", "ka", "be", "tg", "sd", "gu", "am", "yi", "lo", "uz", "fo",
    "ht", "ps", "tk", "nn", "mt", "sa", "lb", "my", "bo", "tl", "mg", "as", "tt", "haw", "ln",
    "ha", "ba", "jw", "su", "yue",
];

/// `["en"]` for English-only models; otherwise the languages whisper.cpp counts for this
/// vocabulary (`n_vocab - 51765 - 1`: 99 for 51865, 100 for 51866).
pub fn for_hparams(h: &Hparams) -> Vec<String> {
    if !h.is_multilingual() {
        return vec!["en".to_string()];
    }
    let n = (h.n_vocab - 51765 - 1).clamp(1, WHISPER_LANGUAGES.len() as i32) as usize;
    WHISPER_LANGUAGES[..n]
        .iter()
        .map(|s| s.to_string())
        .collect()
}
