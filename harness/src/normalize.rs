//! From one raw run to what is judged: per process, the perf map's and the
//! jitdump's names (and their problems), the `py::` stacks with their sample
//! counts, and the run's output with the run folder written `$CASE`.
//! [`crate::render`] turns it into the snapshot text.
//!
//! Nothing kept here depends on addresses or pids of the run, so the text
//! is the same from run to run and on every architecture.

use crate::run::{Exit, RawRun};
use perf_script::Sample;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::OnceLock;
use trampoline_api::MapEntry;

/// A stack is listed when it carries at least this share of its process's
/// samples, in percent.
pub const THRESHOLD_PERCENT: usize = 2;

/// What one process of the workload showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessObservation {
    /// The map's names in file order (`$CASE` for the run folder); `None`
    /// when the process wrote no map.
    pub map: Option<Vec<String>>,
    /// Problems of the map file itself: malformed lines, repeated names,
    /// overlapping ranges.
    pub map_problems: Vec<String>,
    /// The jitdump's code-load names in file order (`$CASE` for the run
    /// folder); `None` when the process wrote no jitdump.
    pub dump: Option<Vec<String>>,
    /// Why the jitdump could not be read to its end:
    /// `<path>: jitdump byte N: …`.
    pub dump_error: Option<String>,
    /// Problems of a readable jitdump ([`crate::dump::problems`]).
    pub dump_problems: Vec<String>,
    /// All samples of the process, with or without `py::` frames.
    pub samples: usize,
    /// Distinct `py::` stacks (qualnames, outermost first) and their sample
    /// counts, sorted by stack. Samples without a `py::` frame are not here.
    pub stacks: Vec<(Vec<String>, usize)>,
    /// The most `py::` frames seen in one sample.
    pub max_py_depth: usize,
    /// Frames that fell inside a perf-map region but did not resolve to a
    /// `py::` name.
    pub unresolved_stub_frames: usize,
    /// Frames in a `jitted-*.so` of `perf inject --jit` that did not
    /// resolve to a `py::` name.
    pub unresolved_jit_frames: usize,
}

impl ProcessObservation {
    /// The stacks at or above [`THRESHOLD_PERCENT`], in order.
    pub fn significant_stacks(&self) -> Vec<&[String]> {
        self.stacks
            .iter()
            .filter(|(_, count)| is_significant(*count, self.samples))
            .map(|(stack, _)| stack.as_slice())
            .collect()
    }
}

/// Whether `count` of `total` samples reach the threshold.
pub fn is_significant(count: usize, total: usize) -> bool {
    total > 0 && count * 100 >= total * THRESHOLD_PERCENT
}

/// A run, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub exit: Exit,
    pub stdout: String,
    pub stderr: String,
    /// The exec'd process first, then forked children in fork order.
    pub processes: Vec<ProcessObservation>,
    pub total_samples: usize,
}

/// `py::K.m:/x/y.py` → `K.m`: the stack shows qualnames only.
pub fn qualname(symbol: &str) -> &str {
    let name = symbol.strip_prefix("py::").unwrap_or(symbol);
    name.split_once(':').map_or(name, |(q, _)| q)
}

/// `a > b > b > b` → `a > b*3`.
pub fn fold_stack(frames: &[String]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < frames.len() {
        let run = frames[i..].iter().take_while(|f| **f == frames[i]).count();
        parts.push(if run > 1 {
            format!("{}*{run}", frames[i])
        } else {
            frames[i].clone()
        });
        i += run;
    }
    parts.join(" > ")
}

fn pid_file_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"/tmp/(perf|jit)-\d+\.(map|dump)").unwrap())
}

fn stub_dso_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"^/tmp/perf-\d+\.map$").unwrap())
}

fn jitted_dso_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"/jitted-\d+-\d+\.so$").unwrap())
}

