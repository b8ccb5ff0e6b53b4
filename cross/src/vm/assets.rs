//! What the emulated machine boots, fetched once into the cache: Debian
//! bookworm's arm64 kernel (the newest `linux-image-arm64` points to), and
//! an initramfs built from bookworm's arm64 `busybox-static`, `linux-perf`
//! and `binutils` (perf runs addr2line for `perf script`) with exactly the
//! shared libraries they need, the virtio modules, and the guest's `/init`.

use super::cpio::Cpio;
use super::{libraries, modules};
use crate::apt::{self, AptWorld};
use crate::{host_tools, paths, progress, staging};
use anyhow::{bail, Context, Result};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

const CACHE_PREFIX: &str = "vm-";
/// The programs of the guest besides busybox.
const PACKAGES: [&str; 3] = ["linux-perf", "busybox-static", "binutils"];
/// Libraries every staged program may need, whether perf does or not.
const COMMON_LIBRARIES: [&str; 7] = [
    "ld-linux-aarch64.so.1",
    "libc.so.6",
    "libm.so.6",
    "libgcc_s.so.1",
    "libstdc++.so.6",
    "libpthread.so.0",
    "libdl.so.2",
];
const INIT: &str = include_str!("init.sh");

/// A kernel and its base initramfs, ready to boot.
#[derive(Debug, Clone)]
pub struct Assets {
    pub dir: PathBuf,
    pub kernel: PathBuf,
    pub initramfs: PathBuf,
    /// The Debian packages they came from, one `name version` a line.
    pub manifest: String,
}

impl Assets {
    /// The newest complete assets in the cache, if any.
    pub fn cached() -> Result<Option<Assets>> {
        let found = staging::complete_dirs(&paths::cache_root()?, CACHE_PREFIX);
        found.last().map(|dir| Assets::at(dir)).transpose()
    }

    /// The cached assets, or fetched and built now (and `refresh` fetches
    /// bookworm's newest even when some are cached). Installs or names the
    /// host tools the machine needs.
    pub fn ensure(refresh: bool) -> Result<Assets> {
        host_tools::ensure(&host_tools::CROSS_BUILD)?;
        host_tools::ensure(&host_tools::MACHINE)?;
        if !refresh {
            if let Some(cached) = Assets::cached()? {
                return Ok(cached);
            }
        }
        fetch(&paths::cache_root()?)
    }

    fn at(dir: &Path) -> Result<Assets> {
        let manifest = std::fs::read_to_string(dir.join("manifest"))
            .with_context(|| format!("cannot read {}", dir.join("manifest").display()))?;
        Ok(Assets {
            kernel: dir.join("vmlinuz"),
            initramfs: dir.join("initramfs.cpio"),
            dir: dir.to_owned(),
            manifest,
        })
    }
}

