//! The running machine: qemu-system-aarch64 (`-M virt`, TCG) booting the
//! cached kernel with the base initramfs plus the staged folder (at
//! `/stage`), the console on qemu's stdin and stdout, and the two exchange
//! disks. [`Vm::run`] hands the guest a script and brings its results back;
//! a kernel panic, a guest that stops answering, or qemu exiting is a
//! one-line error, and the machine is killed when the [`Vm`] is dropped.

use super::assets::Assets;
use super::console::{self, Event};
use super::cpio::Cpio;
use super::exchange::Disk;
use crate::command;
use anyhow::{anyhow, bail, Context, Result};
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

/// How the machine is built. The CPU model is a parameter so that an SVE
/// configuration can be tried: with SVE, perf 6.1 asks for the `VG`
/// register in DWARF samples and the kernel refuses a `cpu-clock` event.
#[derive(Debug, Clone)]
pub struct MachineConfig {
    /// qemu's `-cpu` value.
    pub cpu: String,
    pub cpus: u32,
    pub memory_mib: u32,
    /// From starting qemu to `/init` being ready.
    pub boot_timeout: Duration,
    /// Room for one run's results.
    pub output_disk_mib: u64,
    /// Extra words for the kernel command line.
    pub kernel_args: Vec<String>,
}

/// No SVE (see [`MachineConfig`]), pointer authentication with qemu's fast
/// implementation-defined algorithm.
pub const DEFAULT_CPU: &str = "max,sve=off,pauth-impdef=on";

impl Default for MachineConfig {
    fn default() -> MachineConfig {
        MachineConfig {
            cpu: DEFAULT_CPU.to_owned(),
            cpus: 1,
            memory_mib: 2048,
            boot_timeout: Duration::from_secs(120),
            output_disk_mib: 1024,
            kernel_args: Vec::new(),
        }
    }
}

/// What a run brought back.
#[derive(Debug)]
pub struct RunOutput {
    /// The host folder holding every file the script left in its working
    /// folder.
    pub dir: PathBuf,
    /// The script's exit status.
    pub status: i32,
    pub stdout: String,
    pub stderr: String,
    pub took: Duration,
}

/// A booted machine, ready for runs.
pub struct Vm {
    qemu: Child,
    console_in: ChildStdin,
    events: Receiver<Event>,
    qemu_errors: std::sync::Arc<std::sync::Mutex<String>>,
    work: Option<tempfile::TempDir>,
    input: Disk,
    output: Disk,
    runs: u32,
    /// From starting qemu to `/init` being ready.
    pub boot_time: Duration,
}

