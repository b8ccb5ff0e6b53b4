//! `harness check --python <path-or-name>` (repeatable): the cases on each
//! given Python, reported as the conformance table of those Pythons (no
//! minipy runs, no build).
//! Exit 0 when nothing differs, 1 when a case differs or could not be
//! judged, 2 when no such Python is found or perf cannot sample.

use super::detect::{self, Python};
use super::judge::{self, Context};
use super::table::{Column, Report};
use crate::report::Reporter;
use crate::{check, doctor, Status};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Finds every given interpreter; the first that cannot be found is the
/// error.
pub fn find_all(given: &[String]) -> Result<Vec<Python>, String> {
    given.iter().map(|g| detect::find(g)).collect()
}

/// Runs `work` on every item, `jobs` at a time, and returns the results in
/// item order; `done` is told of each finished item.
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    done: impl Fn(&T) + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let (work, done, next) = (&work, &done, &next);
    let mut results: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..jobs.max(1))
            .map(|_| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some(item) = items.get(i) else { break };
                        mine.push((i, work(item)));
                        done(item);
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a run panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Runs `check --python`.
pub fn check(root: &Path, names: &[String], given: &[String], jobs: usize) -> Status {
    let pythons = match find_all(given) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return Status::Environment;
        }
    };
    let cases = match check::select(root, names) {
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
    let ctx = Context { root, perf };
    let runs: Vec<(usize, usize)> = (0..cases.len())
        .flat_map(|c| (0..pythons.len()).map(move |p| (c, p)))
        .collect();
    let reporter = Reporter::new(runs.len());
    let outcomes = in_parallel(
        &runs,
        jobs,
        |&(c, p)| judge::python(&ctx, &cases[c], &pythons[p]),
        |&(c, p)| reporter.step(&format!("{} [{}]", cases[c].name, pythons[p].label())),
    );
    reporter.finish();
    let report = Report::new(
        pythons.iter().map(Column::python).collect(),
        &cases,
        runs.into_iter().zip(outcomes).collect(),
    );
    print!("{}", report.text());
    if report.has_failures() {
        Status::Failed
    } else {
        Status::Passed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn parallel_results_come_back_in_item_order_and_each_item_once() {
        let items: Vec<u64> = (0..25).collect();
        let seen = Mutex::new(Vec::new());
        let results = in_parallel(
            &items,
            3,
            |&i| {
                // Later items finish first, so completion order is not item order.
                std::thread::sleep(std::time::Duration::from_millis(25 - i));
                i * 10
            },
            |&i| seen.lock().unwrap().push(i),
        );
        assert_eq!(results, items.iter().map(|i| i * 10).collect::<Vec<_>>());
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, items);
        assert!(in_parallel(&[] as &[u64], 2, |&i| i, |_| {}).is_empty());
    }
}
