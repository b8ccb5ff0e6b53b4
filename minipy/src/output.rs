//! `sys.stdout` as CPython buffers it: line-buffered on a terminal,
//! block-buffered otherwise, written straight to file descriptor 1. Like
//! CPython, `os._exit` and `os.fork` do not flush it; normal exit does.

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

    pub fn write_str(&mut self, s: &str) {
        self.buf.extend_from_slice(s.as_bytes());
        if self.buf.len() >= BLOCK || (self.line_buffered && s.contains('\n')) {
            self.flush();
        }
    }

    pub fn flush(&mut self) {
        write_all(self.fd, &self.buf);
        self.buf.clear();
    }
}

/// Writes everything, retrying on partial writes; errors (a closed pipe)
/// drop the data, as there is nowhere left to report them.
pub fn write_all(fd: i32, mut data: &[u8]) {
    while !data.is_empty() {
        // SAFETY: plain write(2) of a valid buffer.
        let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        data = &data[n as usize..];
    }
}

/// Writes to standard error at once (it is unbuffered in CPython too).
pub fn write_stderr(s: &str) {
    write_all(2, s.as_bytes());
}
