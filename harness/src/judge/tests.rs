//! The judge's tests: margins, re-runs and flips; every expectation that can
//! fail; deviations.

use super::*;
use crate::cases::tests_support::case;
use crate::cases::{Deviation, Rules};
use crate::runtime::fake::Fake;

fn stack(text: &str) -> Vec<String> {
    StackPattern::parse(text).unwrap().0
}

fn pattern(text: &str) -> StackPattern {
    StackPattern::parse(text).unwrap()
}

/// A main process of `samples` samples with these stacks.
fn process(samples: usize, stacks: &[(&str, usize)]) -> ProcessObservation {
    ProcessObservation {
        map: Some(vec![
            "py::<module>:$CASE/x.py".into(),
            "py::foo:$CASE/x.py".into(),
        ]),
        samples,
        stacks: stacks.iter().map(|(s, n)| (stack(s), *n)).collect(),
        max_py_depth: 4,
        ..Default::default()
    }
}

fn run(processes: Vec<ProcessObservation>) -> Observation {
    Observation {
        exit: Exit::Code(0),
        stdout: "done\n".into(),
        stderr: String::new(),
        total_samples: processes.iter().map(|p| p.samples).sum(),
        processes,
    }
}

/// A parent with 1000 samples (900 in the seed chain) and a child with 500.
fn observation() -> Observation {
    run(vec![
        process(
            1000,
            &[("<module> > baz > bar > foo", 900), ("<module> > rare", 1)],
        ),
        ProcessObservation {
            samples: 500,
            stacks: vec![(stack("<module> > child"), 400)],
            max_py_depth: 2,
            ..Default::default()
        },
    ])
}

fn findings_with(edit: impl FnOnce(&mut Expectations)) -> Findings {
    let mut expect = Expectations::default();
    edit(&mut expect);
    let runs = [observation()];
    expectations(&expect, &Runs::new(&runs), Level::Full)
}

#[test]
fn presence_has_a_margin_on_both_sides() {
    assert_eq!(Presence::of(50, 1000), Presence::Present);
    assert_eq!(Presence::of(49, 1000), Presence::Unclear);
    assert_eq!(Presence::of(10, 1000), Presence::Unclear);
    assert_eq!(Presence::of(9, 1000), Presence::Absent);
    assert_eq!(Presence::of(0, 0), Presence::Absent);
}

#[test]
fn a_matching_observation_meets_every_kind() {
    let findings = findings_with(|e| {
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
    });
    assert_eq!(findings, Findings::default());
}

#[test]
fn each_kind_can_fail() {
    type Edit = Box<dyn FnOnce(&mut Expectations)>;
    let cases: Vec<(Edit, &str)> = vec![
        (Box::new(|e| e.exit = 1), "exit status 0 (expected 1)"),
        (Box::new(|e| e.stdout_contains = vec!["x".into()]), "stdout lacks \"x\""),
        (Box::new(|e| e.stderr_contains = vec!["ValueError".into()]), "stderr lacks \"ValueError\""),
        (Box::new(|e| e.stacks = vec![pattern("<module> > baz")]), "stack `<module> > baz` in the main process: absent (0.0% of 1000 samples)"),
        (Box::new(|e| e.stacks = vec![pattern("<module> > baz > bar > foo"), pattern("<module> > rare")]), "stack `<module> > rare` in the main process: absent (0.1% of 1000 samples)"),
        (Box::new(|e| e.no_other_stacks = true), "unexpected stack `<module> > baz > bar > foo` in the main process: present (90.0% of 1000 samples)"),
        (Box::new(|e| e.absent_stacks = vec![pattern("baz > bar")]), "process 1: stacks holding the chain `baz > bar`, which must be absent: present (90.0% of 1000 samples)"),
        (Box::new(|e| e.child_stacks = vec![pattern("<module> > baz")]), "stack `<module> > baz` in a forked child (process 2): absent (0.0% of 500 samples)"),
        (Box::new(|e| e.child_absent_stacks = vec![pattern("child")]), "a forked child (process 2): stacks holding `child`, which must be absent: present (80.0% of 500 samples)"),
        (Box::new(|e| e.no_py_frames = true), "1301 samples have py:: frames"),
        (Box::new(|e| e.max_py_depth = Some(1)), "a sample has 4 py:: frames, expected at most 1"),
        (Box::new(|e| e.map_names = Some(vec!["py::foo:$CASE/x.py".into()])), "perf map names differ at entry 1: `py::<module>:$CASE/x.py` instead of `py::foo:$CASE/x.py` (2 entries, expected 1)"),
        (Box::new(|e| e.map_count = Some(5000)), "perf map has 2 entries, expected 5000"),
        (Box::new(|e| e.no_map = true), "a perf map was written"),
        (Box::new(|e| e.processes = Some(1)), "2 processes ran, expected 1"),
    ];
    for (edit, expected) in cases {
        let findings = findings_with(edit);
        assert_eq!(findings.differences.len(), 1, "{expected}: {findings:?}");
        assert!(
            findings.differences[0].starts_with(expected),
            "{:?} does not start with {expected:?}",
            findings.differences[0]
        );
    }
}

