//! One case on one interpreter, judged against the case's snapshot: a
//! Python we did not write ([`python`]), or a minipy variant ([`minipy`],
//! for the conformance report's own columns).
//!
//! A Python run keeps only the case's own frames ([`super::own_frames`]),
//! is normalised and rendered like any run, and compared with the stored
//! snapshot at the level its unwinding mode allows ([`Support`]). Nothing is
//! written to `snapshots/`: the snapshots are minipy's, accepted through
//! `harness check`.

use super::classify::{at_level, classify, says_something, DeviationCheck, Outcome};
use super::compare::{self, Level};
use super::detect::{Python, Support};
use super::own_frames;
use crate::cases::{Case, Variant};
use crate::normalize::{self, Observation};
use crate::run::{self, RunError};
use crate::{expect, render, snapshot};
use std::path::Path;

/// What every run of a report shares.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub root: &'a Path,
    pub perf: &'a Path,
}

/// The case as a Python runs it: `[python] interpreter_args` replace the
/// case's when given.
pub fn python_case(case: &Case) -> Case {
    let mut python = case.clone();
    if let Some(args) = &case.python.interpreter_args {
        python.interpreter_args = args.clone();
    }
    python
}

fn stored_snapshot(ctx: &Context, case: &Case) -> Result<String, Outcome> {
    let path = snapshot::snapshot_path(ctx.root, case);
    snapshot::stored_text(&path).ok_or_else(|| Outcome::Error {
        why: format!(
            "no snapshot {}: accept minipy's with `harness check {}` first",
            snapshot::snapshot_path(Path::new(""), case).display(),
            case.name
        ),
    })
}

fn run_error(e: RunError) -> Outcome {
    Outcome::Error { why: e.to_string() }
}

/// Judges an observation of `case` at `level` against `stored`.
pub fn judge_observation(case: &Case, stored: &str, obs: &Observation, level: Level) -> Outcome {
    let (stored, text) = (
        compare::parse(stored),
        compare::parse(&render::render(case, obs)),
    );
    let differences = compare::differences(level, &stored, &text);
    let mut judged = case.clone();
    judged.expect = at_level(&case.expect, level);
    let failures = expect::check(&judged, obs);
    let deviation = case.python.deviation.as_ref().map(|d| {
        let expect = at_level(&d.expect, level);
        let failures = if says_something(&expect) {
            judged.expect = expect;
            expect::check(&judged, obs)
        } else {
            vec![format!(
                "[python.expect] expects nothing the {} level can see",
                level.name()
            )]
        };
        DeviationCheck {
            why: d.why.clone(),
            failures,
        }
    });
    let mut outcome = classify(differences, failures, deviation);
    if let Outcome::KnownDeviation { same_stacks, .. } = &mut outcome {
        if level == Level::Full {
            *same_stacks = compare::same_main_stacks(&stored, &text);
        }
    }
    outcome
}

/// Runs `case` on `python` and judges it.
pub fn python(ctx: &Context, case: &Case, python: &Python) -> Outcome {
    if let Some(why) = &case.python.skip {
        return Outcome::Skipped { why: why.clone() };
    }
    let (level, unsupported) = match python.capabilities.support(case.unwind) {
        Support::None(why) => return Outcome::NotSupported { why, maps: None },
        Support::MapsOnly(why) => (Level::Maps, Some(why)),
        Support::Full => (Level::Full, None),
    };
    let stored = match stored_snapshot(ctx, case) {
        Ok(text) => text,
        Err(outcome) => return outcome,
    };
    let run_case = python_case(case);
    let outcome = match observe_run(ctx, &run_case, None, &python.info.executable) {
        Ok(obs) => judge_observation(case, &stored, &obs, level),
        Err(e) => run_error(e),
    };
    match unsupported {
        Some(why) => Outcome::NotSupported {
            why,
            maps: Some(Box::new(outcome)),
        },
        None => outcome,
    }
}

/// Runs `case` on a minipy variant and judges it: the same text as the
/// snapshot and every expectation met, as `harness check` requires.
pub fn minipy(ctx: &Context, case: &Case, variant: Variant, binary: &Path) -> Outcome {
    let stored = match stored_snapshot(ctx, case) {
        Ok(text) => text,
        Err(outcome) => return outcome,
    };
    match observe_run(ctx, case, Some(variant), binary) {
        Ok(obs) => {
            let text = render::render(case, &obs);
            let mut differences = compare::differences(
                Level::Full,
                &compare::parse(&stored),
                &compare::parse(&text),
            );
            if differences.is_empty() && text.trim_end() != stored.trim_end() {
                differences.push(format!(
                    "differs from {} (see `harness check {}`)",
                    snapshot::snapshot_path(Path::new(""), case).display(),
                    case.name
                ));
            }
            classify(differences, expect::check(case, &obs), None)
        }
        Err(e) => run_error(e),
    }
}

