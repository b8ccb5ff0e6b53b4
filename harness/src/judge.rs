//! The one judge: the runs of a case on a runtime against the case's
//! snapshot and its expectations, at the level the runtime allows, with
//! margins for sampling.
//!
//! Sampling is statistics, so a stack is judged by its share of its
//! process's samples with a margin on both sides: *present* at
//! [`PRESENT`]% or more, *absent* below [`ABSENT`]%, and *unclear* in
//! between. Snapshots list present stacks; a stack the snapshot lists must
//! be present, any other must be absent. When a claim is unclear, or the run
//! got fewer samples than the case needs, the case runs again (up to
//! [`MAX_RUNS`] runs) and the runs are decided together: their samples are
//! pooled, and a claim present in one run and absent in another *flips*,
//! which fails at once. A claim still unclear after the last run fails the
//! case with its shares. Anything that is not a share (exit, output, maps,
//! jitdumps, frame counts over every sample) is a fact, judged on every run.

use crate::cases::{fold_stack, Case, Expectations, StackPattern};
use crate::observe::{percent, Observation, Presence, ProcessObservation, ABSENT, PRESENT};
use crate::profile::Exit;
use crate::runtime::Runtime;
use crate::snapshot::{output_lines, Snapshot};
use crate::verdict::Verdict;
use std::fmt::Write;

/// Runs of one judgement at most.
pub const MAX_RUNS: usize = 3;

/// How much of a case is judged on a runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Everything.
    Full,
    /// Exit, output, perf maps, jitdumps, processes: not the stacks (perf
    /// cannot unwind through the runtime in the case's mode).
    Maps,
}

/// What a comparison found: definite differences, and claims the samples
/// could not decide.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Findings {
    pub differences: Vec<String>,
    pub unclear: Vec<String>,
}

impl Findings {
    fn differ(&mut self, line: String) {
        if !self.differences.contains(&line) {
            self.differences.push(line);
        }
    }

    fn extend(&mut self, other: Findings) {
        for line in other.differences {
            self.differ(line);
        }
        self.unclear.extend(other.unclear);
    }
}

/// The runs of one judgement, and their samples pooled.
pub struct Runs<'a> {
    pub runs: &'a [Observation],
    pub pooled: Observation,
}

impl<'a> Runs<'a> {
    pub fn new(runs: &'a [Observation]) -> Runs<'a> {
        Runs {
            runs,
            pooled: pool(runs),
        }
    }

    /// Judges that `count` of process `index`'s samples are `want`
    /// (present or absent); `what` names the claim in messages.
    fn claim(
        &self,
        findings: &mut Findings,
        index: usize,
        want: Presence,
        what: &str,
        count: impl Fn(&ProcessObservation) -> usize,
    ) {
        let per_run: Vec<(usize, usize)> = self
            .runs
            .iter()
            .map(|run| {
                run.processes
                    .get(index)
                    .map_or((0, 0), |p| (count(p), p.samples))
            })
            .collect();
        let (counted, total) = per_run
            .iter()
            .fold((0, 0), |(c, t), (rc, rt)| (c + rc, t + rt));
        let states: Vec<Presence> = per_run.iter().map(|&(c, t)| Presence::of(c, t)).collect();
        let shares = || {
            let each: Vec<String> = per_run
                .iter()
                .map(|&(c, t)| format!("{:.1}%", percent(c, t)))
                .collect();
            match each.len() {
                1 => format!("{:.1}% of {total} samples", percent(counted, total)),
                _ => format!(
                    "{:.1}% of {total} samples in {} runs: {}",
                    percent(counted, total),
                    each.len(),
                    each.join(", ")
                ),
            }
        };
        let flips = states.contains(&Presence::Present) && states.contains(&Presence::Absent);
        match Presence::of(counted, total) {
            _ if flips => findings.differ(format!(
                "{what}: flips between present and absent ({})",
                shares()
            )),
            state if state == want => {}
            Presence::Unclear => findings.unclear.push(format!(
                "{what}: {} (between absent < {ABSENT}% and present >= {PRESENT}%)",
                shares()
            )),
            Presence::Present => findings.differ(format!("{what}: present ({})", shares())),
            Presence::Absent => findings.differ(format!("{what}: absent ({})", shares())),
        }
    }

    /// Every stack seen in process `index` in any run.
    fn stacks_seen(&self, index: usize) -> Vec<&'a [String]> {
        let mut seen: Vec<&[String]> = Vec::new();
        for run in self.runs {
            for (stack, _) in run.processes.get(index).map_or(&[][..], |p| &p.stacks) {
                if !seen.contains(&stack.as_slice()) {
                    seen.push(stack);
                }
            }
        }
        seen
    }
}