#[test]
fn a_share_between_the_margins_is_unclear_not_failed() {
    // `<module> > rare` at 2%: neither present nor absent.
    let runs = [run(vec![process(
        1000,
        &[("<module> > foo", 900), ("<module> > rare", 20)],
    )])];
    let mut expect = Expectations {
        stacks: vec![pattern("<module> > foo")],
        no_other_stacks: true,
        ..Default::default()
    };
    let findings = expectations(&expect, &Runs::new(&runs), Level::Full);
    assert_eq!(findings.differences, Vec::<String>::new());
    assert_eq!(
        findings.unclear,
        ["unexpected stack `<module> > rare` in the main process: 2.0% of 1000 samples (between absent < 1% and present >= 5%)"]
    );
    expect.no_other_stacks = false;
    expect.absent_stacks = vec![pattern("rare")];
    assert_eq!(
        expectations(&expect, &Runs::new(&runs), Level::Full)
            .unclear
            .len(),
        1
    );
}

#[test]
fn runs_decide_together_and_a_flip_fails() {
    let expect = Expectations {
        stacks: vec![pattern("<module> > foo")],
        no_other_stacks: true,
        ..Default::default()
    };
    let with_rare = |rare| {
        run(vec![process(
            1000,
            &[("<module> > foo", 900), ("<module> > rare", rare)],
        )])
    };
    // 3%, then twice 0.5%: pooled 1.3%, still unclear after three runs.
    let runs = [with_rare(30), with_rare(5), with_rare(5)];
    let findings = expectations(&expect, &Runs::new(&runs), Level::Full);
    assert_eq!(
        findings.unclear,
        ["unexpected stack `<module> > rare` in the main process: 1.3% of 3000 samples in 3 runs: 3.0%, 0.5%, 0.5% (between absent < 1% and present >= 5%)"]
    );
    // 2%, then two clean runs: pooled 0.67%, absent.
    let runs = [with_rare(20), with_rare(0), with_rare(0)];
    assert_eq!(
        expectations(&expect, &Runs::new(&runs), Level::Full),
        Findings::default()
    );
    // Present in one run, absent in another: a flip, whatever the pool says.
    let runs = [with_rare(60), with_rare(0)];
    let findings = expectations(&expect, &Runs::new(&runs), Level::Full);
    assert_eq!(
        findings.differences,
        ["unexpected stack `<module> > rare` in the main process: flips between present and absent (3.0% of 2000 samples in 2 runs: 6.0%, 0.0%)"]
    );
}

#[test]
fn map_validity_jitdumps_and_read_errors_are_facts() {
    let mut obs = observation();
    obs.processes[1].map_problems = vec!["name py::a appears twice".into()];
    obs.processes[0].unresolved_stub_frames = 3;
    obs.processes[0].dump = Some(vec!["py::foo:$CASE/x.py".into()]);
    obs.processes[1].dump_error = Some("/tmp/jit-9.dump: jitdump byte 40: cut".into());
    let expect = Expectations {
        map_valid: true,
        no_jitdump: true,
        dump_names: Some(vec!["py::bar:$CASE/x.py".into()]),
        dump_valid: true,
        ..Default::default()
    };
    let runs = [obs];
    assert_eq!(
        expectations(&expect, &Runs::new(&runs), Level::Full).differences,
        [
            "process 1: 3 sampled frames inside stubs did not resolve to a py:: name",
            "process 2: name py::a appears twice",
            "a jitdump was written, expected none",
            "/tmp/jit-9.dump: jitdump byte 40: cut",
            "jitdump names differ at entry 1: `py::foo:$CASE/x.py` instead of `py::bar:$CASE/x.py` (1 entries, expected 1)",
        ]
    );
    // Without any dump, both expectations fail rather than pass vacuously.
    let runs = [observation()];
    let expect = Expectations {
        dump_names: Some(vec![]),
        dump_valid: true,
        ..Default::default()
    };
    assert_eq!(
        expectations(&expect, &Runs::new(&runs), Level::Full).differences,
        [
            "the main process wrote no jitdump",
            "no process wrote a jitdump to validate"
        ]
    );
}

