//! `harness check`: builds, runs every case and variant (two at a time),
//! judges each against its expectations and its snapshot, and decides the
//! exit status.

use crate::cases::{self, Build, Case, Variant};
use crate::normalize::{self, Observation};
use crate::report::{verdict_line, Reporter, Tally, Verdict};
use crate::run::{self, RunError};
use crate::{build, doctor, expect, render, snapshot, Status};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// How `check` runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Case names to run; all when empty.
    pub cases: Vec<String>,
    /// Runs at the same time.
    pub jobs: usize,
    /// Runs per case and variant; every run must give the same text.
    pub repeat: usize,
    /// Build the interpreters first (otherwise use what `target/harness` has).
    pub build: bool,
}

/// A finished run: its variant, its repeat number, and what it showed.
type RunOutcome = (Variant, usize, Result<Observation, RunError>);

/// One run to do.
struct Job {
    case: usize,
    variant: Variant,
    repeat: usize,
}

/// Loads the cases and keeps those named (all when `names` is empty).
pub fn select(root: &Path, names: &[String]) -> Result<Vec<Case>, String> {
    let all = cases::load_all(root).map_err(|e| e.to_string())?;
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|name| {
            all.iter()
                .find(|c| &c.name == name)
                .cloned()
                .ok_or_else(|| format!("unknown case `{name}` (see `harness list`)"))
        })
        .collect()
}

/// Builds (or, with `build == false`, finds) the interpreters the cases
/// need.
pub fn interpreters(
    root: &Path,
    cases: &[Case],
    build: bool,
    say: impl Fn(&str),
) -> Result<BTreeMap<Build, PathBuf>, String> {
    let mut needed: Vec<Build> = cases
        .iter()
        .flat_map(|c| c.variants.iter().map(|v| v.build()))
        .collect();
    needed.sort();
    needed.dedup();
    let mut binaries = BTreeMap::new();
    for b in needed {
        let binary = if build {
            say(&format!(
                "building {} {} into {}",
                build::PACKAGE,
                b.description(),
                build::target_dir(root, b).display()
            ));
            build::build(root, b).map_err(|e| format!("{e:#}"))?
        } else {
            let binary = build::binary(root, b);
            if !binary.is_file() {
                return Err(format!(
                    "{} is not built: run without --no-build",
                    binary.display()
                ));
            }
            binary
        };
        binaries.insert(b, binary);
    }
    Ok(binaries)
}

/// The verdicts of one case: per run (variant, repeat), plus diffs to show
/// at the end.
struct CaseResult {
    verdicts: Vec<(String, Verdict)>,
    diffs: Vec<(String, String)>,
    environment_error: Option<String>,
    pending: Option<PathBuf>,
}

fn run_label(variant: Variant, repeat: usize) -> String {
    if repeat == 0 {
        variant.to_string()
    } else {
        format!("{variant} #{}", repeat + 1)
    }
}

fn judge(root: &Path, case: &Case, runs: Vec<RunOutcome>) -> CaseResult {
    let mut result = CaseResult {
        verdicts: Vec::new(),
        diffs: Vec::new(),
        environment_error: None,
        pending: None,
    };
    // (position, label, text, expectation failures) of the runs that ran.
    let mut texts: Vec<(usize, String, String, Vec<String>)> = Vec::new();
    let mut verdicts: Vec<(usize, String, Verdict)> = Vec::new();
    for (position, (variant, repeat, outcome)) in runs.into_iter().enumerate() {
        let label = run_label(variant, repeat);
        match outcome {
            Err(e) => {
                if e.is_environment() {
                    result.environment_error.get_or_insert(e.to_string());
                }
                verdicts.push((position, label, Verdict::Error(e.to_string())));
            }
            Ok(obs) => {
                let failures = expect::check(case, &obs);
                texts.push((position, label, render::render(case, &obs), failures));
            }
        }
    }
    if let Some((_, first_label, first_text, _)) = texts.first().cloned() {
        // The first run's text stands for the case; every other run must agree with it.
        let shown = snapshot::snapshot_path(Path::new(""), case);
        let snapshot_ok = match snapshot::compare(root, case, &first_text) {
            snapshot::Outcome::Matches => true,
            snapshot::Outcome::Differs { diff, pending } => {
                result.diffs.push((
                    format!("{} (from the {first_label} run)", shown.display()),
                    diff,
                ));
                result.pending = pending;
                false
            }
        };
        for (position, label, text, mut failures) in texts {
            if text != first_text {
                failures.push(format!("snapshot text differs from the {first_label} run"));
                let title = format!("{}: {label} run against {first_label} run", case.name);
                result
                    .diffs
                    .push((title, snapshot::diff(&first_text, &text, false)));
            } else if !snapshot_ok {
                failures.push(format!("differs from {}", shown.display()));
            }
            let verdict = if failures.is_empty() {
                Verdict::Pass
            } else {
                Verdict::Fail(failures)
            };
            verdicts.push((position, label, verdict));
        }
    }
    verdicts.sort_by_key(|(position, _, _)| *position);
    result.verdicts = verdicts
        .into_iter()
        .map(|(_, label, verdict)| (label, verdict))
        .collect();
    result
}

fn run_one(
    case: &Case,
    variant: Variant,
    binaries: &BTreeMap<Build, PathBuf>,
    perf: &Path,
) -> Result<Observation, RunError> {
    let interpreter = &binaries[&variant.build()];
    let request = run::Request {
        case,
        variant: Some(variant),
        interpreter,
        perf,
        keep: false,
    };
    let finished = run::run(&request)?;
    Ok(normalize::observe(&finished.raw))
}

