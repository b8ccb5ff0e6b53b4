//! The Rust implementation of the perf trampoline contract
//! (`../shared/SPEC.md` §2–3, §6), written independently of the C reference.
//!
//! This crate owns:
//! - [`encode`]: per-architecture encoders that *emit* the stub's machine code
//!   instruction by instruction (x86_64 and AArch64, both testable on any
//!   host), instead of copying an assembled template;
//! - `arena`: executable memory, written read-write and then switched to
//!   read-execute, never both, kept mapped until an explicit teardown;
//! - `icache`: the instruction-cache flush AArch64 needs after writing code;
//! - `backend`: the file that names stubs for perf: the perf map, or the
//!   jitdump with each stub's unwind info (SPEC §7), whose synthesized
//!   mappings need the stubs spread further apart (`Sink::stub_spacing`);
//! - [`RustTrampolines`]: the [`Trampolines`] implementation tying them together.
//!
//! Dependencies: `trampoline-api` for the shared trait, types and name rules;
//! `jitdump` for the jitdump records and the stub's `.eh_frame`; `libc` for
//! `mmap`/`mprotect`/`munmap`, `sysconf`, `gettid`, `process_vm_readv` and
//! the `O_NOFOLLOW`/`ELOOP` constants that std does not expose. For tests and benches only:
//! `trampoline-api`'s `conformance` and `bench` features (the shared suite and
//! benchmarks), `trampoline-c` (its x86_64 template, to compare bytes with the
//! encoder), `criterion` (benchmarks) and `tempfile` (scratch files).

mod arena;
mod backend;
pub mod encode;
mod icache;

use arena::Arenas;
use backend::Sink;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError, TryLockError};
use trampoline_api::{Error, Options, Stub, Trampolines};

/// A set of trampolines: its arenas and its map (or dump) file.
///
/// The two locks are separate so that a slow write never holds up another
/// thread's slot allocation for longer than it must; both guard state that is
/// consistent between statements, so a poisoned lock is simply taken over.
pub struct RustTrampolines {
    options: Options,
    arenas: Mutex<Arenas>,
    sink: Mutex<Box<dyn Sink>>,
}

fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// In a forked child only the forking thread exists: a lock another thread
/// held at `fork` will never be released, so say so instead of deadlocking.
fn lock_after_fork<'a, T: ?Sized>(
    mutex: &'a Mutex<T>,
    what: &str,
) -> Result<MutexGuard<'a, T>, Error> {
    match mutex.try_lock() {
        Ok(guard) => Ok(guard),
        Err(TryLockError::Poisoned(poisoned)) => Ok(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => Err(Error::Unusable(format!(
            "another thread held the {what} lock when the process forked; \
             fork while no thread is compiling"
        ))),
    }
}

impl Trampolines for RustTrampolines {
    fn create(options: Options) -> Result<Self, Error> {
        let stub = encode::host_stub()?;
        let sink = backend::open(&options, &stub)?;
        let arenas = Arenas::new(&stub, sink.stub_spacing())?;
        Ok(RustTrampolines {
            options,
            arenas: Mutex::new(arenas),
            sink: Mutex::new(sink),
        })
    }

    fn implementation(&self) -> &'static str {
        "rust"
    }

    fn compile(&self, name: &str) -> Result<Stub, Error> {
        let (entry, size) = {
            let mut arenas = lock(&self.arenas);
            (arenas.allocate()?, arenas.code_size())
        };
        // SAFETY: `entry` is a complete stub of `size` bytes in a read-execute
        // arena that stays mapped until `teardown`, whose contract forbids
        // later calls.
        let code = unsafe { std::slice::from_raw_parts(entry, size) };
        lock(&self.sink).add_stub(entry as usize, code, name)?;
        // SAFETY: as above.
        Ok(unsafe { Stub::from_raw(entry, size) })
    }

    fn write_entry(&self, addr: usize, size: usize, name: &str) -> Result<(), Error> {
        lock(&self.sink).add_foreign(addr, size, name)
    }

    fn after_fork_child(&self) -> Result<(), Error> {
        // Inherited arenas stay mapped, but new stubs come from a fresh one:
        // perf sees the inherited memory as the parent's, named by the
        // parent's file, so a stub made there would carry the name the
        // parent gives its next stub at the same address.
        lock_after_fork(&self.arenas, "arena")?.retire();
        lock_after_fork(&self.sink, "map file")?.after_fork_child(self.options.persist_after_fork)
    }

    fn output_path(&self) -> PathBuf {
        lock(&self.sink).path().to_path_buf()
    }

    unsafe fn teardown(self: Box<Self>) {
        let RustTrampolines { arenas, sink, .. } = *self;
        arenas
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner)
            .unmap_all();
        drop(sink);
    }
}
