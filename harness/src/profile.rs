//! The perf pipeline for one case on one runtime: a fresh folder, the
//! script copied in, `perf record` around the runtime's command, for `jit`
//! cases `perf inject --jit`, then `perf script` with task events, then the
//! perf maps and jitdumps of every process of the workload read and removed
//! from `/tmp` (with the `jitted-*.so` files perf inject made for them).
//! What comes out is a [`Recording`].
//!
//! Every perf command of a run shares a build-id cache inside the run's
//! folder (`--buildid-dir`), so nothing is copied into `~/.debug`. A run
//! that times out or is interrupted is killed with its whole process group,
//! and the files in `/tmp` of the processes killed are removed as well.

mod files;

use crate::cases::{Case, Unwind};
use crate::runtime::{Invocation, Runtime};
use jitdump::DumpFile;
use perf_script::{JittedFiles, Perf, PerfError, Profile, Workload};
use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};

pub use files::dump_dir;

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

/// Everything one run produced, before it is observed.
#[derive(Clone, Debug)]
pub struct Recording {
    /// The architecture it ran on (`x86_64`, `aarch64`).
    pub arch: &'static str,
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
pub enum ProfileError {
    #[error(transparent)]
    Perf(#[from] PerfError),
    #[error("perf recorded no samples: is the cpu-clock event usable here? try `perf record -e cpu-clock -F 9999 -g -- true`, and `harness doctor`")]
    NoSamples,
    #[error("{0}")]
    Failed(String),
}

impl ProfileError {
    /// Whether this means the environment cannot run the check (exit 2)
    /// rather than that this case failed.
    pub fn is_environment(&self) -> bool {
        matches!(
            self,
            ProfileError::NoSamples
                | ProfileError::Perf(
                    PerfError::NotFound | PerfError::NoPermission(_) | PerfError::Cancelled { .. }
                )
        )
    }
}

impl From<ProfileError> for crate::error::Error {
    fn from(e: ProfileError) -> crate::error::Error {
        match e {
            ProfileError::Perf(e) => crate::error::Error::Perf(e),
            other => crate::error::Error::Environment(other.to_string()),
        }
    }
}

/// A finished run and where its files are.
pub struct Profiled {
    pub recording: Recording,
    /// Deleted on drop unless the run was kept.
    pub folder: Option<tempfile::TempDir>,
    /// The data `perf report` should read: perf.data, or perf.jit.data for
    /// `jit` cases.
    pub perf_data: PathBuf,
    /// Maps, dumps and jitted-*.so files left in /tmp (only when kept).
    pub kept_files: Vec<PathBuf>,
}

fn failed(what: &str, e: impl fmt::Display) -> ProfileError {
    ProfileError::Failed(format!("{what}: {e}"))
}

/// The processes of a profile: exec'd and forked ones, then any other pid
/// that was sampled.
pub fn workload_pids(profile: &Profile) -> Vec<u32> {
    let mut pids = profile.processes();
    for s in &profile.samples {
        if !pids.contains(&s.pid) {
            pids.push(s.pid);
        }
    }
    pids
}

/// The workload of `invocation` running `case`'s script from `dir`: the
/// inherited environment without the runtime's scrubbed variables, then the
/// runtime's variables, then the case's.
pub fn workload(case: &Case, invocation: &Invocation, dir: &Path) -> Workload {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !invocation.scrubbed.iter().any(|p| k.starts_with(p)))
        .collect();
    env.extend(invocation.env.clone());
    env.extend(case.env.clone());
    let args = invocation.options.iter().cloned().chain(case.script_line());
    Workload {
        program: invocation.program.clone().into(),
        args: args.map(Into::into).collect(),
        env: Some(env.into_iter().map(|(k, v)| (k.into(), v.into())).collect()),
        dir: Some(dir.to_path_buf()),
    }
}

/// Runs `case` on `runtime` under perf (`perf` gives the program and the
/// time limit) and returns everything it produced; with `keep`, its folder
/// and its files in `/tmp` stay for `perf report`.
pub fn profile(
    case: &Case,
    runtime: &dyn Runtime,
    perf: &Perf,
    keep: bool,
) -> Result<Profiled, ProfileError> {
    let folder = tempfile::Builder::new()
        .prefix(&format!("harness-{}-{}-", case.name, runtime.label()))
        .tempdir()
        .map_err(|e| failed("cannot create a temporary folder", e))?;
    let workdir = folder.path().to_path_buf();
    std::fs::copy(&case.script, workdir.join(&case.script_name))
        .map_err(|e| failed(&format!("cannot copy {}", case.script.display()), e))?;
    let perf = perf
        .clone()
        .with_buildid_dir(workdir.join(BUILDID_DIR))
        .with_limit(case.timeout);
    let data = workdir.join("perf.data");
    let workload = workload(case, &runtime.invocation(case), &workdir);

    let jit = case.unwind == Unwind::Jit;
    let jitted = jit.then(|| JittedFiles::before_inject(&dump_dir()));
    let recorded = perf.record(&data, case.unwind.call_graph(case.max_stack), &workload);
    // perf inject and perf script need the maps and dumps, so they run
    // before those are removed; the files are removed even when a step
    // failed, as far as the pids are known.
    let injected = workdir.join("perf.jit.data");
    let script_input = if jit { &injected } else { &data };
    let profile = recorded.as_ref().ok().map(|_| {
        if jit {
            perf.inject_jit(&data, &injected)?;
        }
        perf.script_profile(script_input, case.max_stack)
    });
    let pids = match (&recorded, &profile) {
        (Err(e), _) => e.killed().to_vec(),
        (_, Some(Ok(p))) => workload_pids(p),
        // perf inject (or script of its output) failed: the recording
        // itself still names the processes whose files must go.
        (_, Some(Err(_))) if jit => perf
            .script_profile(&data, None)
            .map_or(Vec::new(), |p| workload_pids(&p)),
        _ => Vec::new(),
    };
    let collected = files::collect(&pids, jitted.as_ref(), keep);

    let recorded = recorded?;
    let profile = profile.expect("recorded")?;
    if profile.samples.is_empty() {
        return Err(ProfileError::NoSamples);
    }
    let exit = match (recorded.status.code(), recorded.status.signal()) {
        (Some(code), _) => Exit::Code(code),
        (None, Some(signal)) => Exit::Signal(signal),
        (None, None) => Exit::Code(-1),
    };
    let recording = Recording {
        arch: std::env::consts::ARCH,
        workdir: workdir.clone(),
        exit,
        stdout: String::from_utf8_lossy(&recorded.stdout).into_owned(),
        stderr: recorded.stderr,
        profile,
        maps: collected.maps,
        dumps: collected.dumps,
    };
    let folder = if keep {
        let _ = folder.keep();
        None
    } else {
        Some(folder)
    };
    Ok(Profiled {
        recording,
        folder,
        perf_data: script_input.clone(),
        kept_files: collected.kept,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;

    #[test]
    fn environment_errors_are_told_apart_from_case_failures() {
        assert!(ProfileError::NoSamples.is_environment());
        assert!(ProfileError::Perf(PerfError::NotFound).is_environment());
        assert!(!ProfileError::Failed("x".into()).is_environment());
        let timeout = PerfError::TimedOut {
            command: "perf record".into(),
            seconds: 120,
            pids: vec![1],
        };
        assert!(!ProfileError::Perf(timeout).is_environment());
        let parse = PerfError::Parse {
            line: 1,
            text: "x".into(),
        };
        assert!(!ProfileError::Perf(parse).is_environment());
        assert_eq!(Exit::Signal(11).to_string(), "signal 11");
    }

    #[test]
    fn the_workload_gets_the_runtime_and_case_environment_only() {
        std::env::set_var("PYTHONSTARTUP_HARNESS_TEST", "leak");
        let case = case("demo", &["-X", "perf"], &["10"]);
        let invocation = Invocation {
            program: "/b/minipy".into(),
            options: case.interpreter_args.clone(),
            env: [("MINIPY_TRAMPOLINE".to_string(), "rust".to_string())].into(),
            scrubbed: &["PYTHON", "MINIPY_"],
        };
        let workload = workload(&case, &invocation, Path::new("/w"));
        assert_eq!(
            perf_script::shown(&workload.program, &workload.args),
            "/b/minipy -X perf x.py 10"
        );
        let env: BTreeMap<_, _> = workload.env.unwrap().into_iter().collect();
        assert_eq!(env[std::ffi::OsStr::new("MINIPY_TRAMPOLINE")], "rust");
        assert_eq!(env[std::ffi::OsStr::new("PYTHONPERFSUPPORT")], "1");
        assert!(!env.contains_key(std::ffi::OsStr::new("PYTHONSTARTUP_HARNESS_TEST")));
        assert_eq!(workload.dir.as_deref(), Some(Path::new("/w")));
    }
}
