//! Letting the kernel start aarch64 programs through qemu-user, which the
//! tests need: rusty-fork re-executes the test binary, and some tests run
//! an example. A cargo runner only wraps the first program; the ones it
//! starts need binfmt_misc.
//!
//! binfmt_misc is global to the kernel, except that since Linux 6.7 a user
//! namespace may mount an instance of its own. So the command runs in a new
//! user and mount namespace (this binary re-executes itself with
//! [`SUBCOMMAND`], enters the namespaces while it is still single-threaded,
//! mounts a private binfmt_misc, registers qemu-aarch64-static there and
//! executes the command as that namespace's root, which is the caller
//! outside): nothing outside that command sees the registration, and
//! nothing needs undoing. Where the kernel is older, root
//! registers qemu-aarch64 globally for the run only and removes it after
//! (and says so); any other user gets the reason.

use crate::{apt, command, progress};
use anyhow::{bail, Context, Result};
use std::ffi::{CString, OsString};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The hidden subcommand of `cross` that runs a command with a private
/// binfmt_misc: `cross __with-private-binfmt <qemu> <program> [args...]`.
pub const SUBCOMMAND: &str = "__with-private-binfmt";

const BINFMT_DIR: &str = "/proc/sys/fs/binfmt_misc";
const ENTRY: &str = "qemu-aarch64";

/// The ELF header of an aarch64 executable (little-endian, 64-bit, e_type
/// EXEC or DYN, e_machine 183) and which of its bits binfmt_misc compares.
const ELF_MAGIC: [u8; 20] = [
    0x7f, b'E', b'L', b'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0xb7, 0,
];
const ELF_MASK: [u8; 20] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xfe, 0xff, 0xff, 0xff,
];

/// The line written to binfmt_misc's `register` file. `F` opens the
/// interpreter now, so it is found whatever the program's mount namespace.
pub fn registration(qemu: &Path) -> String {
    let hex = |bytes: &[u8]| {
        bytes
            .iter()
            .map(|b| format!("\\x{b:02x}"))
            .collect::<String>()
    };
    format!(
        ":{ENTRY}:M::{}:{}:{}:F",
        hex(&ELF_MAGIC),
        hex(&ELF_MASK),
        qemu.display()
    )
}

/// How commands get aarch64 binfmt for one run.
pub enum Runner {
    /// Each command runs in namespaces of its own with a private instance.
    Private { cross: PathBuf, qemu: PathBuf },
    /// The kernel's global instance, registered by us (undone on drop) or
    /// already there.
    Global(Option<GlobalRegistration>),
}

impl Runner {
    /// Prefers a private instance; falls back to the global one for root.
    pub fn prepare() -> Result<Runner> {
        let qemu = command::find("qemu-aarch64-static")
            .context("qemu-aarch64-static is not installed (apt-get install qemu-user-static)")?;
        let cross = std::env::current_exe().context("cannot find the cross binary itself")?;
        let probe = command::captured(Command::new(&cross).arg(SUBCOMMAND).arg(&qemu).arg("true"));
        let why_not_private = match probe {
            Ok(_) => return Ok(Runner::Private { cross, qemu }),
            Err(e) => e,
        };
        if Path::new(BINFMT_DIR).join(ENTRY).exists() {
            progress::note("using the kernel's existing qemu-aarch64 binfmt_misc entry");
            return Ok(Runner::Global(None));
        }
        if !apt::is_root() {
            bail!(
                "no private binfmt_misc here ({why_not_private:#}); running re-executing \
                 aarch64 tests then needs root, which registers qemu-aarch64 for the run only"
            );
        }
        let registration = GlobalRegistration::register(&qemu)?;
        progress::note(&format!(
            "registered {ENTRY} in the kernel's global binfmt_misc for this run only \
             (no private instance: {why_not_private:#}); it is removed afterwards"
        ));
        Ok(Runner::Global(Some(registration)))
    }

    /// `cmd` (its program, arguments, environment and folder) as a command
    /// that runs with aarch64 binfmt.
    pub fn wrap(&self, cmd: &Command) -> Command {
        let mut wrapped = match self {
            Runner::Private { cross, qemu } => {
                let mut w = Command::new(cross);
                w.arg(SUBCOMMAND).arg(qemu).arg(cmd.get_program());
                w
            }
            Runner::Global(_) => Command::new(cmd.get_program()),
        };
        wrapped.args(cmd.get_args());
        for (key, value) in cmd.get_envs() {
            match value {
                Some(value) => wrapped.env(key, value),
                None => wrapped.env_remove(key),
            };
        }
        if let Some(dir) = cmd.get_current_dir() {
            wrapped.current_dir(dir);
        }
        wrapped
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Runner::Private { .. } => "a private binfmt_misc (user namespace)",
            Runner::Global(_) => "the kernel's global binfmt_misc",
        }
    }
}

