//! Debian packages fetched without installing them: apt-get and apt-cache
//! run with a private configuration (package lists, downloaded files and
//! architectures in a folder of the cache), so nothing of the system's apt
//! state changes and no root is needed; `dpkg-deb -x` unpacks a package
//! into a folder.
//!
//! Two worlds are used: the host's (amd64 first, arm64 as a foreign
//! architecture, resolved against the host's installed packages, so only
//! what this machine lacks is fetched) for the Rust compiler and its
//! standard libraries, and the guest's (arm64 only, resolved against
//! nothing installed, so a dependency closure is complete) for the emulated
//! machine's programs.

use crate::command;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Debian 12, its point-release updates and its security updates (where
/// `rustc-web` and the newest 6.1 kernels and perf are).
const SOURCES: &str = "\
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-updates main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main
";
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";
const HOST_STATUS: &str = "/var/lib/dpkg/status";

/// One private apt configuration.
pub struct AptWorld {
    dir: PathBuf,
    architectures: Vec<&'static str>,
    status: PathBuf,
}

impl AptWorld {
    /// amd64 (the host) with arm64 as a foreign architecture, resolved
    /// against the packages installed on this machine.
    pub fn host(cache: &Path) -> AptWorld {
        AptWorld {
            dir: cache.join("apt-host"),
            architectures: vec!["amd64", "arm64"],
            status: HOST_STATUS.into(),
        }
    }

    /// arm64 only, resolved against nothing installed.
    pub fn guest(cache: &Path) -> AptWorld {
        let dir = cache.join("apt-guest");
        AptWorld {
            status: dir.join("status"),
            dir,
            architectures: vec!["arm64"],
        }
    }

    /// Writes the configuration and fetches the package lists.
    pub fn update(&self) -> Result<()> {
        if !Path::new(KEYRING).exists() {
            bail!("{KEYRING} is missing: install debian-archive-keyring (apt-get install debian-archive-keyring)");
        }
        for sub in ["lists/partial", "cache/archives/partial"] {
            std::fs::create_dir_all(self.dir.join(sub))
                .with_context(|| format!("cannot create {}", self.dir.join(sub).display()))?;
        }
        std::fs::write(self.dir.join("sources.list"), SOURCES)
            .with_context(|| format!("cannot write {}", self.dir.display()))?;
        if self.status != Path::new(HOST_STATUS) && !self.status.exists() {
            std::fs::write(&self.status, "")
                .with_context(|| format!("cannot write {}", self.status.display()))?;
        }
        command::captured(self.apt("apt-get").args(["-q", "update"]))?;
        Ok(())
    }

    /// The version apt would pick for `package` (`name` or `name:arch`).
    pub fn candidate(&self, package: &str) -> Result<String> {
        let out = command::output(
            self.apt("apt-cache")
                .args(["show", "--no-all-versions"])
                .arg(package),
        )
        .with_context(|| format!("Debian bookworm has no package {package}"))?;
        out.lines()
            .find_map(|l| l.strip_prefix("Version: "))
            .map(str::to_owned)
            .with_context(|| format!("apt-cache shows no version of {package}"))
    }

    /// The packages `package` depends on (the first of each alternative).
    pub fn depends(&self, package: &str) -> Result<Vec<String>> {
        let out = command::output(
            self.apt("apt-cache")
                .args([
                    "depends",
                    "--no-recommends",
                    "--no-suggests",
                    "--no-conflicts",
                ])
                .args(["--no-breaks", "--no-replaces", "--no-enhances"])
                .arg(package),
        )?;
        Ok(parse_depends(&out))
    }

    /// What installing `packages` would add to this world's installed set,
    /// as `name:arch=version` (from apt-get's simulation: nothing is
    /// installed and nothing locked).
    pub fn closure(&self, packages: &[String]) -> Result<Vec<String>> {
        let out = command::output(
            self.apt("apt-get")
                .args(["-s", "-q", "install", "--no-install-recommends"])
                .args(packages),
        )?;
        Ok(parse_simulated_installs(&out))
    }

    /// Downloads `packages` (`name[:arch][=version]`) into `into`; the
    /// downloaded `.deb` files, sorted.
    pub fn download(&self, packages: &[String], into: &Path) -> Result<Vec<PathBuf>> {
        std::fs::create_dir_all(into)
            .with_context(|| format!("cannot create {}", into.display()))?;
        command::captured(
            self.apt("apt-get")
                .args(["-q", "download"])
                .args(packages)
                .current_dir(into),
        )?;
        let mut debs: Vec<PathBuf> = std::fs::read_dir(into)
            .with_context(|| format!("cannot read {}", into.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "deb"))
            .collect();
        debs.sort();
        Ok(debs)
    }

    fn apt(&self, tool: &str) -> Command {
        let mut cmd = Command::new(tool);
        let d = |sub: &str| self.dir.join(sub).display().to_string();
        let mut options = vec![
            format!("Dir::Etc::SourceList={}", d("sources.list")),
            "Dir::Etc::SourceParts=/dev/null".to_owned(),
            format!("Dir::State::Lists={}", d("lists")),
            format!("Dir::Cache={}", d("cache")),
            format!("Dir::State::status={}", self.status.display()),
            format!("APT::Architecture={}", self.architectures[0]),
        ];
        for arch in &self.architectures {
            options.push(format!("APT::Architectures::={arch}"));
        }
        // apt drops to the _apt user for downloads, who cannot write into a
        // root user's cache folder.
        if is_root() {
            options.push("APT::Sandbox::User=root".to_owned());
        }
        for option in options {
            cmd.arg("-o").arg(option);
        }
        cmd.env("LC_ALL", "C");
        cmd
    }
}

/// Unpacks the files of `deb` into `dest`.
pub fn unpack(deb: &Path, dest: &Path) -> Result<()> {
    command::captured(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dest))?;
    Ok(())
}

