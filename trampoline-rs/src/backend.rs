//! Where stubs are named for perf: one [`Sink`] per backend, picked by
//! [`open`]: the perf map (SPEC §3) or the jitdump with unwind info (SPEC §7).
//! `file` holds what both share: refusing a symlink or a file that is not
//! ours alone, whole entries, and stopping after the first failed write.

mod file;
mod jit_dump;
mod marker;
mod own_memory;
mod perf_map;

use crate::encode::HostStub;
use std::path::Path;
use trampoline_api::{Backend, Error, Options};

pub use jit_dump::JitDump;
pub use perf_map::PerfMap;

/// A file that names code for perf. Callers serialise access (the set keeps
/// its sink behind a mutex), so one entry is always written whole.
pub trait Sink: Send {
    /// Names one of the set's stubs, `code` (its bytes, at `addr`), as
    /// `name` (control characters in `name` are replaced, never written raw).
    /// After a failed write (reported once, as `Error::WriteStopped`) this
    /// and `add_foreign` write nothing and succeed.
    fn add_stub(&mut self, addr: usize, code: &[u8], name: &str) -> Result<(), Error>;

    /// Names `size` bytes of code the set did not make (a JIT's, another
    /// interpreter's) at `addr` as `name`.
    fn add_foreign(&mut self, addr: usize, size: usize, name: &str) -> Result<(), Error>;

    /// In a forked child: switch to the child's own file, empty or starting
    /// with the parent's entries when `persist` is set.
    fn after_fork_child(&mut self, persist: bool) -> Result<(), Error>;

    /// The file written now.
    fn path(&self) -> &Path;

    /// The least distance between two stubs' starts this backend needs (0:
    /// none beyond the code itself).
    fn stub_spacing(&self) -> usize {
        0
    }
}

/// Creates the backend's file for this process, for stubs like `stub`.
pub fn open(options: &Options, stub: &HostStub) -> Result<Box<dyn Sink>, Error> {
    match options.backend {
        Backend::PerfMap => Ok(Box::new(PerfMap::for_this_process()?)),
        Backend::JitDump => Ok(Box::new(JitDump::for_this_process(stub)?)),
    }
}
