//! What a case asserts besides its snapshot: [`Expectations`], and the
//! `[expect]` table of `case.toml` it is read from.

use super::StackPattern;
use serde::Deserialize;
use toml::Spanned;

/// What a case asserts, besides its snapshot. A stack is *present* or
/// *absent* by its share of a process's samples, with a margin between the
/// two ([`crate::judge`]); frame counts are judged over every sample.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Expectations {
    /// Exit status of the script (default 0).
    pub exit: i32,
    pub stdout_contains: Vec<String>,
    pub stderr_contains: Vec<String>,
    /// Present in the main process.
    pub stacks: Vec<StackPattern>,
    /// The main process shows no stack besides `stacks`.
    pub no_other_stacks: bool,
    /// No process shows a stack that contains one of these chains.
    pub absent_stacks: Vec<StackPattern>,
    /// Present in some forked child.
    pub child_stacks: Vec<StackPattern>,
    /// No forked child shows a stack that contains one of these chains.
    pub child_absent_stacks: Vec<StackPattern>,
    /// No sample of any process has a `py::` frame.
    pub no_py_frames: bool,
    /// No sample has more than this many `py::` frames.
    pub max_py_depth: Option<usize>,
    /// The main process's map names, exactly and in order (`$CASE` for the
    /// case folder).
    pub map_names: Option<Vec<String>>,
    /// The main process's map has this many entries.
    pub map_count: Option<usize>,
    /// No process wrote a perf map.
    pub no_map: bool,
    /// Every map line is well formed, names and ranges are distinct, and
    /// every sampled frame inside a mapped stub resolved to a `py::` name.
    pub map_valid: bool,
    /// No process wrote a jitdump.
    pub no_jitdump: bool,
    /// The main process's jitdump code-load names, exactly and in order
    /// (`$CASE` for the case folder).
    pub dump_names: Option<Vec<String>>,
    /// Every jitdump is well formed (header, record sizes, an unwinding
    /// record before each code load), names and code ranges are distinct,
    /// and every sampled frame in a `jitted-*.so` resolved to a `py::` name.
    pub dump_valid: bool,
    /// Number of processes the workload consisted of.
    pub processes: Option<usize>,
}

impl Expectations {
    /// Whether it says anything beyond the exit status: a deviation must be
    /// recognisable by something it expects.
    pub fn says_something(&self) -> bool {
        let mut e = self.clone();
        e.exit = 0;
        e != Expectations::default()
    }

    /// What can be judged when perf cannot unwind through the runtime (the
    /// maps level): nothing about stacks or script frames in samples.
    pub fn without_stacks(&self) -> Expectations {
        Expectations {
            stacks: Vec::new(),
            no_other_stacks: false,
            absent_stacks: Vec::new(),
            child_stacks: Vec::new(),
            child_absent_stacks: Vec::new(),
            no_py_frames: false,
            max_py_depth: None,
            ..self.clone()
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpectFile {
    #[serde(default)]
    exit: i32,
    #[serde(default)]
    stdout_contains: Vec<String>,
    #[serde(default)]
    stderr_contains: Vec<String>,
    #[serde(default)]
    stacks: Vec<Spanned<String>>,
    #[serde(default)]
    no_other_stacks: bool,
    #[serde(default)]
    absent_stacks: Vec<Spanned<String>>,
    #[serde(default)]
    child_stacks: Vec<Spanned<String>>,
    #[serde(default)]
    child_absent_stacks: Vec<Spanned<String>>,
    #[serde(default)]
    no_py_frames: bool,
    max_py_depth: Option<usize>,
    map_names: Option<Vec<String>>,
    map_count: Option<usize>,
    #[serde(default)]
    no_map: bool,
    #[serde(default)]
    map_valid: bool,
    #[serde(default)]
    no_jitdump: bool,
    dump_names: Option<Vec<String>>,
    #[serde(default)]
    dump_valid: bool,
    processes: Option<usize>,
}

impl ExpectFile {
    /// The expectations, with every stack pattern parsed by `pattern`
    /// (which reports a bad one at its line).
    pub(super) fn into_expectations<E>(
        self,
        pattern: impl Fn(Spanned<String>) -> Result<StackPattern, E>,
    ) -> Result<Expectations, E> {
        let patterns = |list: Vec<Spanned<String>>| -> Result<Vec<StackPattern>, E> {
            list.into_iter().map(&pattern).collect()
        };
        Ok(Expectations {
            exit: self.exit,
            stdout_contains: self.stdout_contains,
            stderr_contains: self.stderr_contains,
            stacks: patterns(self.stacks)?,
            no_other_stacks: self.no_other_stacks,
            absent_stacks: patterns(self.absent_stacks)?,
            child_stacks: patterns(self.child_stacks)?,
            child_absent_stacks: patterns(self.child_absent_stacks)?,
            no_py_frames: self.no_py_frames,
            max_py_depth: self.max_py_depth,
            map_names: self.map_names,
            map_count: self.map_count,
            no_map: self.no_map,
            map_valid: self.map_valid,
            no_jitdump: self.no_jitdump,
            dump_names: self.dump_names,
            dump_valid: self.dump_valid,
            processes: self.processes,
        })
    }
}
