//! The harness: proves, with real `perf`, that a runtime's script functions
//! are visible to the profiler — minipy, the reference interpreter of this
//! project, and runtimes we did not write (CPython) — and that the
//! frame-pointer flags are what makes it work.
//!
//! `harness check` builds minipy (with and without frame pointers, into
//! `target/harness/`), runs every case of `cases/` under `perf record`,
//! reads the samples back with `perf script`, observes them (the map and
//! jitdump names, the script stacks with their sample counts) and judges
//! them against `snapshots/` and each case's explicit expectations, with a
//! margin for sampling noise and re-runs when a share is unclear. `list`,
//! `run` and `doctor` help a person explore and fix the setup;
//! `conformance` and `check --python` judge CPython by the same cases.
//! The case format is described in `cases/README.md`, the contract the
//! runtimes are held to in `docs/contract.md`.
//!
//! Modules, in pipeline order:
//! - [`cases`]: the case format, read strictly;
//! - [`runtime`]: the runtime under test, the one seam (minipy, CPython);
//! - [`session`]: what every command starts with (cases, perf probe,
//!   runtimes, Ctrl-C) and the one worker pool;
//! - [`profile`]: the perf pipeline (record, inject, script, the files in
//!   `/tmp`), one run → a recording;
//! - [`place`]: where a case runs: here, or in an emulated aarch64 machine
//!   (the same perf commands, the recording brought back);
//! - [`observe`]: a recording → an observation (names, stacks, counts);
//! - [`snapshot`]: the snapshot as a structure, its text, insta;
//! - [`judge`]: runs against the snapshot and the expectations, with
//!   margins and re-runs → a [`verdict`];
//! - [`report`], [`tree`]: what is printed;
//! - [`doctor`]: the machine's findings, and `doctor --python`;
//! - [`commands`]: one module per subcommand, [`cli`] parses and
//!   dispatches, [`error`] maps every ending to the exit status.
//!
//! Dependencies, and why:
//! - `clap`: the command line and its help.
//! - `ctrlc`: Ctrl-C kills the perf runs and their workloads, and the
//!   harness removes their files before it exits.
//! - `regex`: perf file names in output, disassembly symbol matching (the
//!   perf text itself is parsed by `perf-script`, which uses regex too).
//! - `tempfile`: a fresh folder per run (`$CASE`), removed afterwards.
//! - `insta`: the snapshot files, `.snap.new` and `cargo insta review`.
//! - `similar`: the diff printed for a failing snapshot (insta's own diff
//!   library; insta's printing is off so a failure is not a panic trace).
//! - `indicatif`: the progress bar when stdout is a terminal.
//! - `toml` + `serde`: `case.toml`, strictly (`deny_unknown_fields`, spans
//!   for `<file>:<line>:` errors).
//! - `thiserror`: the error types.
//! - `perf-script`: every perf command (with a time limit, killed with its
//!   workload) and the parser; `trampoline-api`: the perf map and jitdump
//!   paths and the map validator; `jitdump`: reads the dumps back and
//!   validates them, with byte offsets in every error.
//! - `serde_json`: `harness conformance --format json`.
//! - `cross`: the aarch64 toolchain and the emulated aarch64 machine that
//!   `check --arch aarch64` runs the cases in.

pub mod cases;
pub mod cli;
pub mod commands;
pub mod doctor;
pub mod error;
pub mod judge;
pub mod observe;
pub mod place;
pub mod profile;
pub mod report;
pub mod runtime;
pub mod session;
pub mod snapshot;
pub mod tree;
pub mod verdict;
