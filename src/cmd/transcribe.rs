use std::path::PathBuf;

use anyhow::Context as _;
use courtscribe_models::ModelStore;
use courtscribe_transcriber::{
    Language, OutputFormat, PipelineOptions, Spelling, TranscribeOptions, WhisperEngine,
};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Recording: wav, flac, mp3, ogg, m4a/aac, or the audio track of mp4/mkv.
    audio: PathBuf,
    /// Installed model name (`courtscribe models list`).
    #[arg(long, default_value = courtscribe_models::DEFAULT_MODEL)]
    model: String,
    /// Language of the hearing: an ISO code (vi, en, …) or `auto` to detect it.
    #[arg(long, default_value = "vi")]
    language: String,
    /// Output format.
    #[arg(long, default_value = "json", value_parser = ["json", "srt", "vtt", "txt"])]
    format: String,
    /// Write here instead of standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// CPU threads for decoding (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Case vocabulary as text (party names, legal terms), given to the decoder as its prompt.
    #[arg(long)]
    prompt: Option<String>,
    /// File of case vocabulary, one term per line (added to --prompt).
    #[arg(long)]
    vocab: Option<PathBuf>,
    /// Spelling of English text: british (the style of Vietnam's official English: honour,
    /// defence, recognise) or american. whisper mixes the two; the minutes take one.
    #[arg(long, default_value = "british", value_parser = ["british", "american"])]
    spelling: String,
    #[command(flatten)]
    diarize: courtscribe_diarization::cli::TranscribeDiarizeArgs,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let format: OutputFormat = args.format.parse().map_err(anyhow::Error::msg)?;
    let spelling: Spelling = args.spelling.parse().map_err(anyhow::Error::msg)?;
    let prompt = build_prompt(args.prompt.as_deref(), args.vocab.as_deref())?;
    let language = match args.language.trim().to_lowercase().as_str() {
        "auto" => Language::Auto,
        code => Language::Fixed(code.to_string()),
    };
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
        .max(1);

    let store = ModelStore::from_env()?;
    let model = store.resolve(&args.model)?;
    let audio = courtscribe_audio::decode_file_16k(&args.audio)
        .with_context(|| format!("cannot read {}", args.audio.display()))?;
    let file_sha256 = courtscribe_audio::sha256_file(&args.audio)
        .with_context(|| format!("cannot read {}", args.audio.display()))?;
    let engine = WhisperEngine::load(&model, threads)?;

    let opts = TranscribeOptions {
        pipeline: PipelineOptions {
            language,
            prompt,
            spelling,
            ..PipelineOptions::default()
        },
    };
    let bar = super::progress_bar(1000, "transcribing");
    let mut transcript = courtscribe_transcriber::transcribe(
        &engine,
        &model,
        &audio,
        &args.audio,
        &file_sha256,
        &opts,
        &mut |f| bar.set_position((f * 1000.0) as u64),
    )?;
    bar.finish_and_clear();
    args.diarize.apply(&audio.channels, &mut transcript)?;

    let rendered = transcript.render(format);
    match &args.out {
        Some(path) => super::write_atomically(path, rendered.as_bytes())?,
        None => print!("{rendered}"),
    }
    Ok(())
}

/// `--prompt` and the terms of `--vocab` joined into one prompt.
fn build_prompt(
    prompt: Option<&str>,
    vocab: Option<&std::path::Path>,
) -> anyhow::Result<Option<String>> {
    let mut parts: Vec<String> = prompt
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .into_iter()
        .collect();
    if let Some(path) = vocab {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read vocabulary {}", path.display()))?;
        let terms: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .collect();
        if !terms.is_empty() {
            parts.push(terms.join(", "));
        }
    }
    Ok((!parts.is_empty()).then(|| parts.join(" ")))
}
