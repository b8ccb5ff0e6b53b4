//! The emulated aarch64 machine with real perf: qemu-system-aarch64 `-M
//! virt` under TCG, booting Debian bookworm's arm64 kernel with an
//! initramfs of busybox, perf and addr2line (and their libraries), plus a
//! folder of aarch64 programs and files staged by the caller.
//!
//! ```no_run
//! use cross::vm::{Assets, MachineConfig, Vm};
//! use std::{path::Path, time::Duration};
//! # fn main() -> anyhow::Result<()> {
//! let assets = Assets::ensure(false)?;                  // cached after the first time
//! let mut vm = Vm::boot(&assets, Some(Path::new("staged")), &MachineConfig::default())?;
//! let run = vm.run("perf record -g -o perf.data -- /stage/prog", Path::new("results"), Duration::from_secs(300))?;
//! println!("exit {}, files in {}", run.status, run.dir.display());
//! vm.shutdown()?;
//! # Ok(()) }
//! ```
//!
//! Modules: [`assets`] (kernel and base initramfs, fetched into the cache),
//! [`libraries`] (the shared libraries they need), [`modules`] (the virtio
//! kernel modules in load order), [`cpio`] (the initramfs format),
//! [`exchange`] (the disks that carry scripts in and results out, and why
//! disks), [`console`] (the guest's console and what it tells),
//! [`machine`] (qemu, boot, runs, failures). The guest's `/init` is
//! `init.sh` beside them.

pub mod assets;
pub mod console;
pub mod cpio;
pub mod exchange;
pub mod libraries;
pub mod machine;
pub mod modules;

pub use assets::Assets;
pub use machine::{MachineConfig, RunOutput, Vm, DEFAULT_CPU};