/// Runs the check and prints its report.
pub fn check(root: &Path, options: &Options) -> Status {
    let cases = match select(root, &options.cases) {
        Ok(cases) => cases,
        Err(e) => {
            eprintln!("{e}");
            return Status::Environment;
        }
    };
    let perf = Path::new("perf");
    if let Err(e) = doctor::probe_sampling(perf) {
        eprintln!("cannot run the check: {e}");
        return Status::Environment;
    }
    let binaries = match interpreters(root, &cases, options.build, |s| println!("{s}")) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot run the check: {e}");
            return Status::Environment;
        }
    };
    snapshot::configure_insta(root);

    let repeat = options.repeat.max(1);
    let jobs: Vec<Job> = cases
        .iter()
        .enumerate()
        .flat_map(|(i, c)| {
            c.variants.iter().flat_map(move |&v| {
                (0..repeat).map(move |r| Job {
                    case: i,
                    variant: v,
                    repeat: r,
                })
            })
        })
        .collect();
    let mut remaining: Vec<usize> = cases.iter().map(|c| c.variants.len() * repeat).collect();
    let mut collected: Vec<Vec<RunOutcome>> = cases.iter().map(|_| Vec::new()).collect();

    let reporter = Reporter::new(jobs.len());
    let mut tally = Tally::default();
    let mut diffs = Vec::new();
    let mut pending = Vec::new();
    let mut environment_error = None;
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.max(1) {
            let sender = sender.clone();
            let (jobs, next, cases, binaries) = (&jobs, &next, &cases, &binaries);
            scope.spawn(move || {
                while let Some(job) = jobs.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let outcome = run_one(&cases[job.case], job.variant, binaries, perf);
                    if sender
                        .send((job.case, job.variant, job.repeat, outcome))
                        .is_err()
                    {
                        break;
                    }
                }
            });
        }
        drop(sender);
        // Judge cases in order as soon as all their runs are in, so lines
        // come out in a stable order while runs go on.
        let mut next_case = 0;
        for (case, variant, repeat, outcome) in receiver {
            reporter.step(&format!(
                "{} [{}]",
                cases[case].name,
                run_label(variant, repeat)
            ));
            remaining[case] -= 1;
            collected[case].push((variant, repeat, outcome));
            while next_case < cases.len() && remaining[next_case] == 0 {
                let mut runs = std::mem::take(&mut collected[next_case]);
                runs.sort_by_key(|(v, r, _)| (*v, *r));
                let result = judge(root, &cases[next_case], runs);
                for (label, verdict) in &result.verdicts {
                    reporter.line(&verdict_line(&cases[next_case].name, label, verdict));
                    tally.add(verdict);
                }
                diffs.extend(result.diffs);
                pending.extend(result.pending);
                if environment_error.is_none() {
                    environment_error = result.environment_error;
                }
                next_case += 1;
            }
        }
    });
    reporter.finish();

    for (title, diff) in &diffs {
        println!("\n── {title} ──\n{diff}");
    }
    if options.cases.is_empty() {
        for orphan in snapshot::orphans(root, &cases) {
            println!(
                "warning: {}/{orphan} belongs to no case: remove it",
                snapshot::SNAPSHOT_DIR
            );
        }
    }
    if !pending.is_empty() {
        println!(
            "{} new snapshot(s): review them with `cargo insta review` \
             (`cargo install cargo-insta` provides it)",
            pending.len()
        );
    }
    println!("{}", tally.summary());
    if let Some(e) = environment_error {
        eprintln!("cannot run the check: {e}");
        return Status::Environment;
    }
    if tally.failed + tally.errors > 0 {
        Status::Failed
    } else {
        Status::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;
    use crate::normalize::ProcessObservation;
    use crate::run::Exit;

    fn observation(stack: &str) -> Observation {
        let process = ProcessObservation {
            map: Some(vec![]),
            samples: 10,
            stacks: vec![(cases::StackPattern::parse(stack).unwrap().0, 10)],
            max_py_depth: 2,
            ..Default::default()
        };
        Observation {
            exit: Exit::Code(0),
            stdout: String::new(),
            stderr: String::new(),
            processes: vec![process],
            total_samples: 10,
        }
    }

    #[test]
    fn variants_that_disagree_fail_and_environment_errors_are_flagged() {
        let root = tempfile::tempdir().unwrap();
        snapshot::configure_insta(root.path());
        let case = case("judge", &[], &[]);
        let runs = vec![
            (Variant::C, 0, Ok(observation("<module> > a"))),
            (Variant::Rust, 0, Ok(observation("<module> > b"))),
            (Variant::Rust, 1, Err(RunError::NoSamples)),
        ];
        let result = judge(root.path(), &case, runs);
        assert!(result.environment_error.is_some());
        // No snapshot exists yet: the c run differs from it, the rust run from the c run.
        assert_eq!(
            result.verdicts[0],
            (
                "c".to_string(),
                Verdict::Fail(vec!["differs from snapshots/judge.snap".into()])
            )
        );
        assert_eq!(
            result.verdicts[1],
            (
                "rust".to_string(),
                Verdict::Fail(vec!["snapshot text differs from the c run".into()])
            )
        );
        assert!(matches!(&result.verdicts[2], (label, Verdict::Error(_)) if label == "rust #2"));
        assert_eq!(result.diffs.len(), 2);
        assert!(
            result.diffs[1]
                .1
                .contains("-    <module> > a\n+    <module> > b"),
            "{}",
            result.diffs[1].1
        );
    }
}
