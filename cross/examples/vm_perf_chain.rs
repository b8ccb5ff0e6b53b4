//! Proof of the emulated machine: builds trampoline-c's `chain_c` example
//! for aarch64, boots the machine with it staged, records it with real perf
//! there (`perf record -e cpu-clock -g`, and the jitdump workflow with
//! DWARF unwinding), brings `perf script`'s text back and counts the
//! samples whose `py::` frames are `py::foo > py::bar > py::baz`. Exits 1
//! unless most samples of each mode show that chain.
//!
//! ```text
//! cargo run -p cross --example vm_perf_chain [-- --cpu max,pauth-impdef=on]
//! ```

use anyhow::{bail, Context, Result};
use cross::vm::{Assets, MachineConfig, Vm};
use cross::{command, paths, progress, rust::TARGET, toolchain};
use std::path::Path;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

/// Both recordings, in the guest's working folder (which comes back).
const SCRIPT: &str = r#"
set -e
perf record --no-bpf-event -e cpu-clock -F 9999 -g -o fp.data -- /stage/chain_c > fp.out
perf script -F FIELDS -i fp.data > fp.txt
perf record --no-bpf-event -e cpu-clock -F 9999 -k 1 --call-graph dwarf -o jit.data -- /stage/chain_c --jit > jit.out
perf --buildid-dir /tmp/buildid inject --jit -i jit.data -o jit.injected
perf --buildid-dir /tmp/buildid script -F FIELDS -i jit.injected > jit.txt
"#;

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run() -> Result<bool> {
    let mut config = MachineConfig::default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => {}
        [flag, cpu] if flag == "--cpu" => config.cpu = cpu.clone(),
        _ => bail!("usage: vm_perf_chain [--cpu <qemu -cpu value>]"),
    }
    let started = Instant::now();
    let toolchain = toolchain::setup(false)?;
    progress::step("building chain_c for aarch64 (release)", || {
        let mut cargo = Command::new("cargo");
        cargo
            .args([
                "build",
                "--release",
                "-p",
                "trampoline-c",
                "--example",
                "chain_c",
            ])
            .current_dir(paths::workspace_root());
        toolchain.env.apply(&mut cargo);
        command::captured(&mut cargo)
    })?;
    let program = paths::target_dir()
        .join(TARGET)
        .join("release/examples/chain_c");
    let stage = tempfile::tempdir().context("cannot create the staging folder")?;
    // perf needs the symbol table, not the debug info.
    command::captured(
        Command::new("aarch64-linux-gnu-strip")
            .arg("--strip-debug")
            .arg("-o")
            .arg(stage.path().join("chain_c"))
            .arg(&program),
    )?;
    let assets = Assets::ensure(false)?;
    let mut vm = Vm::boot(&assets, Some(stage.path()), &config)?;
    let boot = vm.boot_time;
    progress::note(&format!(
        "booted ({}) in {}",
        config.cpu,
        progress::seconds(boot)
    ));
    let results = tempfile::tempdir().context("cannot create the results folder")?;
    let out_dir = results.path().join("run");
    let script = SCRIPT.replace("FIELDS", perf_script::SCRIPT_FIELDS);
    let run = progress::step("recording chain_c with perf in the machine", || {
        vm.run(&script, &out_dir, Duration::from_secs(600))
    })?;
    vm.shutdown()?;
    if run.status != 0 {
        // perf prints "Error:" and the reason on the next line.
        let lines: Vec<&str> = run
            .stderr
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        let why = match lines.iter().position(|l| l.starts_with("Error")) {
            Some(at) => lines[at..]
                .iter()
                .take(2)
                .copied()
                .collect::<Vec<_>>()
                .join(" "),
            None => lines.last().copied().unwrap_or("no message").to_owned(),
        };
        bail!("the guest script failed (exit {}): {why}", run.status);
    }
    let mut all_good = true;
    for mode in ["fp", "jit"] {
        let (full, total) = count_chains(&run.dir.join(format!("{mode}.txt")))?;
        let share = 100.0 * full as f64 / total.max(1) as f64;
        println!(
            "{mode}: {full} of {total} samples show py::foo > py::bar > py::baz ({share:.0}%)"
        );
        all_good &= total >= 100 && full * 2 > total;
    }
    progress::note(&format!(
        "boot {}, recording in the guest {}, all of it {}",
        progress::seconds(boot),
        progress::seconds(run.took),
        progress::seconds(started.elapsed())
    ));
    Ok(all_good)
}

/// (samples whose `py::` frames are foo > bar > baz, all samples).
fn count_chains(script_output: &Path) -> Result<(usize, usize)> {
    let text = std::fs::read_to_string(script_output)
        .with_context(|| format!("the guest sent no {}", script_output.display()))?;
    let samples = perf_script::parse(&text)
        .with_context(|| format!("cannot parse {}", script_output.display()))?;
    let full = samples
        .iter()
        .filter(|s| s.py_frames() == ["py::foo", "py::bar", "py::baz"])
        .count();
    Ok((full, samples.len()))
}