/// The body of [`SUBCOMMAND`]: must run before this process starts a
/// thread (a multithreaded process cannot enter a user namespace).
pub fn enter_and_exec(qemu: &Path, argv: &[OsString]) -> Result<std::convert::Infallible> {
    use std::os::unix::process::CommandExt;
    let Some((program, args)) = argv.split_first() else {
        bail!("{SUBCOMMAND}: no command given");
    };
    // SAFETY: getuid/getgid have no preconditions.
    let (uid, gid) = unsafe { (libc::getuid(), libc::getgid()) };
    // SAFETY: unshare changes only this (single-threaded) process.
    if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWNS) } != 0 {
        bail!(
            "cannot create a user namespace: {}",
            std::io::Error::last_os_error()
        );
    }
    // Be root inside: the private binfmt_misc files belong to the
    // namespace's root. Files created still belong to the caller outside.
    write_file("/proc/self/setgroups", "deny")?;
    write_file("/proc/self/uid_map", &format!("0 {uid} 1"))?;
    write_file("/proc/self/gid_map", &format!("0 {gid} 1"))?;
    mount(None, "/", None, libc::MS_REC | libc::MS_PRIVATE)
        .context("cannot make the new mount namespace private")?;
    mount(
        Some("binfmt_misc"),
        BINFMT_DIR,
        Some("binfmt_misc"),
        libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
    )
    .context("this kernel has no binfmt_misc per user namespace (Linux 6.7 or later has)")?;
    write_file(&format!("{BINFMT_DIR}/register"), &registration(qemu))?;
    let error = Command::new(program).args(args).exec();
    bail!("cannot run {}: {error}", program.to_string_lossy())
}

fn write_file(path: &str, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {path}"))
}

fn mount(
    source: Option<&str>,
    target: &str,
    fstype: Option<&str>,
    flags: libc::c_ulong,
) -> Result<()> {
    let c = |s: &str| CString::new(s).expect("no NUL in a mount argument");
    let (source, target, fstype) = (source.map(c), c(target), fstype.map(c));
    let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
    // SAFETY: every pointer is a NUL-terminated string alive for the call, or null.
    let r = unsafe {
        libc::mount(
            ptr(&source),
            target.as_ptr(),
            ptr(&fstype),
            flags,
            std::ptr::null(),
        )
    };
    if r == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error().into())
    }
}

/// qemu-aarch64 registered in the kernel's global binfmt_misc by us; the
/// entry (and the mount, if we made it) is removed on drop.
pub struct GlobalRegistration {
    mounted_by_us: bool,
}

impl GlobalRegistration {
    fn register(qemu: &Path) -> Result<GlobalRegistration> {
        let register = Path::new(BINFMT_DIR).join("register");
        let mounted_by_us = !register.exists();
        if mounted_by_us {
            mount(Some("binfmt_misc"), BINFMT_DIR, Some("binfmt_misc"), 0)
                .with_context(|| format!("cannot mount binfmt_misc on {BINFMT_DIR}"))?;
        }
        let guard = GlobalRegistration { mounted_by_us };
        write_file(&register.to_string_lossy(), &registration(qemu))?;
        Ok(guard)
    }
}

impl Drop for GlobalRegistration {
    fn drop(&mut self) {
        let entry = format!("{BINFMT_DIR}/{ENTRY}");
        if let Err(e) = write_file(&entry, "-1") {
            eprintln!("cross: could not remove {entry} ({e:#}): run `echo -1 > {entry}` as root");
        }
        if self.mounted_by_us {
            let target = CString::new(BINFMT_DIR).expect("no NUL");
            // SAFETY: a NUL-terminated path.
            unsafe { libc::umount(target.as_ptr()) };
        }
        progress::note(&format!(
            "removed the global {ENTRY} binfmt_misc entry again"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_registration_matches_aarch64_elf_headers_only() {
        let line = registration(Path::new("/usr/bin/qemu-aarch64-static"));
        assert!(line.starts_with(":qemu-aarch64:M::\\x7f\\x45\\x4c\\x46\\x02\\x01\\x01\\x00"));
        assert!(line.ends_with(":/usr/bin/qemu-aarch64-static:F"));
        // e_machine 183 (0xb7), and the mask lets ET_EXEC (2) and ET_DYN (3) through.
        assert!(line.contains("\\x02\\x00\\xb7\\x00:"));
        assert!(line.contains("\\xfe\\xff\\xff\\xff:"));
    }
}
