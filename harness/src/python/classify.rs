//! The verdict on one case, one interpreter, one unwinding mode, in the
//! four words of the conformance report: same as the snapshot, known
//! deviation, differs, not supported (plus skipped and error, which are
//! reported, never dropped).
//!
//! A difference is a *known deviation* only when the case documents one
//! (`[python] deviation`) and the run meets the deviation's own
//! expectations (`[python.expect]`, what CPython is known to do instead):
//! any other difference in such a case still reads as "differs".

use super::compare::Level;
use crate::cases::Expectations;
use serde::Serialize;

/// How one run compared.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// Agrees with the snapshot (at the level judged) and meets the case's
    /// expectations.
    Same,
    /// Differs as the case documents: `differences` are what differed from
    /// the snapshot and the case's expectations; `same_stacks` the main
    /// process's `py::` stacks when they still equal the snapshot's.
    KnownDeviation {
        why: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        same_stacks: Option<String>,
        differences: Vec<String>,
    },
    /// Differs; one line per difference.
    Differs { differences: Vec<String> },
    /// The interpreter cannot support the case's unwinding mode. When perf
    /// maps are still written, `maps` judges the case at the maps level.
    NotSupported {
        why: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        maps: Option<Box<Outcome>>,
    },
    /// The case says it cannot run on this interpreter.
    Skipped { why: String },
    /// The run produced nothing to judge.
    Error { why: String },
}

impl Outcome {
    /// The table cell.
    pub fn cell(&self) -> String {
        match self {
            Outcome::Same => "same".into(),
            Outcome::KnownDeviation { .. } => "known deviation".into(),
            Outcome::Differs { .. } => "DIFFERS".into(),
            Outcome::NotSupported { maps: None, .. } => "not supported".into(),
            Outcome::NotSupported { maps: Some(m), .. } => {
                format!("not supported (maps: {})", m.cell())
            }
            Outcome::Skipped { .. } => "skipped".into(),
            Outcome::Error { .. } => "ERROR".into(),
        }
    }

    /// Whether this outcome fails a `check` or report run.
    pub fn is_failure(&self) -> bool {
        match self {
            Outcome::Differs { .. } | Outcome::Error { .. } => true,
            Outcome::NotSupported { maps: Some(m), .. } => m.is_failure(),
            _ => false,
        }
    }

    /// The reasons behind the cell, one line each.
    pub fn reasons(&self) -> Vec<String> {
        match self {
            Outcome::Same => Vec::new(),
            Outcome::KnownDeviation {
                why,
                same_stacks,
                differences,
            } => {
                let mut lines = vec![format!("known deviation: {why}")];
                if let Some(stacks) = same_stacks {
                    lines.push(format!("py:: stacks as in the snapshot: {stacks}"));
                }
                const SHOWN: usize = 3;
                lines.extend(
                    differences
                        .iter()
                        .take(SHOWN)
                        .map(|d| format!("differs: {d}")),
                );
                if differences.len() > SHOWN {
                    lines.push(format!(
                        "… {} more differences (--format json lists them)",
                        differences.len() - SHOWN
                    ));
                }
                lines
            }
            Outcome::Differs { differences } => differences.clone(),
            Outcome::NotSupported { why, maps } => {
                let mut lines = vec![format!("not supported by this interpreter: {why}")];
                if let Some(maps) = maps {
                    let judged = maps.reasons();
                    if judged.is_empty() {
                        lines.push("maps level: same as the snapshot".into());
                    }
                    lines.extend(judged.into_iter().map(|r| format!("maps level: {r}")));
                }
                lines
            }
            Outcome::Skipped { why } => vec![format!("skipped: {why}")],
            Outcome::Error { why } => vec![format!("error: {why}")],
        }
    }
}

/// A documented deviation, and how the run measured against it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviationCheck {
    pub why: String,
    /// Failures of the deviation's expectations on this run: empty when the
    /// run does what the deviation says.
    pub failures: Vec<String>,
}

/// The verdict from the differences with the snapshot, the failures of the
/// case's own expectations, and the case's documented deviation (if any).
pub fn classify(
    differences: Vec<String>,
    expectation_failures: Vec<String>,
    deviation: Option<DeviationCheck>,
) -> Outcome {
    let mut all = differences;
    for failure in expectation_failures {
        if !all.contains(&failure) {
            all.push(failure);
        }
    }
    if all.is_empty() {
        return Outcome::Same;
    }
    match deviation {
        Some(d) if d.failures.is_empty() => Outcome::KnownDeviation {
            why: d.why,
            same_stacks: None,
            differences: all,
        },
        Some(d) => {
            all.push(format!(
                "not the documented deviation ({}): {}",
                d.why,
                d.failures.join("; ")
            ));
            Outcome::Differs { differences: all }
        }
        None => Outcome::Differs { differences: all },
    }
}

/// The expectations that can be judged at `level`: at the maps level, none
/// about stacks or `py::` frames in samples.
pub fn at_level(expect: &Expectations, level: Level) -> Expectations {
    let mut e = expect.clone();
    if level == Level::Maps {
        e.stacks.clear();
        e.no_other_stacks = false;
        e.absent_stacks.clear();
        e.child_stacks.clear();
        e.child_absent_stacks.clear();
        e.no_py_frames = false;
        e.max_py_depth = None;
    }
    e
}

