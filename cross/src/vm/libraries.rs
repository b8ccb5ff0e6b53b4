//! The shared libraries the guest's programs need: the `NEEDED` entries of
//! their dynamic sections (read with the cross `readelf`), followed
//! transitively through the unpacked arm64 packages, so the initramfs holds
//! what perf and addr2line load and nothing else of the ~70 packages.

use crate::command;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Where arm64 Debian keeps shared libraries, below the unpacked root.
const LIBRARY_DIRS: [&str; 2] = ["lib/aarch64-linux-gnu", "usr/lib/aarch64-linux-gnu"];

/// Every library (by soname) that `programs` and the `extra` sonames need,
/// with its file under `root`.
pub fn closure(
    root: &Path,
    programs: &[PathBuf],
    extra: &[&str],
) -> Result<BTreeMap<String, PathBuf>> {
    let mut found = BTreeMap::new();
    let mut todo: Vec<(String, PathBuf)> = Vec::new();
    for program in programs {
        for soname in needed(program)? {
            todo.push((soname, program.clone()));
        }
    }
    todo.extend(
        extra
            .iter()
            .map(|s| (s.to_string(), PathBuf::from("(always included)"))),
    );
    while let Some((soname, wanted_by)) = todo.pop() {
        if found.contains_key(&soname) {
            continue;
        }
        let file = LIBRARY_DIRS
            .iter()
            .map(|dir| root.join(dir).join(&soname))
            .find(|p| p.exists())
            .with_context(|| {
                format!(
                    "{soname}, needed by {}, is in none of the downloaded arm64 packages",
                    wanted_by.display()
                )
            })?;
        for next in needed(&file)? {
            todo.push((next, file.clone()));
        }
        found.insert(soname, file);
    }
    Ok(found)
}

/// The `NEEDED` sonames of an ELF file.
fn needed(file: &Path) -> Result<Vec<String>> {
    let text = command::output(
        Command::new("aarch64-linux-gnu-readelf")
            .arg("-dW")
            .arg(file),
    )
    .with_context(|| format!("cannot read the dynamic section of {}", file.display()))?;
    Ok(parse_needed(&text))
}

fn parse_needed(readelf: &str) -> Vec<String> {
    readelf
        .lines()
        .filter(|l| l.contains("(NEEDED)"))
        .filter_map(|l| {
            let start = l.find('[')? + 1;
            let end = l[start..].find(']')? + start;
            Some(l[start..end].to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needed_entries_are_read_from_readelf_output() {
        let text = "Dynamic section at offset 0x1 contains 3 entries:\n  Tag        Type                         Name/Value\n \
            0x0000000000000001 (NEEDED)             Shared library: [libelf.so.1]\n \
            0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]\n \
            0x000000000000000e (SONAME)             Library soname: [libdw.so.1]\n";
        assert_eq!(parse_needed(text), ["libelf.so.1", "libc.so.6"]);
    }
}
