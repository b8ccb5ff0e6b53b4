//! The perf pipeline for one case and variant: a fresh folder, the script
//! copied in, `perf record` around the interpreter, for `jit` cases `perf
//! inject --jit`, then `perf script` with task events, then the perf maps
//! and jitdumps of every process of the workload read and removed from
//! `/tmp` (with the `jitted-*.so` files perf inject made for them).
//!
//! Every perf command of a run shares a build-id cache inside the run's
//! folder (`--buildid-dir`), so nothing is copied into `~/.debug`.
//!
//! Submodules: [`record`] (the `perf record` command and its environment),
//! [`files`] (what the workload leaves in `/tmp`).

pub mod files;
pub mod record;

use crate::cases::{Case, Unwind, Variant};
use crate::dump::DumpFile;
use perf_script::{JittedFiles, Perf, PerfError, Profile};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use record::record_args;

/// How long one recorded run may take before it is killed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// The build-id cache folder inside a run's folder.
pub const BUILDID_DIR: &str = "perf-buildid";

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
    /// pid → its `/tmp/jit-<pid>.dump`, read.
    pub dumps: BTreeMap<u32, DumpFile>,
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
    /// The minipy variant; `None` for an interpreter we did not write
    /// (CPython), which gets no `MINIPY_TRAMPOLINE`.
    pub variant: Option<Variant>,
    /// The minipy binary of the variant's build, or the other interpreter.
    pub interpreter: &'a Path,
    pub perf: &'a Path,
    /// Leave the folder (perf.data, perf.jit.data) and the files in /tmp in
    /// place (for `harness run`).
    pub keep: bool,
}

/// A finished run and where its files are.
pub struct Finished {
    pub raw: RawRun,
    /// Deleted on drop unless the request said `keep`.
    pub folder: Option<tempfile::TempDir>,
    /// The data `perf report` should read: perf.data, or perf.jit.data for
    /// `jit` cases.
    pub perf_data: PathBuf,
    /// Maps, dumps and jitted-*.so files left in /tmp (only with `keep`).
    pub kept_files: Vec<PathBuf>,
}

fn failed(what: &str, e: impl fmt::Display) -> RunError {
    RunError::Failed(format!("{what}: {e}"))
}

/// The kernel's limit on native frames per sample.
pub fn kernel_max_stack() -> Option<usize> {
    std::fs::read_to_string("/proc/sys/kernel/perf_event_max_stack")
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The processes of a profile: exec'd and forked ones, then any other pid
/// that was sampled.
fn workload_pids(profile: &Profile) -> Vec<u32> {
    let mut pids = profile.processes();
    for s in &profile.samples {
        if !pids.contains(&s.pid) {
            pids.push(s.pid);
        }
    }
    pids
}

/// Runs one case under perf and returns everything it produced.
pub fn run(req: &Request) -> Result<Finished, RunError> {
    if let (Some(needed), Some(actual)) = (req.case.max_stack, kernel_max_stack()) {
        if actual < needed {
            return Err(RunError::MaxStack { needed, actual });
        }
    }
    let folder = tempfile::Builder::new()
        .prefix(&format!(
            "harness-{}-{}-",
            req.case.name,
            req.variant.map_or("python".to_string(), |v| v.to_string())
        ))
        .tempdir()
        .map_err(|e| failed("cannot create a temporary folder", e))?;
    let workdir = folder.path().to_path_buf();
    std::fs::copy(&req.case.script, workdir.join(&req.case.script_name))
        .map_err(|e| failed(&format!("cannot copy {}", req.case.script.display()), e))?;
    let perf = Perf::new(req.perf).with_buildid_dir(workdir.join(BUILDID_DIR));
    let data = workdir.join("perf.data");

    let recorded = record::record(req, &perf, &workdir, &data);
    // perf inject and perf script need the maps and dumps, so they run
    // before those are removed; the files are removed even when a step
    // failed (as far as the pids are known).
    let jit = req.case.unwind == Unwind::Jit;
    let jitted = jit.then(|| JittedFiles::before_inject(&files::dump_dir()));
    let injected = workdir.join("perf.jit.data");
    let script_input = if jit { &injected } else { &data };
    let profile = recorded.as_ref().ok().map(|_| {
        if jit {
            perf.inject_jit(&data, &injected)?;
        }
        perf.script_profile(script_input, req.case.max_stack)
    });
    let pids = match &profile {
        Some(Ok(p)) => workload_pids(p),
        // perf inject (or script of its output) failed: the recording
        // itself still names the processes whose files must go.
        Some(Err(_)) if jit => perf
            .script_profile(&data, None)
            .map_or(Vec::new(), |p| workload_pids(&p)),
        _ => Vec::new(),
    };
    let collected = files::collect(&pids, jitted.as_ref(), req.keep);

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
        maps: collected.maps,
        dumps: collected.dumps,
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
        perf_data: script_input.clone(),
        kept_files: collected.kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