/// Runs `case` under perf with `interpreter` (a minipy `variant`, or
/// `None` for a Python) and observes it while its folder still exists;
/// a Python's run keeps only the case's own frames and names.
pub fn observe_run(
    ctx: &Context,
    case: &Case,
    variant: Option<Variant>,
    interpreter: &Path,
) -> Result<Observation, RunError> {
    let request = run::Request {
        case,
        variant,
        interpreter,
        perf: ctx.perf,
        keep: false,
    };
    let mut finished = run::run(&request)?;
    if variant.is_some() {
        return Ok(normalize::observe(&finished.raw));
    }
    own_frames::keep_own(&mut finished.raw);
    let mut obs = normalize::observe(&finished.raw);
    own_frames::keep_own_dump_names(&mut obs);
    Ok(obs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;
    use crate::cases::{Deviation, Expectations, StackPattern};
    use crate::normalize::ProcessObservation;
    use crate::run::Exit;

    const NAMES: [&str; 2] = ["py::<module>:$CASE/x.py", "py::foo:$CASE/x.py"];

    /// A run with support off (no map, no stacks) or on (map, chain).
    fn obs(on: bool) -> Observation {
        let process = ProcessObservation {
            map: on.then(|| NAMES.map(String::from).to_vec()),
            samples: 100,
            stacks: if on {
                vec![(vec!["<module>".into(), "foo".into()], 90)]
            } else {
                vec![]
            },
            ..Default::default()
        };
        Observation {
            exit: Exit::Code(0),
            stdout: "5\n".into(),
            stderr: String::new(),
            processes: vec![process],
            total_samples: 100,
        }
    }

    /// `-X perf=0`: the snapshot has support off; CPython turns it on.
    fn xperf0(deviation: Option<Expectations>) -> (Case, String) {
        let mut case = case("xperf0", &["-X", "perf=0"], &["5"]);
        case.expect.no_map = true;
        case.python.deviation = deviation.map(|expect| Deviation {
            why: "-X perf=0 turns perf on".into(),
            expect,
        });
        let stored = render::render(&case, &obs(false));
        (case, stored)
    }

    fn on_expectations() -> Expectations {
        Expectations {
            map_names: Some(NAMES.map(String::from).to_vec()),
            stacks: vec![StackPattern::parse("<module> > foo").unwrap()],
            ..Default::default()
        }
    }

    #[test]
    fn the_documented_difference_is_a_known_deviation_at_both_levels() {
        let (case, stored) = xperf0(Some(on_expectations()));
        for level in [Level::Full, Level::Maps] {
            let outcome = judge_observation(&case, &stored, &obs(true), level);
            let Outcome::KnownDeviation {
                why,
                differences,
                same_stacks,
            } = outcome
            else {
                panic!("{level:?}: {outcome:?}");
            };
            assert_eq!(why, "-X perf=0 turns perf on");
            assert_eq!(same_stacks, None);
            assert!(
                differences.contains(&"a perf map was written, expected none".to_string()),
                "{differences:?}"
            );
        }
    }

    #[test]
    fn without_a_deviation_or_beyond_it_the_run_differs() {
        let (plain, stored) = xperf0(None);
        assert!(matches!(
            judge_observation(&plain, &stored, &obs(true), Level::Maps),
            Outcome::Differs { .. }
        ));
        // The deviation expects the chain; a run with the map but no chain
        // is not the documented deviation (at the full level).
        let (case, stored) = xperf0(Some(on_expectations()));
        let mut half = obs(true);
        half.processes[0].stacks.clear();
        let Outcome::Differs { differences } =
            judge_observation(&case, &stored, &half, Level::Full)
        else {
            panic!("must differ");
        };
        assert!(
            differences.last().unwrap().starts_with(
                "not the documented deviation (-X perf=0 turns perf on): stack `<module> > foo`"
            ),
            "{differences:?}"
        );
        // At the maps level the same run is the deviation: stacks are not judged there.
        assert!(matches!(
            judge_observation(&case, &stored, &half, Level::Maps),
            Outcome::KnownDeviation { .. }
        ));
    }

    #[test]
    fn a_deviation_the_maps_level_cannot_see_does_not_excuse_anything() {
        let stacks_only = Expectations {
            stacks: vec![StackPattern::parse("<module> > foo").unwrap()],
            ..Default::default()
        };
        let (case, stored) = xperf0(Some(stacks_only));
        let Outcome::Differs { differences } =
            judge_observation(&case, &stored, &obs(true), Level::Maps)
        else {
            panic!("must differ");
        };
        assert!(
            differences
                .last()
                .unwrap()
                .ends_with("[python.expect] expects nothing the maps level can see"),
            "{differences:?}"
        );
    }

    #[test]
    fn an_equal_run_is_the_same_and_equal_stacks_are_named_in_a_deviation() {
        let (case, stored) = xperf0(Some(on_expectations()));
        assert_eq!(
            judge_observation(&case, &stored, &obs(false), Level::Full),
            Outcome::Same
        );
        // A snapshot with the chain, and a run with the chain and an extra
        // expectation failure that the deviation explains.
        let mut chain = case.clone();
        chain.expect.no_map = false;
        chain.expect.no_jitdump = true;
        let stored = render::render(&chain, &obs(true));
        let mut with_dump = obs(true);
        with_dump.processes[0].dump = Some(vec![]);
        chain.python.deviation.as_mut().unwrap().expect.no_jitdump = false;
        let outcome = judge_observation(&chain, &stored, &with_dump, Level::Full);
        assert!(
            matches!(
                &outcome,
                Outcome::KnownDeviation { same_stacks: Some(s), .. } if s == "<module> > foo"
            ),
            "{outcome:?}"
        );
    }
}
