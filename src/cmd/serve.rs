use std::path::PathBuf;

use courtscribe_server::Config;

/// `courtscribe serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Data folder (database and audio); overrides the config file and COURTSCRIBE_DATA.
    #[arg(long)]
    data: Option<PathBuf>,
    /// Address to listen on, e.g. 127.0.0.1:8080 (port 0 picks a free one).
    #[arg(long)]
    listen: Option<String>,
    /// TOML config file (keys: listen, data, model, workers, threads, diarize, max_upload_mb, …);
    /// COURTSCRIBE_* environment variables override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// `courtscribe verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Data folder of the server.
    #[arg(long)]
    data: PathBuf,
    /// Only this hearing (default: every hearing).
    #[arg(long)]
    hearing: Option<i64>,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    courtscribe_server::malloc::tune();
    let mut config = Config::load(args.config.as_deref())?;
    if let Some(d) = args.data {
        config.data = d;
    }
    if let Some(l) = args.listen {
        config.listen = l;
    }
    runtime()?.block_on(courtscribe_server::serve(config))
}

/// Prints one line per hearing; fails when any chain is broken.
pub fn verify(args: VerifyArgs) -> anyhow::Result<()> {
    let results =
        runtime()?.block_on(courtscribe_server::verify_offline(&args.data, args.hearing))?;
    let mut broken = 0;
    for (hearing, v) in &results {
        if v.ok {
            println!(
                "hearing {hearing}: ok ({} entries, head {})",
                v.entries,
                v.head.as_deref().unwrap_or("-")
            );
        } else {
            broken += 1;
            println!("hearing {hearing}: ALTERED");
            for p in &v.problems {
                println!("  {p}");
            }
        }
    }
    anyhow::ensure!(broken == 0, "{broken} hearing(s) fail verification");
    Ok(())
}
