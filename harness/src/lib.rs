//! The harness: proves, with real `perf`, that minipy's script functions are
//! visible to the profiler, and that the frame-pointer flags are what makes
//! it work.
//!
//! `harness check` builds minipy (with and without frame pointers, into
//! `target/harness/`), runs every case of `cases/` under `perf record`, reads
//! the samples back with `perf script`, turns them into a deterministic text
//! (the `py::` map names and the `py::` stacks that carry at least 2% of the
//! samples) and compares it with `snapshots/` through insta; each case's
//! explicit expectations are checked as well. `list`, `run` and `doctor`
//! help a person explore and fix the setup.
//!
//! The case format is described in `cases/README.md`. Snapshots live in
//! `snapshots/` at the project root; a test target of this crate lives there
//! too (`snapshots/snapshot_files.rs`) so that `cargo insta review` searches
//! that folder. The `recursion` case needs `kernel.perf_event_max_stack >=
//! 512` (`harness doctor` says so, with the `sysctl` line).
//!
//! Cases run under one of three unwindings (`unwind` in `case.toml`): `fp`
//! (`perf record -g`, names from the perf map), `dwarf` (`--call-graph
//! dwarf`) and `jit` (`-k 1 --call-graph dwarf`, then `perf inject --jit`,
//! names and unwind info from the jitdump, SPEC §7). Every process's perf
//! map and jitdump are read back; both sets of names are in the snapshot.
//!
//! Modules, in pipeline order: [`cases`] (format and validation), [`build`]
//! (cargo builds), [`run`] (the perf pipeline), [`dump`] (jitdumps read
//! back and checked), [`normalize`] (run → observation), [`render`]
//! (observation → snapshot text), [`snapshot`] (insta), [`expect`]
//! (explicit expectations), [`report`] and [`tree`] (what is printed),
//! [`check`] (orchestration), [`doctor`], [`cli`]; [`python`]: CPython (or
//! another Python) as an interpreter under test (`check --python`, `doctor
//! --python`, `conformance`).
//!
//! Dependencies, and why:
//! - `clap`: the command line and its help.
//! - `duct`: runs cargo and `perf record` with a controlled environment,
//!   working folder and captured output, without shell quoting.
//! - `regex`: perf file names in output, disassembly symbol matching (the
//!   perf text itself is parsed by `perf-script`, which uses regex too).
//! - `tempfile`: a fresh folder per run (`$CASE`), removed afterwards.
//! - `insta`: the snapshot files, `.snap.new` and `cargo insta review`.
//! - `similar`: the diff printed for a failing snapshot (insta's own diff
//!   library; insta's printing is off so a failure is not a panic trace).
//! - `indicatif`: the progress bar when stdout is a terminal.
//! - `toml` + `serde`: `case.toml`, strictly (`deny_unknown_fields`, spans
//!   for `<file>:<line>:` errors).
//! - `anyhow`: error context in the build step; `thiserror`: the typed
//!   errors of case files and runs.
//! - `perf-script`: the shared perf runner and parser, and the jitdump
//!   workflow's pieces (record options, `jitted-*.so` cleanup);
//!   `trampoline-api`: the perf map and jitdump paths and the map line
//!   format; `jitdump`: reads the dumps back (and decodes their unwind
//!   info) with byte offsets in every error.
//! - `serde_json`: `harness conformance --format json`.

pub mod build;
pub mod cases;
pub mod check;
pub mod cli;
pub mod doctor;
pub mod dump;
pub mod expect;
pub mod normalize;
pub mod python;
pub mod render;
pub mod report;
pub mod run;
pub mod snapshot;
pub mod tree;

/// How a command ended; the process exit code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// 0: everything passed.
    Passed = 0,
    /// 1: a case (or a doctor finding) failed.
    Failed = 1,
    /// 2: the environment or the input cannot run the check at all (no perf,
    /// no permission, no samples, a malformed case file, a failed build).
    Environment = 2,
}