/// Whether `expect` says anything beyond the exit status: a deviation must
/// be recognisable by something it expects.
pub fn says_something(expect: &Expectations) -> bool {
    let mut e = expect.clone();
    e.exit = 0;
    e != Expectations::default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::StackPattern;

    fn deviation(failures: &[&str]) -> Option<DeviationCheck> {
        Some(DeviationCheck {
            why: "-X perf=0 turns perf on".into(),
            failures: failures.iter().map(|s| s.to_string()).collect(),
        })
    }

    fn lines(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn no_difference_is_same_even_with_a_deviation_documented() {
        assert_eq!(classify(vec![], vec![], None), Outcome::Same);
        assert_eq!(classify(vec![], vec![], deviation(&[])), Outcome::Same);
    }

    #[test]
    fn a_difference_that_meets_the_deviation_is_a_known_deviation() {
        let outcome = classify(
            lines(&["process 1: perf map: 4 entries instead of none"]),
            lines(&["a perf map was written, expected none"]),
            deviation(&[]),
        );
        assert_eq!(
            outcome,
            Outcome::KnownDeviation {
                why: "-X perf=0 turns perf on".into(),
                same_stacks: None,
                differences: lines(&[
                    "process 1: perf map: 4 entries instead of none",
                    "a perf map was written, expected none"
                ]),
            }
        );
        assert_eq!(
            outcome.reasons(),
            [
                "known deviation: -X perf=0 turns perf on",
                "differs: process 1: perf map: 4 entries instead of none",
                "differs: a perf map was written, expected none"
            ]
        );
        assert!(!outcome.is_failure());
        assert_eq!(outcome.cell(), "known deviation");
    }

    #[test]
    fn a_difference_the_deviation_does_not_explain_differs() {
        let outcome = classify(
            lines(&["exit: 1 instead of 0"]),
            vec![],
            deviation(&["the main process wrote no perf map"]),
        );
        assert_eq!(
            outcome,
            Outcome::Differs {
                differences: lines(&[
                    "exit: 1 instead of 0",
                    "not the documented deviation (-X perf=0 turns perf on): \
                     the main process wrote no perf map"
                ])
            }
        );
        assert!(outcome.is_failure());
        let plain = classify(
            lines(&["exit: 1 instead of 0"]),
            lines(&["exit: 1 instead of 0"]),
            None,
        );
        assert_eq!(
            plain,
            Outcome::Differs {
                differences: lines(&["exit: 1 instead of 0"])
            }
        );
    }

    #[test]
    fn not_supported_carries_the_maps_level_verdict() {
        let ok = Outcome::NotSupported {
            why: "no frame pointers".into(),
            maps: Some(Box::new(Outcome::Same)),
        };
        assert_eq!(ok.cell(), "not supported (maps: same)");
        assert!(!ok.is_failure());
        assert_eq!(
            ok.reasons(),
            [
                "not supported by this interpreter: no frame pointers",
                "maps level: same as the snapshot"
            ]
        );
        let bad = Outcome::NotSupported {
            why: "no frame pointers".into(),
            maps: Some(Box::new(Outcome::Differs {
                differences: lines(&["exit: 1 instead of 0"]),
            })),
        };
        assert_eq!(bad.cell(), "not supported (maps: DIFFERS)");
        assert!(bad.is_failure());
        assert_eq!(bad.reasons()[1], "maps level: exit: 1 instead of 0");
        let nothing = Outcome::NotSupported {
            why: "no perf_jit".into(),
            maps: None,
        };
        assert_eq!(nothing.cell(), "not supported");
        assert!(!nothing.is_failure());
        assert!(!Outcome::Skipped { why: "x".into() }.is_failure());
        assert!(Outcome::Error { why: "x".into() }.is_failure());
    }

    #[test]
    fn the_maps_level_drops_every_stack_expectation() {
        let pattern = |s: &str| StackPattern::parse(s).unwrap();
        let full = Expectations {
            stacks: vec![pattern("<module> > foo")],
            no_other_stacks: true,
            absent_stacks: vec![pattern("foo")],
            child_stacks: vec![pattern("a")],
            child_absent_stacks: vec![pattern("b")],
            no_py_frames: true,
            max_py_depth: Some(1),
            no_map: true,
            ..Default::default()
        };
        assert_eq!(at_level(&full, Level::Full), full);
        let maps = at_level(&full, Level::Maps);
        assert_eq!(
            maps,
            Expectations {
                no_map: true,
                ..Default::default()
            }
        );
        assert!(says_something(&maps));
        let stacks_only = Expectations {
            exit: 1,
            stacks: vec![pattern("foo")],
            ..Default::default()
        };
        assert!(says_something(&stacks_only));
        assert!(!says_something(&at_level(&stacks_only, Level::Maps)));
    }

    #[test]
    fn outcomes_serialise_with_a_tag() {
        let json = serde_json::to_string(&Outcome::NotSupported {
            why: "w".into(),
            maps: Some(Box::new(Outcome::KnownDeviation {
                why: "d".into(),
                same_stacks: None,
                differences: vec!["x".into()],
            })),
        })
        .unwrap();
        assert_eq!(
            json,
            r#"{"outcome":"not_supported","why":"w","maps":{"outcome":"known_deviation","why":"d","differences":["x"]}}"#
        );
    }
}