/// The runs' samples together: the first run's facts, every process's
/// stacks and counts summed over the runs.
pub fn pool(runs: &[Observation]) -> Observation {
    let mut pooled = runs[0].clone();
    for run in &runs[1..] {
        pooled.total_samples += run.total_samples;
        for (into, from) in pooled.processes.iter_mut().zip(&run.processes) {
            into.samples += from.samples;
            into.max_py_depth = into.max_py_depth.max(from.max_py_depth);
            into.unresolved_stub_frames += from.unresolved_stub_frames;
            into.unresolved_jit_frames += from.unresolved_jit_frames;
            for (stack, count) in &from.stacks {
                match into.stacks.iter_mut().find(|(s, _)| s == stack) {
                    Some((_, n)) => *n += count,
                    None => into.stacks.push((stack.clone(), *count)),
                }
            }
            into.stacks.sort();
        }
    }
    pooled
}

/// A list, short enough for one line.
fn shown(items: &[String]) -> String {
    const MAX: usize = 3;
    match items.len() {
        0 => "(empty)".into(),
        n if n > MAX => format!("[{} | … {} more]", items[..MAX].join(" | "), n - MAX),
        _ => format!("[{}]", items.join(" | ")),
    }
}

fn shown_names(names: &Option<Vec<String>>, unit: &str, none: &str) -> String {
    match names {
        None => none.into(),
        Some(names) if names.is_empty() => format!("0 {unit}"),
        Some(names) => format!("{} {unit} {}", names.len(), shown(names)),
    }
}

/// A traceback's lines differ between interpreters: only the unindented
/// ones (the header, the exception) are compared.
fn exception_lines(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !l.starts_with(' '))
        .cloned()
        .collect()
}

/// How a run compares with a stored snapshot.
struct Comparison<'a> {
    case: &'a Case,
    stored: &'a Snapshot,
    level: Level,
    /// The reference runtime is compared byte for byte; others without the
    /// command and by their stderr's exception lines.
    exact: bool,
}

impl Comparison<'_> {
    fn facts(&self, findings: &mut Findings, run: &Observation) {
        let header = Snapshot::header(self.case);
        let mut item = |key: &str, got: String, want: String| {
            if got != want {
                findings.differ(format!("{key}: {got} instead of {want}"));
            }
        };
        if self.exact {
            item("command", header.command, self.stored.command.clone());
        }
        item("env", header.env, self.stored.env.clone());
        item("unwind", header.unwind, self.stored.unwind.clone());
        item("exit", run.exit.to_string(), self.stored.exit.clone());
        item(
            "stdout",
            shown(&output_lines(&run.stdout)),
            shown(&self.stored.stdout),
        );
        let (got, want) = match self.exact {
            true => (output_lines(&run.stderr), self.stored.stderr.clone()),
            false => (
                exception_lines(&output_lines(&run.stderr)),
                exception_lines(&self.stored.stderr),
            ),
        };
        item("stderr", shown(&got), shown(&want));
        if run.processes.len() != self.stored.processes.len() {
            findings.differ(format!(
                "{} processes instead of {}",
                run.processes.len(),
                self.stored.processes.len()
            ));
        }
        for (i, (process, stored)) in run.processes.iter().zip(&self.stored.processes).enumerate() {
            let place = format!("process {}", i + 1);
            if process.map != stored.map {
                findings.differ(format!(
                    "{place}: perf map: {} instead of {}",
                    shown_names(&process.map, "entries", "none"),
                    shown_names(&stored.map, "entries", "none")
                ));
            }
            if process.dump != stored.dump {
                findings.differ(format!(
                    "{place}: jitdump: {} instead of {}",
                    shown_names(&process.dump, "code loads", "absent"),
                    shown_names(&stored.dump, "code loads", "absent")
                ));
            }
        }
    }

    fn stacks(&self, findings: &mut Findings, runs: &Runs) {
        for (i, stored) in self.stored.processes.iter().enumerate() {
            let place = format!("process {}", i + 1);
            for stack in &stored.stacks {
                let what = format!("{place}: stack `{}` of the snapshot", fold_stack(stack));
                runs.claim(findings, i, Presence::Present, &what, |p| p.count_of(stack));
            }
            for stack in runs.stacks_seen(i) {
                if !stored.stacks.iter().any(|s| s.as_slice() == stack) {
                    let what = format!(
                        "{place}: stack `{}`, not in the snapshot",
                        fold_stack(stack)
                    );
                    runs.claim(findings, i, Presence::Absent, &what, |p| p.count_of(stack));
                }
            }
        }
    }

    fn judge(&self, runs: &Runs) -> Findings {
        let mut findings = Findings::default();
        for run in runs.runs {
            self.facts(&mut findings, run);
        }
        if self.level == Level::Full {
            self.stacks(&mut findings, runs);
        }
        findings
    }
}

