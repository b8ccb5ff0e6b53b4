//! The perf map writer (SPEC §3, §6): `/tmp/perf-<pid>.map`, opened so that a
//! symlink or a file that is not ours alone is refused, one
//! `<start> <size> <name>` line per entry, each in a single `write(2)` so
//! that a line reaches the file whole (a line the disk takes only in part is
//! cut off again, and writing stops: `file::Output`).

use super::file::{Opening, Output};
use super::Sink;
use std::path::{Path, PathBuf};
use trampoline_api::{perf_map_path, sanitize_name, Error};

/// The open map of this process.
pub struct PerfMap {
    /// The file, or why there is none: a forked child whose own map could
    /// not be opened writes nowhere rather than to the parent's.
    output: Result<Output, String>,
    path: PathBuf,
}

impl PerfMap {
    /// Opens (creates) `/tmp/perf-<getpid()>.map`.
    pub fn for_this_process() -> Result<PerfMap, Error> {
        let path = perf_map_path(std::process::id());
        Ok(PerfMap {
            output: Ok(Output::open(&path, Opening::Append)?),
            path,
        })
    }

    fn add(&mut self, addr: usize, size: usize, name: &str) -> Result<(), Error> {
        let output = self
            .output
            .as_mut()
            .map_err(|why| Error::Unusable(why.clone()))?;
        if output.is_stopped() {
            return Ok(());
        }
        let line = format!("{addr:x} {size:x} {}\n", sanitize_name(name));
        output.write_entry(line.as_bytes())
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
        // What the parent's set had written at the fork, not what the
        // parent has added to the shared file since.
        let inherited = match (&self.output, persist) {
            (Ok(parent), true) => parent.written().map(whole_lines),
            _ => Ok(Vec::new()),
        };
        // From here on nothing may reach the parent's map: replacing the
        // output closes the child's copy of its descriptor.
        self.output = Err(format!(
            "{} could not be opened in this forked child; nothing is written",
            child_path.display()
        ));
        self.path = child_path;
        let mut output = Output::open(&self.path, Opening::Append)?;
        let copied = match inherited {
            Ok(entries) if entries.is_empty() => Ok(()),
            // A copy the disk will not take leaves whole lines, stopped.
            Ok(entries) => output.write_entry(&entries),
            // Unreadable: the child's map starts empty.
            Err(e) => Err(e),
        };
        self.output = Ok(output);
        copied
    }

    fn path(&self) -> &Path {
        &self.path
    }
}

/// The map up to its last newline: a line cut short is left out rather
/// than copied in half.
fn whole_lines(mut text: Vec<u8>) -> Vec<u8> {
    let whole = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    text.truncate(whole);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_last_line_is_not_inherited() {
        let text = b"a0 8 py::f\nb0 8 py::g\nc0 8 py::hal".to_vec();
        assert_eq!(whole_lines(text), b"a0 8 py::f\nb0 8 py::g\n");
        assert_eq!(whole_lines(b"c0 8 py::hal".to_vec()), b"");
    }
}
