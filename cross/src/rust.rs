//! The Rust compiler for `aarch64-unknown-linux-gnu`: the host's own
//! (rustup's) when its aarch64 standard library is installed, otherwise
//! Debian bookworm-security's `rustc-web` with its standard libraries for
//! amd64 (build scripts, proc macros) and arm64 (the target), unpacked into
//! the cache. That compiler is built for Debian 12's own glibc, so it runs
//! here as is; a small wrapper starts it through the system's loader with
//! its libraries' folder, so `LD_LIBRARY_PATH` never leaks into the linker
//! or the build scripts it starts.

use crate::apt::{self, AptWorld};
use crate::{command, progress, staging};
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

pub const TARGET: &str = "aarch64-unknown-linux-gnu";
const CACHE_PREFIX: &str = "rustc-web-";
/// The system loader of amd64 Debian, which starts the unpacked rustc.
const HOST_LOADER: &str = "/lib64/ld-linux-x86-64.so.2";

/// Which compiler builds for aarch64.
#[derive(Debug, Clone)]
pub enum Rust {
    /// The host's `rustc`, which has the aarch64 standard library.
    Host { version: Version },
    /// Debian's compiler, unpacked under `root` (`root/bin/rustc` is the
    /// wrapper to use as `RUSTC`).
    Debian { root: PathBuf, version: Version },
}

impl Rust {
    /// `RUSTC` and `RUSTDOC` for cargo, when the host's are not the ones.
    pub fn programs(&self) -> Option<(PathBuf, PathBuf)> {
        match self {
            Rust::Host { .. } => None,
            Rust::Debian { root, .. } => Some((
                root.join("bin").join("rustc"),
                root.join("bin").join("rustdoc"),
            )),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Rust::Host { version } => {
                format!("the host's rustc {version} (its aarch64 target is installed)")
            }
            Rust::Debian { root, version } => {
                format!("Debian's rustc-web {version} in {}", root.display())
            }
        }
    }
}

/// A `major.minor.patch` version (missing parts are 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version(pub u32, pub u32, pub u32);

impl Version {
    /// Reads `1.85`, `1.96.0`, `1.96.0+dfsg1-1~deb12u2`, `rustc 1.95.0 (...)`.
    pub fn parse(text: &str) -> Option<Version> {
        let word = text
            .split_whitespace()
            .find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
        let core = word.split(['+', '-', '~']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>());
        let major = parts.next()?.ok()?;
        let minor = parts.next().unwrap_or(Ok(0)).ok()?;
        let patch = parts.next().unwrap_or(Ok(0)).ok()?;
        Some(Version(major, minor, patch))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.0, self.1, self.2)
    }
}

/// The oldest compiler that builds the workspace: the highest
/// `rust-version` among the packages Cargo.lock pins for aarch64, and the
/// package that asks for it.
pub fn required_version(workspace: &Path) -> Result<(Version, String)> {
    let text = command::output(
        Command::new("cargo")
            .args(["metadata", "--format-version", "1"])
            .args(["--filter-platform", TARGET])
            .current_dir(workspace),
    )
    .context("cannot read the workspace's dependencies")?;
    let metadata: serde_json::Value =
        serde_json::from_str(&text).context("cargo metadata printed no JSON")?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    Ok(packages
        .iter()
        .filter_map(|p| {
            let version = Version::parse(p["rust_version"].as_str()?)?;
            Some((version, p["name"].as_str()?.to_owned()))
        })
        .max()
        .unwrap_or((Version(1, 0, 0), "(none)".to_owned())))
}

/// The host's rustc, if it has the aarch64 standard library.
pub fn host_with_target() -> Option<Rust> {
    let sysroot = command::output(Command::new("rustc").args(["--print", "sysroot"])).ok()?;
    let target_lib = Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib");
    if !target_lib.is_dir() {
        return None;
    }
    let version = Version::parse(&command::output(Command::new("rustc").arg("-V")).ok()?)?;
    Some(Rust::Host { version })
}

/// A Debian compiler already in the cache that is new enough.
pub fn cached_debian(cache: &Path, needed: Version) -> Option<Rust> {
    staging::complete_dirs(&cache.join("rust"), CACHE_PREFIX)
        .into_iter()
        .filter_map(|root| {
            let name = root.file_name()?.to_string_lossy().into_owned();
            let version = Version::parse(name.strip_prefix(CACHE_PREFIX)?)?;
            (version >= needed).then_some(Rust::Debian { root, version })
        })
        .max_by_key(|r| match r {
            Rust::Debian { version, .. } | Rust::Host { version } => *version,
        })
}

