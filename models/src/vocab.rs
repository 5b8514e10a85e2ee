//! Whisper's vocabulary: GPT-2 byte-level BPE tokens, turned back into the raw bytes
//! whisper.cpp wants.
//!
//! GPT-2 tokenizers spell every byte as a printable Unicode character (space becomes `Ġ`,
//! newline `Ċ`, the bytes of `é` become `Ã©`), so a token text in `vocabulary.txt` or
//! `tokenizer.json` must be mapped character by character back to bytes.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};

/// The special token that ends the regular vocabulary; whisper.cpp synthesises it and every
/// later special token itself, so the file holds only the tokens before it.
pub const END_OF_TEXT: &str = "<|endoftext|>";

/// GPT-2's `bytes_to_unicode` table: index = byte value, entry = the character that spells it.
pub fn byte_to_char() -> [char; 256] {
    let mut table = ['\0'; 256];
    let mut extra = 0u32;
    for b in 0..=255u8 {
        let printable = matches!(b, b'!'..=b'~' | 0xA1..=0xAC | 0xAE..=0xFF);
        table[b as usize] = if printable {
            char::from(b)
        } else {
            // Non-printable bytes get the code points from U+0100 upwards, in byte order.
            let c = char::from_u32(256 + extra).unwrap_or('\u{FFFD}');
            extra += 1;
            c
        };
    }
    table
}

/// Reverse of [`byte_to_char`].
pub fn char_to_byte() -> HashMap<char, u8> {
    byte_to_char()
        .iter()
        .enumerate()
        .map(|(b, &c)| (c, b as u8))
        .collect()
}

/// Decodes one token text to bytes; `None` if it contains a character outside the table
/// (i.e. the text is not a byte-level BPE token).
pub fn decode_token(text: &str, table: &HashMap<char, u8>) -> Option<Vec<u8>> {
    text.chars().map(|c| table.get(&c).copied()).collect()
}

/// Reads the token texts, in id order, from a CTranslate2 folder: `vocabulary.txt` (one token
/// per line), `vocabulary.json` (a JSON list) or `tokenizer.json` (Hugging Face).
pub fn read_token_texts(dir: &Path) -> Result<Vec<String>> {
    let txt = dir.join("vocabulary.txt");
    if txt.is_file() {
        let s = std::fs::read_to_string(&txt).map_err(Error::io(&txt))?;
        // Byte-level tokens never contain a raw newline (it is spelt `Ċ`), so lines are tokens.
        return Ok(s.lines().map(str::to_string).collect());
    }
    let json = dir.join("vocabulary.json");
    if json.is_file() {
        let s = std::fs::read_to_string(&json).map_err(Error::io(&json))?;
        return serde_json::from_str(&s).map_err(|e| {
            Error::corrupt(&json, format!("expected a JSON list of token strings: {e}"))
        });
    }
    let tok = dir.join("tokenizer.json");
    if tok.is_file() {
        return read_tokenizer_json(&tok);
    }
    Err(Error::unknown_format(
        dir,
        "no vocabulary.txt, vocabulary.json or tokenizer.json in the CTranslate2 folder",
    ))
}

fn read_tokenizer_json(path: &Path) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Tokenizer {
        model: Model,
        #[serde(default)]
        added_tokens: Vec<Added>,
    }
    #[derive(serde::Deserialize)]
    struct Model {
        vocab: HashMap<String, u32>,
    }
    #[derive(serde::Deserialize)]
    struct Added {
        id: u32,
        content: String,
    }
    let s = std::fs::read_to_string(path).map_err(Error::io(path))?;
    let t: Tokenizer = serde_json::from_str(&s)
        .map_err(|e| Error::corrupt(path, format!("not a Hugging Face tokenizer.json: {e}")))?;
    let n = t
        .model
        .vocab
        .values()
        .chain(t.added_tokens.iter().map(|a| &a.id))
        .max()
        .map_or(0, |m| *m as usize + 1);
    // Guard the allocation below against a hostile id; Whisper has ~52k tokens.
    if n > 1 << 20 {
        return Err(Error::corrupt(
            path,
            format!("token id {} is implausibly large", n - 1),
        ));
    }
    let mut texts = vec![None; n];
    for (text, id) in t.model.vocab {
        texts[id as usize] = Some(text);
    }
    for a in t.added_tokens {
        texts[a.id as usize] = Some(a.content);
    }
    texts
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.ok_or_else(|| Error::corrupt(path, format!("token id {i} is missing"))))
        .collect()
}

/// The regular tokens (those before `<|endoftext|>`) as raw bytes, ready for the ggml file.
pub fn regular_tokens(texts: &[String], source: &Path) -> Result<Vec<Vec<u8>>> {
    let end = texts
        .iter()
        .position(|t| t == END_OF_TEXT)
        .ok_or_else(|| Error::corrupt(source, format!("vocabulary has no {END_OF_TEXT} token")))?;
    let table = char_to_byte();
    texts[..end]
        .iter()
        .enumerate()
        .map(|(i, t)| {
            decode_token(t, &table).ok_or_else(|| {
                Error::corrupt(
                    source,
                    format!("token {i} ({t:?}) is not a byte-level BPE token"),
                )
            })
        })
        .collect()
}
