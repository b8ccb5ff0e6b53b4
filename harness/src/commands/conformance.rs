//! `harness conformance`: every case on every runtime — minipy's variants
//! and each `--python` (by default, the CPython 3.12+ that pyenv and `PATH`
//! offer) — in one table, as text or JSON; and `harness check --python`,
//! the same table for the given Pythons alone. Exit 0 when nothing differs,
//! 1 when something differs or could not be judged, 2 when no CPython is
//! found, perf cannot sample, or minipy cannot be built.

use crate::error::{Error, Status};
use crate::report::table::{Column, Report};
use crate::report::Reporter;
use crate::runtime::cpython::{self, Python};
use crate::runtime::Runtime;
use crate::session::{in_parallel, Session};
use std::path::Path;

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

/// Finds every given Python; the first that cannot be found is the error.
pub fn find_pythons(given: &[String]) -> Result<Vec<Python>, Error> {
    given.iter().map(|g| cpython::find(g)).collect()
}

/// Judges every case on every runtime that runs it, `jobs` at a time: the
/// table, with a progress bar on a terminal.
pub fn table(session: &Session, runtimes: &[&dyn Runtime], jobs: usize) -> Result<Report, Error> {
    let runs: Vec<(usize, usize)> = (0..session.cases.len())
        .flat_map(|c| (0..runtimes.len()).map(move |r| (c, r)))
        .filter(|&(c, r)| runtimes[r].runs(&session.cases[c]))
        .collect();
    let reporter = Reporter::new(runs.len());
    let results = in_parallel(
        &runs,
        jobs,
        |&(c, r)| session.judge(&session.cases[c], runtimes[r]),
        |i, _| {
            let (c, r) = runs[i];
            reporter.step(&format!(
                "{} [{}]",
                session.cases[c].name,
                runtimes[r].label()
            ));
        },
    );
    reporter.finish();
    if perf_script::cancelled() {
        return Err(Error::Interrupted);
    }
    let mut cells = Vec::new();
    for (run, result) in runs.into_iter().zip(results) {
        cells.push((run, result?.verdict));
    }
    let columns = runtimes
        .iter()
        .map(|r| Column::of(*r, column_name(*r)))
        .collect();
    Ok(Report::new(columns, &session.cases, cells))
}

/// A minipy variant's column is `minipy-<variant>`; other runtimes go by
/// their label.
fn column_name(runtime: &dyn Runtime) -> String {
    match runtime.is_reference() {
        true => format!("minipy-{}", runtime.label()),
        false => runtime.label(),
    }
}

fn finish(report: &Report, format: Format) -> Status {
    match format {
        Format::Text => print!("{}", report.text()),
        Format::Json => print!("{}", report.json()),
    }
    Status::from_failures(report.has_failures())
}

/// `harness check --python <path-or-name>...`: the cases on those Pythons
/// alone (no minipy runs, no build).
pub fn check_pythons(
    root: &Path,
    cases: &[String],
    given: &[String],
    jobs: usize,
) -> Result<Status, Error> {
    let pythons = find_pythons(given)?;
    let session = Session::start(root, cases)?;
    let runtimes: Vec<&dyn Runtime> = pythons.iter().map(|p| p as &dyn Runtime).collect();
    Ok(finish(&table(&session, &runtimes, jobs)?, Format::Text))
}

/// Runs the report and prints it.
pub fn conformance(root: &Path, options: &Options) -> Result<Status, Error> {
    let pythons = match options.pythons.is_empty() {
        true => match cpython::find_default() {
            found if found.is_empty() => return Err(cpython::none_found()),
            found => found,
        },
        false => find_pythons(&options.pythons)?,
    };
    let session = Session::start(root, &options.cases)?;
    let minipys = session.minipy(options.build, |s| eprintln!("{s}"))?;
    let mut runtimes: Vec<&dyn Runtime> = minipys.iter().map(|m| m as &dyn Runtime).collect();
    runtimes.extend(pythons.iter().map(|p| p as &dyn Runtime));
    Ok(finish(
        &table(&session, &runtimes, options.jobs)?,
        options.format,
    ))
}
