//! `cross setup`: everything cargo needs to build for aarch64 and run the
//! result under qemu-user, installed or taken from the cache.

use crate::cargo_env::CargoEnv;
use crate::rust::{self, Rust};
use crate::{host_tools, paths, progress};
use anyhow::Result;

/// A ready cross toolchain.
pub struct Toolchain {
    pub rust: Rust,
    pub env: CargoEnv,
}

/// Makes sure the host tools are there and picks (or fetches) the compiler:
/// the host's when it has the aarch64 target, else Debian's from the cache,
/// else Debian's fetched now. `refresh` fetches Debian's newest even when a
/// cached one would do.
pub fn setup(refresh: bool) -> Result<Toolchain> {
    host_tools::ensure(&host_tools::CROSS_BUILD)?;
    let rust = match rust::host_with_target() {
        Some(host) => host,
        None => {
            let cache = paths::cache_root()?;
            let needed = rust::required_version(paths::workspace_root())?;
            match rust::cached_debian(&cache, needed.0).filter(|_| !refresh) {
                Some(cached) => cached,
                None => rust::install_debian(&cache, needed)?,
            }
        }
    };
    progress::note(&format!("compiler: {}", rust.describe()));
    let env = CargoEnv::new(&rust, &paths::target_dir());
    Ok(Toolchain { rust, env })
}
