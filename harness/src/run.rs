//! The perf pipeline for one case and variant: a fresh folder, the script
//! copied in, `perf record` around the interpreter, `perf script` with task
//! events, then the perf maps (and jitdumps) of every process of the
//! workload read and removed from `/tmp`.

use crate::cases::{Case, Variant};
use perf_script::{PerfError, Profile};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long one recorded run may take before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// Environment variables that would change what the interpreter does; they
/// are removed from the inherited environment so only the case sets them.
const SCRUBBED_PREFIXES: [&str; 2] = ["PYTHON", "MINIPY_"];

/// How the workload ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
}

impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Exit::Code(code) => write!(f, "{code}"),
            Exit::Signal(signal) => write!(f, "signal {signal}"),
        }
    }
}

/// Everything one run produced, before normalisation.
#[derive(Clone, Debug)]
pub struct RawRun {
    /// The folder the script ran in (`$CASE` in the snapshot).
    pub workdir: PathBuf,
    pub exit: Exit,
    pub stdout: String,
    pub stderr: String,
    pub profile: Profile,
    /// pid → content of its `/tmp/perf-<pid>.map`.
    pub maps: BTreeMap<u32, String>,
    /// pids that wrote a `/tmp/jit-<pid>.dump`.
    pub jitdumps: BTreeSet<u32>,
}

/// Why a run produced nothing to judge.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// perf cannot work here at all.
    #[error(transparent)]
    Perf(#[from] PerfError),
    #[error("perf recorded no samples: is the cpu-clock event usable here? try `perf record -e cpu-clock -F 9999 -g -- true`, and `harness doctor`")]
    NoSamples,
    #[error("this case needs {needed} native frames per sample but kernel.perf_event_max_stack = {actual}: run `sudo sysctl -w kernel.perf_event_max_stack={needed}`")]
    MaxStack { needed: usize, actual: usize },
    #[error("{0}")]
    Failed(String),
}

impl RunError {
    /// Whether this means the environment cannot run the check (exit 2)
    /// rather than that this case failed.
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            RunError::NoSamples
                | RunError::MaxStack { .. }
                | RunError::Perf(PerfError::NotFound | PerfError::NoPermission(_))
        )
    }
}

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub case: &'a Case,
    pub variant: Variant,
    /// The minipy binary of the variant's build.
    pub interpreter: &'a Path,
    pub perf: &'a Path,
    /// Leave perf.data, the folder and the maps in place (for `harness run`).
    pub keep: bool,
}

/// A finished run and where its files are.
pub struct Finished {
    pub raw: RawRun,
    /// Deleted on drop unless the request said `keep`.
    pub folder: Option<tempfile::TempDir>,
    pub perf_data: PathBuf,
    /// Maps left in /tmp (only with `keep`).
    pub kept_maps: Vec<PathBuf>,
}

fn failed(what: &str, e: impl fmt::Display) -> RunError {
    RunError::Failed(format!("{what}: {e}"))
}

/// The `perf record` command line for a request, from the folder it runs in.
pub fn record_args(req: &Request, data: &Path) -> Vec<String> {
    let mut args: Vec<String> = [
        // --no-bpf-event: otherwise perf waits out a 1 s poll of its BPF
        // side-band thread at exit, longer than most runs.
        "record",
        "-q",
        "--no-bpf-event",
        "-e",
        "cpu-clock",
        "-F",
        "9999",
    ]
    .map(String::from)
    .to_vec();
    args.extend(req.case.unwind.record_args(req.case.max_stack));
    args.extend([
        "-o".to_string(),
        data.to_string_lossy().into_owned(),
        "--".to_string(),
    ]);
    args.push(req.interpreter.to_string_lossy().into_owned());
    args.extend(req.case.interpreter_args.iter().cloned());
    args.push(req.case.script_name.clone());
    args.extend(req.case.args.iter().cloned());
    args
}