/// Replaces the run folder (as given and canonical) with `$CASE` and the
/// pid in perf file names with `$PID`.
pub fn normalize_text(text: &str, run: &RawRun) -> String {
    let mut text = text.to_string();
    let mut folders = vec![run.workdir.to_string_lossy().into_owned()];
    if let Ok(canonical) = run.workdir.canonicalize() {
        folders.push(canonical.to_string_lossy().into_owned());
    }
    // Longest first, so a canonical path that extends the given one wins.
    folders.sort_by_key(|f| std::cmp::Reverse(f.len()));
    for folder in folders.iter().filter(|f| !f.is_empty()) {
        text = text.replace(folder.as_str(), "$CASE");
    }
    pid_file_re()
        .replace_all(&text, "/tmp/$1-$$PID.$2")
        .into_owned()
}

fn map_problems(entries: &[MapEntry], malformed: &[String]) -> Vec<String> {
    let mut problems: Vec<String> = malformed
        .iter()
        .map(|l| format!("malformed map line {l:?}"))
        .collect();
    let mut seen = BTreeMap::new();
    for e in entries {
        if seen.insert(e.name.as_str(), ()).is_some() {
            problems.push(format!("name {} appears twice", e.name));
        }
    }
    let mut sorted: Vec<&MapEntry> = entries.iter().collect();
    sorted.sort_by_key(|e| e.start);
    for pair in sorted.windows(2) {
        if pair[0].start + pair[0].size > pair[1].start {
            problems.push(format!("{} overlaps {}", pair[0].name, pair[1].name));
        }
    }
    problems
}

fn observe_samples(process: &mut ProcessObservation, samples: &[&Sample]) {
    let mut stacks: BTreeMap<Vec<String>, usize> = BTreeMap::new();
    for sample in samples {
        let mut stack: Vec<String> = sample
            .py_frames()
            .iter()
            .rev()
            .map(|s| qualname(s).to_string())
            .collect();
        process.max_py_depth = process.max_py_depth.max(stack.len());
        let unresolved_in = |dso: &Regex| {
            sample
                .frames
                .iter()
                .filter(|f| dso.is_match(&f.dso) && !f.sym.starts_with("py::"))
                .count()
        };
        process.unresolved_stub_frames += unresolved_in(stub_dso_re());
        process.unresolved_jit_frames += unresolved_in(jitted_dso_re());
        if !stack.is_empty() {
            stack.shrink_to_fit();
            *stacks.entry(stack).or_default() += 1;
        }
    }
    process.samples = samples.len();
    process.stacks = stacks.into_iter().collect();
}

