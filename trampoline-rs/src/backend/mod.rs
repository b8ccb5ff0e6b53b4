//! Where stubs are named for perf: one [`Sink`] per backend, picked by
//! [`open`]. Today that is the perf map (SPEC §3); the jitdump backend
//! (SPEC §7) will be a second `Sink` beside it.

mod perf_map;

use std::path::Path;
use trampoline_api::{Backend, Error, Options};

pub use perf_map::PerfMap;

/// A file that names code for perf. Callers serialise access (the set keeps
/// its sink behind a mutex), so one entry is always written whole.
pub trait Sink: Send {
    /// Names the `size` bytes of code at `addr` as `name` (control
    /// characters in `name` are replaced, never written raw).
    fn add(&mut self, addr: usize, size: usize, name: &str) -> Result<(), Error>;

    /// In a forked child: switch to the child's own file, empty or starting
    /// with the parent's entries when `persist` is set.
    fn after_fork_child(&mut self, persist: bool) -> Result<(), Error>;

    /// The file written now.
    fn path(&self) -> &Path;
}

/// Creates the backend's file for this process.
pub fn open(options: &Options) -> Result<Box<dyn Sink>, Error> {
    match options.backend {
        Backend::PerfMap => Ok(Box::new(PerfMap::for_this_process()?)),
        Backend::JitDump => Err(Error::Unsupported("the jitdump backend".into())),
    }
}
