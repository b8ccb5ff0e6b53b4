//! File handling both backends share: naming a refused symlink, and writing
//! an entry in a single `write(2)` so that it reaches the file whole.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use trampoline_api::Error;

/// `O_NOFOLLOW` makes `open` fail with `ELOOP` when the path is a symlink.
pub fn open_error(path: &Path, source: io::Error) -> Error {
    if source.raw_os_error() == Some(libc::ELOOP) {
        Error::Symlink {
            path: path.to_path_buf(),
        }
    } else {
        Error::Open {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// One `write(2)` of all of `bytes` (retried only if nothing was written
/// because of a signal); a short write is an error, never a second call that
/// could interleave with another writer.
pub fn write_in_one_call(mut file: &File, bytes: &[u8], path: &Path) -> Result<(), Error> {
    let write_error = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    loop {
        match file.write(bytes) {
            Ok(n) if n == bytes.len() => return Ok(()),
            Ok(n) => {
                let why = format!("short write: {n} of {} bytes", bytes.len());
                return Err(write_error(io::Error::new(io::ErrorKind::WriteZero, why)));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(write_error(e)),
        }
    }
}
