//! `harness`: see the library crate for what each command does. Every
//! ending becomes an exit status here, and only here.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    match harness::cli::run(harness::cli::Cli::parse()) {
        Ok(status) => status.into(),
        Err(error) => {
            eprintln!("{error}");
            error.status().into()
        }
    }
}
