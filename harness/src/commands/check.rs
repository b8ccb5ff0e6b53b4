//! `harness check`: builds minipy, judges every case on every variant it
//! lists (two at a time), prints a verdict line per case and variant as they
//! come, then the diffs of what changed (and insta's `.snap.new` for
//! review), and with `--repeat` the case variants that did not pass every
//! time.

use crate::cases::Case;
use crate::error::{Error, Status};
use crate::judge::Judgement;
use crate::place::aarch64::Machine;
use crate::report::{verdict_lines, Reporter, Tally};
use crate::runtime::minipy::Minipy;
use crate::runtime::Runtime;
use crate::session::{in_parallel, Session};
use crate::snapshot::{self, Snapshot};
use crate::verdict::Verdict;
use std::path::Path;
use std::sync::Mutex;

/// How `check` runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Case names to run; all when empty.
    pub cases: Vec<String>,
    /// Runs at the same time.
    pub jobs: usize,
    /// Judgements per case and variant.
    pub repeat: usize,
    /// Build minipy first (otherwise use what `target/harness` has).
    pub build: bool,
    /// Run the cases in the emulated aarch64 machine instead of here.
    pub aarch64: bool,
}

/// One judgement to make: a case, a variant, a repeat.
struct Job<'a> {
    case: &'a Case,
    minipy: &'a Minipy,
    repeat: usize,
}

impl Job<'_> {
    fn label(&self) -> String {
        match self.repeat {
            0 => self.minipy.label(),
            n => format!("{} #{}", self.minipy.label(), n + 1),
        }
    }
}

/// Prints lines in job order while jobs finish in any order.
struct InOrder<'r> {
    reporter: &'r Reporter,
    state: Mutex<(usize, Vec<Option<String>>)>,
}

impl InOrder<'_> {
    fn ready(&self, index: usize, text: String) {
        let mut state = self.state.lock().expect("printer");
        let (next, waiting) = &mut *state;
        waiting[index] = Some(text);
        while let Some(text) = waiting.get_mut(*next).and_then(Option::take) {
            self.reporter.line(&text);
            *next += 1;
        }
    }
}

/// A judgement's verdict line(s).
fn lines_of(job: &Job, result: &Result<Judgement, Error>) -> String {
    match result {
        Ok(j) => verdict_lines(&job.case.name, &job.label(), &j.verdict, &j.reruns),
        Err(e) => format!("error  {} [{}]: {e}", job.case.name, job.label()),
    }
}

/// For a case that failed: the diff of the run's snapshot text against the
/// stored one, and the `.snap.new` insta wrote for review.
fn proposal(
    root: &Path,
    arch: &str,
    case: &Case,
    label: &str,
    judgement: &Judgement,
) -> Option<(String, Option<std::path::PathBuf>)> {
    let pooled = judgement.pooled.as_ref()?;
    let text = Snapshot::of(case, pooled).render();
    let stored = snapshot::stored_text(&snapshot::snapshot_path(root, case, arch));
    if stored.as_deref().map(str::trim_end) == Some(text.trim_end()) {
        return None;
    }
    let shown = snapshot::snapshot_path(Path::new(""), case, arch);
    let diff = format!(
        "\n── {} (from the {label} run) ──\n{}",
        shown.display(),
        snapshot::diff(stored.as_deref(), &text)
    );
    Some((diff, snapshot::propose(root, case, arch, &text)))
}