/// Where two name lists part, in one short line (maps can be long); `what`
/// names the lists ("perf map", "jitdump").
fn first_difference(what: &str, actual: &[String], expected: &[String]) -> String {
    let at = actual
        .iter()
        .zip(expected)
        .take_while(|(a, e)| a == e)
        .count();
    let at_entry = |list: &[String]| {
        list.get(at)
            .map_or("the end".to_string(), |n| format!("`{n}`"))
    };
    format!(
        "{what} names differ at entry {}: {} instead of {} ({} entries, expected {})",
        at + 1,
        at_entry(actual),
        at_entry(expected),
        actual.len(),
        expected.len()
    )
}

/// A file's problems and the sampled frames in its code that did not
/// resolve to a script function, as failures of process `index`.
fn validity(
    fail: &mut impl FnMut(String),
    index: usize,
    what: &str,
    problems: &[String],
    unresolved: (usize, &str),
) {
    for problem in problems {
        fail(format!("process {}: {what}{problem}", index + 1));
    }
    if unresolved.0 > 0 {
        fail(format!(
            "process {}: {} sampled frames {} did not resolve to a py:: name",
            index + 1,
            unresolved.0,
            unresolved.1
        ));
    }
}

/// The facts of one run against the expectations.
fn expected_facts(e: &Expectations, findings: &mut Findings, obs: &Observation) {
    let main = obs.processes.first().cloned().unwrap_or_default();
    let mut fail = |line: String| findings.differ(line);
    if obs.exit != Exit::Code(e.exit) {
        fail(format!("exit status {} (expected {})", obs.exit, e.exit));
    }
    for text in &e.stdout_contains {
        if !obs.stdout.contains(text.as_str()) {
            fail(format!("stdout lacks {text:?}"));
        }
    }
    for text in &e.stderr_contains {
        if !obs.stderr.contains(text.as_str()) {
            fail(format!("stderr lacks {text:?}"));
        }
    }
    let with_frames: usize = obs
        .processes
        .iter()
        .map(ProcessObservation::script_samples)
        .sum();
    if e.no_py_frames && with_frames > 0 {
        fail(format!(
            "{with_frames} samples have py:: frames, expected none"
        ));
    }
    if let Some(max) = e.max_py_depth {
        let deepest = obs
            .processes
            .iter()
            .map(|p| p.max_py_depth)
            .max()
            .unwrap_or(0);
        if deepest > max {
            fail(format!(
                "a sample has {deepest} py:: frames, expected at most {max}"
            ));
        }
    }
    if let Some(names) = &e.map_names {
        match &main.map {
            None => fail("the main process wrote no perf map".into()),
            Some(map) if map != names => fail(first_difference("perf map", map, names)),
            Some(_) => {}
        }
    }
    if let Some(count) = e.map_count {
        let actual = main.map.as_ref().map_or(0, Vec::len);
        if actual != count {
            fail(format!("perf map has {actual} entries, expected {count}"));
        }
    }
    if e.no_map && obs.processes.iter().any(|p| p.map.is_some()) {
        fail("a perf map was written, expected none".into());
    }
    if e.map_valid {
        for (i, p) in obs.processes.iter().enumerate() {
            let unresolved = (p.unresolved_stub_frames, "inside stubs");
            validity(&mut fail, i, "", &p.map_problems, unresolved);
        }
    }
    if e.no_jitdump && obs.processes.iter().any(|p| p.dump.is_some()) {
        fail("a jitdump was written, expected none".into());
    }
    // A dump that cannot be read to its end is broken whatever the case
    // expects of it.
    for error in obs.processes.iter().filter_map(|p| p.dump_error.as_ref()) {
        fail(error.clone());
    }
    if let Some(names) = &e.dump_names {
        match &main.dump {
            None => fail("the main process wrote no jitdump".into()),
            Some(dump) if dump != names => fail(first_difference("jitdump", dump, names)),
            Some(_) => {}
        }
    }
    if e.dump_valid {
        if obs.processes.iter().all(|p| p.dump.is_none()) {
            fail("no process wrote a jitdump to validate".into());
        }
        for (i, p) in obs.processes.iter().enumerate() {
            let unresolved = (p.unresolved_jit_frames, "in jitted-*.so files");
            validity(&mut fail, i, "jitdump: ", &p.dump_problems, unresolved);
        }
    }
    if let Some(count) = e.processes {
        if obs.processes.len() != count {
            fail(format!(
                "{} processes ran, expected {count}",
                obs.processes.len()
            ));
        }
    }
}

