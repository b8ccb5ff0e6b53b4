//! `harness`: see the library crate for what each command does.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let status = harness::cli::run(harness::cli::Cli::parse());
    ExitCode::from(status as u8)
}