/// The case variants that did not pass every repeat: `k of N passed` and
/// the reasons of the runs that did not.
fn flaky_lines(jobs: &[Job], results: &[Result<Judgement, Error>], repeat: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut seen: Vec<(String, String)> = Vec::new();
    for job in jobs {
        let key = (job.case.name.clone(), job.minipy.label());
        if seen.contains(&key) {
            continue;
        }
        let runs: Vec<&Result<Judgement, Error>> = jobs
            .iter()
            .zip(results)
            .filter(|(j, _)| j.case.name == key.0 && j.minipy.label() == key.1)
            .map(|(_, r)| r)
            .collect();
        let passed = runs
            .iter()
            .filter(|r| {
                matches!(
                    r,
                    Ok(Judgement {
                        verdict: Verdict::Same,
                        ..
                    })
                )
            })
            .count();
        if passed < repeat {
            let mut why: Vec<String> = Vec::new();
            for result in &runs {
                let reason = match result {
                    Ok(j) => j.verdict.reasons().join("; "),
                    Err(e) => e.to_string(),
                };
                if !reason.is_empty() && !why.contains(&reason) {
                    why.push(reason);
                }
            }
            lines.push(format!(
                "flaky  {} [{}]: {passed} of {repeat} passed; {}",
                key.0,
                key.1,
                why.join(" | ")
            ));
        }
        seen.push(key);
    }
    lines
}

/// Runs the check and prints its report.
pub fn check(root: &Path, options: &Options) -> Result<Status, Error> {
    let (session, minipys) = match options.aarch64 {
        false => {
            let session = Session::start(root, &options.cases)?;
            let minipys = session.minipy(options.build, |s| println!("{s}"))?;
            (session, minipys)
        }
        true => {
            let cases = crate::session::select(root, &options.cases)?;
            let (machine, minipys) = Machine::start(root, &cases, options.build)?;
            (Session::start_in(root, cases, Box::new(machine)), minipys)
        }
    };
    snapshot::configure_insta(root);
    let repeat = options.repeat.max(1);
    let jobs: Vec<Job> = session
        .cases
        .iter()
        .flat_map(|case| {
            let minipys = &minipys;
            case.variants.iter().flat_map(move |variant| {
                let minipy = minipys
                    .iter()
                    .find(|m| m.variant == *variant)
                    .expect("built");
                (0..repeat).map(move |repeat| Job {
                    case,
                    minipy,
                    repeat,
                })
            })
        })
        .collect();
    let reporter = Reporter::new(jobs.len());
    let printer = InOrder {
        reporter: &reporter,
        state: Mutex::new((0, vec![None; jobs.len()])),
    };
    let results = in_parallel(
        &jobs,
        session.place.jobs(options.jobs),
        |job| session.judge(job.case, job.minipy),
        |i, result| {
            reporter.step(&format!("{} [{}]", jobs[i].case.name, jobs[i].label()));
            printer.ready(i, lines_of(&jobs[i], result));
        },
    );
    reporter.finish();
    if perf_script::cancelled() {
        return Err(Error::Interrupted);
    }

    let mut tally = Tally::default();
    let mut pending = 0;
    let mut proposed: Vec<&str> = Vec::new();
    for (job, result) in jobs.iter().zip(&results) {
        let Ok(judgement) = result else { continue };
        tally.add(&judgement.verdict);
        if judgement.verdict.is_failure() && !proposed.contains(&job.case.name.as_str()) {
            let arch = session.place.arch();
            let case = job.case.on_arch(arch).unwrap_or_else(|_| job.case.clone());
            if let Some((diff, written)) = proposal(root, arch, &case, &job.label(), judgement) {
                println!("{diff}");
                pending += usize::from(written.is_some());
                proposed.push(&job.case.name);
            }
        }
    }
    let environment = results.iter().find_map(|r| r.as_ref().err());
    tally.errors += results.iter().filter(|r| r.is_err()).count();
    if options.cases.is_empty() {
        for orphan in snapshot::orphans(root, &session.cases) {
            println!(
                "warning: {}/{orphan} belongs to no case: remove it",
                snapshot::SNAPSHOT_DIR
            );
        }
    }
    if pending > 0 {
        println!(
            "{pending} new snapshot(s): review them with `cargo insta review` \
             (`cargo install cargo-insta` provides it)"
        );
    }
    if options.aarch64 {
        println!("{}", crate::place::aarch64::sve_report());
    }
    if repeat > 1 {
        for line in flaky_lines(&jobs, &results, repeat) {
            println!("{line}");
        }
    }
    println!("{}", tally.summary());
    match environment {
        Some(e) => Err(Error::Environment(format!("cannot run the check: {e}"))),
        None => Ok(Status::from_failures(tally.failing())),
    }
}
