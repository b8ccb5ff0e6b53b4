//! Running perf: [`Perf`] (the program and the global options every command
//! of a session gets), the `record` / `script` / `inject --jit` commands,
//! and [`PerfError`], which turns perf's failures into one line with the fix.

use crate::{parse, parse_profile, Profile, Sample, SCRIPT_FIELDS};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    #[error("perf not found: install it (Debian: apt-get install linux-perf; Ubuntu: linux-tools-$(uname -r))")]
    NotFound,
    #[error("perf may not sample here ({0}): run `sysctl kernel.perf_event_paranoid=1` as root, or run as root")]
    NoPermission(String),
    #[error("`{command}` failed: {message}")]
    Failed { command: String, message: String },
    #[error("perf script output line {line}: cannot parse {text:?}")]
    Parse { line: usize, text: String },
    #[error("perf cannot sample this program: {0}, and the host's perf sees only the emulator's code (run it on the real architecture)")]
    Emulated(String),
}

/// perf, and the global options that go before each of its commands.
#[derive(Clone, Debug)]
pub struct Perf {
    program: PathBuf,
    buildid_dir: Option<PathBuf>,
}

impl Perf {
    /// `program` is a path, or a bare name looked up in `PATH`.
    pub fn new(program: impl Into<PathBuf>) -> Perf {
        Perf {
            program: program.into(),
            buildid_dir: None,
        }
    }

    /// Every command gets `--buildid-dir <dir>`: the build-id cache (copies
    /// of the sampled binaries, and the `jitted-*.so` files `perf inject
    /// --jit` makes) goes there instead of `~/.debug`. Use one folder for
    /// the record, inject and script of one session, and remove it after.
    pub fn with_buildid_dir(mut self, dir: impl Into<PathBuf>) -> Perf {
        self.buildid_dir = Some(dir.into());
        self
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    /// The arguments that go before the subcommand, for callers that start
    /// perf themselves (with their own environment or timeout).
    pub fn global_args(&self) -> Vec<OsString> {
        match &self.buildid_dir {
            Some(dir) => vec!["--buildid-dir".into(), dir.into()],
            None => Vec::new(),
        }
    }

    /// Runs `perf <global options> <args>`: its output when it succeeded,
    /// else the one-line error (environment failures recognised).
    pub fn run(&self, args: &[&str]) -> Result<Output, PerfError> {
        let global = self.global_args();
        let shown: Vec<String> = global
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .chain(args.iter().map(|a| a.to_string()))
            .collect();
        let command = format!("{} {}", self.program.display(), shown.join(" "));
        let output = Command::new(&self.program)
            .args(global)
            .args(args)
            .output()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => PerfError::NotFound,
                _ => PerfError::Failed {
                    command: command.clone(),
                    message: e.to_string(),
                },
            })?;
        if output.status.success() {
            return Ok(output);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        if let Some(error) = environment_failure(&stderr) {
            return Err(error);
        }
        let message = stderr
            .lines()
            .map(str::trim)
            .rfind(|l| !l.is_empty())
            .unwrap_or("no message")
            .to_string();
        Err(PerfError::Failed { command, message })
    }

    /// `perf record -e cpu-clock -F 9999 <unwind...> -o <data> -- <command...>`.
    /// `unwind` is e.g. `["-g"]`, `["--call-graph", "dwarf"]` or
    /// [`crate::JIT_RECORD_ARGS`].
    pub fn record(
        &self,
        data: &Path,
        unwind: &[&str],
        command: &[&str],
    ) -> Result<Output, PerfError> {
        let data = data.to_str().expect("UTF-8 path");
        // --no-bpf-event: otherwise perf waits out a 1 s poll of its BPF
        // side-band thread at exit, which would dominate short recordings.
        let mut args = vec!["record", "--no-bpf-event", "-e", "cpu-clock", "-F", "9999"];
        args.extend_from_slice(unwind);
        args.extend_from_slice(&["-o", data, "--"]);
        args.extend_from_slice(command);
        self.run(&args)
    }

    /// `perf script -F <SCRIPT_FIELDS> -i <data>`, parsed.
    pub fn script(&self, data: &Path) -> Result<Vec<Sample>, PerfError> {
        let data = data.to_str().expect("UTF-8 path");
        let output = self.run(&["script", "-F", SCRIPT_FIELDS, "-i", data])?;
        parse(&String::from_utf8_lossy(&output.stdout))
    }

