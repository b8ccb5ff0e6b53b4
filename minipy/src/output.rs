//! `sys.stdout` as CPython buffers it: line-buffered on a terminal,
//! block-buffered otherwise, written straight to file descriptor 1. Like
//! CPython, `os._exit` and `os.fork` do not flush it; normal exit does.
//! A failed write (a closed pipe: `minipy x.py | head -1`) drops the
//! buffered text and raises `BrokenPipeError` (or `OSError`) from the
//! `print` that flushed, so the script ends as CPython's would.

use crate::errors::{os_error, PyResult};
use std::io::IsTerminal;

const BLOCK: usize = 8192;

pub struct Output {
    buf: Vec<u8>,
    line_buffered: bool,
    fd: i32,
}

impl Output {
    pub fn stdout() -> Output {
        Output {
            buf: Vec::with_capacity(BLOCK),
            line_buffered: std::io::stdout().is_terminal(),
            fd: 1,
        }
    }

    pub fn write_str(&mut self, s: &str) -> PyResult<()> {
        if s.len() >= BLOCK {
            // Too big to be worth copying into the buffer.
            self.flush()?;
            return write_all(self.fd, s.as_bytes()).map_err(os_error);
        }
        self.buf.extend_from_slice(s.as_bytes());
        if self.buf.len() >= BLOCK || (self.line_buffered && s.contains('\n')) {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes out the buffer. On failure the buffered text is dropped (it
    /// cannot be written), so a later flush has nothing left to fail on.
    pub fn flush(&mut self) -> PyResult<()> {
        let r = write_all(self.fd, &self.buf);
        self.buf.clear();
        r.map_err(os_error)
    }
}

/// Writes everything, retrying on partial writes and interruptions;
/// returns the `errno` of a failed write.
pub fn write_all(fd: i32, mut data: &[u8]) -> Result<(), i32> {
    while !data.is_empty() {
        // SAFETY: plain write(2) of a valid buffer.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            let e = std::io::Error::last_os_error();
            if e.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e.raw_os_error().unwrap_or(libc::EIO));
        }
        data = &data[n as usize..];
    }
    Ok(())
}

/// Writes to standard error at once (it is unbuffered in CPython too).
/// A failure is ignored: there is nowhere left to report it.
pub fn write_stderr(s: &str) {
    let _ = write_all(2, s.as_bytes());
}
