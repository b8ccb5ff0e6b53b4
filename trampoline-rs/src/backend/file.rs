//! The output file both backends share: opened without following a symlink
//! and used only if it is ours alone, written an entry at a time (each
//! whole, in one `write(2)` when the disk takes it, or not at all), and left
//! alone after the first write that fails.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use trampoline_api::Error;

/// How an existing file at the path is taken over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opening {
    /// The perf map: entries go after whatever the file holds.
    Append,
    /// The jitdump: the file starts afresh (truncated once it is known to
    /// be ours).
    Truncate,
}

/// A backend's open file.
pub struct Output {
    file: File,
    path: PathBuf,
    /// Where this set's entries begin: the file's size when it was opened.
    start: u64,
    /// Just past the last entry this set wrote. A fork child's copy of this
    /// value is the parent's at the fork, while the file (shared with the
    /// parent) goes on growing: it bounds what the child may copy.
    end: u64,
    /// Set by the first failed write: nothing more is written.
    stopped: bool,
}

impl Output {
    /// Opens (creates, mode 0600) `path`. A symlink there is refused and
    /// never followed; so is a file that is not ours alone, which is left as
    /// it was (not even truncated).
    pub fn open(path: &Path, opening: Opening) -> Result<Output, Error> {
        let mut options = OpenOptions::new();
        // O_NONBLOCK: a FIFO planted at the path must not block the open.
        options
            .read(true)
            .create(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK);
        match opening {
            Opening::Append => options.append(true),
            Opening::Truncate => options.write(true),
        };
        let open_failed = |source| open_error(path, source);
        let file = options.open(path).map_err(open_failed)?;
        let metadata = file.metadata().map_err(open_failed)?;
        if let Some(reason) = not_ours_alone(&metadata) {
            return Err(Error::UnsafeFile {
                path: path.to_path_buf(),
                reason,
            });
        }
        clear_nonblocking(&file).map_err(open_failed)?;
        let start = match opening {
            Opening::Append => metadata.len(),
            Opening::Truncate => {
                file.set_len(0).map_err(open_failed)?;
                0
            }
        };
        Ok(Output {
            file,
            path: path.to_path_buf(),
            start,
            end: start,
            stopped: false,
        })
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether a write failed, after which nothing more is written.
    pub fn is_stopped(&self) -> bool {
        self.stopped
    }

    /// Writes the first bytes of a new file (the dump's header). A failure
    /// is returned as [`Error::Write`] and leaves the file as it was.
    pub fn write_initial(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.end = write_whole(&self.file, bytes).map_err(|source| Error::Write {
            path: self.path.clone(),
            source,
        })?;
        Ok(())
    }

    /// Writes one entry (a map line, a dump's records). The first failure
    /// leaves the file ending with its last whole entry, stops all writing
    /// and is returned as [`Error::WriteStopped`]; from then on entries are
    /// accepted and not written.
    pub fn write_entry(&mut self, bytes: &[u8]) -> Result<(), Error> {
        if self.stopped {
            return Ok(());
        }
        match write_whole(&self.file, bytes) {
            Ok(end) => {
                self.end = end;
                Ok(())
            }
            Err(source) => {
                self.stopped = true;
                Err(Error::WriteStopped {
                    path: self.path.clone(),
                    source,
                })
            }
        }
    }

    /// The bytes this set wrote, from where it opened the file to the end
    /// of its last entry, read at positions: after a fork the descriptor's
    /// offset is shared with the parent and must not move.
    pub fn written(&self) -> Result<Vec<u8>, Error> {
        let mut bytes = vec![0; (self.end - self.start) as usize];
        let mut done = 0;
        while done < bytes.len() {
            match self
                .file
                .read_at(&mut bytes[done..], self.start + done as u64)
            {
                Ok(0) => break, // the file shrank: what there is
                Ok(n) => done += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(Error::Open {
                        path: self.path.clone(),
                        source,
                    })
                }
            }
        }
        bytes.truncate(done);
        Ok(bytes)
    }
}

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

/// Why the open file is not ours alone to write, or `None` when it is: a
/// regular file of the effective user, with one link, that no group or
/// other user may open. perf itself refuses a map of another owner; a file
/// others can open (or reach through another link) is theirs to write into
/// or read; a FIFO or a device is no map at all.
fn not_ours_alone(metadata: &Metadata) -> Option<String> {
    // SAFETY: geteuid has no arguments and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if !metadata.file_type().is_file() {
        Some("it is not a regular file".to_string())
    } else if metadata.uid() != euid {
        Some(format!(
            "it belongs to uid {}, not to this process's uid {euid}",
            metadata.uid()
        ))
    } else if metadata.mode() & 0o077 != 0 {
        Some(format!(
            "its mode {:04o} lets other users open it",
            metadata.mode() & 0o7777
        ))
    } else if metadata.nlink() != 1 {
        Some(format!("it has {} hard links", metadata.nlink()))
    } else {
        None
    }
}

fn clear_nonblocking(file: &File) -> io::Result<()> {
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own, with integer arguments.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
    if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Writes all of `bytes` and returns the offset just past them. A regular
/// file takes them in one call; a call cut short (a full disk, a size limit)
/// is followed by one for the rest, which then names the reason (`ENOSPC`,
/// `EFBIG`). On failure the part that reached the file is cut off again.
fn write_whole(mut file: &File, bytes: &[u8]) -> io::Result<u64> {
    let mut done = 0;
    while done < bytes.len() {
        match file.write(&bytes[done..]) {
            Ok(0) => {
                cut_back(file, done);
                return Err(io::ErrorKind::WriteZero.into());
            }
            Ok(n) => done += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                cut_back(file, done);
                return Err(e);
            }
        }
    }
    file.stream_position()
}

/// Removes the `written` bytes of an entry that reached the file only in
/// part. They end at the descriptor's offset (appending or not), and the
/// set's lock kept its other writes out; another writer of the same file
/// appending in between would lose its entry too, never leave a torn one.
fn cut_back(mut file: &File, written: usize) {
    if written == 0 {
        return;
    }
    if let Ok(end) = file.stream_position() {
        if let Some(start) = end.checked_sub(written as u64) {
            if file.set_len(start).is_ok() {
                let _ = file.seek(SeekFrom::Start(start));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_refuses_a_symlink_and_reports_other_failures_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.map");
        std::os::unix::fs::symlink(dir.path().join("target"), &link).unwrap();
        let refused = Output::open(&link, Opening::Append).err();
        assert!(matches!(refused, Some(Error::Symlink { path }) if path == link));
        assert!(
            !dir.path().join("target").exists(),
            "the symlink was followed"
        );
        let missing_dir = dir.path().join("no-such-dir/x.map");
        let err = Output::open(&missing_dir, Opening::Append).err().unwrap();
        assert!(
            matches!(&err, Error::Open { path, .. } if *path == missing_dir),
            "{err}"
        );
    }

    #[test]
    fn written_is_what_this_output_wrote_after_opening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("perf-1.map");
        std::fs::write(&path, "a0 8 py::earlier\n").unwrap();
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        let mut output = Output::open(&path, Opening::Append).unwrap();
        output.write_entry(b"b0 8 py::mine\n").unwrap();
        let snapshot_end = output.end;
        output.write_entry(b"c0 8 py::later\n").unwrap();
        assert_eq!(
            output.written().unwrap(),
            b"b0 8 py::mine\nc0 8 py::later\n"
        );
        output.end = snapshot_end; // as a fork child sees it
        assert_eq!(output.written().unwrap(), b"b0 8 py::mine\n");
    }
}
