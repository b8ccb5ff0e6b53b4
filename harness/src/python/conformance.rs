//! `harness conformance`: every case on every interpreter, one table.
//!
//! Columns: the minipy variants the selected cases use, then each `--python`
//! given (by default, the CPython 3.12+ interpreters pyenv and `PATH`
//! offer). Each cell is one run judged by [`super::judge`]. Plain text or
//! JSON ([`super::table::Report`]). Exit 0 when nothing differs, 1 when
//! something differs or could not be judged, 2 when no CPython is found,
//! perf cannot sample, or minipy cannot be built.

use super::check::{find_all, in_parallel};
use super::detect::{self, Python};
use super::judge::{self, Context};
use super::table::{Column, Report};
use crate::cases::{Build, Case, Variant};
use crate::report::Reporter;
use crate::{check, doctor, Status};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The report's output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// How `conformance` runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Case names; all when empty.
    pub cases: Vec<String>,
    /// Interpreters given with `--python`; the defaults when empty.
    pub pythons: Vec<String>,
    pub format: Format,
    /// Build minipy first (else use `target/harness`).
    pub build: bool,
    pub jobs: usize,
}

/// One interpreter column.
enum Interpreter {
    Minipy(Variant, PathBuf),
    Python(Python),
}

impl Interpreter {
    fn column(&self) -> Column {
        match self {
            Interpreter::Minipy(variant, binary) => Column {
                name: format!("minipy-{variant}"),
                path: binary.display().to_string(),
                build: format!(
                    "{} trampoline, built {}",
                    variant.trampoline().name(),
                    variant.build().description()
                ),
            },
            Interpreter::Python(python) => Column::python(python),
        }
    }
}

/// Why no default CPython was found, and what to do.
pub fn none_found() -> String {
    let pyenv = detect::pyenv_root()
        .map(|r| format!("{}/versions", r.display()))
        .unwrap_or_else(|| "pyenv (no HOME)".into());
    format!(
        "no CPython 3.12+ found: looked in {pyenv} and in PATH for python3.12, python3.13, \
         python3.14 and python3; give one with --python <path-or-name>"
    )
}

fn pythons(given: &[String]) -> Result<Vec<Python>, String> {
    if given.is_empty() {
        let found = detect::find_default();
        if found.is_empty() {
            return Err(none_found());
        }
        Ok(found)
    } else {
        find_all(given)
    }
}

/// The minipy variants the cases use, in the usual order.
fn variants(cases: &[Case]) -> Vec<Variant> {
    Variant::ALL
        .into_iter()
        .filter(|v| cases.iter().any(|c| c.variants.contains(v)))
        .collect()
}

/// Runs the report and prints it.
pub fn conformance(root: &Path, options: &Options) -> Status {
    let say = |s: &str| eprintln!("{s}");
    let cases = match check::select(root, &options.cases) {
        Ok(cases) => cases,
        Err(e) => {
            eprintln!("{e}");
            return Status::Environment;
        }
    };
    let pythons = match pythons(&options.pythons) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return Status::Environment;
        }
    };
    let perf = Path::new("perf");
    if let Err(e) = doctor::probe_sampling(perf) {
        eprintln!("cannot run the report: {e}");
        return Status::Environment;
    }
    let binaries: BTreeMap<Build, PathBuf> =
        match check::interpreters(root, &cases, options.build, say) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("cannot run the report: {e}");
                return Status::Environment;
            }
        };
    let mut interpreters: Vec<Interpreter> = variants(&cases)
        .into_iter()
        .map(|v| Interpreter::Minipy(v, binaries[&v.build()].clone()))
        .collect();
    interpreters.extend(pythons.into_iter().map(Interpreter::Python));

    // Every (case, interpreter) that runs; a minipy variant runs only the
    // cases that list it.
    let runs: Vec<(usize, usize)> = (0..cases.len())
        .flat_map(|c| (0..interpreters.len()).map(move |i| (c, i)))
        .filter(|&(c, i)| match &interpreters[i] {
            Interpreter::Minipy(v, _) => cases[c].variants.contains(v),
            Interpreter::Python(_) => true,
        })
        .collect();
    let ctx = Context { root, perf };
    let reporter = Reporter::new(runs.len());
    let outcomes = in_parallel(
        &runs,
        options.jobs,
        |&(c, i)| match &interpreters[i] {
            Interpreter::Minipy(v, binary) => judge::minipy(&ctx, &cases[c], *v, binary),
            Interpreter::Python(python) => judge::python(&ctx, &cases[c], python),
        },
        |&(c, i)| {
            let column = interpreters[i].column();
            reporter.step(&format!("{} [{}]", cases[c].name, column.name));
        },
    );
    reporter.finish();

    let report = Report::new(
        interpreters.iter().map(Interpreter::column).collect(),
        &cases,
        runs.into_iter().zip(outcomes).collect(),
    );
    match options.format {
        Format::Text => print!("{}", report.text()),
        Format::Json => print!("{}", report.json()),
    }
    if report.has_failures() {
        Status::Failed
    } else {
        Status::Passed
    }
}
