//! `cross test`: the workspace's tests built for aarch64 and run under
//! qemu-user. The tests see that they are emulated by themselves (the
//! kernel's architecture differs from theirs, see
//! `perf_script::user_mode_emulation`) and skip what emulation cannot show,
//! saying why; the skip lines are repeated at the end.

use crate::binfmt::Runner;
use crate::rust::TARGET;
use crate::toolchain::Toolchain;
use crate::{command, paths, progress};
use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The crates whose tests run under emulation (the harness and this crate
/// drive perf and qemu from the host, so they stay native).
pub const PACKAGES: [&str; 6] = [
    "trampoline-api",
    "trampoline-c",
    "trampoline-rs",
    "jitdump",
    "perf-script",
    "minipy",
];

/// What a run found.
pub struct Outcome {
    pub passed: bool,
    pub skipped: Vec<String>,
}

/// Builds the tests of `packages` for aarch64, then runs them with aarch64
/// binfmt; `test_args` go to the test binaries.
pub fn run(toolchain: &Toolchain, packages: &[String], test_args: &[String]) -> Result<Outcome> {
    let cargo_test = |extra: &[&str]| {
        let mut cmd = Command::new("cargo");
        cmd.arg("test").args(["--target", TARGET]).args(extra);
        for package in packages {
            cmd.args(["-p", package]);
        }
        cmd.current_dir(paths::workspace_root());
        toolchain.env.apply(&mut cmd);
        cmd
    };
    let start = Instant::now();
    progress::note(&format!(
        "building the tests of {} for {TARGET}",
        packages.join(", ")
    ));
    command::streamed(&mut cargo_test(&["--no-run"]))?;
    progress::note(&format!("built in {}", progress::seconds(start.elapsed())));

    let runner = Runner::prepare()?;
    progress::note(&format!(
        "running them under qemu-user, through {}",
        runner.describe()
    ));
    // Every failure is worth seeing at once: a cross run is slow.
    let mut cmd = cargo_test(&["--no-fail-fast"]);
    // Passing tests' output holds the skip lines; show it.
    cmd.arg("--").arg("--show-output").args(test_args);
    let start = Instant::now();
    let mut child = runner
        .wrap(&cmd)
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run `{}`", command::describe(&cmd)))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let mut skipped = Vec::new();
    let mut out = std::io::stdout().lock();
    // libtest heads each passing test's output with `---- <name> stdout ----`.
    let mut test = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.context("cannot read the tests' output")?;
        if let Some(name) = line
            .strip_prefix("---- ")
            .and_then(|l| l.strip_suffix(" stdout ----"))
        {
            test = name.to_owned();
        }
        if let Some(at) = line.find("skipped:") {
            skipped.push(format!("{test}: {}", &line[at..]));
        }
        let _ = writeln!(out, "{line}");
    }
    let status = child.wait().context("cannot wait for cargo test")?;
    progress::note(&format!(
        "tests ran in {}",
        progress::seconds(start.elapsed())
    ));
    Ok(Outcome {
        passed: status.success(),
        skipped,
    })
}
