//! The kernel modules the guest loads from its initramfs (Debian builds
//! virtio as modules), found in the unpacked kernel package and put in the
//! order they load: each after the modules it depends on, read from the
//! `depends=` field of the module's `.modinfo` section.

use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The virtio-mmio transport of `-M virt` and virtio block devices: enough
/// for the two exchange disks.
pub const WANTED: [&str; 2] = ["virtio_mmio", "virtio_blk"];

/// The module files for `wanted` and everything they depend on, in load
/// order, found under `modules_dir` (`lib/modules/<version>`).
pub fn load_order(modules_dir: &Path, wanted: &[&str]) -> Result<Vec<(String, PathBuf)>> {
    let mut files = BTreeMap::new();
    index(modules_dir, &mut files)?;
    let mut order = Vec::new();
    for name in wanted {
        visit(name, &files, &mut order, &mut Vec::new())?;
    }
    Ok(order
        .into_iter()
        .map(|name| {
            let path = files[&name].clone();
            (name, path)
        })
        .collect())
}

/// Every `<name>.ko` below `dir`, by module name (`-` and `_` are the same
/// to the kernel; `_` is kept).
fn index(dir: &Path, files: &mut BTreeMap<String, PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        if path.is_dir() {
            index(&path, files)?;
        } else if let Some(stem) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".ko"))
        {
            files.insert(stem.replace('-', "_"), path);
        }
    }
    Ok(())
}

fn visit(
    name: &str,
    files: &BTreeMap<String, PathBuf>,
    order: &mut Vec<String>,
    path: &mut Vec<String>,
) -> Result<()> {
    let name = name.replace('-', "_");
    if order.contains(&name) {
        return Ok(());
    }
    if path.contains(&name) {
        bail!(
            "kernel modules depend on each other in a cycle: {}",
            path.join(" -> ")
        );
    }
    let file = files.get(&name).with_context(|| {
        format!("the kernel package has no module {name}.ko (built in, or renamed?)")
    })?;
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    path.push(name.clone());
    for dependency in depends(&bytes) {
        visit(&dependency, files, order, path)?;
    }
    path.pop();
    order.push(name);
    Ok(())
}

/// The `depends=` list of a module's `.modinfo` strings.
fn depends(module: &[u8]) -> Vec<String> {
    let key = b"\0depends=";
    let Some(at) = module.windows(key.len()).position(|w| w == key) else {
        return Vec::new();
    };
    let value = &module[at + key.len()..];
    let end = value.iter().position(|&b| b == 0).unwrap_or(value.len());
    String::from_utf8_lossy(&value[..end])
        .split(',')
        .filter(|d| !d.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(dir: &Path, sub: &str, name: &str, depends: &str) {
        let folder = dir.join(sub);
        std::fs::create_dir_all(&folder).unwrap();
        let modinfo = format!("\x7fELF...\0license=GPL\0depends={depends}\0vermagic=6.1\0");
        std::fs::write(folder.join(format!("{name}.ko")), modinfo).unwrap();
    }

    #[test]
    fn dependencies_load_first_and_once() {
        let dir = tempfile::tempdir().unwrap();
        module(dir.path(), "kernel/fs", "netfs", "");
        module(dir.path(), "kernel/fs/9p", "9p", "9pnet,netfs");
        module(dir.path(), "kernel/net/9p", "9pnet", "");
        module(dir.path(), "kernel/net/9p", "9pnet_virtio", "9pnet");
        let order = load_order(dir.path(), &["9pnet_virtio", "9p"]).unwrap();
        let names: Vec<&str> = order.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["9pnet", "9pnet_virtio", "netfs", "9p"]);
        let err = load_order(dir.path(), &["virtio_blk"]).unwrap_err();
        assert!(err.to_string().contains("no module virtio_blk.ko"), "{err}");
    }

    #[test]
    fn a_cycle_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        module(dir.path(), "k", "a", "b");
        module(dir.path(), "k", "b", "a");
        let err = load_order(dir.path(), &["a"]).unwrap_err();
        assert!(err.to_string().contains("cycle: a -> b"), "{err}");
    }
}
