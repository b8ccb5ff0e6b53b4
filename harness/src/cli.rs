//! The command line: parsed by clap, dispatched to [`crate::commands`].

use crate::cases::Variant;
use crate::commands::{self, check, conformance};
use crate::error::{Error, Status};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Parser, Debug)]
#[command(
    name = "harness",
    about = "Proves that minipy's functions are visible to Linux perf",
    version
)]
pub struct Cli {
    /// Project root (the folder with cases/ and snapshots/); found from the
    /// current folder when not given.
    #[arg(long, global = true)]
    pub root: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build minipy, run every case under perf, compare with the snapshots.
    /// Exit 0 all passed, 1 a case failed, 2 the check cannot run here.
    ///
    /// With --python: run the cases on that Python instead (no minipy
    /// build); each is same / known deviation / differs / not supported /
    /// skipped. Exit 2 when the Python is not found.
    Check {
        /// Only these cases.
        cases: Vec<String>,
        /// A Python to judge (path, or name looked up in PATH and pyenv),
        /// e.g. python3.12; repeatable.
        #[arg(long = "python", value_name = "PATH_OR_NAME")]
        pythons: Vec<String>,
        /// Use the interpreters already in target/harness instead of building.
        #[arg(long)]
        no_build: bool,
        /// Runs at the same time.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
        /// Judge every case and variant this many times; the end lists those
        /// that did not pass every time (a flake detector).
        #[arg(long, default_value_t = 1)]
        repeat: usize,
        /// Run the cases on another architecture: `aarch64` builds minipy for
        /// it and runs every case in an emulated aarch64 machine with real
        /// perf (set up on first use, cached), then judges here.
        #[arg(long, value_parser = ["aarch64"])]
        arch: Option<String>,
    },
    /// The cases and their variants.
    List,
    /// Run one case and print its call tree of py:: frames; keeps perf.data
    /// and the perf map for `perf report`.
    Run {
        case: String,
        /// c, rust, nofp-c or nofp-rust (default: the case's first).
        #[arg(long, value_parser = Variant::parse)]
        variant: Option<Variant>,
        #[arg(long)]
        no_build: bool,
        /// Hide tree nodes below this share of the samples, in percent.
        #[arg(long, default_value_t = 0.5)]
        min_percent: f64,
    },
    /// Is perf usable here, and do the builds keep frame pointers?
    ///
    /// With --python: will perf show that Python's functions, with which
    /// flags, and if not, what to do; answered from probe runs under perf.
    Doctor {
        #[arg(long = "python", value_name = "PATH_OR_NAME")]
        python: Option<String>,
    },
    /// Every case on every interpreter (minipy variants and each --python,
    /// by default the CPython 3.12+ found in pyenv and PATH), in one table.
    /// Exit 0 nothing differs, 1 something differs, 2 cannot run here.
    Conformance {
        /// Only these cases.
        cases: Vec<String>,
        #[arg(long = "python", value_name = "PATH_OR_NAME")]
        pythons: Vec<String>,
        #[arg(long, value_enum, default_value_t = conformance::Format::Text)]
        format: conformance::Format,
        /// Use the minipy builds already in target/harness.
        #[arg(long)]
        no_build: bool,
        /// Runs at the same time.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
    },
}

/// The project root: the first folder upwards with `cases/` and
/// `Cargo.toml`, else the workspace this binary was built from.
pub fn find_root(start: &Path) -> PathBuf {
    start
        .ancestors()
        .find(|dir| dir.join("cases").is_dir() && dir.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<Status, Error> {
    let root = cli
        .root
        .unwrap_or_else(|| find_root(&std::env::current_dir().unwrap_or_default()));
    match cli.command {
        Command::Check {
            cases,
            pythons,
            jobs,
            ..
        } if !pythons.is_empty() => conformance::check_pythons(&root, &cases, &pythons, jobs),
        Command::Check {
            cases,
            no_build,
            jobs,
            repeat,
            arch,
            ..
        } => check::check(
            &root,
            &check::Options {
                cases,
                jobs,
                repeat,
                build: !no_build,
                aarch64: arch.is_some(),
            },
        ),
        Command::List => commands::list::list(&root),
        Command::Run {
            case,
            variant,
            no_build,
            min_percent,
        } => commands::run::run(&root, &case, variant, !no_build, min_percent),
        Command::Doctor { python } => commands::doctor::doctor(&root, python.as_deref()),
        Command::Conformance {
            cases,
            pythons,
            format,
            no_build,
            jobs,
        } => conformance::conformance(
            &root,
            &conformance::Options {
                cases,
                pythons,
                format,
                build: !no_build,
                jobs,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
        let cli =
            Cli::try_parse_from(["harness", "run", "seed", "--variant", "nofp-rust"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Run {
                variant: Some(Variant::NoFpRust),
                ..
            }
        ));
        let err = Cli::try_parse_from(["harness", "run", "seed", "--variant", "go"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("unknown variant `go` (one of c, rust, nofp-c, nofp-rust)"),
            "{err}"
        );
        let cli = Cli::try_parse_from([
            "harness",
            "check",
            "seed_xperf",
            "--python",
            "python3.12",
            "--python",
            "/x/python",
        ])
        .unwrap();
        assert!(matches!(
            cli.command,
            Command::Check { ref pythons, ref cases, .. }
                if pythons == &["python3.12", "/x/python"] && cases == &["seed_xperf"]
        ));
        let cli = Cli::try_parse_from(["harness", "conformance", "--format", "json"]).unwrap();
        assert!(matches!(
            cli.command,
            Command::Conformance {
                format: conformance::Format::Json,
                ..
            }
        ));
        let cli = Cli::try_parse_from(["harness", "doctor", "--python", "python3.13"]).unwrap();
        assert!(
            matches!(cli.command, Command::Doctor { python: Some(ref p) } if p == "python3.13")
        );
    }

    #[test]
    fn the_root_is_found_upwards() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("cases/a/b")).unwrap();
        std::fs::write(root.path().join("Cargo.toml"), "").unwrap();
        assert_eq!(find_root(&root.path().join("cases/a/b")), root.path());
    }
}