fn environment(req: &Request) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !SCRUBBED_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect();
    env.insert(
        "MINIPY_TRAMPOLINE".into(),
        req.variant.trampoline().name().into(),
    );
    env.extend(req.case.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// Lines perf itself may print on the workload's stderr even with `-q`.
fn is_perf_chatter(line: &str) -> bool {
    line.starts_with("[ perf record:")
        || line.starts_with("Couldn't synthesize")
        || line.starts_with("Failed to collect")
}

fn record(req: &Request, folder: &Path, data: &Path) -> Result<(Exit, String, String), RunError> {
    // As an OsStr, so duct looks a bare `perf` up in PATH instead of treating
    // it as a path relative to the current folder.
    let expr = duct::cmd(req.perf.as_os_str(), record_args(req, data))
        .dir(folder)
        .full_env(environment(req))
        .stdin_null()
        .stdout_capture()
        .stderr_capture()
        .unchecked();
    let handle = expr.start().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => RunError::Perf(PerfError::NotFound),
        _ => failed("cannot start perf", e),
    })?;
    let started = Instant::now();
    let output = loop {
        if let Some(output) = handle
            .try_wait()
            .map_err(|e| failed("waiting for perf", e))?
        {
            break output.clone();
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = handle.kill();
            return Err(RunError::Failed(format!(
                "timed out after {} s",
                RUN_TIMEOUT.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if let Some(error) = perf_script::environment_failure(&stderr) {
        return Err(error.into());
    }
    if !data.is_file() {
        let last = stderr
            .lines()
            .rfind(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(RunError::Failed(format!(
            "perf record wrote no data: {last}"
        )));
    }
    let exit = match (output.status.code(), output.status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(-1),
    };
    let stderr: String = stderr
        .lines()
        .filter(|l| !is_perf_chatter(l))
        .map(|l| format!("{l}\n"))
        .collect();
    Ok((
        exit,
        String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr,
    ))
}

/// Reads (and unless `keep`, removes) the perf map and jitdump of every pid.
fn collect_files(pids: &[u32], keep: bool) -> (BTreeMap<u32, String>, BTreeSet<u32>, Vec<PathBuf>) {
    let (mut maps, mut dumps, mut kept) = (BTreeMap::new(), BTreeSet::new(), Vec::new());
    for &pid in pids {
        let map = trampoline_api::perf_map_path(pid);
        if let Ok(text) = std::fs::read_to_string(&map) {
            maps.insert(pid, text);
            if keep {
                kept.push(map);
            } else {
                let _ = std::fs::remove_file(&map);
            }
        }
        let dump = trampoline_api::jit_dump_path(pid);
        if dump.exists() {
            dumps.insert(pid);
            if keep {
                kept.push(dump);
            } else {
                let _ = std::fs::remove_file(&dump);
            }
        }
    }
    (maps, dumps, kept)
}

/// The kernel's limit on native frames per sample.
pub fn kernel_max_stack() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_max_stack")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// Runs one case under perf and returns everything it produced.
pub fn run(req: &Request) -> Result<Finished, RunError> {
    if let (Some(needed), Some(actual)) = (req.case.max_stack, kernel_max_stack()) {
        if actual < needed {
            return Err(RunError::MaxStack { needed, actual });
        }
    }
    let folder = tempfile::Builder::new()
        .prefix(&format!("harness-{}-{}-", req.case.name, req.variant))
        .tempdir()
        .map_err(|e| failed("cannot create a temporary folder", e))?;
    let workdir = folder.path().to_path_buf();
    std::fs::copy(&req.case.script, workdir.join(&req.case.script_name))
        .map_err(|e| failed(&format!("cannot copy {}", req.case.script.display()), e))?;
    let data = workdir.join("perf.data");

    let recorded = record(req, &workdir, &data);
    // perf script resolves py:: names from the maps, so it runs before they
    // are removed; the maps are removed even when something failed.
    let profile = recorded
        .as_ref()
        .ok()
        .map(|_| perf_script::script_profile(req.perf, &data, req.case.max_stack));
    let mut pids = match &profile {
        Some(Ok(p)) => p.processes(),
        _ => Vec::new(),
    };
    if let Some(Ok(p)) = &profile {
        for s in &p.samples {
            if !pids.contains(&s.pid) {
                pids.push(s.pid);
            }
        }
    }
    let (maps, jitdumps, kept_maps) = collect_files(&pids, req.keep);

    let (exit, stdout, stderr) = recorded?;
    let profile = profile.expect("recorded")?;
    if profile.samples.is_empty() {
        return Err(RunError::NoSamples);
    }
    let raw = RawRun {
        workdir: workdir.clone(),
        exit,
        stdout,
        stderr,
        profile,
        maps,
        jitdumps,
    };
    let folder = if req.keep {
        let _ = folder.keep();
        None
    } else {
        Some(folder)
    };
    Ok(Finished {
        raw,
        folder,
        perf_data: data,
        kept_maps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;

    #[test]
    fn record_args_put_unwinding_before_the_command() {
        let case = case("demo", &["-X", "perf"], &["10"]);
        let req = Request {
            case: &case,
            variant: Variant::Rust,
            interpreter: Path::new("/b/minipy"),
            perf: Path::new("perf"),
            keep: false,
        };
        let args = record_args(&req, Path::new("/w/perf.data"));
        assert_eq!(
            args.join(" "),
            "record -q --no-bpf-event -e cpu-clock -F 9999 -g -o /w/perf.data -- /b/minipy -X perf x.py 10"
        );
        let mut deep = case.clone();
        deep.max_stack = Some(512);
        let req = Request { case: &deep, ..req };
        assert!(record_args(&req, Path::new("d"))
            .join(" ")
            .contains(" --call-graph fp,512 -o d "));
        let env = environment(&req);
        assert_eq!(env["MINIPY_TRAMPOLINE"], "rust");
        assert_eq!(env["PYTHONPERFSUPPORT"], "1");
    }

    #[test]
    fn environment_errors_are_told_apart_from_case_failures() {
        assert!(RunError::NoSamples.is_environment());
        assert!(RunError::MaxStack {
            needed: 512,
            actual: 127
        }
        .is_environment());
        assert!(RunError::Perf(PerfError::NotFound).is_environment());
        assert!(!RunError::Failed("timed out".into()).is_environment());
        let parse = PerfError::Parse {
            line: 1,
            text: "x".into(),
        };
        assert!(!RunError::Perf(parse).is_environment());
    }

    #[test]
    fn exit_reads_as_code_or_signal() {
        assert_eq!(Exit::Code(1).to_string(), "1");
        assert_eq!(Exit::Signal(11).to_string(), "signal 11");
    }
}
