//! Interpreters we did not write, starting with CPython 3.12+, judged by the
//! same cases and snapshots as minipy.
//!
//! - [`detect`]: find an interpreter (path, name, pyenv) and read its build:
//!   perf trampoline, frame pointers, `perf_jit`.
//! - [`own_frames`]: keep only the `py::` frames and names of the case's own
//!   files (CPython adds `<frozen …>`, `<string>` and the standard library).
//! - [`compare`]: the snapshot text read back as items, compared at a level
//!   (everything, or the maps level when perf cannot unwind the stacks).
//! - [`classify`]: same / known deviation / differs / not supported /
//!   skipped / error.
//! - [`judge`]: one case on one interpreter, start to verdict.
//! - [`check`]: `harness check --python`; [`conformance`] and [`table`]:
//!   `harness conformance`, as text or JSON.
//! - [`probe`] and [`doctor`]: `harness doctor --python`, answered from
//!   probe runs of the seed script under perf.
//!
//! The case file's `[python]` table ([`crate::cases::PythonRules`]) says
//! when a case cannot run on CPython and where CPython is known to differ.

pub mod check;
pub mod classify;
pub mod compare;
pub mod conformance;
pub mod detect;
pub mod doctor;
pub mod judge;
pub mod own_frames;
pub mod probe;
pub mod table;
