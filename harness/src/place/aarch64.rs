//! The emulated aarch64 machine as a place where cases run: minipy built
//! for aarch64 (the frame-pointer build and the control build), booted once
//! in qemu's `virt` machine with Debian's arm64 kernel and real `perf`
//! (the `cross` crate sets up the toolchain and the machine), and each run
//! recorded there, by a shell script that runs the same perf commands as
//! [`crate::profile`] does here. The text `perf script` printed, the
//! workload's output, and the perf maps and jitdumps come back; the host
//! observes and judges them like a local run.
//!
//! Under emulation code runs about thirty times slower, so perf samples at
//! 999 Hz instead of 9999 (about as many samples per run as here), and each
//! run may take ten times the case's `timeout`.

use crate::cases::{Case, Unwind, Variant};
use crate::error::Error;
use crate::place::Place;
use crate::profile::{Exit, ProfileError, Recording};
use crate::runtime::minipy::{Build, Minipy, PACKAGE};
use crate::runtime::Runtime;
use cross::vm::{Assets, MachineConfig, Vm};
use perf_script::{CallGraph, Perf, Workload, SCRIPT_FIELDS};
use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// The Rust target minipy is built for.
const TARGET: &str = cross::rust::TARGET;

/// Samples per second in the machine (see the module's doc).
const FREQUENCY: u32 = 999;

/// The booted machine and what was staged in it.
pub struct Machine {
    vm: Mutex<Option<Vm>>,
    /// Host binary → its path in the machine.
    staged: BTreeMap<PathBuf, String>,
    results: tempfile::TempDir,
    runs: AtomicUsize,
}

fn environment(e: impl std::fmt::Display) -> Error {
    Error::Environment(format!("aarch64: {e}"))
}

/// `'text'`, for the machine's shell.
fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// Builds minipy's `build` for aarch64 (or finds an earlier build).
fn make(
    root: &Path,
    toolchain: &cross::toolchain::Toolchain,
    build: Build,
    rebuild: bool,
) -> Result<PathBuf, Error> {
    let dir = root.join("target/harness/aarch64").join(build.name());
    let binary = dir.join(TARGET).join("release").join(PACKAGE);
    if rebuild {
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                PACKAGE,
                "--target",
                TARGET,
                "--target-dir",
            ])
            .arg(&dir)
            .current_dir(root);
        toolchain.env.apply(&mut cargo);
        for (name, value) in build.environment() {
            match value {
                Some(value) => cargo.env(name, value),
                None => cargo.env_remove(name),
            };
        }
        let label = format!(
            "building minipy {} for aarch64 into {}",
            build.description(),
            dir.display()
        );
        cross::progress::step(&label, || cross::command::captured(&mut cargo))
            .map_err(environment)?;
    }
    match binary.is_file() {
        true => Ok(binary),
        false => Err(environment(format!(
            "{} is not built: run without --no-build",
            binary.display()
        ))),
    }
}

