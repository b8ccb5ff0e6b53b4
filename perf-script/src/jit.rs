//! The jitdump workflow around perf (SPEC §7): the `perf record` options it
//! needs, and the `jitted-<pid>-<n>.so` files `perf inject --jit` leaves
//! beside each dump, which whoever ran it must remove.
//!
//! The whole workflow, with [`crate::Perf`]:
//! `perf.record(data, &JIT_RECORD_ARGS, cmd)`, `let jitted =
//! JittedFiles::before_inject(dump_dir)`, `perf.inject_jit(data, injected)`,
//! `perf.script(injected)`, then `jitted.remove_new(&pids)` and the dumps.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// `perf record` options of the jitdump workflow: `-k 1` stamps samples
/// with `CLOCK_MONOTONIC`, the clock of the dump's records, so `perf inject`
/// can place each code load among the samples; DWARF unwinding uses the
/// unwind info the dump carries for each stub.
pub const JIT_RECORD_ARGS: [&str; 4] = ["-k", "1", "--call-graph", "dwarf"];

/// `jitted-<pid>-<n>.so` → `(pid, n)`.
pub fn parse_jitted_name(file_name: &str) -> Option<(u32, u64)> {
    let rest = file_name.strip_prefix("jitted-")?.strip_suffix(".so")?;
    let (pid, index) = rest.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(pid) || !digits(index) {
        return None;
    }
    Some((pid.parse().ok()?, index.parse().ok()?))
}

/// The `jitted-*.so` files of a folder as they were before `perf inject
/// --jit` ran, so that afterwards exactly the ones it made for a workload's
/// pids can be found and removed, even when other runs inject into the same
/// folder at the same time or the dump could not be read.
#[derive(Clone, Debug)]
pub struct JittedFiles {
    dir: PathBuf,
    before: BTreeSet<PathBuf>,
}

impl JittedFiles {
    /// Lists `dir` (the folder of the dumps: `/tmp`) now.
    pub fn before_inject(dir: &Path) -> JittedFiles {
        JittedFiles {
            dir: dir.to_path_buf(),
            before: list(dir),
        }
    }

    /// The `jitted-<pid>-<n>.so` files of `pids` made since the listing,
    /// sorted by pid and `n`.
    pub fn new_files(&self, pids: &[u32]) -> Vec<PathBuf> {
        let mut files: Vec<(u32, u64, PathBuf)> = list(&self.dir)
            .into_iter()
            .filter(|path| !self.before.contains(path))
            .filter_map(|path| {
                let (pid, index) = parse_jitted_name(path.file_name()?.to_str()?)?;
                pids.contains(&pid).then_some((pid, index, path))
            })
            .collect();
        files.sort();
        files.into_iter().map(|(_, _, path)| path).collect()
    }

    /// Removes [`Self::new_files`] and returns what it removed.
    pub fn remove_new(&self, pids: &[u32]) -> Vec<PathBuf> {
        self.new_files(pids)
            .into_iter()
            .filter(|path| std::fs::remove_file(path).is_ok())
            .collect()
    }
}

fn list(dir: &Path) -> BTreeSet<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeSet::new();
    };
    entries
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|n| parse_jitted_name(n).is_some())
        })
        .map(|e| e.path())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitted_names_carry_pid_and_index() {
        assert_eq!(parse_jitted_name("jitted-4242-17.so"), Some((4242, 17)));
        for bad in [
            "jitted-4242.so",
            "jitted--1.so",
            "jitted-a-1.so",
            "jitted-1-2.so.1",
            "jit-1.dump",
        ] {
            assert_eq!(parse_jitted_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_new_files_of_the_given_pids_are_removed() {
        let folder = tempfile::tempdir().unwrap();
        let dir = folder.path().to_path_buf();
        let touch = |name: &str| std::fs::write(dir.join(name), b"").unwrap();
        touch("jitted-10-0.so"); // there before: not ours
        let jitted = JittedFiles::before_inject(&dir);
        for name in [
            "jitted-10-1.so",
            "jitted-10-0x.so",
            "jitted-11-0.so",
            "jitted-12-0.so",
        ] {
            touch(name);
        }
        let name = |p: &PathBuf| p.file_name().unwrap().to_string_lossy().into_owned();
        let new: Vec<String> = jitted.new_files(&[10, 11]).iter().map(name).collect();
        assert_eq!(new, ["jitted-10-1.so", "jitted-11-0.so"]);
        let removed: Vec<String> = jitted.remove_new(&[10, 11]).iter().map(name).collect();
        assert_eq!(removed, new);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            ["jitted-10-0.so", "jitted-10-0x.so", "jitted-12-0.so"]
        );
    }
}
