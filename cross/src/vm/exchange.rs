//! The two raw disks that carry a run's script in and its results out, as
//! tar archives written straight onto the disk (no filesystem). Raw disks
//! are the most robust channel here: the guest needs only the virtio block
//! driver (no 9p modules, no uid mapping or caching questions), any qemu
//! build has them, and a result either is a complete archive the host can
//! check or is reported missing. Their size is fixed at boot; the files are
//! sparse, so a big output disk costs nothing until written.

use crate::command;
use anyhow::{bail, Context, Result};
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One disk image file of a fixed size.
pub struct Disk {
    pub path: PathBuf,
    pub bytes: u64,
}

impl Disk {
    /// A zeroed (sparse) image of `mib` MiB.
    pub fn create(path: PathBuf, mib: u64) -> Result<Disk> {
        let disk = Disk {
            path,
            bytes: mib * 1024 * 1024,
        };
        disk.zero()?;
        Ok(disk)
    }

    /// Makes every byte zero again, keeping the size qemu saw at boot.
    pub fn zero(&self) -> Result<()> {
        let file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .open(&self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        file.set_len(self.bytes)
            .with_context(|| format!("cannot size {}", self.path.display()))
    }

    /// Puts a tar of `script.sh` (the script) onto the disk.
    pub fn write_script(&self, script: &str) -> Result<()> {
        let dir = tempfile::tempdir().context("cannot create a temporary folder")?;
        std::fs::write(dir.path().join("script.sh"), script).context("cannot write the script")?;
        let archive = command::captured(
            Command::new("tar")
                .args([
                    "--format=ustar",
                    "--owner=0",
                    "--group=0",
                    "-c",
                    "-f",
                    "-",
                    "-C",
                ])
                .arg(dir.path())
                .arg("script.sh"),
        )?
        .stdout;
        if archive.len() as u64 > self.bytes {
            bail!(
                "the script does not fit the {} MiB input disk",
                self.bytes >> 20
            );
        }
        self.zero()?;
        let mut file = OpenOptions::new()
            .write(true)
            .open(&self.path)
            .with_context(|| format!("cannot write {}", self.path.display()))?;
        file.write_all(&archive)
            .with_context(|| format!("cannot write {}", self.path.display()))
    }

    /// Unpacks the tar the guest wrote onto the disk into `into`.
    pub fn extract(&self, into: &Path) -> Result<()> {
        std::fs::create_dir_all(into)
            .with_context(|| format!("cannot create {}", into.display()))?;
        command::captured(
            Command::new("tar")
                .args(["--no-same-owner", "-x", "-f"])
                .arg(&self.path)
                .arg("-C")
                .arg(into),
        )
        .context("the guest's results are not a readable archive")?;
        Ok(())
    }
}
