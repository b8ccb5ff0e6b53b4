//! The C reference implementation of the perf trampolines (`SPEC.md` §2–3,
//! §6–7) and its thin safe Rust binding, [`CTrampolines`].
//!
//! This crate owns:
//! - `include/perf_trampoline.h`, the documented C API;
//! - `src/*.c`: executable arenas (`arena.c`), the perf map backend
//!   (`perf_map.c`), the jitdump backend (`jitdump.c`) and the stub's
//!   `.eh_frame` it carries, written by hand (`eh_frame.c`), the output file
//!   (`file.c`), the name rule (`name.c`), fork safety (`fork.c`), the
//!   public calls (`set.c`);
//! - the stub template, one assembly file per architecture
//!   (`src/trampoline_x86_64.S`, `src/trampoline_aarch64.S`), copied byte
//!   for byte into every slot; [`template_bytes`] exposes it as linked;
//! - the binding ([`CTrampolines`], implementing
//!   [`trampoline_api::Trampolines`] with `implementation() == "c"`).
//!
//! Build: the C code is compiled with `-fno-omit-frame-pointer
//! -mno-omit-leaf-frame-pointer` (SPEC §8). Setting the environment variable
//! `TRAMPOLINE_C_OMIT_FRAME_POINTER=1` when building produces the control
//! variant with `-fomit-frame-pointer -momit-leaf-frame-pointer` instead; the
//! harness uses it to show that the flags matter (cargo rebuilds when the
//! variable changes).
//!
//! After `fork`, the child should call [`Trampolines::after_fork_child`];
//! if it does not, its next `compile` or `write_entry` switches to the
//! child's own map by itself (the C side marks every set in a
//! `pthread_atfork` child handler), so a child never writes its parent's map.
//!
//! [`Backend::JitDump`] writes `/tmp/jit-<pid>.dump` for
//! `perf inject --jit` (SPEC §7): per stub an unwinding-info record and a
//! code-load record. [`stub_unwind_data`] exposes the `.eh_frame` the C side
//! builds, for either architecture on any host, so tests can decode it.
//!
//! Dependencies: `cc` (build) compiles the C and assembly sources with the
//! flags above; `libc` gives the C types of the FFI declarations (`size_t`,
//! `uintptr_t`, `c_char`) so they match the header on every target.
//! Dev-only: `trampoline-api` with features `conformance` (the shared test
//! suite, whose fork and rlimit calls the tests also make through `libc`)
//! and `bench`, `criterion` to run those benchmarks (`benches/stub.rs`),
//! and `jitdump` to read the dumps back and to decode and compare the
//! C-built `.eh_frame` with its gimli-built one.

use std::ffi::c_void;
use std::path::PathBuf;
use std::ptr::NonNull;
use trampoline_api::{Backend, Error, Options, Stub, Trampolines};

mod error;
mod ffi;
mod unwind;

use error::check;
pub use unwind::{host_stub_unwind_data, stub_unwind_data, StubUnwindData, UnwindArch};

/// A set of C trampolines writing this process's perf map or jitdump.
///
/// Dropping it closes the file (and unmaps the dump's marker page) but
/// leaves every stub mapped;
/// [`Trampolines::teardown`] also unmaps them.
pub struct CTrampolines {
    set: NonNull<ffi::PerfTrampSet>,
}

// SAFETY: the C set guards all of its state with its own mutex; every call
// of the C API may be made from any thread (perf_trampoline.h).
unsafe impl Send for CTrampolines {}
unsafe impl Sync for CTrampolines {}

impl Trampolines for CTrampolines {
    fn create(options: Options) -> Result<Self, Error> {
        let c_options = ffi::PerfTrampOptions {
            backend: match options.backend {
                Backend::PerfMap => ffi::PERF_TRAMP_BACKEND_PERF_MAP,
                Backend::JitDump => ffi::PERF_TRAMP_BACKEND_JITDUMP,
            },
            persist_after_fork: options.persist_after_fork.into(),
        };
        let mut set = std::ptr::null_mut();
        let mut error = ffi::PerfTrampError::empty();
        let status = unsafe { ffi::perf_tramp_create(&c_options, &mut set, &mut error) };
        check(status, &error)?;
        let set = NonNull::new(set)
            .ok_or_else(|| Error::Unusable("perf_tramp_create returned no set".into()))?;
        Ok(CTrampolines { set })
    }

    fn implementation(&self) -> &'static str {
        "c"
    }

    fn compile(&self, name: &str) -> Result<Stub, Error> {
        let mut entry: *const c_void = std::ptr::null();
        let mut size = 0;
        let mut error = ffi::PerfTrampError::empty();
        let status = unsafe {
            ffi::perf_tramp_compile(
                self.set.as_ptr(),
                name.as_ptr().cast(),
                name.len(),
                &mut entry,
                &mut size,
                &mut error,
            )
        };
        check(status, &error)?;
        // SAFETY: the C library returned a copy of the template in a
        // read+execute arena that stays mapped until teardown.
        Ok(unsafe { Stub::from_raw(entry.cast(), size) })
    }

    fn write_entry(&self, addr: usize, size: usize, name: &str) -> Result<(), Error> {
        let mut error = ffi::PerfTrampError::empty();
        let status = unsafe {
            ffi::perf_tramp_write_entry(
                self.set.as_ptr(),
                addr,
                size,
                name.as_ptr().cast(),
                name.len(),
                &mut error,
            )
        };
        check(status, &error)
    }

    fn after_fork_child(&self) -> Result<(), Error> {
        let mut error = ffi::PerfTrampError::empty();
        let status = unsafe { ffi::perf_tramp_after_fork_child(self.set.as_ptr(), &mut error) };
        check(status, &error)
    }

    fn output_path(&self) -> PathBuf {
        use std::os::unix::ffi::OsStringExt;
        let mut buf = vec![0u8; ffi::PERF_TRAMP_PATH_MAX];
        loop {
            let len = unsafe {
                ffi::perf_tramp_output_path(self.set.as_ptr(), buf.as_mut_ptr().cast(), buf.len())
            };
            if len < buf.len() {
                buf.truncate(len);
                return PathBuf::from(std::ffi::OsString::from_vec(buf));
            }
            buf = vec![0u8; len + 1];
        }
    }

    unsafe fn teardown(self: Box<Self>) {
        let set = self.set;
        std::mem::forget(*self); // teardown replaces Drop's close
        ffi::perf_tramp_teardown(set.as_ptr());
    }
}

impl Drop for CTrampolines {
    fn drop(&mut self) {
        unsafe { ffi::perf_tramp_close(self.set.as_ptr()) };
    }
}

/// The assembled stub template, as linked into this library: the bytes
/// between the template's start and end labels, copied into every slot.
pub fn template_bytes() -> &'static [u8] {
    let mut len = 0;
    let start = unsafe { ffi::perf_tramp_template(&mut len) };
    // SAFETY: the template lives in this library's .text for the whole run.
    unsafe { std::slice::from_raw_parts(start, len) }
}

/// `endbr64`, which a CET build puts first in the x86_64 template.
const ENDBR64: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];

/// Whether the template was assembled for CET (starts with `endbr64`).
pub fn built_with_cet() -> bool {
    template_bytes().starts_with(&ENDBR64)
}
