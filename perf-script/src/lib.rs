//! perf in, samples out: every perf command the project runs (`perf record`,
//! `perf inject --jit`, `perf script` with the fixed field list of the
//! contract, `docs/contract.md` §9), and the text parsed into [`Sample`]s.
//!
//! The trampoline crates' example tests and the harness all run perf through
//! this crate, so there is one place that builds perf's command lines, one
//! sampling probe ([`Perf::probe`]), one parser, one jitdump workflow, and one
//! place that turns perf's failures (missing, no permission, too slow) into
//! one-line errors with the fix.
//!
//! Modules: [`perf`](Perf) runs perf (with a private build-id cache when
//! asked, so nothing lands in `~/.debug`); `child` runs any command in a
//! process group of its own under a time limit, killing perf *and* its
//! workload on a timeout or a [`cancel`]; `parse` reads the sample lines,
//! `tasks` the task events (`--show-task-events`: exec, fork, exit) that
//! tell which processes a workload consisted of, even those never sampled;
//! `jit` holds the jitdump workflow's record options and the cleanup of the
//! `jitted-*.so` files `perf inject --jit` leaves behind; `emulation` tells
//! whether this program runs under qemu-user, where perf cannot sample it.
//!
//! Dependencies: `regex` for the sample, frame and task-event lines;
//! `thiserror` for [`PerfError`]; `libc` to kill a process group;
//! `tempfile` (tests only) for scratch folders.

mod child;
mod emulation;
mod jit;
mod parse;
mod perf;
mod tasks;

pub use child::{cancel, cancelled, group_members, output, ChildError};
pub use emulation::user_mode_emulation;
pub use jit::{parse_jitted_name, JittedFiles, JIT_RECORD_ARGS};
pub use parse::{parse, parse_profile, Frame, Sample};
pub use perf::{
    can_sample, environment_failure, shown, workload_stderr, CallGraph, Perf, PerfError, Recorded,
    Workload, DEFAULT_FREQUENCY, DEFAULT_LIMIT,
};
pub use tasks::{Profile, TaskEvent};

/// The `perf script` field list every reader uses (contract §9).
pub const SCRIPT_FIELDS: &str = "comm,pid,tid,event,ip,sym,dso";