fn fetch(cache: &Path) -> Result<Assets> {
    let world = AptWorld::guest(cache);
    progress::step("fetching Debian's arm64 package lists", || world.update())?;
    let kernel_package = world
        .depends("linux-image-arm64")?
        .into_iter()
        .find(|p| p.starts_with("linux-image-"))
        .context("linux-image-arm64 points to no kernel package")?;
    let kernel_version = world.candidate(&kernel_package)?;
    let dest = cache.join(format!("{CACHE_PREFIX}{kernel_package}_{kernel_version}"));
    staging::build_dir(&dest, |dir| {
        let packages: Vec<String> = PACKAGES.map(str::to_owned).to_vec();
        let closure = world.closure(&packages)?;
        let debs = progress::step(
            &format!(
                "downloading {kernel_package} and {} user-space packages",
                closure.len()
            ),
            || {
                let mut debs = world.download(&closure, &dir.join("debs/user"))?;
                let kernel = world.download(
                    &[format!("{kernel_package}={kernel_version}")],
                    &dir.join("debs/kernel"),
                )?;
                debs.extend(kernel);
                Ok::<_, anyhow::Error>(debs)
            },
        )?;
        let rootfs = dir.join("rootfs");
        progress::step("unpacking them", || {
            for deb in &debs {
                apt::unpack(deb, &rootfs)?;
            }
            Ok::<_, anyhow::Error>(())
        })?;
        progress::step("building the initramfs", || {
            build_initramfs(&rootfs, &dir.join("initramfs.cpio"))
        })?;
        let kernel = rootfs
            .join("boot")
            .join(format!("vmlinuz-{}", kernel_release(&kernel_package)));
        std::fs::copy(&kernel, dir.join("vmlinuz"))
            .with_context(|| format!("cannot copy {}", kernel.display()))?;
        let mut manifest = format!("{kernel_package} {kernel_version}\n");
        for package in &closure {
            manifest.push_str(&package.replacen('=', " ", 1));
            manifest.push('\n');
        }
        std::fs::write(dir.join("manifest"), manifest).context("cannot write the manifest")?;
        // Only the two boot files stay in the cache.
        for sub in ["debs", "rootfs"] {
            std::fs::remove_dir_all(dir.join(sub))
                .with_context(|| format!("cannot remove {}", dir.join(sub).display()))?;
        }
        Ok(())
    })?;
    Assets::at(&dest)
}

/// `6.1.0-56-arm64` from `linux-image-6.1.0-56-arm64`.
fn kernel_release(package: &str) -> &str {
    package.trim_start_matches("linux-image-")
}

/// The base initramfs: `/init`, busybox, perf, addr2line, their libraries,
/// the virtio modules in load order, and `/dev/console`.
fn build_initramfs(rootfs: &Path, out: &Path) -> Result<()> {
    let perf = rootfs.join("usr/bin/perf");
    // binutils' addr2line is a link to the arch-prefixed program.
    let addr2line = rootfs.join("usr/bin/aarch64-linux-gnu-addr2line");
    for program in [&perf, &addr2line, &rootfs.join("bin/busybox")] {
        if !program.is_file() {
            bail!("the arm64 packages hold no {}", program.display());
        }
    }
    let libs = libraries::closure(
        rootfs,
        &[perf.clone(), addr2line.clone()],
        &COMMON_LIBRARIES,
    )?;
    let modules_root = std::fs::read_dir(rootfs.join("lib/modules"))
        .context("the kernel package has no lib/modules")?
        .flatten()
        .map(|e| e.path())
        .next()
        .context("the kernel package has no lib/modules/<version>")?;
    let modules = modules::load_order(&modules_root, &modules::WANTED)?;

    let file =
        std::fs::File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut cpio = Cpio::new(BufWriter::new(file));
    for dir in [
        "/bin",
        "/dev",
        "/lib",
        "/lib/aarch64-linux-gnu",
        "/usr",
        "/usr/bin",
        "/modules",
    ] {
        cpio.dir(dir)?;
    }
    cpio.char_device("/dev/console", 0o600, 5, 1)?;
    cpio.file("/init", 0o755, INIT.as_bytes())?;
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    cpio.file("/bin/busybox", 0o755, &read(&rootfs.join("bin/busybox"))?)?;
    cpio.file("/usr/bin/perf", 0o755, &read(&perf)?)?;
    cpio.file("/usr/bin/addr2line", 0o755, &read(&addr2line)?)?;
    for (soname, file) in &libs {
        cpio.file(
            &format!("/lib/aarch64-linux-gnu/{soname}"),
            0o755,
            &read(file)?,
        )?;
    }
    cpio.symlink(
        "/lib/ld-linux-aarch64.so.1",
        "aarch64-linux-gnu/ld-linux-aarch64.so.1",
    )?;
    let mut order = String::new();
    for (name, file) in &modules {
        cpio.file(&format!("/modules/{name}.ko"), 0o644, &read(file)?)?;
        order.push_str(name);
        order.push('\n');
    }
    cpio.file("/modules/order", 0o644, order.as_bytes())?;
    cpio.finish()?;
    Ok(())
}