/// The case `demo` and the snapshot its seed-chain run gives.
fn snapshot_case() -> (Case, Snapshot) {
    let case = case("demo", &["-X", "perf"], &["10"]);
    let stored = Snapshot::of(&case, &observation());
    (case, stored)
}

fn decide(
    case: &Case,
    runtime: &dyn Runtime,
    stored: &Snapshot,
    runs: &[Observation],
    level: Level,
) -> Verdict {
    let context = Context {
        case,
        runtime,
        stored: Ok(stored),
        level,
    };
    context.decide(&Runs::new(runs))
}

#[test]
fn a_tampered_snapshot_differs_on_the_first_run() {
    let (case, mut stored) = snapshot_case();
    assert_eq!(
        decide(
            &case,
            &Fake::all_own(),
            &stored,
            &[observation()],
            Level::Full
        ),
        Verdict::Same
    );
    stored.processes[0].stacks = vec![stack("<module> > baz > foo > bar")];
    let Verdict::Differs { differences } = decide(
        &case,
        &Fake::all_own(),
        &stored,
        &[observation()],
        Level::Full,
    ) else {
        panic!("a tampered snapshot must differ");
    };
    assert_eq!(
        differences,
        [
            "process 1: stack `<module> > baz > foo > bar` of the snapshot: absent (0.0% of 1000 samples)",
            "process 1: stack `<module> > baz > bar > foo`, not in the snapshot: present (90.0% of 1000 samples)",
        ]
    );
}

#[test]
fn facts_of_every_run_are_compared_and_stacks_only_at_the_full_level() {
    let (case, stored) = snapshot_case();
    let mut other = observation();
    other.exit = Exit::Code(1);
    other.stdout = "other\n".into();
    other.processes[0].map = None;
    other.processes[0].stacks = vec![(stack("foo"), 900)];
    let runs = [observation(), other];
    let Verdict::Differs { differences } =
        decide(&case, &Fake::all_own(), &stored, &runs, Level::Maps)
    else {
        panic!("must differ");
    };
    assert_eq!(
        differences,
        [
            "exit: 1 instead of 0",
            "stdout: [other] instead of [done]",
            "process 1: perf map: none instead of 2 entries [py::<module>:$CASE/x.py | py::foo:$CASE/x.py]",
            "exit status 1 (expected 0)",
        ]
    );
}

#[test]
fn other_runtimes_are_compared_by_their_exception_lines() {
    let (case, mut stored) = snapshot_case();
    stored.stderr = vec![
        "Traceback (most recent call last):".into(),
        "  File \"x.py\", line 1".into(),
        "ValueError: x".into(),
    ];
    let mut obs = observation();
    obs.stderr = "Traceback (most recent call last):\n  File \"x.py\", line 1, in <module>\n    f()\n    ~^^\nValueError: x\n".into();
    assert_eq!(
        decide(&case, &Fake::py_own(), &stored, &[obs.clone()], Level::Full),
        Verdict::Same
    );
    // minipy is the reference: its traceback is compared line for line.
    let minipy = crate::runtime::minipy::Minipy {
        variant: crate::cases::Variant::C,
        binary: "/b/minipy".into(),
    };
    assert!(matches!(
        decide(&case, &minipy, &stored, &[obs], Level::Full),
        Verdict::Differs { .. }
    ));
}

/// `-X perf=0`: the snapshot has support off; the runtime turns it on.
fn xperf0(deviation: Option<Expectations>) -> (Case, Snapshot) {
    let mut case = case("xperf0", &["-X", "perf=0"], &["5"]);
    case.expect.no_map = true;
    if let Some(expect) = deviation {
        let rules = Rules {
            deviation: Some(Deviation {
                why: "-X perf=0 turns perf on".into(),
                expect,
            }),
            ..Rules::default()
        };
        case.rules.insert("python", rules);
    }
    let mut off = observation();
    off.processes.truncate(1);
    off.processes[0].map = None;
    off.processes[0].stacks.clear();
    let stored = Snapshot::of(&case, &off);
    (case, stored)
}

fn on() -> Observation {
    let mut on = observation();
    on.processes.truncate(1);
    on
}

fn on_expectations() -> Expectations {
    Expectations {
        map_names: Some(vec![
            "py::<module>:$CASE/x.py".into(),
            "py::foo:$CASE/x.py".into(),
        ]),
        stacks: vec![pattern("<module> > baz > bar > foo")],
        ..Default::default()
    }
}

/// A runtime of the `python` family.
struct Pythonish;

