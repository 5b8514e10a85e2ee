//! `courtscribe`: the one user binary. It only parses arguments and wires the library crates
//! together; every behaviour lives in a crate.

mod cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "courtscribe",
    version,
    about = "Biên bản phiên tòa từ ghi âm — hearing minutes from courtroom audio"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Transcribe a recording into time-stamped segments and words.
    Transcribe(cmd::transcribe::Args),
    /// Install, import, list and verify speech models.
    #[command(subcommand)]
    Models(cmd::models::Command),
    /// Who spoke when: write RTTM for a recording (per-microphone channels or voice clustering).
    Diarize(courtscribe_diarization::cli::DiarizeArgs),
    /// Known voices of a court's regular judges and clerks: enroll, list, remove.
    Speakers(courtscribe_diarization::cli::SpeakersArgs),
    /// Run the transcription service and case record (HTTP API, jobs, live ingest).
    Serve(cmd::serve::ServeArgs),
    /// Check the hash chains of a server's data folder: any changed byte of a stored recording or
    /// transcript revision is reported.
    Verify(cmd::serve::VerifyArgs),
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("COURTSCRIBE_LOG").unwrap_or_else(|_| {
                tracing_subscriber::EnvFilter::new("warn,courtscribe_server=info,whisper_rs=off")
            }),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();

    let cli = Cli::parse();
    let result = match cli.command {
        Command::Transcribe(args) => cmd::transcribe::run(args),
        Command::Models(command) => cmd::models::run(command),
        Command::Diarize(args) => courtscribe_diarization::cli::run_diarize(&args)
            .map(drop)
            .map_err(Into::into),
        Command::Speakers(args) => {
            courtscribe_diarization::cli::run_speakers(&args).map_err(Into::into)
        }
        Command::Serve(args) => cmd::serve::serve(args),
        Command::Verify(args) => cmd::serve::verify(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // One line: the reason and its causes, no backtrace.
            eprintln!("courtscribe: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