/// The architecture dpkg says this machine has.
pub fn host_architecture() -> Result<String> {
    Ok(
        command::output(Command::new("dpkg").arg("--print-architecture"))
            .context("cross needs a Debian-based system (dpkg, apt-get)")?
            .trim()
            .to_owned(),
    )
}

pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

fn parse_depends(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_alternatives = false;
    for line in text.lines() {
        let trimmed = line.trim_start();
        // `|Depends: a` starts an alternative whose later lines are skipped.
        if let Some(rest) = trimmed.strip_prefix("|Depends: ") {
            if !in_alternatives {
                found.push(rest.trim().to_owned());
            }
            in_alternatives = true;
        } else if let Some(rest) = trimmed.strip_prefix("Depends: ") {
            if !in_alternatives {
                found.push(rest.trim().to_owned());
            }
            in_alternatives = false;
        }
    }
    found.retain(|p| !p.starts_with('<'));
    found
}

fn parse_simulated_installs(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("Inst "))
        .filter_map(|rest| {
            // `Inst name (version release [arch])` or `Inst name [old] (...)`.
            let name = rest.split_whitespace().next()?;
            let paren = rest.find('(')?;
            let inside = &rest[paren + 1..rest.rfind(')')?];
            let version = inside.split_whitespace().next()?;
            let arch = inside.rsplit('[').next()?.trim_end_matches(']');
            let qualified = if name.contains(':') {
                name.to_owned()
            } else {
                format!("{name}:{arch}")
            };
            Some(format!("{qualified}={version}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulated_installs_become_exact_package_names() {
        let text = "NOTE: This is only a simulation!\n\
            Inst libllvm22 (1:22.1.8-1~deb12u1 Debian-Security:12/oldstable-security [amd64])\n\
            Inst libc6:arm64 (2.36-9+deb12u13 Debian:12.13/oldstable [arm64])\n\
            Conf libllvm22 (1:22.1.8-1~deb12u1 Debian-Security:12/oldstable-security [amd64])\n";
        assert_eq!(
            parse_simulated_installs(text),
            [
                "libllvm22:amd64=1:22.1.8-1~deb12u1",
                "libc6:arm64=2.36-9+deb12u13"
            ]
        );
    }

    #[test]
    fn depends_take_the_first_alternative_and_skip_virtual_packages() {
        let text = "linux-image-6.1.0-56-arm64\n  Depends: kmod\n  Depends: linux-base\n \
            |Depends: initramfs-tools\n  Depends: linux-initramfs-tool\n  Depends: <libc-dev>\n";
        assert_eq!(
            parse_depends(text),
            ["kmod", "linux-base", "initramfs-tools"]
        );
    }
}