/// Turns a raw run into an [`Observation`].
pub fn observe(run: &RawRun) -> Observation {
    let mut pids = run.profile.processes();
    for sample in &run.profile.samples {
        if !pids.contains(&sample.pid) {
            pids.push(sample.pid);
        }
    }
    let processes = pids
        .iter()
        .map(|pid| {
            let mut process = ProcessObservation::default();
            if let Some(file) = run.dumps.get(pid) {
                process.dump = Some(
                    file.names()
                        .into_iter()
                        .map(|n| normalize_text(n, run))
                        .collect(),
                );
                process.dump_error = file.error.clone();
                if let Some(dump) = &file.dump {
                    process.dump_problems = crate::dump::problems(dump, *pid);
                }
            }
            if let Some(text) = run.maps.get(pid) {
                let (mut entries, mut malformed) = (Vec::new(), Vec::new());
                for line in text.lines() {
                    match MapEntry::parse(line) {
                        Some(entry) => entries.push(entry),
                        None => malformed.push(line.to_string()),
                    }
                }
                process.map_problems = map_problems(&entries, &malformed);
                process.map = Some(
                    entries
                        .iter()
                        .map(|e| normalize_text(&e.name, run))
                        .collect(),
                );
            }
            let samples: Vec<&Sample> = run
                .profile
                .samples
                .iter()
                .filter(|s| s.pid == *pid)
                .collect();
            observe_samples(&mut process, &samples);
            process
        })
        .collect();
    Observation {
        exit: run.exit,
        stdout: normalize_text(&run.stdout, run),
        stderr: normalize_text(&run.stderr, run),
        processes,
        total_samples: run.profile.samples.len(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use perf_script::{Frame, Profile, TaskEvent};
    use std::path::PathBuf;

    /// A sample whose `py::` frames (outermost first) are perf-map stubs.
    pub(crate) fn sample(pid: u32, py: &[&str]) -> Sample {
        // Innermost first, with native frames around, as perf prints them.
        let mut frames = vec![Frame {
            ip: 1,
            sym: "eval".into(),
            dso: "minipy".into(),
        }];
        for name in py.iter().rev() {
            frames.push(Frame {
                ip: 2,
                sym: format!("py::{name}:/tmp/run/x.py"),
                dso: format!("/tmp/perf-{pid}.map"),
            });
            frames.push(Frame {
                ip: 3,
                sym: "eval".into(),
                dso: "minipy".into(),
            });
        }
        Sample {
            comm: "minipy".into(),
            pid,
            tid: pid,
            event: "cpu-clock".into(),
            frames,
        }
    }

    /// A run in `/tmp/run` of pid 7 (with the map `<module>`, `foo`) that
    /// forked pid 9.
    pub(crate) fn run(samples: Vec<Sample>) -> RawRun {
        RawRun {
            workdir: PathBuf::from("/tmp/run"),
            exit: Exit::Code(0),
            stdout: "/tmp/run/x.py done\n".into(),
            stderr: "cannot write /tmp/perf-4242.map\n".into(),
            profile: Profile {
                samples,
                tasks: vec![
                    TaskEvent::Comm {
                        pid: 7,
                        tid: 7,
                        comm: "minipy".into(),
                        exec: true,
                    },
                    TaskEvent::Fork {
                        pid: 9,
                        tid: 9,
                        ppid: 7,
                        ptid: 7,
                    },
                ],
            },
            maps: [(
                7,
                "7f0 b py::<module>:/tmp/run/x.py\n7fb 5 py::foo:/tmp/run/x.py\n".to_string(),
            )]
            .into(),
            dumps: BTreeMap::new(),
        }
    }

    #[test]
    fn paths_and_pids_become_placeholders() {
        let obs = observe(&run(vec![]));
        assert_eq!(obs.stdout, "$CASE/x.py done\n");
        assert_eq!(obs.stderr, "cannot write /tmp/perf-$PID.map\n");
        assert_eq!(
            obs.processes[0].map.as_deref().unwrap(),
            ["py::<module>:$CASE/x.py", "py::foo:$CASE/x.py"]
        );
        assert_eq!(obs.processes[1].map, None);
    }

    #[test]
    fn stacks_are_folded_outermost_first_and_sorted() {
        let mut samples = vec![sample(7, &["<module>", "rec", "rec", "rec"]); 3];
        samples.push(sample(7, &["<module>", "baz", "bar", "foo"]));
        samples.push(sample(7, &[]));
        let obs = observe(&run(samples));
        let p = &obs.processes[0];
        assert_eq!(p.samples, 5);
        assert_eq!(p.max_py_depth, 4);
        let folded: Vec<String> = p
            .stacks
            .iter()
            .map(|(s, n)| format!("{} ({n})", fold_stack(s)))
            .collect();
        assert_eq!(
            folded,
            ["<module> > baz > bar > foo (1)", "<module> > rec*3 (3)"]
        );
    }

    #[test]
    fn the_threshold_is_two_percent_of_the_process_samples() {
        // 2 of 100 is listed, 1 of 100 is not; samples without py:: frames count.
        let mut samples = vec![sample(7, &[]); 97];
        samples.extend(vec![sample(7, &["<module>", "a"]); 2]);
        samples.push(sample(7, &["<module>", "b"]));
        let obs = observe(&run(samples));
        let stacks: Vec<String> = obs.processes[0]
            .significant_stacks()
            .iter()
            .map(|s| fold_stack(s))
            .collect();
        assert_eq!(stacks, ["<module> > a"]);
        assert!(is_significant(2, 100) && !is_significant(1, 51) && is_significant(1, 50));
    }

    #[test]
    fn samples_go_to_their_process_in_fork_order() {
        let samples = vec![
            sample(9, &["<module>", "child"]),
            sample(7, &["<module>", "parent"]),
        ];
        let obs = observe(&run(samples));
        assert_eq!(obs.processes.len(), 2);
        assert_eq!(obs.processes[0].stacks[0].0, ["<module>", "parent"]);
        assert_eq!(obs.processes[1].stacks[0].0, ["<module>", "child"]);
    }

    #[test]
    fn unresolved_stub_frames_and_map_problems_are_counted() {
        let mut s = sample(7, &["<module>"]);
        s.frames.push(Frame {
            ip: 4,
            sym: "[unknown]".into(),
            dso: "/tmp/perf-7.map".into(),
        });
        let mut raw = run(vec![s]);
        raw.maps.insert(
            7,
            "10 8 py::a:/x\n14 8 py::b:/x\n20 8 py::a:/x\n0x30 8 py::c\n".into(),
        );
        let obs = observe(&raw);
        assert_eq!(obs.processes[0].unresolved_stub_frames, 1);
        assert_eq!(
            obs.processes[0].map_problems,
            [
                "malformed map line \"0x30 8 py::c\"",
                "name py::a:/x appears twice",
                "py::a:/x overlaps py::b:/x"
            ]
        );
    }

    #[test]
    fn dump_names_errors_and_unresolved_jitted_frames_are_observed() {
        let mut s = sample(7, &["<module>"]);
        for sym in ["py::foo:/tmp/run/x.py", "[unknown]"] {
            s.frames.push(Frame {
                ip: 0x89,
                sym: sym.into(),
                dso: "/tmp/jitted-7-3.so".into(),
            });
        }
        let mut raw = run(vec![s]);
        let load = |name: &str, index: u64| jitdump::CodeLoad {
            pid: 7,
            tid: 7,
            vma: 0x1000 + 16 * index,
            code_addr: 0x1000 + 16 * index,
            code_index: index,
            name: name.into(),
            code: vec![0xc3],
        };
        let records = [
            load("py::<module>:/tmp/run/x.py", 0),
            load("py::foo:/tmp/run/x.py", 1),
        ]
        .into_iter()
        .map(|l| jitdump::Record {
            offset: 40,
            timestamp: 1,
            body: jitdump::RecordBody::CodeLoad(l),
        })
        .collect();
        let dump = jitdump::Dump {
            header: jitdump::Header::new(62, 7, 0),
            records,
        };
        raw.dumps.insert(
            7,
            crate::dump::DumpFile {
                path: "/tmp/jit-7.dump".into(),
                dump: Some(dump),
                error: Some("/tmp/jit-7.dump: jitdump byte 99: cut".into()),
            },
        );
        let obs = observe(&raw);
        let main = &obs.processes[0];
        assert_eq!(
            main.dump.as_deref().unwrap(),
            ["py::<module>:$CASE/x.py", "py::foo:$CASE/x.py"]
        );
        assert_eq!(
            main.dump_error.as_deref(),
            Some("/tmp/jit-7.dump: jitdump byte 99: cut")
        );
        // Hand-made records lack their unwinding records: the checks say so.
        assert!(
            main.dump_problems[0]
                .starts_with("py::<module>:/tmp/run/x.py (byte 40): no unwinding record"),
            "{:?}",
            main.dump_problems
        );
        assert_eq!(main.unresolved_jit_frames, 1);
        assert_eq!(obs.processes[1].dump, None);
    }

    #[test]
    fn qualnames_drop_prefix_and_file() {
        assert_eq!(
            qualname("py::K.m.<locals>.<lambda>:/a:b/x.py"),
            "K.m.<locals>.<lambda>"
        );
        assert_eq!(qualname("py::foo"), "foo");
        assert_eq!(
            fold_stack(&["a", "b", "b", "a"].map(String::from)),
            "a > b*2 > a"
        );
    }
}
