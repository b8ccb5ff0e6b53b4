//! A case's explicit expectations, judged against an [`Observation`]
//! independently of its snapshot, so that a wrongly accepted snapshot cannot
//! hide a broken rule.

use crate::cases::{Case, StackPattern};
use crate::normalize::{fold_stack, Observation, ProcessObservation, THRESHOLD_PERCENT};
use crate::run::Exit;

fn listed(stacks: &[&[String]]) -> String {
    if stacks.is_empty() {
        return "none".into();
    }
    stacks
        .iter()
        .map(|s| fold_stack(s))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn has_stack(process: &ProcessObservation, pattern: &StackPattern) -> bool {
    process.significant_stacks().contains(&pattern.0.as_slice())
}

/// Where two name lists part, in one short line (maps can be long); `what`
/// names the lists ("perf map", "jitdump").
fn first_difference(what: &str, actual: &[String], expected: &[String]) -> String {
    let at = actual
        .iter()
        .zip(expected)
        .take_while(|(a, e)| a == e)
        .count();
    let shown = |list: &[String]| {
        list.get(at)
            .map_or("the end".to_string(), |n| format!("`{n}`"))
    };
    format!(
        "{what} names differ at entry {}: {} instead of {} ({} entries, expected {})",
        at + 1,
        shown(actual),
        shown(expected),
        actual.len(),
        expected.len()
    )
}

/// Every way the observation breaks the case's expectations; empty when it
/// meets them all.
pub fn check(case: &Case, obs: &Observation) -> Vec<String> {
    let e = &case.expect;
    let mut failures = Vec::new();
    let main = obs.processes.first().cloned().unwrap_or_default();
    let children = obs.processes.get(1..).unwrap_or_default();

    if obs.total_samples < case.min_samples {
        failures.push(format!(
            "only {} samples, need at least {} to judge",
            obs.total_samples, case.min_samples
        ));
    }
    if obs.exit != Exit::Code(e.exit) {
        failures.push(format!("exit status {} (expected {})", obs.exit, e.exit));
    }
    for text in &e.stdout_contains {
        if !obs.stdout.contains(text.as_str()) {
            failures.push(format!("stdout lacks {text:?}"));
        }
    }
    for text in &e.stderr_contains {
        if !obs.stderr.contains(text.as_str()) {
            failures.push(format!("stderr lacks {text:?}"));
        }
    }
    for pattern in &e.stacks {
        if !has_stack(&main, pattern) {
            failures.push(format!(
                "stack `{pattern}` not among the main process's stacks >= {THRESHOLD_PERCENT}% ({})",
                listed(&main.significant_stacks())
            ));
        }
    }
    if e.no_other_stacks {
        for stack in main.significant_stacks() {
            if !e.stacks.iter().any(|p| p.0.as_slice() == stack) {
                failures.push(format!(
                    "unexpected stack `{}` in the main process",
                    fold_stack(stack)
                ));
            }
        }
    }
    for pattern in &e.absent_stacks {
        for process in &obs.processes {
            if let Some(stack) = process
                .significant_stacks()
                .into_iter()
                .find(|s| pattern.is_within(s))
            {
                failures.push(format!(
                    "stack `{}` shows the chain `{pattern}`, which must be absent",
                    fold_stack(stack)
                ));
            }
        }
    }
    for pattern in &e.child_stacks {
        if !children.iter().any(|c| has_stack(c, pattern)) {
            let shown: Vec<&[String]> = children
                .iter()
                .flat_map(|c| c.significant_stacks())
                .collect();
            failures.push(format!(
                "stack `{pattern}` not in any forked child ({})",
                listed(&shown)
            ));
        }
    }
    for pattern in &e.child_absent_stacks {
        for child in children {
            if let Some(stack) = child
                .significant_stacks()
                .into_iter()
                .find(|s| pattern.is_within(s))
            {
                failures.push(format!(
                    "a forked child shows `{}`, which must not hold `{pattern}`",
                    fold_stack(stack)
                ));
            }
        }
    }
    let with_py: usize = obs
        .processes
        .iter()
        .map(|p| p.stacks.iter().map(|(_, n)| n).sum::<usize>())
        .sum();
    if e.no_py_frames && with_py > 0 {
        failures.push(format!("{with_py} samples have py:: frames, expected none"));
    }
    if let Some(max) = e.max_py_depth {
        let deepest = obs
            .processes
            .iter()
            .map(|p| p.max_py_depth)
            .max()
            .unwrap_or(0);
        if deepest > max {
            failures.push(format!(
                "a sample has {deepest} py:: frames, expected at most {max}"
            ));
        }
    }
    if let Some(names) = &e.map_names {
        match &main.map {
            None => failures.push("the main process wrote no perf map".into()),
            Some(map) if map != names => failures.push(first_difference("perf map", map, names)),
            Some(_) => {}
        }
    }
    if let Some(count) = e.map_count {
        let actual = main.map.as_ref().map_or(0, Vec::len);
        if actual != count {
            failures.push(format!("perf map has {actual} entries, expected {count}"));
        }
    }
    if e.no_map && obs.processes.iter().any(|p| p.map.is_some()) {
        failures.push("a perf map was written, expected none".into());
    }
    if e.map_valid {
        for (i, process) in obs.processes.iter().enumerate() {
            for problem in &process.map_problems {
                failures.push(format!("process {}: {problem}", i + 1));
            }
            if process.unresolved_stub_frames > 0 {
                failures.push(format!(
                    "process {}: {} sampled frames inside stubs did not resolve to a py:: name",
                    i + 1,
                    process.unresolved_stub_frames
                ));
            }
        }
    }
    if e.no_jitdump && obs.processes.iter().any(|p| p.dump.is_some()) {
        failures.push("a jitdump was written, expected none".into());
    }
    // A dump that cannot be read to its end is broken whatever the case
    // expects of it.
    for error in obs.processes.iter().filter_map(|p| p.dump_error.as_ref()) {
        failures.push(error.clone());
    }
    if let Some(names) = &e.dump_names {
        match &main.dump {
            None => failures.push("the main process wrote no jitdump".into()),
            Some(dump) if dump != names => failures.push(first_difference("jitdump", dump, names)),
            Some(_) => {}
        }
    }
    if e.dump_valid {
        if obs.processes.iter().all(|p| p.dump.is_none()) {
            failures.push("no process wrote a jitdump to validate".into());
        }
        for (i, process) in obs.processes.iter().enumerate() {
            for problem in &process.dump_problems {
                failures.push(format!("process {}: jitdump: {problem}", i + 1));
            }
            if process.unresolved_jit_frames > 0 {
                failures.push(format!(
                    "process {}: {} sampled frames in jitted-*.so files did not resolve to a py:: name",
                    i + 1,
                    process.unresolved_jit_frames
                ));
            }
        }
    }
    if let Some(count) = e.processes {
        if obs.processes.len() != count {
            failures.push(format!(
                "{} processes ran, expected {count}",
                obs.processes.len()
            ));
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;

    fn stack(text: &str) -> Vec<String> {
        StackPattern::parse(text).unwrap().0
    }

    fn pattern(text: &str) -> StackPattern {
        StackPattern::parse(text).unwrap()
    }

    /// A parent with 100 samples (90 in the seed chain) and a child with 50.
    fn observation() -> Observation {
        let main = ProcessObservation {
            map: Some(vec![
                "py::<module>:$CASE/x.py".into(),
                "py::foo:$CASE/x.py".into(),
            ]),
            samples: 100,
            stacks: vec![
                (stack("<module> > baz > bar > foo"), 90),
                (stack("<module> > rare"), 1),
            ],
            max_py_depth: 4,
            ..Default::default()
        };
        let child = ProcessObservation {
            samples: 50,
            stacks: vec![(stack("<module> > child"), 40)],
            max_py_depth: 2,
            ..Default::default()
        };
        Observation {
            exit: Exit::Code(0),
            stdout: "done\n".into(),
            stderr: String::new(),
            processes: vec![main, child],
            total_samples: 150,
        }
    }

    fn failures_with(edit: impl FnOnce(&mut crate::cases::Expectations)) -> Vec<String> {
        let mut case = case("demo", &[], &[]);
        edit(&mut case.expect);
        check(&case, &observation())
    }

    #[test]
    fn a_matching_observation_passes_every_kind() {
        let failures = failures_with(|e| {
            e.stdout_contains = vec!["done".into()];
            e.stacks = vec![pattern("<module> > baz > bar > foo")];
            e.no_other_stacks = true;
            e.absent_stacks = vec![pattern("<module> > foo")];
            e.child_stacks = vec![pattern("<module> > child")];
            e.child_absent_stacks = vec![pattern("baz")];
            e.max_py_depth = Some(4);
            e.map_names = Some(vec![
                "py::<module>:$CASE/x.py".into(),
                "py::foo:$CASE/x.py".into(),
            ]);
            e.map_count = Some(2);
            e.map_valid = true;
            e.no_jitdump = true;
            e.processes = Some(2);
            e.dump_names = None;
        });
        assert_eq!(failures, Vec::<String>::new());
    }

    #[test]
    fn each_kind_can_fail() {
        type Edit = Box<dyn FnOnce(&mut crate::cases::Expectations)>;
        let cases: Vec<(Edit, &str)> = vec![
            (Box::new(|e| e.exit = 1), "exit status 0 (expected 1)"),
            (Box::new(|e| e.stdout_contains = vec!["x".into()]), "stdout lacks \"x\""),
            (Box::new(|e| e.stderr_contains = vec!["ValueError".into()]), "stderr lacks \"ValueError\""),
            (Box::new(|e| e.stacks = vec![pattern("<module> > rare")]), "stack `<module> > rare` not among"),
            (Box::new(|e| e.no_other_stacks = true), "unexpected stack `<module> > baz > bar > foo`"),
            (Box::new(|e| e.absent_stacks = vec![pattern("baz > bar")]), "stack `<module> > baz > bar > foo` shows the chain `baz > bar`"),
            (Box::new(|e| e.child_stacks = vec![pattern("<module> > baz")]), "stack `<module> > baz` not in any forked child (<module> > child)"),
            (Box::new(|e| e.child_absent_stacks = vec![pattern("child")]), "a forked child shows `<module> > child`, which must not hold `child`"),
            (Box::new(|e| e.no_py_frames = true), "131 samples have py:: frames"),
            (Box::new(|e| e.max_py_depth = Some(1)), "a sample has 4 py:: frames, expected at most 1"),
            (Box::new(|e| e.map_names = Some(vec!["py::foo:$CASE/x.py".into()])), "perf map names differ at entry 1: `py::<module>:$CASE/x.py` instead of `py::foo:$CASE/x.py` (2 entries, expected 1)"),
            (Box::new(|e| e.map_count = Some(5000)), "perf map has 2 entries, expected 5000"),
            (Box::new(|e| e.no_map = true), "a perf map was written"),
            (Box::new(|e| e.processes = Some(1)), "2 processes ran, expected 1"),
        ];
        for (edit, expected) in cases {
            let failures = failures_with(edit);
            assert_eq!(failures.len(), 1, "{expected}: {failures:?}");
            assert!(
                failures[0].starts_with(expected),
                "{:?} does not start with {expected:?}",
                failures[0]
            );
        }
    }

    #[test]
    fn map_validity_jitdumps_and_sample_counts_can_fail() {
        let mut obs = observation();
        obs.processes[1].map_problems = vec!["name py::a appears twice".into()];
        obs.processes[0].unresolved_stub_frames = 3;
        obs.processes[0].dump = Some(vec![]);
        let mut case = case("demo", &[], &[]);
        case.expect.map_valid = true;
        case.expect.no_jitdump = true;
        case.min_samples = 1000;
        let failures = check(&case, &obs);
        assert_eq!(
            failures,
            [
                "only 150 samples, need at least 1000 to judge",
                "process 1: 3 sampled frames inside stubs did not resolve to a py:: name",
                "process 2: name py::a appears twice",
                "a jitdump was written, expected none",
            ]
        );
    }

    #[test]
    fn jitdump_names_validity_and_read_errors_are_judged() {
        let mut obs = observation();
        obs.processes[0].dump = Some(vec!["py::foo:$CASE/x.py".into()]);
        let mut case = case("demo", &[], &[]);
        case.expect.dump_names = Some(vec!["py::foo:$CASE/x.py".into()]);
        case.expect.dump_valid = true;
        assert_eq!(check(&case, &obs), Vec::<String>::new());

        case.expect.dump_names = Some(vec!["py::bar:$CASE/x.py".into()]);
        obs.processes[0].dump_problems = vec!["name py::foo:/x appears twice".into()];
        obs.processes[0].unresolved_jit_frames = 2;
        obs.processes[1].dump_error = Some("/tmp/jit-9.dump: jitdump byte 40: cut".into());
        assert_eq!(
            check(&case, &obs),
            [
                "/tmp/jit-9.dump: jitdump byte 40: cut",
                "jitdump names differ at entry 1: `py::foo:$CASE/x.py` instead of `py::bar:$CASE/x.py` (1 entries, expected 1)",
                "process 1: jitdump: name py::foo:/x appears twice",
                "process 1: 2 sampled frames in jitted-*.so files did not resolve to a py:: name",
            ]
        );

        // Without any dump, both expectations fail rather than pass vacuously.
        let failures = check(&case, &observation());
        assert_eq!(
            failures,
            [
                "the main process wrote no jitdump",
                "no process wrote a jitdump to validate"
            ]
        );
    }

    #[test]
    fn stacks_below_the_threshold_do_not_count_as_present() {
        // `<module> > rare` has 1 of 100 samples: below 2%.
        let failures = failures_with(|e| e.absent_stacks = vec![pattern("rare")]);
        assert!(failures.is_empty(), "{failures:?}");
    }
}