impl Vm {
    /// Boots the machine with `staged` (a host folder, if any) at `/stage`
    /// and waits until its `/init` is ready.
    pub fn boot(assets: &Assets, staged: Option<&Path>, config: &MachineConfig) -> Result<Vm> {
        let qemu_program = command::find("qemu-system-aarch64")
            .context("qemu-system-aarch64 is not installed (apt-get install qemu-system-arm)")?;
        let work = tempfile::Builder::new()
            .prefix("cross-vm-")
            .tempdir()
            .context("cannot create a folder for the machine")?;
        let initrd = work.path().join("initrd.cpio");
        write_initrd(&assets.initramfs, staged, &initrd)?;
        let input = Disk::create(work.path().join("in.img"), 64)?;
        let output = Disk::create(work.path().join("out.img"), config.output_disk_mib)?;
        let nonce = format!("{:016x}", random());
        let mut kernel_args = vec![
            "console=ttyAMA0".to_owned(),
            "panic=-1".to_owned(),
            "quiet".to_owned(),
            format!("cross.nonce={nonce}"),
        ];
        kernel_args.extend(config.kernel_args.iter().cloned());

        let mut qemu = Command::new(qemu_program);
        qemu.args(["-M", "virt", "-accel", "tcg", "-cpu", &config.cpu])
            .args([
                "-smp",
                &config.cpus.to_string(),
                "-m",
                &config.memory_mib.to_string(),
            ])
            .args([
                "-nodefaults",
                "-display",
                "none",
                "-serial",
                "stdio",
                "-no-reboot",
            ])
            .arg("-kernel")
            .arg(&assets.kernel)
            .arg("-initrd")
            .arg(&initrd)
            .args(["-append", &kernel_args.join(" ")]);
        for (id, disk) in [("cross-in", &input), ("cross-out", &output)] {
            qemu.arg("-drive")
                .arg(format!(
                    "if=none,format=raw,id={id},file={}",
                    disk.path.display()
                ))
                .arg("-device")
                .arg(format!("virtio-blk-device,drive={id},serial={id}"));
        }
        let started = Instant::now();
        let mut child = qemu
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("cannot start `{}`", command::describe(&qemu)))?;
        let console_out = child.stdout.take().expect("piped stdout");
        let console_in = child.stdin.take().expect("piped stdin");
        let mut qemu_stderr = child.stderr.take().expect("piped stderr");
        let qemu_errors = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let errors = qemu_errors.clone();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = qemu_stderr.read_to_string(&mut text);
            *errors.lock().expect("not poisoned") = text;
        });
        let (sender, events) = mpsc::channel();
        let log = work.path().join("console.log");
        std::thread::spawn(move || console::watch(console_out, &log, &nonce, sender));

        let mut vm = Vm {
            qemu: child,
            console_in,
            events,
            qemu_errors,
            work: Some(work),
            input,
            output,
            runs: 0,
            boot_time: Duration::ZERO,
        };
        match vm.wait_for(started + config.boot_timeout, |e| matches!(e, Event::Ready)) {
            Ok(_) => {
                vm.boot_time = started.elapsed();
                Ok(vm)
            }
            Err(e) => Err(vm.fail(e.context(format!(
                "the machine did not boot (cpu {}, {} s allowed)",
                config.cpu,
                config.boot_timeout.as_secs()
            )))),
        }
    }

    /// Runs `script` (a shell script, run by busybox sh in an empty
    /// working folder) and puts everything it left there into `out_dir`,
    /// which must not exist yet. A script that fails is a result (its
    /// status); a guest that does not finish within `timeout` is an error,
    /// after which the machine is stopped.
    pub fn run(&mut self, script: &str, out_dir: &Path, timeout: Duration) -> Result<RunOutput> {
        if out_dir.exists() {
            bail!(
                "{} exists already: give a new folder for the results",
                out_dir.display()
            );
        }
        if self.work.is_none() {
            bail!("the machine was stopped by an earlier failure");
        }
        self.runs += 1;
        let n = self.runs;
        self.input.write_script(script)?;
        self.output.zero()?;
        let started = Instant::now();
        writeln!(self.console_in, "run {n}")
            .and_then(|()| self.console_in.flush())
            .map_err(|e| anyhow!("cannot talk to the machine: {e}"))?;
        let done = self.wait_for(
            started + timeout,
            |e| matches!(e, Event::Done { n: m, .. } if *m == n),
        );
        let outcome = match done {
            Ok(Event::Done { outcome, .. }) => outcome,
            Ok(other) => unreachable!("wait_for returned {other:?}"),
            Err(e) => {
                return Err(self.fail(e.context(format!(
                    "run {n} did not finish within {} s",
                    timeout.as_secs()
                ))))
            }
        };
        if outcome != "ok" {
            bail!("run {n}: the guest could not hand its results back ({outcome}; the output disk holds {} MiB)", self.output.bytes >> 20);
        }
        let took = started.elapsed();
        let unpacked = tempfile::Builder::new()
            .prefix(".cross-run-")
            .tempdir_in(
                out_dir
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new(".")),
            )
            .context("cannot create a folder beside the results folder")?;
        self.output.extract(unpacked.path())?;
        let meta = unpacked.path().join("meta");
        let read = |name: &str| {
            std::fs::read_to_string(meta.join(name))
                .with_context(|| format!("run {n}: the guest sent no {name}"))
        };
        let status = read("status")?
            .trim()
            .parse()
            .with_context(|| format!("run {n}: unreadable exit status"))?;
        let (stdout, stderr) = (read("stdout")?, read("stderr")?);
        std::fs::rename(unpacked.path().join("out"), out_dir)
            .with_context(|| format!("cannot move the results to {}", out_dir.display()))?;
        Ok(RunOutput {
            dir: out_dir.to_owned(),
            status,
            stdout,
            stderr,
            took,
        })
    }

    /// Asks the guest to power off and waits for qemu to exit.
    pub fn shutdown(mut self) -> Result<()> {
        let _ = writeln!(self.console_in, "poweroff").and_then(|()| self.console_in.flush());
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self
                .qemu
                .try_wait()
                .context("cannot wait for qemu")?
                .is_some()
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(self.fail(anyhow!("the machine did not power off within 30 s")))
    }

    /// Waits for the first event that `wanted` accepts; a panic, a guest
    /// failure, qemu's exit or the deadline is an error.
    fn wait_for(&mut self, deadline: Instant, wanted: impl Fn(&Event) -> bool) -> Result<Event> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let event = match self.events.recv_timeout(left) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => bail!("the guest stopped answering"),
                Err(RecvTimeoutError::Disconnected) => Event::Closed,
            };
            match event {
                e if wanted(&e) => return Ok(e),
                Event::Panic(line) => bail!("the guest kernel panicked: {line}"),
                Event::Failed(why) => bail!("the guest's /init failed: {why}"),
                Event::Closed => {
                    let _ = self.qemu.wait();
                    // Give the stderr reader a moment to collect qemu's last words.
                    std::thread::sleep(Duration::from_millis(100));
                    let errors = self.qemu_errors.lock().expect("not poisoned").clone();
                    let last = errors.lines().map(str::trim).rfind(|l| !l.is_empty());
                    bail!(
                        "qemu exited{}",
                        last.map(|l| format!(": {l}")).unwrap_or_default()
                    );
                }
                _ => {}
            }
        }
    }

    /// Stops the machine after a failure and keeps its console log,
    /// naming it in the error.
    fn fail(&mut self, error: anyhow::Error) -> anyhow::Error {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
        let Some(work) = self.work.take() else {
            return error;
        };
        let kept = work.keep();
        for big in ["initrd.cpio", "in.img", "out.img"] {
            let _ = std::fs::remove_file(kept.join(big));
        }
        anyhow!(
            "{error:#} (console log: {})",
            kept.join("console.log").display()
        )
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        let _ = self.qemu.kill();
        let _ = self.qemu.wait();
    }
}

/// The base initramfs with the staged folder appended as a second archive.
fn write_initrd(base: &Path, staged: Option<&Path>, out: &Path) -> Result<()> {
    std::fs::copy(base, out).with_context(|| format!("cannot copy {}", base.display()))?;
    if let Some(staged) = staged {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .open(out)
            .with_context(|| format!("cannot write {}", out.display()))?;
        let mut cpio = Cpio::new(BufWriter::new(file));
        cpio.tree(staged, "/stage")?;
        cpio.finish()?;
    }
    Ok(())
}

/// Random bits for the nonce, from the kernel (the pid where that fails).
fn random() -> u64 {
    let mut bytes = [0u8; 8];
    match std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes)) {
        Ok(()) => u64::from_ne_bytes(bytes),
        Err(_) => u64::from(std::process::id()),
    }
}