/// The expectations' claims about stacks, on the runs together.
fn expected_stacks(e: &Expectations, findings: &mut Findings, runs: &Runs) {
    let pooled = &runs.pooled;
    for pattern in &e.stacks {
        let what = format!("stack `{pattern}` in the main process");
        runs.claim(findings, 0, Presence::Present, &what, |p| {
            p.count_of(&pattern.0)
        });
    }
    if e.no_other_stacks {
        for stack in runs.stacks_seen(0) {
            if !e.stacks.iter().any(|p| p.0.as_slice() == stack) {
                let what = format!(
                    "unexpected stack `{}` in the main process",
                    fold_stack(stack)
                );
                runs.claim(findings, 0, Presence::Absent, &what, |p| p.count_of(stack));
            }
        }
    }
    for pattern in &e.absent_stacks {
        for i in 0..pooled.processes.len() {
            let what = format!(
                "process {}: stacks holding the chain `{pattern}`, which must be absent",
                i + 1
            );
            runs.claim(findings, i, Presence::Absent, &what, |p| {
                p.count_holding(pattern)
            });
        }
    }
    // Judged in the child where the stack is most common.
    let best_child = |pattern: &StackPattern| {
        let share = |i: &usize| {
            let p = &pooled.processes[*i];
            percent(p.count_of(&pattern.0), p.samples)
        };
        (1..pooled.processes.len()).max_by(|a, b| share(a).total_cmp(&share(b)))
    };
    for pattern in &e.child_stacks {
        match best_child(pattern) {
            None => findings.differ(format!(
                "stack `{pattern}` not in any forked child (no child ran)"
            )),
            Some(i) => {
                let what = format!("stack `{pattern}` in a forked child (process {})", i + 1);
                runs.claim(findings, i, Presence::Present, &what, |p| {
                    p.count_of(&pattern.0)
                });
            }
        }
    }
    for pattern in &e.child_absent_stacks {
        for i in 1..pooled.processes.len() {
            let what = format!(
                "a forked child (process {}): stacks holding `{pattern}`, which must be absent",
                i + 1
            );
            runs.claim(findings, i, Presence::Absent, &what, |p| {
                p.count_holding(pattern)
            });
        }
    }
}

/// The runs against a set of expectations at `level`.
pub fn expectations(expect: &Expectations, runs: &Runs, level: Level) -> Findings {
    let mut findings = Findings::default();
    for run in runs.runs {
        expected_facts(expect, &mut findings, run);
    }
    if level == Level::Full {
        expected_stacks(expect, &mut findings, runs);
    }
    findings
}

/// What the judge needs to know of a case on a runtime.
pub struct Context<'a> {
    pub case: &'a Case,
    pub runtime: &'a dyn Runtime,
    /// The case's stored snapshot, or why there is none to compare with
    /// (none yet, or unreadable).
    pub stored: Result<&'a Snapshot, String>,
    pub level: Level,
}

