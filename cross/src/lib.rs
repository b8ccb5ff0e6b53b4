//! aarch64 on an x86_64 Debian machine, with Debian's packages only: a
//! cross toolchain that sets itself up in the user's cache folder, the
//! workspace's tests built for aarch64 and run under qemu-user, and an
//! emulated aarch64 machine (qemu-system, TCG) that boots Debian's arm64
//! kernel with real `perf` to run staged programs and bring results back.
//!
//! ```text
//! cargo run -p cross -- setup          # toolchain: cold ~13 s + apt installs, warm 0.2 s
//! eval "$(cargo run -q -p cross -- env)"   # cargo now builds for aarch64 into target/aarch64
//! cargo run -p cross -- test           # the tests under qemu-user (build ~80 s cold, run ~18 s)
//! cargo run -p cross -- vm setup       # kernel, perf, busybox: cold ~13 s (+ qemu-system-arm)
//! cargo run -p cross -- vm run --stage DIR --script run.sh --out results [--cpu max,...]
//! cargo run -p cross --example vm_perf_chain   # chain_c under real perf in the machine
//! ```
//!
//! Everything downloaded lives in `$XDG_CACHE_HOME/perf-trampolines/aarch64`
//! (or `~/.cache/...`): private apt state (`apt-host`, `apt-guest`), Debian's
//! compiler (`rust/rustc-web-<version>`) and the machine's kernel and
//! initramfs (`vm-<kernel package>_<version>`). Each folder is complete or
//! absent. Root installs the Debian packages the host lacks; everyone else
//! gets the `apt-get` line and needs no root for the rest.
//!
//! Modules, one job each: [`paths`] (cache and workspace folders),
//! [`staging`] (a cache folder is complete or absent), [`command`] (running
//! programs with one-line errors), [`progress`] (what a long step is
//! doing), [`apt`] (Debian packages fetched and unpacked without
//! installing), [`host_tools`] (the cross gcc and qemu packages),
//! [`rust`] (the aarch64 Rust compiler), [`cargo_env`] (the environment
//! cargo builds under), [`toolchain`] (`cross setup`), [`binfmt`] (letting
//! the kernel start aarch64 programs through qemu-user without a global
//! change), [`test_suite`] (`cross test`), [`vm`] (the emulated machine).
//!
//! Dependencies, and why:
//! - `anyhow`: errors with context, printed on one line by the binary.
//! - `clap`: the command line and its help.
//! - `indicatif`: the spinner of long steps on a terminal.
//! - `libc`: user and mount namespaces, `mount`, `geteuid`, `kill(pid, 0)`.
//! - `serde_json`: `cargo metadata` (the Rust version Cargo.lock needs).
//! - `tempfile`: temporary folders beside the cache and for each VM.
//! - `perf-script`: parses the `perf script` text a VM run brings back.

/// The error of every fallible step (anyhow's: errors with context).
pub use anyhow::Error;

pub mod apt;
pub mod binfmt;
pub mod cargo_env;
pub mod command;
pub mod host_tools;
pub mod paths;
pub mod progress;
pub mod rust;
pub mod staging;
pub mod test_suite;
pub mod toolchain;
pub mod vm;
