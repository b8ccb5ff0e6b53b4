//! The command line: `check`, `list`, `run`, `doctor`, `conformance`, and
//! what each prints (the `--python` forms live in [`crate::python`]).

use crate::cases::{Case, Variant};
use crate::check::{self, Options};
use crate::python::conformance::{self, Format};
use crate::run::{self, Request};
use crate::{doctor, expect, normalize, python, tree, Status};
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
        /// Run every case and variant this many times; all runs must agree.
        #[arg(long, default_value_t = 1)]
        repeat: usize,
    },
    /// The cases and their variants.
    List,
    /// Run one case and print its call tree of py:: frames; keeps perf.data
    /// and the perf map for `perf report`.
    Run {
        case: String,
        /// c, rust, nofp-c or nofp-rust (default: the case's first).
        #[arg(long, value_parser = parse_variant)]
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
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Use the minipy builds already in target/harness.
        #[arg(long)]
        no_build: bool,
        /// Runs at the same time.
        #[arg(long, default_value_t = 2)]
        jobs: usize,
    },
}

fn parse_variant(text: &str) -> Result<Variant, String> {
    Variant::ALL
        .into_iter()
        .find(|v| v.name() == text)
        .ok_or_else(|| {
            let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
            format!("unknown variant `{text}` (one of {})", names.join(", "))
        })
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

fn list(root: &Path) -> Status {
    match check::select(root, &[]) {
        Ok(cases) => {
            for case in &cases {
                let variants: Vec<&str> = case.variants.iter().map(|v| v.name()).collect();
                println!(
                    "{:<28} {:<5} {:<22} {}",
                    case.name,
                    case.unwind.name(),
                    variants.join(","),
                    case.description
                );
            }
            Status::Passed
        }
        Err(e) => {
            eprintln!("{e}");
            Status::Environment
        }
    }
}

fn describe(case: &Case, variant: Variant) -> String {
    let env: Vec<String> = case.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    format!(
        "{} [{variant}]: {}{} (unwind {})",
        case.name,
        env.concat(),
        case.command_line().join(" "),
        case.unwind.name()
    )
}

fn run_case(
    root: &Path,
    name: &str,
    variant: Option<Variant>,
    build: bool,
    min_percent: f64,
) -> Status {
    let case = match check::select(root, &[name.to_string()]) {
        Ok(mut cases) => cases.remove(0),
        Err(e) => {
            eprintln!("{e}");
            return Status::Environment;
        }
    };
    let variant = variant.unwrap_or(case.variants[0]);
    let binaries = match check::interpreters(
        root,
        std::slice::from_ref(&Case {
            variants: vec![variant],
            ..case.clone()
        }),
        build,
        |s| println!("{s}"),
    ) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("{e}");
            return Status::Environment;
        }
    };
    let perf = Path::new("perf");
    let request = Request {
        case: &case,
        variant: Some(variant),
        interpreter: &binaries[&variant.build()],
        perf,
        keep: true,
    };
    let finished = match run::run(&request) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("{}: {e}", case.name);
            return if e.is_environment() {
                Status::Environment
            } else {
                Status::Failed
            };
        }
    };
    let obs = normalize::observe(&finished.raw);
    println!("{}", describe(&case, variant));
    println!("exit {}; {} samples", obs.exit, obs.total_samples);
    for (name, text) in [("stdout", &obs.stdout), ("stderr", &obs.stderr)] {
        for line in text.lines().take(10) {
            println!("{name}: {line}");
        }
    }
    let pids = finished.raw.profile.processes();
    for (i, process) in obs.processes.iter().enumerate() {
        let pid = pids.get(i).map_or(String::new(), |p| format!(", pid {p}"));
        println!(
            "\nprocess {}{pid}: {}",
            i + 1,
            tree::render(process, min_percent)
        );
    }
    let failures = expect::check(&case, &obs);
    if failures.is_empty() {
        println!("expectations: all met");
    } else {
        println!("expectations: {}", failures.join("; "));
    }
    println!(
        "\n{} kept at {}",
        file_name(&finished.perf_data),
        finished.perf_data.display()
    );
    for file in &finished.kept_files {
        println!("kept {} ({})", file.display(), why_kept(file));
    }
    println!(
        "explore: perf report -i {} --stdio --no-children",
        finished.perf_data.display()
    );
    let mut cleanup = vec![finished.raw.workdir.display().to_string()];
    cleanup.extend(finished.kept_files.iter().map(|m| m.display().to_string()));
    println!("clean up: rm -r {}", cleanup.join(" "));
    if failures.is_empty() {
        Status::Passed
    } else {
        Status::Failed
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned())
}

/// Why `harness run` leaves a file of /tmp in place.
fn why_kept(file: &Path) -> &'static str {
    let name = file_name(file);
    if name.ends_with(".map") {
        "perf report reads the names of perf-map stubs from there"
    } else if name.ends_with(".dump") {
        "perf inject --jit reads it"
    } else {
        "perf report reads the jitted code from there"
    }
}

fn doctor(root: &Path) -> Status {
    let findings = doctor::diagnose(root, Path::new("perf"));
    for finding in &findings {
        println!("{finding}");
    }
    if findings.iter().all(|f| f.ok) {
        Status::Passed
    } else {
        Status::Failed
    }
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Status {
    let root = cli
        .root
        .unwrap_or_else(|| find_root(&std::env::current_dir().unwrap_or_default()));
    match cli.command {
        Command::Check {
            cases,
            pythons,
            jobs,
            ..
        } if !pythons.is_empty() => python::check::check(&root, &cases, &pythons, jobs),
        Command::Check {
            cases,
            no_build,
            jobs,
            repeat,
            ..
        } => check::check(
            &root,
            &Options {
                cases,
                jobs,
                repeat,
                build: !no_build,
            },
        ),
        Command::List => list(&root),
        Command::Run {
            case,
            variant,
            no_build,
            min_percent,
        } => run_case(&root, &case, variant, !no_build, min_percent),
        Command::Doctor { python: None } => doctor(&root),
        Command::Doctor {
            python: Some(given),
        } => python::doctor::run(&root, &given),
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
                format: Format::Json,
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