impl Machine {
    /// Sets up the cross toolchain, builds the minipy variants the cases
    /// use for aarch64, stages them with the cases' scripts, and boots the
    /// machine. The variants come back as runtimes to judge there.
    pub fn start(
        root: &Path,
        cases: &[Case],
        rebuild: bool,
    ) -> Result<(Machine, Vec<Minipy>), Error> {
        let toolchain = cross::toolchain::setup(false).map_err(environment)?;
        let stage = tempfile::Builder::new()
            .prefix("harness-aarch64-stage-")
            .tempdir()
            .map_err(environment)?;
        let mut staged: BTreeMap<PathBuf, String> = BTreeMap::new();
        let mut minipys = Vec::new();
        for variant in Variant::ALL
            .into_iter()
            .filter(|v| cases.iter().any(|c| c.variants.contains(v)))
        {
            let build = Build::of(variant);
            let guest = format!("/stage/{}/{PACKAGE}", build.name());
            let binary = match staged.iter().find(|(_, g)| **g == guest) {
                Some((binary, _)) => binary.clone(),
                None => {
                    let binary = make(root, &toolchain, build, rebuild)?;
                    let host = stage.path().join(build.name());
                    std::fs::create_dir_all(&host).map_err(environment)?;
                    // perf needs the symbol table, not the debug info.
                    let mut strip = Command::new("aarch64-linux-gnu-strip");
                    strip
                        .arg("--strip-debug")
                        .arg("-o")
                        .arg(host.join(PACKAGE))
                        .arg(&binary);
                    cross::command::captured(&mut strip).map_err(environment)?;
                    staged.insert(binary.clone(), guest);
                    binary
                }
            };
            minipys.push(Minipy { variant, binary });
        }
        for case in cases {
            let dir = stage.path().join("cases").join(&case.name);
            std::fs::create_dir_all(&dir).map_err(environment)?;
            std::fs::copy(&case.script, dir.join(&case.script_name)).map_err(environment)?;
        }
        let assets = Assets::ensure(false).map_err(environment)?;
        let vm = cross::progress::step("booting the aarch64 machine", || {
            Vm::boot(&assets, Some(stage.path()), &MachineConfig::default())
        })
        .map_err(environment)?;
        let results = tempfile::Builder::new()
            .prefix("harness-aarch64-results-")
            .tempdir()
            .map_err(environment)?;
        let machine = Machine {
            vm: Mutex::new(Some(vm)),
            staged,
            results,
            runs: AtomicUsize::new(0),
        };
        Ok((machine, minipys))
    }

    /// The shell script that runs `case` with `program` and `options` in
    /// the machine, in `/w/<n>`, and leaves the results in its own folder.
    fn script(
        &self,
        case: &Case,
        n: usize,
        program: &str,
        invocation: &crate::runtime::Invocation,
    ) -> String {
        let work = format!("/w/{n}");
        let perf = Perf::new("perf").with_frequency(FREQUENCY);
        let workload = Workload {
            program: program.into(),
            args: invocation
                .options
                .iter()
                .cloned()
                .chain(case.script_line())
                .map(OsString::from)
                .collect(),
            env: None,
            dir: None,
        };
        let call_graph: CallGraph = case.unwind.call_graph(case.max_stack);
        let record: Vec<String> = perf
            .record_args(
                Path::new(&format!("{work}/perf.data")),
                call_graph,
                &workload,
            )
            .iter()
            .map(|a| quote(&a.to_string_lossy()))
            .collect();
        let env: Vec<String> = invocation
            .env
            .iter()
            .chain(&case.env)
            .map(|(k, v)| quote(&format!("{k}={v}")))
            .collect();
        let data = match case.unwind {
            Unwind::Jit => format!(
                "perf --buildid-dir {work}/buildid inject --jit -i {work}/perf.data -o {work}/perf.jit.data 2> \"$out/inject.err\"\ndata={work}/perf.jit.data"
            ),
            _ => format!("data={work}/perf.data"),
        };
        let max_stack = case
            .max_stack
            .map_or(String::new(), |d| format!(" --max-stack {d}"));
        format!(
            "out=$(pwd)\nrm -rf {work}; mkdir -p {work}\ncp {script} {work}/\ncd {work}\n\
             env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root {env} perf --buildid-dir {work}/buildid {record} > \"$out/stdout\" 2> \"$out/stderr\"\n\
             echo $? > \"$out/status\"\n{data}\n\
             perf --buildid-dir {work}/buildid script --show-task-events{max_stack} -F {SCRIPT_FIELDS} -i \"$data\" > \"$out/script.txt\" 2> \"$out/script.err\"\n\
             mkdir \"$out/files\"\nfor f in /tmp/perf-*.map /tmp/jit-*.dump; do [ -e \"$f\" ] && mv \"$f\" \"$out/files/\"; done\n\
             rm -f /tmp/jitted-*.so; cd /; rm -rf {work}\n",
            script = quote(&format!("/stage/cases/{}/{}", case.name, case.script_name)),
            env = env.join(" "),
            record = record.join(" "),
        )
    }
}

