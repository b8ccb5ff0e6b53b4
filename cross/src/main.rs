//! `cross`: see the library crate. Errors are one line on stderr and exit 2
//! (1 when tests ran and failed).

use clap::{Parser, Subcommand};
use cross::{binfmt, progress, test_suite, toolchain};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Parser)]
#[command(
    name = "cross",
    about = "aarch64 builds, tests under qemu-user, and an emulated aarch64 machine with perf"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Install or find the cross toolchain (cached under ~/.cache/perf-trampolines/aarch64).
    Setup {
        /// Fetch Debian's newest rustc-web even if a cached one is new enough.
        #[arg(long)]
        refresh: bool,
    },
    /// Print the cargo environment as shell exports: eval "$(cross env)".
    Env,
    /// Run cargo for aarch64: cross cargo build -p minipy --release.
    Cargo {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
    /// Build the tests for aarch64 and run them under qemu-user.
    Test {
        /// Crates to test (default: the trampolines, jitdump, perf-script, minipy).
        #[arg(short, long = "package")]
        packages: Vec<String>,
        /// Arguments for the test binaries (after --).
        #[arg(last = true)]
        test_args: Vec<String>,
    },
    /// The emulated aarch64 machine with real perf.
    Vm {
        #[command(subcommand)]
        command: VmCmd,
    },
}

#[derive(Subcommand)]
enum VmCmd {
    /// Fetch Debian's arm64 kernel, perf and busybox and build the initramfs (cached).
    Setup {
        /// Fetch bookworm's newest even if assets are cached.
        #[arg(long)]
        refresh: bool,
    },
    /// Boot, run a shell script in the guest, bring its files back, power off.
    Run {
        /// A folder of aarch64 programs and files, at /stage in the guest.
        #[arg(long)]
        stage: Option<PathBuf>,
        /// The script (busybox sh), run in an empty folder whose files come back.
        #[arg(long)]
        script: PathBuf,
        /// Where the results go (must not exist).
        #[arg(long)]
        out: PathBuf,
        /// qemu's -cpu value (e.g. max,pauth-impdef=on to try SVE).
        #[arg(long, default_value = cross::vm::DEFAULT_CPU)]
        cpu: String,
        /// Seconds the script may take.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

fn main() -> ExitCode {
    // Must come first: it enters a user namespace, which a process can only
    // do while it has a single thread.
    let args: Vec<OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == binfmt::SUBCOMMAND) {
        let (qemu, rest) = match args.get(2) {
            Some(q) => (PathBuf::from(q), &args[3..]),
            None => (PathBuf::new(), &args[2..]),
        };
        let Err(e) = binfmt::enter_and_exec(&qemu, rest);
        eprintln!("error: {e:#}");
        return ExitCode::from(2);
    }
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Cmd::Setup { refresh } => {
            let start = Instant::now();
            let toolchain = toolchain::setup(refresh)?;
            progress::note(&format!(
                "toolchain ready in {}; use it with: eval \"$(cargo run -q -p cross -- env)\"",
                progress::seconds(start.elapsed())
            ));
            drop(toolchain);
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Env => {
            let toolchain = toolchain::setup(false)?;
            print!("{}", toolchain.env.shell_exports());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Cargo { args } => {
            let toolchain = toolchain::setup(false)?;
            let mut cmd = std::process::Command::new("cargo");
            cmd.args(args).current_dir(cross::paths::workspace_root());
            toolchain.env.apply(&mut cmd);
            let status = cmd
                .status()
                .map_err(|e| anyhow::anyhow!("cannot run cargo: {e}"))?;
            Ok(ExitCode::from(
                status.code().unwrap_or(2).clamp(0, 255) as u8
            ))
        }
        Cmd::Test {
            packages,
            test_args,
        } => {
            let toolchain = toolchain::setup(false)?;
            let packages = if packages.is_empty() {
                test_suite::PACKAGES.map(str::to_owned).to_vec()
            } else {
                packages
            };
            let outcome = test_suite::run(&toolchain, &packages, &test_args)?;
            if !outcome.skipped.is_empty() {
                progress::note(&format!(
                    "{} skip(s) under emulation:",
                    outcome.skipped.len()
                ));
                for line in &outcome.skipped {
                    eprintln!("  {line}");
                }
            }
            Ok(if outcome.passed {
                progress::note("all aarch64 tests passed under qemu-user");
                ExitCode::SUCCESS
            } else {
                progress::note("aarch64 tests failed under qemu-user");
                ExitCode::from(1)
            })
        }
        Cmd::Vm { command } => vm(command),
    }
}

fn vm(command: VmCmd) -> anyhow::Result<ExitCode> {
    use cross::vm::{Assets, MachineConfig, Vm};
    match command {
        VmCmd::Setup { refresh } => {
            let start = Instant::now();
            let assets = Assets::ensure(refresh)?;
            progress::note(&format!(
                "machine assets ready in {} ({})",
                progress::seconds(start.elapsed()),
                assets.dir.display()
            ));
            Ok(ExitCode::SUCCESS)
        }
        VmCmd::Run {
            stage,
            script,
            out,
            cpu,
            timeout,
        } => {
            let text = std::fs::read_to_string(&script)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", script.display()))?;
            let assets = Assets::ensure(false)?;
            let config = MachineConfig {
                cpu,
                ..MachineConfig::default()
            };
            let mut machine = progress::step("booting the aarch64 machine", || {
                Vm::boot(&assets, stage.as_deref(), &config)
            })?;
            progress::note(&format!(
                "booted in {}",
                progress::seconds(machine.boot_time)
            ));
            let run = progress::step("running the script", || {
                machine.run(&text, &out, std::time::Duration::from_secs(timeout))
            })?;
            machine.shutdown()?;
            print!("{}", run.stdout);
            eprint!("{}", run.stderr);
            progress::note(&format!(
                "script exited {} after {}; its files are in {}",
                run.status,
                progress::seconds(run.took),
                run.dir.display()
            ));
            Ok(ExitCode::from(run.status.clamp(0, 255) as u8))
        }
    }
}