    /// `perf script --show-task-events -F <SCRIPT_FIELDS> -i <data>`,
    /// parsed. `max_stack` raises perf script's default of 127 frames per
    /// call chain (for chains recorded with `--call-graph fp,<depth>`).
    pub fn script_profile(
        &self,
        data: &Path,
        max_stack: Option<usize>,
    ) -> Result<Profile, PerfError> {
        let data = data.to_str().expect("UTF-8 path");
        let depth = max_stack.map(|d| d.to_string());
        let mut args = vec!["script", "--show-task-events"];
        if let Some(depth) = &depth {
            args.extend(["--max-stack", depth.as_str()]);
        }
        args.extend(["-F", SCRIPT_FIELDS, "-i", data]);
        let output = self.run(&args)?;
        parse_profile(&String::from_utf8_lossy(&output.stdout))
    }

    /// `perf inject --jit -i <data> -o <output>`: writes `output` with the
    /// jitted code of every jitdump the recording saw mapped, and leaves a
    /// `jitted-<pid>-<n>.so` per code load beside each dump (see
    /// [`crate::JittedFiles`] to remove them).
    pub fn inject_jit(&self, data: &Path, output: &Path) -> Result<(), PerfError> {
        let (data, output) = (
            data.to_str().expect("UTF-8 path"),
            output.to_str().expect("UTF-8 path"),
        );
        self.run(&["inject", "--jit", "-i", data, "-o", output])
            .map(|_| ())
    }
}

/// Recognises, in perf's stderr, the failures that mean "perf cannot work
/// here at all" (no permission to sample, no perf for this kernel), so that
/// callers running perf themselves report them with the same fix.
pub fn environment_failure(stderr: &str) -> Option<PerfError> {
    if stderr.contains("perf_event_paranoid")
        || stderr.contains("Permission denied")
        || stderr.contains("Access to performance monitoring")
    {
        let paranoid =
            std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid").unwrap_or_default();
        return Some(PerfError::NoPermission(format!(
            "kernel.perf_event_paranoid = {}",
            paranoid.trim()
        )));
    }
    if stderr.contains("perf not found for kernel") {
        return Some(PerfError::NotFound);
    }
    None
}

/// [`Perf::record`] without global options.
pub fn record(
    perf: &Path,
    data: &Path,
    unwind: &[&str],
    command: &[&str],
) -> Result<Output, PerfError> {
    Perf::new(perf).record(data, unwind, command)
}

/// [`Perf::script`] without global options.
pub fn script(perf: &Path, data: &Path) -> Result<Vec<Sample>, PerfError> {
    Perf::new(perf).script(data)
}

/// [`Perf::script_profile`] without global options.
pub fn script_profile(
    perf: &Path,
    data: &Path,
    max_stack: Option<usize>,
) -> Result<Profile, PerfError> {
    Perf::new(perf).script_profile(data, max_stack)
}

/// Whether perf can sample here at all: `Ok` or the reason it cannot.
pub fn can_sample(perf: &Path) -> Result<(), PerfError> {
    if let Some(why) = crate::user_mode_emulation() {
        return Err(PerfError::Emulated(why));
    }
    let dir = std::env::temp_dir().join(format!("perf-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| PerfError::Failed {
        command: "mkdir".into(),
        message: e.to_string(),
    })?;
    let data = dir.join("probe.data");
    // Its own build-id cache, so probing leaves nothing in ~/.debug.
    let perf = Perf::new(perf).with_buildid_dir(dir.join("buildid"));
    let result = perf.record(&data, &[], &["true"]).map(|_| ());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_perf_is_not_found() {
        if let Some(why) = crate::user_mode_emulation() {
            // qemu-user runs glibc's posix_spawn child as a fork, so the
            // exec error never reaches the parent: it sees exit status 127.
            eprintln!("skipped: a missing program looks like one that exited 127: {why}");
            return;
        }
        let perf = Perf::new("/nonexistent/perf");
        assert!(perf.global_args().is_empty());
        assert!(matches!(perf.run(&["--version"]), Err(PerfError::NotFound)));
    }

    #[test]
    fn global_options_go_before_the_subcommand_and_into_errors() {
        let perf = Perf::new("false").with_buildid_dir("/tmp/cache");
        assert_eq!(perf.global_args(), ["--buildid-dir", "/tmp/cache"]);
        match perf.run(&["inject", "--jit"]) {
            Err(PerfError::Failed { command, message }) => {
                assert_eq!(command, "false --buildid-dir /tmp/cache inject --jit");
                assert_eq!(message, "no message");
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }

    #[test]
    fn permission_failures_are_environment_failures() {
        let err = environment_failure(
            "Error:\nAccess to performance monitoring and observability operations is limited.",
        );
        assert!(matches!(err, Some(PerfError::NoPermission(_))), "{err:?}");
        assert!(matches!(
            environment_failure("WARNING: perf not found for kernel 6.9"),
            Some(PerfError::NotFound)
        ));
        assert!(environment_failure("failed to open p.data: No such file").is_none());
    }
}
