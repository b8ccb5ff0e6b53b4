//! From one [`Recording`] to what is judged: per process, the perf map's and
//! the jitdump's names (and what is wrong with them), the script stacks with
//! their sample counts, and the run's output with the run folder written
//! `$CASE`.
//!
//! The runtime says which frames are script functions (and their qualname)
//! and which names are the case's own; everything else is dropped here, so
//! a CPython run reads exactly like a minipy run of the same script.
//! Nothing kept depends on addresses or pids, so the observation is the
//! same from run to run and on every architecture. A stack's share of its
//! process's samples makes it present, absent or unclear ([`Presence`]).

use crate::profile::{Exit, Recording};
use crate::runtime::Runtime;
use perf_script::Sample;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A stack with at least this share of its process's samples, in percent,
/// is present.
pub const PRESENT: f64 = 5.0;
/// A stack with less than this share, in percent, is absent.
pub const ABSENT: f64 = 1.0;

/// A stack's presence, by its share of the samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    Present,
    Absent,
    Unclear,
}

impl Presence {
    pub fn of(count: usize, total: usize) -> Presence {
        let share = percent(count, total);
        if total > 0 && share >= PRESENT {
            Presence::Present
        } else if share < ABSENT {
            Presence::Absent
        } else {
            Presence::Unclear
        }
    }
}

pub fn percent(count: usize, total: usize) -> f64 {
    match total {
        0 => 0.0,
        _ => count as f64 * 100.0 / total as f64,
    }
}

/// What one process of the workload showed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessObservation {
    /// The map's own names in file order (`$CASE` for the run folder);
    /// `None` when the process wrote no map.
    pub map: Option<Vec<String>>,
    /// What is wrong with the map file itself ([`trampoline_api::check_map`]).
    pub map_problems: Vec<String>,
    /// The jitdump's own code-load names in file order; `None` when the
    /// process wrote no jitdump.
    pub dump: Option<Vec<String>>,
    /// Why the jitdump could not be read to its end:
    /// `<path>: jitdump byte N: …`.
    pub dump_error: Option<String>,
    /// What is wrong with a readable jitdump ([`jitdump::validate`]).
    pub dump_problems: Vec<String>,
    /// All samples of the process, with or without script frames.
    pub samples: usize,
    /// Distinct script stacks (qualnames, outermost first) and their sample
    /// counts, sorted by stack. Samples without a script frame are not here.
    pub stacks: Vec<(Vec<String>, usize)>,
    /// The most script frames seen in one sample.
    pub max_py_depth: usize,
    /// Frames that fell inside a perf-map region but did not resolve to a
    /// script function's name.
    pub unresolved_stub_frames: usize,
    /// Frames in a `jitted-*.so` of `perf inject --jit` that did not
    /// resolve to a script function's name.
    pub unresolved_jit_frames: usize,
}

impl ProcessObservation {
    /// Samples whose stack is exactly `stack`.
    pub fn count_of(&self, stack: &[String]) -> usize {
        self.stacks
            .iter()
            .find(|(s, _)| s.as_slice() == stack)
            .map_or(0, |(_, n)| *n)
    }

    /// Samples whose stack holds `chain` as a contiguous run.
    pub fn count_holding(&self, chain: &crate::cases::StackPattern) -> usize {
        self.stacks
            .iter()
            .filter(|(s, _)| chain.is_within(s))
            .map(|(_, n)| n)
            .sum()
    }

    /// Samples with at least one script frame.
    pub fn script_samples(&self) -> usize {
        self.stacks.iter().map(|(_, n)| n).sum()
    }
}

