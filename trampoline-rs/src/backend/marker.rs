//! The jitdump marker (SPEC §7): the dump's first page mapped
//! `PROT_READ|PROT_EXEC`, `MAP_PRIVATE`. perf records executable mappings
//! only, and `perf inject --jit` finds a process's dump by the `MMAP` event
//! of a file named `jit-<pid>.dump`; the mapping is never read or run.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::Path;
use trampoline_api::Error;

/// The mapping; unmapped on drop.
pub struct Marker {
    addr: *mut libc::c_void,
    len: usize,
}

// SAFETY: the mapping is only an address range that nothing dereferences;
// moving its owner between threads is harmless.
unsafe impl Send for Marker {}

impl Marker {
    /// Maps the first page of `file` (the dump at `path`).
    pub fn map(file: &File, path: &Path) -> Result<Marker, Error> {
        let len = crate::arena::page_size();
        // SAFETY: a new private mapping of an open file; nothing aliases it.
        let addr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        if addr == libc::MAP_FAILED {
            let os = io::Error::last_os_error();
            let why = format!(
                "cannot map its first page read-execute, the marker `perf inject --jit` \
                 looks for (is /tmp mounted noexec?): {os}"
            );
            return Err(Error::Open {
                path: path.to_path_buf(),
                source: io::Error::new(os.kind(), why),
            });
        }
        Ok(Marker { addr, len })
    }
}

impl Drop for Marker {
    fn drop(&mut self) {
        // SAFETY: our own mapping, which nothing reads.
        unsafe { libc::munmap(self.addr, self.len) };
    }
}
