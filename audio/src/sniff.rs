//! Content sniffing. symphonia's probe hunts for a format marker anywhere in the first bytes, and an
//! MPEG frame-sync pattern (`FF Fx`) turns up in almost any binary or even some text, so a renamed
//! document would "decode" as noise. We therefore require a known signature at the very start of
//! the file before handing it to symphonia, and never trust the file extension.

/// The container recognised from the first bytes, with the extension handed to symphonia's probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Container {
    Wav,
    Aiff,
    Flac,
    Ogg,
    Caf,
    Mp4,
    Matroska,
    /// ID3v2 tag first: usually MP3, though the probe also copes with tagged FLAC/ADTS.
    Id3,
    Mp3,
    Adts,
}

impl Container {
    pub(crate) fn extension(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Aiff => "aiff",
            Container::Flac => "flac",
            Container::Ogg => "ogg",
            Container::Caf => "caf",
            Container::Mp4 => "mp4",
            Container::Matroska => "mkv",
            Container::Id3 | Container::Mp3 => "mp3",
            Container::Adts => "aac",
        }
    }
}

/// How many leading bytes [`sniff`] wants to see (two MPEG frame headers fit in this).
pub(crate) const SNIFF_LEN: usize = 4096;

/// Recognise the container from its first bytes, or explain why it is not audio.
pub(crate) fn sniff(head: &[u8]) -> Result<Container, String> {
    let at = |offset: usize, magic: &[u8]| head.get(offset..offset + magic.len()) == Some(magic);
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Ok(Container::Wav);
    }
    if at(0, b"RF64") || at(0, b"BW64") {
        return Err("RF64/BW64 (WAV over 4 GiB) is not supported; convert it to FLAC".into());
    }
    if at(0, b"FORM") && (at(8, b"AIFF") || at(8, b"AIFC")) {
        return Ok(Container::Aiff);
    }
    if at(0, b"fLaC") {
        return Ok(Container::Flac);
    }
    if at(0, b"OggS") {
        return Ok(Container::Ogg);
    }
    if at(0, b"caff") {
        return Ok(Container::Caf);
    }
    // ISO base media (mp4, m4a, mov): a box size, then "ftyp". Files that open with another box are
    // pre-2001 QuickTime; symphonia's probe would not look for them there either.
    if at(4, b"ftyp") {
        return Ok(Container::Mp4);
    }
    if at(0, &[0x1A, 0x45, 0xDF, 0xA3]) {
        return Ok(Container::Matroska);
    }
    if at(0, b"ID3") {
        return Ok(Container::Id3);
    }
    if is_adts(head) {
        return Ok(Container::Adts);
    }
    // A lone frame header is four bytes of luck; demand that the next frame starts where the first
    // one says it ends (unless the file is shorter than one frame).
    if let Some(len) = mpeg_frame_len(head) {
        match head.get(len..) {
            Some(rest) if rest.len() >= 4 => {
                if mpeg_frame_len(rest).is_some() {
                    return Ok(Container::Mp3);
                }
            }
            _ => return Ok(Container::Mp3),
        }
    }
    Err(describe_unknown(head))
}

fn is_adts(head: &[u8]) -> bool {
    // 12-bit sync, layer 00, a valid sampling-frequency index.
    matches!(head, [0xFF, b1, b2, ..] if b1 & 0xF6 == 0xF0 && (b2 >> 2) & 0x0F < 13)
}

/// Length in bytes of the MPEG-1/2/2.5 audio frame whose header starts `bytes`, if it is one.
fn mpeg_frame_len(bytes: &[u8]) -> Option<usize> {
    let &[b0, b1, b2, _, ..] = bytes else {
        return None;
    };
    if b0 != 0xFF || b1 & 0xE0 != 0xE0 {
        return None;
    }
    let version = (b1 >> 3) & 0x03; // 0 = MPEG 2.5, 1 = reserved, 2 = MPEG 2, 3 = MPEG 1
    let layer = (b1 >> 1) & 0x03; // 1 = III, 2 = II, 3 = I
    let bitrate_index = usize::from(b2 >> 4);
    let rate_index = usize::from((b2 >> 2) & 0x03);
    let padding = usize::from((b2 >> 1) & 0x01);
    if version == 1 || layer == 0 || bitrate_index == 0 || bitrate_index == 15 || rate_index == 3 {
        return None;
    }
    const RATES: [[usize; 3]; 3] = [
        [11_025, 12_000, 8_000],
        [22_050, 24_000, 16_000],
        [44_100, 48_000, 32_000],
    ];
    let rate = RATES[match version {
        0 => 0,
        2 => 1,
        _ => 2,
    }][rate_index];
    // kbit/s by [mpeg1?][layer I, II, III][index]
    const MPEG1: [[usize; 15]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const MPEG2: [[usize; 15]; 2] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let layer_i = layer == 3;
    let kbps = match (version == 3, layer) {
        (true, 3) => MPEG1[0][bitrate_index],
        (true, 2) => MPEG1[1][bitrate_index],
        (true, _) => MPEG1[2][bitrate_index],
        (false, 3) => MPEG2[0][bitrate_index],
        (false, _) => MPEG2[1][bitrate_index],
    };
    let bitrate = kbps * 1000;
    Some(if layer_i {
        (12 * bitrate / rate + padding) * 4
    } else if layer == 1 && version != 3 {
        // Layer III in MPEG-2/2.5 has half as many samples per frame.
        72 * bitrate / rate + padding
    } else {
        144 * bitrate / rate + padding
    })
}

fn describe_unknown(head: &[u8]) -> String {
    let sample = &head[..head.len().min(512)];
    let texty = sample
        .iter()
        .all(|&b| b.is_ascii_graphic() || b.is_ascii_whitespace() || b >= 0x80);
    // A cut at 512 bytes may split a multi-byte character; only an invalid byte means "not text".
    let utf8 = std::str::from_utf8(sample).map_or_else(|e| e.error_len().is_none(), |_| true);
    if texty && utf8 {
        return "the content is text, not audio".into();
    }
    let hex: Vec<String> = head.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!(
        "not a recognised audio container (wav, flac, mp3, ogg, m4a/mp4, mkv); it starts with {}",
        hex.join(" ")
    )
}
