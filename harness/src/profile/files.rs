//! The files a workload leaves in `/tmp`: each process's perf map and
//! jitdump (read, then removed unless kept) and the `jitted-*.so` files
//! `perf inject --jit` made for those processes.

use jitdump::DumpFile;
use perf_script::JittedFiles;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What the workload's processes wrote.
#[derive(Default)]
pub struct Collected {
    /// pid → content of its `/tmp/perf-<pid>.map`.
    pub maps: BTreeMap<u32, String>,
    /// pid → its `/tmp/jit-<pid>.dump`, read.
    pub dumps: BTreeMap<u32, DumpFile>,
    /// Files left in place (only with `keep`).
    pub kept: Vec<PathBuf>,
}

/// The folder perf inject writes the `jitted-*.so` files to: the dumps'.
pub fn dump_dir() -> PathBuf {
    let dump = trampoline_api::jit_dump_path(0);
    dump.parent().unwrap_or(Path::new("/tmp")).to_path_buf()
}

fn keep_or_remove(path: PathBuf, keep: bool, kept: &mut Vec<PathBuf>) {
    if keep {
        kept.push(path);
    } else {
        let _ = std::fs::remove_file(&path);
    }
}

/// Reads the map and dump of every pid, and removes them and the
/// `jitted-*.so` files perf inject made for these pids (all of them are
/// kept instead with `keep`).
pub fn collect(pids: &[u32], jitted: Option<&JittedFiles>, keep: bool) -> Collected {
    let mut out = Collected::default();
    for &pid in pids {
        let map = trampoline_api::perf_map_path(pid);
        if let Ok(text) = std::fs::read_to_string(&map) {
            out.maps.insert(pid, text);
            keep_or_remove(map, keep, &mut out.kept);
        }
        let path = trampoline_api::jit_dump_path(pid);
        if path.exists() {
            out.dumps.insert(pid, jitdump::read_file(&path));
            keep_or_remove(path, keep, &mut out.kept);
        }
    }
    if let Some(jitted) = jitted {
        if keep {
            out.kept.extend(jitted.new_files(pids));
        } else {
            jitted.remove_new(pids);
        }
    }
    out
}
