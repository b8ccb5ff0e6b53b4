//! What every command starts with, written once: load and select the cases,
//! make sure perf can sample where they run (the [`Place`]), watch for
//! Ctrl-C, and make the runtimes (build minipy's variants, find the
//! Pythons); then judge a case on a runtime ([`Session::judge`]), many at a
//! time ([`in_parallel`]).

use crate::cases::{self, Case, Variant};
use crate::error::Error;
use crate::judge::{self, Context, Judgement, Level};
use crate::observe::observe;
use crate::place::{Local, Place};
use crate::runtime::minipy::{Build, Minipy};
use crate::runtime::{Runtime, Support};
use crate::snapshot;
use crate::verdict::Verdict;
use perf_script::Perf;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The cases a command works with, and where they run.
pub struct Session {
    pub root: PathBuf,
    pub cases: Vec<Case>,
    pub place: Box<dyn Place>,
}

/// Loads the cases under `root` and keeps those named (all when `names` is
/// empty).
pub fn select(root: &Path, names: &[String]) -> Result<Vec<Case>, Error> {
    let all = cases::load_all(root)?;
    if names.is_empty() {
        return Ok(all);
    }
    names
        .iter()
        .map(|name| {
            all.iter()
                .find(|c| &c.name == name)
                .cloned()
                .ok_or_else(|| {
                    Error::Environment(format!("unknown case `{name}` (see `harness list`)"))
                })
        })
        .collect()
}

/// The kernel's limit on native frames per sample.
pub fn kernel_max_stack() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_max_stack")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// On the first Ctrl-C, every perf run is killed with its workload (their
/// files are removed on the way out); a second one ends the harness at once.
fn watch_interrupts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if perf_script::cancelled() {
                std::process::exit(130);
            }
            perf_script::cancel();
        });
    });
}

impl Session {
    /// Loads the cases, watches for Ctrl-C, and probes perf: an error when
    /// perf cannot sample here (with the fix). The cases run here.
    pub fn start(root: &Path, names: &[String]) -> Result<Session, Error> {
        let cases = select(root, names)?;
        watch_interrupts();
        let perf = Perf::new("perf");
        perf.probe()?;
        Ok(Session {
            root: root.to_path_buf(),
            cases,
            place: Box::new(Local { perf }),
        })
    }

    /// The cases run in `place` (which made sure its perf can sample).
    pub fn start_in(root: &Path, cases: Vec<Case>, place: Box<dyn Place>) -> Session {
        watch_interrupts();
        Session {
            root: root.to_path_buf(),
            cases,
            place,
        }
    }

    /// The minipy variants the cases use, built, or found in
    /// `target/harness` with `build == false`.
    pub fn minipy(&self, build: bool, say: impl Fn(&str)) -> Result<Vec<Minipy>, Error> {
        let variants: Vec<Variant> = Variant::ALL
            .into_iter()
            .filter(|v| self.cases.iter().any(|c| c.variants.contains(v)))
            .collect();
        let mut made: Vec<(Build, PathBuf)> = Vec::new();
        let mut minipys = Vec::new();
        for variant in variants {
            let kind = Build::of(variant);
            let binary = match made.iter().find(|(b, _)| *b == kind) {
                Some((_, binary)) => binary.clone(),
                None => {
                    if build {
                        say(&format!(
                            "building minipy {} into {}",
                            kind.description(),
                            kind.target_dir(&self.root).display()
                        ));
                    }
                    let binary = kind.make(&self.root, build)?;
                    made.push((kind, binary.clone()));
                    binary
                }
            };
            minipys.push(Minipy { variant, binary });
        }
        if perf_script::cancelled() {
            return Err(Error::Interrupted);
        }
        Ok(minipys)
    }

    /// Judges `case` on `runtime`: skipped when the case or the kernel say
    /// so, not supported when the runtime cannot be judged in the case's
    /// mode, else run (again, while unclear) and judged at the level the
    /// runtime allows. An error when the environment cannot run it at all
    /// (no perf, no permission, no samples, interrupted).
    pub fn judge(&self, case: &Case, runtime: &dyn Runtime) -> Result<Judgement, Error> {
        let verdict = |verdict| {
            Ok(Judgement {
                verdict,
                reruns: Vec::new(),
                pooled: None,
            })
        };
        let arch = self.place.arch();
        let case = &match case.on_arch(arch) {
            Ok(case) => case,
            Err(why) => return verdict(Verdict::Skipped { why }),
        };
        if let Some(why) = runtime.rules(case).and_then(|r| r.skip.clone()) {
            return verdict(Verdict::Skipped { why });
        }
        if let (Some(needed), Some(actual)) = (case.max_stack, kernel_max_stack()) {
            if actual < needed {
                return verdict(Verdict::Skipped {
                    why: format!(
                        "needs kernel.perf_event_max_stack >= {needed} (it is {actual}); \
                         `sudo sysctl -w kernel.perf_event_max_stack={needed}` runs it"
                    ),
                });
            }
        }
        let (level, unsupported) = match runtime.support(case.unwind) {
            Support::None(why) => return verdict(Verdict::NotSupported { why, maps: None }),
            Support::MapsOnly(why) => (Level::Maps, Some(why)),
            Support::Full => (Level::Full, None),
        };
        let path = snapshot::snapshot_path(Path::new(""), case, arch);
        let stored = snapshot::stored(&self.root, case, arch);
        let stored = match (stored, runtime.is_reference()) {
            (Ok(Some(stored)), _) => Ok(stored),
            // A new or unreadable snapshot: the reference runs, and its run is
            // proposed as the new one.
            (Ok(None), true) => Err(format!("no snapshot yet: {}", path.display())),
            (Err(why), true) => Err(why),
            (Ok(None), false) => {
                let why = format!(
                    "no snapshot {}: accept minipy's with `harness check {}` first",
                    path.display(),
                    case.name
                );
                return verdict(Verdict::Error { why });
            }
            (Err(why), false) => return verdict(Verdict::Error { why }),
        };
        let context = Context {
            case,
            runtime,
            stored: stored.as_ref().map_err(String::clone),
            level,
        };
        let adapted = runtime.adapted(case);
        let mut fatal = None;
        let mut judgement = judge::judge(&context, || match self.place.record(&adapted, runtime) {
            Ok(recording) => Ok(observe(&recording, runtime)),
            Err(e) if e.is_environment() => {
                let why = e.to_string();
                fatal = Some(e);
                Err(why)
            }
            Err(e) => Err(e.to_string()),
        });
        if let Some(e) = fatal {
            return Err(e.into());
        }
        if let Some(why) = unsupported {
            judgement.verdict = Verdict::NotSupported {
                why,
                maps: Some(Box::new(judgement.verdict)),
            };
        }
        Ok(judgement)
    }
}

/// Runs `work` on every item, `jobs` at a time, and returns the results in
/// item order; `done` is told of each finished item (in completion order).
pub fn in_parallel<T: Sync, R: Send>(
    items: &[T],
    jobs: usize,
    work: impl Fn(&T) -> R + Sync,
    done: impl Fn(usize, &R) + Sync,
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
                        let result = work(item);
                        done(i, &result);
                        mine.push((i, result));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().expect("a worker panicked"))
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
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
            |i, _| seen.lock().unwrap().push(i),
        );
        assert_eq!(results, items.iter().map(|i| i * 10).collect::<Vec<_>>());
        let mut seen = seen.into_inner().unwrap();
        seen.sort();
        assert_eq!(seen, (0..25).collect::<Vec<_>>());
        assert!(in_parallel(&[] as &[u64], 2, |&i| i, |_, _| {}).is_empty());
    }
}
