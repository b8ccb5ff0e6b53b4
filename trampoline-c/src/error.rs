//! Turns the C library's `struct perf_tramp_error` into [`trampoline_api::Error`],
//! keeping the file it names and the errno that explains it.

use crate::ffi;
use std::ffi::{CStr, OsStr};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use trampoline_api::Error;

/// `Ok` for `PERF_TRAMP_OK`, otherwise the error `error` describes.
pub(crate) fn check(status: libc::c_int, error: &ffi::PerfTrampError) -> Result<(), Error> {
    if status == ffi::PERF_TRAMP_OK {
        return Ok(());
    }
    let path = PathBuf::from(OsStr::from_bytes(c_text(&error.path)));
    let detail = String::from_utf8_lossy(c_text(&error.detail)).into_owned();
    let os_error = io::Error::from_raw_os_error(error.os_errno);
    Err(match status {
        ffi::PERF_TRAMP_ERR_SYMLINK => Error::Symlink { path },
        ffi::PERF_TRAMP_ERR_OPEN => Error::Open {
            path,
            source: os_error,
        },
        ffi::PERF_TRAMP_ERR_WRITE => Error::Write {
            path,
            source: os_error,
        },
        ffi::PERF_TRAMP_ERR_WRITE_STOPPED => Error::WriteStopped {
            path,
            source: os_error,
        },
        ffi::PERF_TRAMP_ERR_UNSAFE_FILE => Error::UnsafeFile {
            path,
            reason: detail,
        },
        ffi::PERF_TRAMP_ERR_MEMORY => Error::Memory(os_error),
        ffi::PERF_TRAMP_ERR_UNSUPPORTED => Error::Unsupported(detail),
        ffi::PERF_TRAMP_ERR_UNUSABLE => Error::Unusable(detail),
        other => Error::Unusable(format!("the C library returned unknown status {other}")),
    })
}

/// The bytes of a NUL-terminated field, without the NUL (all of it if the
/// C side left no NUL, which it never does).
fn c_text(field: &[libc::c_char]) -> &[u8] {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes = unsafe { std::slice::from_raw_parts(field.as_ptr().cast::<u8>(), field.len()) };
    CStr::from_bytes_until_nul(bytes).map_or(bytes, CStr::to_bytes)
}
