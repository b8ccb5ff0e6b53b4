//! The Debian packages this machine needs for aarch64 work: the cross C
//! compiler and binutils, qemu-user, and qemu-system for the emulated
//! machine. Root installs what is missing with apt-get; any other user gets
//! the exact command to run.

use crate::{apt, command, progress};
use anyhow::{bail, Result};
use std::process::Command;

/// A program on `PATH` (or a file, by absolute path) and the package that
/// provides it.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    pub program: &'static str,
    pub package: &'static str,
}

/// What building and testing for aarch64 needs.
pub const CROSS_BUILD: [Tool; 4] = [
    Tool {
        program: "aarch64-linux-gnu-gcc",
        package: "gcc-aarch64-linux-gnu",
    },
    // The aarch64 C library and start files (only recommended by the gcc).
    Tool {
        program: "/usr/aarch64-linux-gnu/lib/crti.o",
        package: "libc6-dev-arm64-cross",
    },
    Tool {
        program: "qemu-aarch64-static",
        package: "qemu-user-static",
    },
    Tool {
        program: "dpkg-deb",
        package: "dpkg",
    },
];

/// What the emulated machine needs, on top of [`CROSS_BUILD`].
pub const MACHINE: [Tool; 1] = [Tool {
    program: "qemu-system-aarch64",
    package: "qemu-system-arm",
}];

/// The tools of `tools` that are not installed.
pub fn missing(tools: &[Tool]) -> Vec<Tool> {
    tools
        .iter()
        .filter(|t| !command::on_path(t.program))
        .copied()
        .collect()
}

/// Installs the missing tools (root), or fails with the command to run.
pub fn ensure(tools: &[Tool]) -> Result<()> {
    let missing = missing(tools);
    if missing.is_empty() {
        return Ok(());
    }
    let packages = packages(&missing);
    if !apt::is_root() {
        bail!("{}", not_root_message(&missing));
    }
    progress::step(&format!("installing {}", packages.join(" ")), || {
        command::captured(Command::new("apt-get").args(["-q", "update"]))?;
        command::captured(
            Command::new("apt-get")
                .args(["-q", "install", "-y", "--no-install-recommends"])
                .args(&packages)
                .env("DEBIAN_FRONTEND", "noninteractive"),
        )
    })?;
    let still = missing_programs(tools);
    if !still.is_empty() {
        bail!(
            "{} still missing after installing {}",
            still.join(", "),
            packages.join(" ")
        );
    }
    Ok(())
}

fn packages(missing: &[Tool]) -> Vec<&'static str> {
    let mut packages: Vec<&str> = missing.iter().map(|t| t.package).collect();
    packages.dedup();
    packages
}

/// What a user who may not install packages is told.
fn not_root_message(missing: &[Tool]) -> String {
    let programs: Vec<&str> = missing.iter().map(|t| t.program).collect();
    format!(
        "{} missing: as root, run `apt-get update && apt-get install -y --no-install-recommends {}`",
        programs.join(", "),
        packages(missing).join(" ")
    )
}

fn missing_programs(tools: &[Tool]) -> Vec<&'static str> {
    missing(tools).iter().map(|t| t.program).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_the_exact_command() {
        let missing = [
            CROSS_BUILD[0],
            CROSS_BUILD[1],
            Tool {
                program: "qemu-aarch64-static",
                package: "qemu-user-static",
            },
        ];
        assert_eq!(
            not_root_message(&missing),
            "aarch64-linux-gnu-gcc, /usr/aarch64-linux-gnu/lib/crti.o, qemu-aarch64-static missing: \
             as root, run `apt-get update && apt-get install -y --no-install-recommends \
             gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user-static`"
        );
        assert!(missing_programs(&[Tool {
            program: "no-such-tool-xyz",
            package: "x"
        }])
        .contains(&"no-such-tool-xyz"));
    }
}
