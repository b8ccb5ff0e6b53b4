//! The perf map writer (SPEC §3, §6): `/tmp/perf-<pid>.map`, opened so that a
//! symlink at the path is refused, one `<start> <size> <name>` line per entry,
//! each in a single `write(2)` so that a line reaches the file whole.

use super::file::{open_error, write_in_one_call};
use super::Sink;
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use trampoline_api::{perf_map_path, sanitize_name, Error};

/// The open map of this process.
pub struct PerfMap {
    file: File,
    path: PathBuf,
}

impl PerfMap {
    /// Opens (creates) `/tmp/perf-<getpid()>.map`.
    pub fn for_this_process() -> Result<PerfMap, Error> {
        let path = perf_map_path(std::process::id());
        Ok(PerfMap {
            file: open_for_append(&path)?,
            path,
        })
    }

    fn add(&mut self, addr: usize, size: usize, name: &str) -> Result<(), Error> {
        let line = format!("{addr:x} {size:x} {}\n", sanitize_name(name));
        write_in_one_call(&self.file, line.as_bytes(), &self.path)
    }
}

impl Sink for PerfMap {
    fn add_stub(&mut self, addr: usize, code: &[u8], name: &str) -> Result<(), Error> {
        self.add(addr, code.len(), name)
    }

    fn add_foreign(&mut self, addr: usize, size: usize, name: &str) -> Result<(), Error> {
        self.add(addr, size, name)
    }

    fn after_fork_child(&mut self, persist: bool) -> Result<(), Error> {
        let child_path = perf_map_path(std::process::id());
        if child_path == self.path {
            // Same pid: this is not a fresh child, or it already switched.
            return Ok(());
        }
        let inherited = if persist {
            Some(whole_lines_of(&self.path)?)
        } else {
            None
        };
        let file = open_for_append(&child_path)?;
        if let Some(entries) = inherited.filter(|e| !e.is_empty()) {
            write_in_one_call(&file, &entries, &child_path)?;
        }
        // Replacing the handle closes the child's copy of the parent's
        // descriptor; the parent's stays open.
        self.file = file;
        self.path = child_path;
        Ok(())
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// `O_WRONLY|O_CREAT|O_APPEND|O_NOFOLLOW|O_CLOEXEC`, mode 0600.
fn open_for_append(path: &Path) -> Result<File, Error> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .map_err(|e| open_error(path, e))
}

/// The parent's map up to its last newline: a line the parent was writing at
/// the moment of `fork` is left out rather than copied in half.
fn whole_lines_of(path: &Path) -> Result<Vec<u8>, Error> {
    let mut text = Vec::new();
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
        .and_then(|mut f| f.read_to_end(&mut text))
        .map_err(|e| open_error(path, e))?;
    let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    text.truncate(whole);
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_last_line_is_not_inherited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("perf-1.map");
        std::fs::write(&path, "a0 8 py::f\nb0 8 py::g\nc0 8 py::hal").unwrap();
        assert_eq!(whole_lines_of(&path).unwrap(), b"a0 8 py::f\nb0 8 py::g\n");
        std::fs::write(&path, "c0 8 py::hal").unwrap();
        assert_eq!(whole_lines_of(&path).unwrap(), b"");
    }

    #[test]
    fn open_refuses_a_symlink_and_reports_other_failures_with_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("link.map");
        std::os::unix::fs::symlink(dir.path().join("target"), &link).unwrap();
        assert!(matches!(open_for_append(&link), Err(Error::Symlink { path }) if path == link));
        assert!(
            !dir.path().join("target").exists(),
            "the symlink was followed"
        );
        let missing_dir = dir.path().join("no-such-dir/x.map");
        let err = open_for_append(&missing_dir).unwrap_err();
        assert!(
            matches!(&err, Error::Open { path, .. } if *path == missing_dir),
            "{err}"
        );
    }
}