impl Runtime for Pythonish {
    fn label(&self) -> String {
        "pythonish".into()
    }
    fn describe(&self) -> (String, String) {
        (String::new(), String::new())
    }
    fn rules_table(&self) -> Option<&'static str> {
        Some("python")
    }
    fn support(&self, _: crate::cases::Unwind) -> crate::runtime::Support {
        crate::runtime::Support::Full
    }
    fn invocation(&self, case: &Case) -> crate::runtime::Invocation {
        Fake::py_own().invocation(case)
    }
    fn qualname<'s>(&self, symbol: &'s str) -> Option<&'s str> {
        crate::runtime::py_qualname(symbol)
    }
    fn is_own(&self, name: &str) -> bool {
        crate::runtime::py_name_is_own(name)
    }
}

#[test]
fn the_documented_difference_is_a_known_deviation_at_both_levels() {
    let (case, stored) = xperf0(Some(on_expectations()));
    for level in [Level::Full, Level::Maps] {
        let verdict = decide(&case, &Pythonish, &stored, &[on()], level);
        let Verdict::KnownDeviation {
            why,
            differences,
            same_stacks,
        } = verdict
        else {
            panic!("{level:?}: {verdict:?}");
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
        decide(&plain, &Pythonish, &stored, &[on()], Level::Maps),
        Verdict::Differs { .. }
    ));
    // The deviation expects the chain; a run with the map but no chain is
    // not the documented deviation (at the full level).
    let (case, stored) = xperf0(Some(on_expectations()));
    let mut half = on();
    half.processes[0].stacks.clear();
    let Verdict::Differs { differences } =
        decide(&case, &Pythonish, &stored, &[half.clone()], Level::Full)
    else {
        panic!("must differ");
    };
    assert!(
        differences.last().unwrap().starts_with(
            "not the documented deviation (-X perf=0 turns perf on): stack `<module> > baz > bar > foo` in the main process: absent"
        ),
        "{differences:?}"
    );
    // At the maps level the same run is the deviation: stacks are not judged there.
    assert!(matches!(
        decide(&case, &Pythonish, &stored, &[half], Level::Maps),
        Verdict::KnownDeviation { .. }
    ));
}

#[test]
fn a_deviation_the_maps_level_cannot_see_does_not_excuse_anything() {
    let stacks_only = Expectations {
        stacks: vec![pattern("<module> > baz > bar > foo")],
        ..Default::default()
    };
    let (case, stored) = xperf0(Some(stacks_only));
    let Verdict::Differs { differences } = decide(&case, &Pythonish, &stored, &[on()], Level::Maps)
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
fn equal_stacks_are_named_in_a_deviation() {
    let (mut case, _) = xperf0(Some(on_expectations()));
    case.expect.no_map = false;
    case.expect.no_jitdump = true;
    let stored = Snapshot::of(&case, &on());
    let mut with_dump = on();
    with_dump.processes[0].dump = Some(vec![]);
    let verdict = decide(&case, &Pythonish, &stored, &[with_dump], Level::Full);
    assert!(
        matches!(&verdict, Verdict::KnownDeviation { same_stacks: Some(s), .. } if s == "<module> > baz > bar > foo"),
        "{verdict:?}"
    );
}

#[test]
fn an_unclear_run_is_run_again_and_too_few_samples_too() {
    let (mut case, stored) = snapshot_case();
    case.min_samples = 1500;
    let mut rare = observation();
    rare.processes[0].stacks.push((stack("<module> > odd"), 15));
    // Run 1: 1.5% of an odd stack; run 2: clean. Pooled 0.75%: absent.
    let mut queue = vec![observation(), rare];
    let context = Context {
        case: &case,
        runtime: &Fake::all_own(),
        stored: Ok(&stored),
        level: Level::Full,
    };
    let judgement = judge(&context, || queue.pop().ok_or("no more runs"));
    assert_eq!(judgement.verdict, Verdict::Same);
    assert_eq!(judgement.reruns.len(), 1);
    assert!(
        judgement.reruns[0].starts_with("run 1 was unclear: process 1: stack `<module> > odd`"),
        "{:?}",
        judgement.reruns
    );
    // Too few samples every time: unclear after the last run, with the count.
    let mut few = case.clone();
    few.min_samples = 100_000;
    let context = Context {
        case: &few,
        ..context
    };
    let judgement = judge(&context, || Ok::<_, String>(observation()));
    assert_eq!(judgement.reruns.len(), MAX_RUNS - 1);
    assert_eq!(
        judgement.verdict,
        Verdict::Unclear {
            claims: vec!["only 4500 samples in 3 run(s), need at least 100000 to judge".into()]
        }
    );
    // A run that fails is an error at once.
    let judgement = judge(&context, || Err::<Observation, _>("perf failed"));
    assert_eq!(
        judgement.verdict,
        Verdict::Error {
            why: "perf failed".into()
        }
    );
}
