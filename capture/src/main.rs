//! `courtscribe-capture`: argument parsing and exit codes only; see the crate docs for usage.

use std::process::ExitCode;

use clap::Parser as _;
use courtscribe_capture::config::{Args, Config};
use courtscribe_capture::{BadInput, Outcome};

fn main() -> ExitCode {
    let args = Args::parse();
    if args.list_devices {
        return match courtscribe_capture::list_devices() {
            Ok(list) => {
                print!("{list}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(2, &format!("{e:#}")),
        };
    }
    let config = match Config::resolve(args) {
        Ok(c) => c,
        Err(e) => return fail(2, &format!("{e:#}")),
    };
    match courtscribe_capture::run(config) {
        Ok(Outcome::Confirmed { .. } | Outcome::Listed) => ExitCode::SUCCESS,
        Ok(Outcome::Kept { session, why }) => {
            fail(1, &format!("session {session} NOT confirmed: {why}"))
        }
        Err(e) => match e.downcast_ref::<BadInput>() {
            Some(bad) => fail(2, &bad.to_string()),
            None => fail(1, &format!("{e:#}")),
        },
    }
}

fn fail(code: u8, msg: &str) -> ExitCode {
    eprintln!("courtscribe-capture: error: {msg}");
    ExitCode::from(code)
}