/// A run, observed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub exit: Exit,
    pub stdout: String,
    pub stderr: String,
    /// The exec'd process first, then forked children in fork order.
    pub processes: Vec<ProcessObservation>,
    pub total_samples: usize,
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
pub fn normalize_text(text: &str, recording: &Recording) -> String {
    let mut text = text.to_string();
    let mut folders = vec![recording.workdir.to_string_lossy().into_owned()];
    if let Ok(canonical) = recording.workdir.canonicalize() {
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

struct Observer<'a> {
    recording: &'a Recording,
    runtime: &'a dyn Runtime,
}

impl Observer<'_> {
    /// Whether a name is one of the case's own script functions.
    fn own(&self, name: &str) -> bool {
        self.runtime.is_own(&normalize_text(name, self.recording))
    }

    /// A frame's qualname when it is a script function of the case's own.
    fn script_frame<'s>(&self, symbol: &'s str) -> Option<&'s str> {
        self.runtime.qualname(symbol).filter(|_| self.own(symbol))
    }

    fn samples(&self, process: &mut ProcessObservation, samples: &[&Sample]) {
        let mut stacks: BTreeMap<Vec<String>, usize> = BTreeMap::new();
        for sample in samples {
            let stack: Vec<String> = sample
                .frames
                .iter()
                .rev()
                .filter_map(|f| self.script_frame(&f.sym))
                .map(str::to_string)
                .collect();
            process.max_py_depth = process.max_py_depth.max(stack.len());
            let unresolved_in = |dso: &Regex| {
                sample
                    .frames
                    .iter()
                    .filter(|f| dso.is_match(&f.dso) && self.runtime.qualname(&f.sym).is_none())
                    .count()
            };
            process.unresolved_stub_frames += unresolved_in(stub_dso_re());
            process.unresolved_jit_frames += unresolved_in(jitted_dso_re());
            if !stack.is_empty() {
                *stacks.entry(stack).or_default() += 1;
            }
        }
        process.samples = samples.len();
        process.stacks = stacks.into_iter().collect();
    }

    fn process(&self, pid: u32) -> ProcessObservation {
        let mut process = ProcessObservation::default();
        if let Some(file) = self.recording.dumps.get(&pid) {
            let names = file
                .names()
                .into_iter()
                .map(|n| normalize_text(n, self.recording));
            process.dump = Some(names.filter(|n| self.runtime.is_own(n)).collect());
            process.dump_error = file.error.clone();
            if let Some(dump) = &file.dump {
                match jitdump::Arch::from_name(self.recording.arch) {
                    Some(arch) => process.dump_problems = jitdump::validate(dump, pid, arch),
                    None => {
                        process.dump_problems =
                            vec![format!("no jitdump rules for {}", self.recording.arch)]
                    }
                }
            }
        }
        if let Some(text) = self.recording.maps.get(&pid) {
            // Lines of other files go before the checks (CPython names its
            // own `<string>` code twice); lines that do not parse, and a torn
            // last line, stay.
            let own: String = text
                .split_inclusive('\n')
                .filter(|line| match line.strip_suffix('\n') {
                    Some(line) => {
                        trampoline_api::MapEntry::parse(line).is_none_or(|e| self.own(&e.name))
                    }
                    None => true,
                })
                .collect();
            let check = trampoline_api::check_map(&own);
            process.map_problems = check.problems;
            process.map = Some(
                check
                    .entries
                    .iter()
                    .map(|e| normalize_text(&e.name, self.recording))
                    .collect(),
            );
        }
        let samples: Vec<&Sample> = self
            .recording
            .profile
            .samples
            .iter()
            .filter(|s| s.pid == pid)
            .collect();
        self.samples(&mut process, &samples);
        process
    }
}