/// Downloads and unpacks Debian's `rustc-web` (the newest bookworm has)
/// into the cache, checks that it builds a program for aarch64 that runs
/// under qemu-user, and only then puts it in place.
pub fn install_debian(cache: &Path, needed: (Version, String)) -> Result<Rust> {
    if apt::host_architecture()? != "amd64" {
        bail!(
            "Debian's rustc-web is set up for amd64 hosts only; install rustup's \
             {TARGET} target instead (rustup target add {TARGET})"
        );
    }
    let world = AptWorld::host(cache);
    progress::step("fetching Debian's package lists (amd64, arm64)", || {
        world.update()
    })?;
    let deb_version = world.candidate("rustc-web")?;
    let version = Version::parse(&deb_version)
        .with_context(|| format!("unreadable rustc-web version {deb_version}"))?;
    if version < needed.0 {
        bail!(
            "Debian's rustc-web {version} is older than Rust {} which {} needs \
             (Cargo.lock): install rustup's {TARGET} target instead",
            needed.0,
            needed.1
        );
    }
    // libstd-rust-web-<major.minor> holds librustc_driver and the host's
    // std; its own dependencies are only fetched when this machine lacks them.
    let runtime = format!("libstd-rust-web-{}.{}={deb_version}", version.0, version.1);
    let mut packages = vec![
        format!("rustc-web={deb_version}"),
        format!("libstd-rust-web-dev={deb_version}"),
        format!("libstd-rust-web-dev:arm64={deb_version}"),
    ];
    packages.extend(world.closure(std::slice::from_ref(&runtime))?);
    let dest = cache
        .join("rust")
        .join(format!("{CACHE_PREFIX}{deb_version}"));
    staging::build_dir(&dest, |root| {
        let debs = progress::step(
            &format!(
                "downloading rustc-web {deb_version} ({} packages)",
                packages.len()
            ),
            || world.download(&packages, &root.join("debs")),
        )?;
        progress::step("unpacking the compiler", || {
            for deb in &debs {
                apt::unpack(deb, root)?;
            }
            std::fs::remove_dir_all(root.join("debs"))
                .with_context(|| format!("cannot remove {}", root.join("debs").display()))
        })?;
        write_wrappers(root)?;
        progress::step(
            "checking that it builds a program that runs under qemu-user",
            || smoke_test(root),
        )
    })?;
    Ok(Rust::Debian {
        root: dest,
        version,
    })
}

/// `bin/rustc` and `bin/rustdoc`: start the unpacked programs through the
/// system loader with the unpacked libraries first. They find their tree
/// from their own location, so the tree may be renamed.
fn write_wrappers(root: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("cannot create {}", bin.display()))?;
    for program in ["rustc", "rustdoc"] {
        if !root.join("usr/bin").join(program).is_file() {
            bail!("the rustc-web packages hold no usr/bin/{program}");
        }
        let script = format!(
            "#!/bin/sh\n\
             # Debian's {program} unpacked by `cross`: started through the system loader\n\
             # with its own libraries first, without LD_LIBRARY_PATH for its children.\n\
             root=$(cd \"$(dirname \"$0\")/..\" && pwd)\n\
             exec {HOST_LOADER} --library-path \"$root/usr/lib/x86_64-linux-gnu\" \"$root/usr/bin/{program}\" \"$@\"\n"
        );
        let path = bin.join(program);
        std::fs::write(&path, script)
            .with_context(|| format!("cannot write {}", path.display()))?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", path.display()))?;
    }
    Ok(())
}

/// Builds a tiny program for aarch64 with the unpacked compiler and runs it
/// under qemu-user: proves the compiler, its aarch64 std, the cross linker
/// and the emulator work together.
fn smoke_test(root: &Path) -> Result<()> {
    let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
    let source = dir.path().join("hello.rs");
    std::fs::write(
        &source,
        "fn main() { println!(\"hello from {}\", std::env::consts::ARCH); }\n",
    )
    .context("cannot write the test program")?;
    let program = dir.path().join("hello");
    command::captured(
        Command::new(root.join("bin/rustc"))
            .args([
                "--target",
                TARGET,
                "-C",
                "linker=aarch64-linux-gnu-gcc",
                "-o",
            ])
            .arg(&program)
            .arg(&source),
    )
    .context("the unpacked rustc cannot build for aarch64")?;
    let said = command::output(
        Command::new("qemu-aarch64-static")
            .args(["-L", crate::cargo_env::QEMU_LD_PREFIX])
            .arg(&program),
    )
    .context("the aarch64 test program does not run under qemu-user")?;
    if said.trim() != "hello from aarch64" {
        bail!("the aarch64 test program printed {said:?}, not \"hello from aarch64\"");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_read_from_every_form_they_come_in() {
        assert_eq!(Version::parse("1.85"), Some(Version(1, 85, 0)));
        assert_eq!(
            Version::parse("1.96.0+dfsg1-1~deb12u2"),
            Some(Version(1, 96, 0))
        );
        assert_eq!(
            Version::parse("rustc 1.95.0 (59807616e 2026-04-14)"),
            Some(Version(1, 95, 0))
        );
        assert_eq!(Version::parse("none"), None);
        assert!(Version(1, 96, 0) > Version(1, 85, 0));
    }

    #[test]
    fn the_workspace_needs_a_known_rust() {
        let (version, package) = required_version(crate::paths::workspace_root()).unwrap();
        assert!(version >= Version(1, 56, 0), "{version} from {package}");
    }
}