/// With SVE on (qemu's `-cpu max`, as on Neoverse V1/V2 and N2: Graviton 3
/// and 4, Azure Cobalt), whether perf can record frame-pointer and DWARF call
/// chains with `cpu-clock`: one line, for the report. The cases run with SVE
/// off, where both work.
pub fn sve_report() -> String {
    const SCRIPT: &str = "for g in '-g' '--call-graph dwarf'; do\n\
        if perf record -q -e cpu-clock -F 999 $g -o p.data -- sh -c 'i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done' 2> err;\n\
        then echo \"$g: records\"; else echo \"$g: $(grep -v '^$' err | head -2 | tr '\\n' ' ')\"; fi\n\
        done; rm -f p.data err\n";
    let config = MachineConfig {
        cpu: "max,pauth-impdef=on".into(),
        ..MachineConfig::default()
    };
    let probe = || -> Result<String, String> {
        let results = tempfile::tempdir().map_err(|e| e.to_string())?;
        let text = |e: cross::Error| format!("{e:#}");
        let assets = Assets::ensure(false).map_err(text)?;
        let mut vm = Vm::boot(&assets, None, &config).map_err(text)?;
        let limit = std::time::Duration::from_secs(300);
        let run = vm
            .run(SCRIPT, &results.path().join("sve"), limit)
            .map_err(text)?;
        vm.shutdown().map_err(text)?;
        Ok(run.stdout.lines().collect::<Vec<_>>().join("; "))
    };
    match probe() {
        Ok(found) => format!("aarch64 with SVE (qemu -cpu max), perf record -e cpu-clock: {found}"),
        Err(e) => format!("aarch64 with SVE: could not probe: {e}"),
    }
}

/// Reads what a run in the machine brought back.
fn recording(dir: &Path, workdir: &str) -> Result<Recording, ProfileError> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap_or_default();
    let failed = |what: &str, err: &str| {
        let last = read(err)
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("no message")
            .to_string();
        ProfileError::Failed(format!("{what} in the aarch64 machine failed: {last}"))
    };
    let status: i32 = read("status")
        .trim()
        .parse()
        .map_err(|_| failed("perf record", "stderr"))?;
    let script = read("script.txt");
    if script.trim().is_empty() {
        return Err(match read("inject.err").trim().is_empty() {
            true => failed("perf script", "script.err"),
            false => failed("perf inject --jit", "inject.err"),
        });
    }
    let profile = perf_script::parse_profile(&script)?;
    if profile.samples.is_empty() {
        return Err(ProfileError::NoSamples);
    }
    let mut maps = BTreeMap::new();
    let mut dumps = BTreeMap::new();
    for entry in std::fs::read_dir(dir.join("files"))
        .into_iter()
        .flatten()
        .flatten()
    {
        let name = entry.file_name().to_string_lossy().into_owned();
        let pid = |prefix: &str, suffix: &str| {
            name.strip_prefix(prefix)?
                .strip_suffix(suffix)?
                .parse::<u32>()
                .ok()
        };
        if let Some(pid) = pid("perf-", ".map") {
            maps.insert(
                pid,
                std::fs::read_to_string(entry.path()).unwrap_or_default(),
            );
        } else if let Some(pid) = pid("jit-", ".dump") {
            let mut file = jitdump::read_file(&entry.path());
            file.path = PathBuf::from(format!("/tmp/{name}"));
            if let Some(error) = &mut file.error {
                *error =
                    error.replace(&entry.path().display().to_string(), &format!("/tmp/{name}"));
            }
            dumps.insert(pid, file);
        }
    }
    // The shell reports a program killed by signal n as 128 + n.
    let exit = match status {
        129..=192 => Exit::Signal(status - 128),
        code => Exit::Code(code),
    };
    Ok(Recording {
        arch: "aarch64",
        workdir: PathBuf::from(workdir),
        exit,
        stdout: read("stdout"),
        stderr: perf_script::workload_stderr(&read("stderr")),
        profile,
        maps,
        dumps,
    })
}