/// Observes a recording of `runtime`.
pub fn observe(recording: &Recording, runtime: &dyn Runtime) -> Observation {
    let observer = Observer { recording, runtime };
    let processes = crate::profile::workload_pids(&recording.profile)
        .into_iter()
        .map(|pid| observer.process(pid))
        .collect();
    Observation {
        exit: recording.exit,
        stdout: normalize_text(&recording.stdout, recording),
        stderr: normalize_text(&recording.stderr, recording),
        processes,
        total_samples: recording.profile.samples.len(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::cases::fold_stack;
    use crate::runtime::fake::Fake;
    use perf_script::{Frame, Profile, TaskEvent};
    use std::path::PathBuf;

    /// A sample whose script frames (outermost first) are perf-map stubs.
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
    pub(crate) fn recording(samples: Vec<Sample>) -> Recording {
        Recording {
            arch: "x86_64",
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

    pub(crate) fn observed(samples: Vec<Sample>) -> Observation {
        observe(&recording(samples), &Fake::all_own())
    }

    #[test]
    fn paths_and_pids_become_placeholders() {
        let obs = observed(vec![]);
        assert_eq!(obs.stdout, "$CASE/x.py done\n");
        assert_eq!(obs.stderr, "cannot write /tmp/perf-$PID.map\n");
        assert_eq!(
            obs.processes[0].map.as_deref().unwrap(),
            ["py::<module>:$CASE/x.py", "py::foo:$CASE/x.py"]
        );
        assert_eq!(obs.processes[1].map, None);
    }

    #[test]
    fn stacks_are_counted_outermost_first_and_sorted() {
        let mut samples = vec![sample(7, &["<module>", "rec", "rec", "rec"]); 3];
        samples.push(sample(7, &["<module>", "baz", "bar", "foo"]));
        samples.push(sample(7, &[]));
        let obs = observed(samples);
        let p = &obs.processes[0];
        assert_eq!((p.samples, p.script_samples(), p.max_py_depth), (5, 4, 4));
        let folded: Vec<String> = p
            .stacks
            .iter()
            .map(|(s, n)| format!("{} ({n})", fold_stack(s)))
            .collect();
        assert_eq!(
            folded,
            ["<module> > baz > bar > foo (1)", "<module> > rec*3 (3)"]
        );
        let chain = crate::cases::StackPattern::parse("rec > rec").unwrap();
        assert_eq!(p.count_holding(&chain), 3);
        assert_eq!(p.count_of(&["<module>".to_string()]), 0);
    }

    #[test]
    fn samples_go_to_their_process_in_fork_order() {
        let samples = vec![
            sample(9, &["<module>", "child"]),
            sample(7, &["<module>", "parent"]),
        ];
        let obs = observed(samples);
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
        let mut raw = recording(vec![s]);
        raw.maps.insert(
            7,
            "10 8 py::a:/x\n14 8 py::b:/x\n20 8 py::a:/x\n0x30 8 py::c\n".into(),
        );
        let obs = observe(&raw, &Fake::all_own());
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
    fn only_the_cases_own_frames_and_names_count() {
        let mut s = sample(7, &["<module>", "foo"]);
        s.frames.insert(
            1,
            Frame {
                ip: 5,
                sym: "py::_find_and_load:<frozen importlib._bootstrap>".into(),
                dso: "/tmp/perf-7.map".into(),
            },
        );
        let mut raw = recording(vec![s]);
        raw.maps.insert(
            7,
            "10 b py::_find_and_load:<frozen importlib._bootstrap>\n1b b py::<module>:/tmp/run/x.py\n\
             26 b py::<lambda>:<string>\n31 b py::helper:/tmp/run-other/x.py\n"
                .into(),
        );
        let obs = observe(&raw, &Fake::py_own());
        let main = &obs.processes[0];
        assert_eq!(main.map.as_deref().unwrap(), ["py::<module>:$CASE/x.py"]);
        assert_eq!(
            main.stacks,
            [(vec!["<module>".to_string(), "foo".to_string()], 1)]
        );
        assert_eq!(
            main.unresolved_stub_frames, 0,
            "a foreign py:: frame is resolved"
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
        let mut raw = recording(vec![s]);
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
            jitdump::DumpFile {
                path: "/tmp/jit-7.dump".into(),
                dump: Some(dump),
                error: Some("/tmp/jit-7.dump: jitdump byte 99: cut".into()),
            },
        );
        let obs = observe(&raw, &Fake::all_own());
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
}
