//! Where things live: the user's cache folder for everything downloaded or
//! unpacked, and the workspace whose crates are built.

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// The cache of this crate: `$XDG_CACHE_HOME/perf-trampolines/aarch64`, or
/// `~/.cache/perf-trampolines/aarch64` when `XDG_CACHE_HOME` is unset or
/// not absolute (the XDG rule).
pub fn cache_root() -> Result<PathBuf> {
    let xdg = std::env::var_os("XDG_CACHE_HOME").map(PathBuf::from);
    let base = match xdg {
        Some(dir) if dir.is_absolute() => dir,
        _ => match std::env::var_os("HOME").map(PathBuf::from) {
            Some(home) if home.is_absolute() => home.join(".cache"),
            _ => bail!("neither XDG_CACHE_HOME nor HOME is set to an absolute path: set one of them for the cache folder"),
        },
    };
    Ok(base.join("perf-trampolines").join("aarch64"))
}

/// The workspace this binary was built from (the parent of this crate).
pub fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the cross crate lives inside the workspace")
}

/// The cargo target folder of aarch64 builds, apart from the host's so that
/// switching between the two never rebuilds either.
pub fn target_dir() -> PathBuf {
    workspace_root().join("target").join("aarch64")
}