impl Place for Machine {
    fn arch(&self) -> &'static str {
        "aarch64"
    }

    fn jobs(&self, _wanted: usize) -> usize {
        1
    }

    fn record(&self, case: &Case, runtime: &dyn Runtime) -> Result<Recording, ProfileError> {
        let invocation = runtime.invocation(case);
        let program = self.staged.get(&invocation.program).ok_or_else(|| {
            ProfileError::Failed(format!(
                "{} cannot run in the aarch64 machine",
                runtime.label()
            ))
        })?;
        let n = self.runs.fetch_add(1, Ordering::SeqCst) + 1;
        let script = self.script(case, n, program, &invocation);
        let out = self.results.path().join(n.to_string());
        let limit = case.timeout * 10;
        let mut vm = self.vm.lock().expect("the machine");
        let Some(machine) = vm.as_mut() else {
            return Err(ProfileError::Failed(
                "the aarch64 machine stopped after an earlier failure".into(),
            ));
        };
        match machine.run(&script, &out, limit) {
            Ok(_) => recording(&out, &format!("/w/{n}")),
            Err(e) => {
                // A run that did not finish stops the machine: later runs
                // fail at once instead of each waiting out its limit.
                *vm = None;
                Err(ProfileError::Failed(format!("{e:#}")))
            }
        }
    }
}

impl Drop for Machine {
    fn drop(&mut self) {
        if let Some(vm) = self.vm.lock().ok().and_then(|mut vm| vm.take()) {
            let _ = vm.shutdown();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;
    use crate::runtime::Invocation;

    #[test]
    fn a_run_in_the_machine_is_the_local_perf_commands_in_a_shell_script() {
        let machine_paths = BTreeMap::new();
        let machine = Machine {
            vm: Mutex::new(None),
            staged: machine_paths,
            results: tempfile::tempdir().unwrap(),
            runs: AtomicUsize::new(0),
        };
        let mut case = case("demo", &["-X", "perf"], &["10"]);
        case.unwind = Unwind::Jit;
        let invocation = Invocation {
            program: "/host/minipy".into(),
            options: case.interpreter_args.clone(),
            env: [("MINIPY_TRAMPOLINE".to_string(), "c".to_string())].into(),
            scrubbed: &[],
        };
        let script = machine.script(&case, 7, "/stage/fp/minipy", &invocation);
        assert!(
            script.contains("cp '/stage/cases/demo/x.py' /w/7/\n"),
            "{script}"
        );
        assert!(
            script.contains(
                "env -i PATH=/usr/bin:/bin:/usr/sbin:/sbin HOME=/root 'MINIPY_TRAMPOLINE=c' 'PYTHONPERFSUPPORT=1' \
                 perf --buildid-dir /w/7/buildid 'record' '-q' '--no-bpf-event' '-e' 'cpu-clock' '-F' '999' \
                 '-k' '1' '--call-graph' 'dwarf' '-o' '/w/7/perf.data' '--' '/stage/fp/minipy' '-X' 'perf' 'x.py' '10'"
            ),
            "{script}"
        );
        assert!(
            script.contains("inject --jit -i /w/7/perf.data -o /w/7/perf.jit.data"),
            "{script}"
        );
        assert_eq!(quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn what_a_run_brings_back_is_a_recording() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("status", "0\n");
        write("stdout", "5\n");
        write(
            "stderr",
            "[ perf record: Woken up 1 times to write data ]\noops\n",
        );
        write(
            "script.txt",
            "minipy  7/7  PERF_RECORD_COMM exec: minipy:7/7\nminipy  7/7  cpu-clock: \n\t  10 py::foo:/w/3/x.py (/tmp/perf-7.map)\n",
        );
        std::fs::create_dir(dir.path().join("files")).unwrap();
        write("files/perf-7.map", "10 8 py::foo:/w/3/x.py\n");
        let rec = recording(dir.path(), "/w/3").unwrap();
        assert_eq!(
            (rec.exit, rec.stdout.as_str(), rec.stderr.as_str()),
            (Exit::Code(0), "5\n", "oops\n")
        );
        assert_eq!(rec.maps[&7], "10 8 py::foo:/w/3/x.py\n");
        assert_eq!(rec.profile.samples.len(), 1);
        write("status", "139\n");
        assert_eq!(
            recording(dir.path(), "/w/3").unwrap().exit,
            Exit::Signal(11)
        );
        write("script.txt", "");
        write("script.err", "addr2line failed\n");
        let err = recording(dir.path(), "/w/3").unwrap_err().to_string();
        assert_eq!(
            err,
            "perf script in the aarch64 machine failed: addr2line failed"
        );
    }
}
