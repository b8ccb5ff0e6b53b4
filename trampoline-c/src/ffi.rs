//! The C API of `include/perf_trampoline.h`, declared for Rust. Kept in step
//! with the header by hand: it is small, and the conformance suite exercises
//! every function.

use libc::{c_char, c_int, c_void, size_t, uintptr_t};

pub const PERF_TRAMP_BACKEND_PERF_MAP: c_int = 0;
pub const PERF_TRAMP_BACKEND_JITDUMP: c_int = 1;

pub const PERF_TRAMP_OK: c_int = 0;
pub const PERF_TRAMP_ERR_SYMLINK: c_int = 1;
pub const PERF_TRAMP_ERR_OPEN: c_int = 2;
pub const PERF_TRAMP_ERR_WRITE: c_int = 3;
pub const PERF_TRAMP_ERR_MEMORY: c_int = 4;
pub const PERF_TRAMP_ERR_UNUSABLE: c_int = 5;
pub const PERF_TRAMP_ERR_UNSUPPORTED: c_int = 6;
pub const PERF_TRAMP_ERR_UNSAFE_FILE: c_int = 7;
pub const PERF_TRAMP_ERR_WRITE_STOPPED: c_int = 8;

pub const PERF_TRAMP_ARCH_HOST: c_int = 0;
pub const PERF_TRAMP_ARCH_X86_64: c_int = 62;
pub const PERF_TRAMP_ARCH_AARCH64: c_int = 183;
pub const PERF_TRAMP_UNWIND_ENDBR64: c_int = 1;

pub const PERF_TRAMP_PATH_MAX: usize = 64;
pub const PERF_TRAMP_DETAIL_MAX: usize = 128;

#[repr(C)]
pub struct PerfTrampError {
    pub status: c_int,
    pub os_errno: c_int,
    pub path: [c_char; PERF_TRAMP_PATH_MAX],
    pub detail: [c_char; PERF_TRAMP_DETAIL_MAX],
}

impl PerfTrampError {
    pub fn empty() -> PerfTrampError {
        PerfTrampError {
            status: PERF_TRAMP_OK,
            os_errno: 0,
            path: [0; PERF_TRAMP_PATH_MAX],
            detail: [0; PERF_TRAMP_DETAIL_MAX],
        }
    }
}

#[repr(C)]
pub struct PerfTrampOptions {
    pub backend: c_int,
    pub persist_after_fork: c_int,
}

#[repr(C)]
#[derive(Default)]
pub struct PerfTrampUnwindLayout {
    pub arch: c_int,
    pub code_size: size_t,
    pub eh_frame_size: size_t,
    pub eh_frame_hdr_size: size_t,
}

/// `perf_tramp_set`, only ever handled by pointer.
#[repr(C)]
pub struct PerfTrampSet {
    _opaque: [u8; 0],
}

extern "C" {
    pub fn perf_tramp_create(
        options: *const PerfTrampOptions,
        out: *mut *mut PerfTrampSet,
        error: *mut PerfTrampError,
    ) -> c_int;
    pub fn perf_tramp_compile(
        set: *mut PerfTrampSet,
        name: *const c_char,
        name_len: size_t,
        entry: *mut *const c_void,
        size: *mut size_t,
        error: *mut PerfTrampError,
    ) -> c_int;
    pub fn perf_tramp_write_entry(
        set: *mut PerfTrampSet,
        addr: uintptr_t,
        size: size_t,
        name: *const c_char,
        name_len: size_t,
        error: *mut PerfTrampError,
    ) -> c_int;
    pub fn perf_tramp_after_fork_child(set: *mut PerfTrampSet, error: *mut PerfTrampError)
        -> c_int;
    pub fn perf_tramp_output_path(
        set: *mut PerfTrampSet,
        buf: *mut c_char,
        buf_len: size_t,
    ) -> size_t;
    pub fn perf_tramp_close(set: *mut PerfTrampSet);
    pub fn perf_tramp_teardown(set: *mut PerfTrampSet);
    pub fn perf_tramp_template(len: *mut size_t) -> *const u8;
    pub fn perf_tramp_stub_unwind_data(
        arch: c_int,
        flags: c_int,
        buf: *mut u8,
        cap: size_t,
        layout: *mut PerfTrampUnwindLayout,
    ) -> size_t;
}
