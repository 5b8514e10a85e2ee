//! Installs catalog models into a store and reports how long each took:
//! `cargo run --release -p courtscribe-models --example install -- [--home DIR] NAME...`
//! (default home: the usual `ModelStore::from_env()` location).

use std::time::Instant;

use courtscribe_models::ModelStore;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let store = if args.first().map(String::as_str) == Some("--home") && args.len() >= 2 {
        let home = args.remove(1);
        args.remove(0);
        ModelStore::open(home)?
    } else {
        ModelStore::from_env()?
    };
    for name in &args {
        let t = Instant::now();
        let m = store.install(name)?;
        println!(
            "{name}: {} bytes, sha256 {}, {:.1?}",
            m.size,
            m.sha256,
            t.elapsed()
        );
    }
    Ok(())
}