impl Context<'_> {
    /// The verdict on the runs so far.
    pub fn decide(&self, runs: &Runs) -> Verdict {
        let pooled = &runs.pooled;
        let mut findings = Findings::default();
        match &self.stored {
            Ok(stored) => {
                let comparison = Comparison {
                    case: self.case,
                    stored,
                    level: self.level,
                    exact: self.runtime.is_reference(),
                };
                findings.extend(comparison.judge(runs));
            }
            Err(why) => findings.differ(why.clone()),
        }
        let expect = match self.level {
            Level::Full => self.case.expect.clone(),
            Level::Maps => self.case.expect.without_stacks(),
        };
        findings.extend(expectations(&expect, runs, self.level));
        if pooled.total_samples < self.case.min_samples {
            findings.unclear.push(format!(
                "only {} samples in {} run(s), need at least {} to judge",
                pooled.total_samples,
                runs.runs.len(),
                self.case.min_samples
            ));
        }
        if findings.differences.is_empty() {
            return match findings.unclear.is_empty() {
                true => Verdict::Same,
                false => Verdict::Unclear {
                    claims: findings.unclear,
                },
            };
        }
        let Some(deviation) = self
            .runtime
            .rules(self.case)
            .and_then(|r| r.deviation.as_ref())
        else {
            return Verdict::Differs {
                differences: findings.differences,
            };
        };
        let expect = match self.level {
            Level::Full => deviation.expect.clone(),
            Level::Maps => deviation.expect.without_stacks(),
        };
        let mut differences = findings.differences;
        let level_name = if self.level == Level::Full {
            "full"
        } else {
            "maps"
        };
        if !expect.says_something() {
            differences.push(format!(
                "not the documented deviation ({}): [{}.expect] expects nothing the {level_name} level can see",
                deviation.why,
                self.runtime.rules_table().unwrap_or("python")
            ));
            return Verdict::Differs { differences };
        }
        let explained = expectations(&expect, runs, self.level);
        match (
            explained.differences.is_empty(),
            explained.unclear.is_empty(),
        ) {
            (true, true) => Verdict::KnownDeviation {
                why: deviation.why.clone(),
                same_stacks: self.same_main_stacks(runs),
                differences,
            },
            (true, false) => Verdict::Unclear {
                claims: explained.unclear,
            },
            (false, _) => {
                differences.push(format!(
                    "not the documented deviation ({}): {}",
                    deviation.why,
                    explained.differences.join("; ")
                ));
                Verdict::Differs { differences }
            }
        }
    }

    /// The main process's stacks, `|`-separated, when they are the
    /// snapshot's (at the full level).
    fn same_main_stacks(&self, runs: &Runs) -> Option<String> {
        let stored = self.stored.as_ref().ok()?.processes.first()?;
        if self.level != Level::Full {
            return None;
        }
        let only_main = Snapshot {
            processes: vec![stored.clone()],
            ..Snapshot::default()
        };
        let comparison = Comparison {
            case: self.case,
            stored: &only_main,
            level: Level::Full,
            exact: false,
        };
        let mut findings = Findings::default();
        comparison.stacks(&mut findings, runs);
        let stacks: Vec<String> = stored.stacks.iter().map(|s| fold_stack(s)).collect();
        (findings == Findings::default()).then(|| match stacks.is_empty() {
            true => "none".into(),
            false => stacks.join(" | "),
        })
    }
}

/// A judgement: the verdict, why earlier runs were not enough, and the
/// runs' samples pooled (what a new snapshot would show).
pub struct Judgement {
    pub verdict: Verdict,
    /// One line per run that was run again, with the reason.
    pub reruns: Vec<String>,
    pub pooled: Option<Observation>,
}

/// Judges `context`'s case with up to [`MAX_RUNS`] runs of `run`, until the
/// verdict is not unclear.
pub fn judge<E: std::fmt::Display>(
    context: &Context,
    mut run: impl FnMut() -> Result<Observation, E>,
) -> Judgement {
    let mut observations = Vec::new();
    let mut reruns = Vec::new();
    loop {
        match run() {
            Ok(obs) => observations.push(obs),
            Err(e) => {
                return Judgement {
                    verdict: Verdict::Error { why: e.to_string() },
                    reruns,
                    pooled: (!observations.is_empty()).then(|| pool(&observations)),
                }
            }
        }
        let runs = Runs::new(&observations);
        let verdict = context.decide(&runs);
        match verdict {
            Verdict::Unclear { claims } if observations.len() < MAX_RUNS => {
                let mut line = format!("run {} was unclear: ", observations.len());
                let _ = write!(line, "{}", claims.join("; "));
                reruns.push(line);
            }
            verdict => {
                return Judgement {
                    verdict,
                    reruns,
                    pooled: Some(runs.pooled),
                }
            }
        }
    }
}

/// The snapshot text of a pooled run, for a new snapshot to review.
pub fn proposed_text(case: &Case, pooled: &Observation) -> String {
    Snapshot::of(case, pooled).render()
}

#[cfg(test)]
mod tests;
