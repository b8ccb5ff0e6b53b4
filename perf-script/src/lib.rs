//! perf in, samples out: runs `perf record` / `perf script` (and `perf
//! inject --jit`) with the fixed field list of SPEC §9 and parses the text
//! into [`Sample`]s.
//!
//! Both the trampoline crates' example tests and the harness read profiles
//! through this crate, so there is one parser, one jitdump workflow and one
//! place that turns perf's failures (missing, no permission) into one-line
//! errors with the fix.
//!
//! Modules: [`perf`](Perf) runs perf (with a private build-id cache when
//! asked, so nothing lands in `~/.debug`); `parse` reads the sample lines,
//! `tasks` the task events (`--show-task-events`: exec, fork, exit) that
//! tell which processes a workload consisted of, even those never sampled;
//! `jit` holds the jitdump workflow's record options and the cleanup of the
//! `jitted-*.so` files `perf inject --jit` leaves behind; `emulation` tells
//! whether this program runs under qemu-user, where perf cannot sample it.
//!
//! Dependencies: `regex` for the sample, frame and task-event lines;
//! `thiserror` for [`PerfError`]; `tempfile` (tests only) for scratch
//! folders.

mod emulation;
mod jit;
mod parse;
mod perf;
mod tasks;

pub use emulation::user_mode_emulation;
pub use jit::{parse_jitted_name, JittedFiles, JIT_RECORD_ARGS};
pub use parse::{parse, parse_profile, Frame, Sample};
pub use perf::{can_sample, environment_failure, record, script, script_profile, Perf, PerfError};
pub use tasks::{Profile, TaskEvent};

/// The `perf script` field list every reader uses (SPEC §9).
pub const SCRIPT_FIELDS: &str = "comm,pid,tid,event,ip,sym,dso";
