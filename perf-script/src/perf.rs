//! Running perf: [`Perf`] (the program, the global options every command of
//! a session gets, the time limit), every perf command the project uses
//! (`record`, `inject --jit`, `script`), the one sampling probe, and
//! [`PerfError`], which turns perf's failures into one line with the fix.

use crate::child::{self, ChildError};
use crate::{parse, parse_profile, Profile, Sample, JIT_RECORD_ARGS, SCRIPT_FIELDS};
use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Output};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PerfError {
    #[error("perf not found: install it (Debian: apt-get install linux-perf; Ubuntu: linux-tools-$(uname -r))")]
    NotFound,
    #[error("perf may not sample here ({0}): run `sudo sysctl -w kernel.perf_event_paranoid=2` (lets users sample their own processes), or run as root")]
    NoPermission(String),
    #[error("`{command}` failed: {message}")]
    Failed { command: String, message: String },
    #[error("perf script output line {line}: cannot parse {text:?}")]
    Parse { line: usize, text: String },
    #[error("`{command}` timed out after {seconds} s (killed it and its workload)")]
    TimedOut {
        command: String,
        seconds: u64,
        /// The processes killed: perf and the workload.
        pids: Vec<u32>,
    },
    #[error("interrupted")]
    Cancelled { pids: Vec<u32> },
    #[error("perf cannot sample this program: {0}, and the host's perf sees only the emulator's code (run it on the real architecture)")]
    Emulated(String),
}

impl PerfError {
    /// The processes a timeout or an interruption killed (their perf maps
    /// and jitdumps are left for the caller to remove).
    pub fn killed(&self) -> &[u32] {
        match self {
            PerfError::TimedOut { pids, .. } | PerfError::Cancelled { pids } => pids,
            _ => &[],
        }
    }
}

/// How `perf record` collects call chains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallGraph {
    /// Frame pointers (`-g`); `max_stack` raises the default of 127 native
    /// frames (`--call-graph fp,<depth>`; `kernel.perf_event_max_stack` must
    /// allow it).
    Fp { max_stack: Option<usize> },
    /// DWARF CFI: perf copies the user stack of each sample.
    Dwarf,
    /// The jitdump workflow: DWARF, and samples stamped with the clock of
    /// the dump's records ([`JIT_RECORD_ARGS`]).
    Jit,
}

impl CallGraph {
    /// Its `perf record` arguments.
    pub fn record_args(self) -> Vec<String> {
        match self {
            CallGraph::Fp { max_stack: None } => vec!["-g".into()],
            CallGraph::Fp {
                max_stack: Some(depth),
            } => vec!["--call-graph".into(), format!("fp,{depth}")],
            CallGraph::Dwarf => vec!["--call-graph".into(), "dwarf".into()],
            CallGraph::Jit => JIT_RECORD_ARGS.map(String::from).to_vec(),
        }
    }
}

/// What `perf record` runs: a program, its arguments, and optionally the
/// whole environment and the folder it starts in.
#[derive(Clone, Debug, Default)]
pub struct Workload {
    pub program: OsString,
    pub args: Vec<OsString>,
    /// The complete environment; `None` inherits ours.
    pub env: Option<Vec<(OsString, OsString)>>,
    pub dir: Option<PathBuf>,
}

impl Workload {
    /// `command[0]` with the rest as arguments, in our environment.
    pub fn command(command: &[&str]) -> Workload {
        Workload {
            program: command.first().copied().unwrap_or_default().into(),
            args: command.iter().skip(1).map(OsString::from).collect(),
            ..Workload::default()
        }
    }
}

/// A finished `perf record`: the workload's exit status (perf exits with
/// it), its stdout, and its stderr without perf's own lines.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

/// perf, the global options that go before each of its commands, and how
/// long any one command may take.
#[derive(Clone, Debug)]
pub struct Perf {
    program: PathBuf,
    buildid_dir: Option<PathBuf>,
    limit: Duration,
    frequency: u32,
}

/// Time limit of a perf command unless [`Perf::with_limit`] says otherwise.
pub const DEFAULT_LIMIT: Duration = Duration::from_secs(120);

/// Samples per second of CPU time unless [`Perf::with_frequency`] says
/// otherwise: perf's documented choice for `cpu-clock`.
pub const DEFAULT_FREQUENCY: u32 = 9999;

/// The workload's stderr without the lines perf itself may print there even
/// with `-q`.
pub fn workload_stderr(stderr: &str) -> String {
    stderr
        .lines()
        .filter(|l| !is_perf_chatter(l))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn is_perf_chatter(line: &str) -> bool {
    line.starts_with("[ perf record:")
        || line.starts_with("Couldn't synthesize")
        || line.starts_with("Failed to collect")
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("perf's own files have UTF-8 paths")
}

impl Perf {
    /// `program` is a path, or a bare name looked up in `PATH`.
    pub fn new(program: impl Into<PathBuf>) -> Perf {
        Perf {
            program: program.into(),
            buildid_dir: None,
            limit: DEFAULT_LIMIT,
            frequency: DEFAULT_FREQUENCY,
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

    /// Each command is killed (with its workload) after `limit`.
    pub fn with_limit(mut self, limit: Duration) -> Perf {
        self.limit = limit;
        self
    }

    /// Samples per second of CPU time (an emulated machine runs code far
    /// slower, so it needs fewer per second for the same count).
    pub fn with_frequency(mut self, frequency: u32) -> Perf {
        self.frequency = frequency;
        self
    }

    pub fn program(&self) -> &Path {
        &self.program
    }

    fn global_args(&self) -> Vec<OsString> {
        match &self.buildid_dir {
            Some(dir) => vec!["--buildid-dir".into(), dir.into()],
            None => Vec::new(),
        }
    }

    /// Runs `perf <global options> <args>` (as `workload` says, for
    /// `record`): its output, whatever its status, or why it did not run.
    fn execute(&self, args: &[OsString], workload: Option<&Workload>) -> Result<Output, PerfError> {
        let all: Vec<OsString> = self
            .global_args()
            .into_iter()
            .chain(args.iter().cloned())
            .collect();
        let shown: Vec<String> = all
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        let command_line = format!("{} {}", self.program.display(), shown.join(" "));
        let mut command = Command::new(&self.program);
        command.args(&all);
        if let Some(workload) = workload {
            if let Some(env) = &workload.env {
                command.env_clear().envs(env.iter().map(|(k, v)| (k, v)));
            }
            if let Some(dir) = &workload.dir {
                command.current_dir(dir);
            }
        }
        child::output(command, self.limit).map_err(|e| match e {
            ChildError::Spawn(e) if e.kind() == std::io::ErrorKind::NotFound => PerfError::NotFound,
            ChildError::Spawn(e) => PerfError::Failed {
                command: command_line,
                message: e.to_string(),
            },
            ChildError::TimedOut { pids } => PerfError::TimedOut {
                command: command_line,
                seconds: self.limit.as_secs(),
                pids,
            },
            ChildError::Cancelled { pids } => PerfError::Cancelled { pids },
        })
    }

    /// Runs `perf <global options> <args>`: its output when it succeeded,
    /// else the one-line error (environment failures recognised).
    pub fn run(&self, args: &[&str]) -> Result<Output, PerfError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let output = self.execute(&args, None)?;
        if output.status.success() {
            return Ok(output);
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(
            environment_failure(&stderr).unwrap_or_else(|| PerfError::Failed {
                command: format!(
                    "{} {}",
                    self.program.display(),
                    args_shown(&self.global_args(), &args)
                ),
                message: last_line(&stderr),
            }),
        )
    }

    /// The `perf record` arguments (after the global options) that sample
    /// `workload` with `call_graph` into `data`: `cpu-clock` at 9999 Hz,
    /// which works in VMs without a hardware PMU.
    pub fn record_args(
        &self,
        data: &Path,
        call_graph: CallGraph,
        workload: &Workload,
    ) -> Vec<OsString> {
        // --no-bpf-event: otherwise perf waits out a 1 s poll of its BPF
        // side-band thread at exit, which would dominate short recordings.
        let mut args: Vec<OsString> = ["record", "-q", "--no-bpf-event", "-e", "cpu-clock", "-F"]
            .map(OsString::from)
            .to_vec();
        args.push(self.frequency.to_string().into());
        args.extend(call_graph.record_args().into_iter().map(OsString::from));
        args.extend(["-o".into(), data.as_os_str().to_owned(), "--".into()]);
        args.push(workload.program.clone());
        args.extend(workload.args.iter().cloned());
        args
    }

    /// Records `workload`. perf exits with the workload's status, so a
    /// failing workload is not an error here; perf failing to record is.
    pub fn record(
        &self,
        data: &Path,
        call_graph: CallGraph,
        workload: &Workload,
    ) -> Result<Recorded, PerfError> {
        let args = self.record_args(data, call_graph, workload);
        let output = self.execute(&args, Some(workload))?;
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        if let Some(error) = environment_failure(&stderr) {
            return Err(error);
        }
        if !data.is_file() {
            return Err(PerfError::Failed {
                command: format!(
                    "{} {}",
                    self.program.display(),
                    args_shown(&self.global_args(), &args)
                ),
                message: format!("wrote no data: {}", last_line(&stderr)),
            });
        }
        let stderr = workload_stderr(&stderr);
        Ok(Recorded {
            status: output.status,
            stdout: output.stdout,
            stderr,
        })
    }

    /// `perf script -F <SCRIPT_FIELDS> -i <data>`, parsed.
    pub fn script(&self, data: &Path) -> Result<Vec<Sample>, PerfError> {
        let output = self.run(&["script", "-F", SCRIPT_FIELDS, "-i", utf8(data)])?;
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
        let depth = max_stack.map(|d| d.to_string());
        let mut args = vec!["script", "--show-task-events"];
        if let Some(depth) = &depth {
            args.extend(["--max-stack", depth.as_str()]);
        }
        args.extend(["-F", SCRIPT_FIELDS, "-i", utf8(data)]);
        let output = self.run(&args)?;
        parse_profile(&String::from_utf8_lossy(&output.stdout))
    }

    /// `perf inject --jit -i <data> -o <output>`: writes `output` with the
    /// jitted code of every jitdump the recording saw mapped, and leaves a
    /// `jitted-<pid>-<n>.so` per code load beside each dump (see
    /// [`crate::JittedFiles`] to remove them).
    pub fn inject_jit(&self, data: &Path, output: &Path) -> Result<(), PerfError> {
        self.run(&["inject", "--jit", "-i", utf8(data), "-o", utf8(output)])
            .map(|_| ())
    }

    /// The one sampling probe: records a short shell busy loop with
    /// `cpu-clock` and frame-pointer call chains, in a scratch folder with
    /// its own build-id cache (nothing lands in `~/.debug`). The samples it
    /// got, or why perf cannot sample here, with the fix.
    pub fn probe(&self) -> Result<usize, PerfError> {
        self.probe_call_graph(CallGraph::Fp { max_stack: None })
    }

    /// [`Perf::probe`] with another call graph (`Jit`: can DWARF unwinding
    /// record here?).
    pub fn probe_call_graph(&self, call_graph: CallGraph) -> Result<usize, PerfError> {
        if let Some(why) = crate::user_mode_emulation() {
            return Err(PerfError::Emulated(why));
        }
        const BUSY_LOOP: &str = "i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done";
        let dir = std::env::temp_dir().join(format!(
            "perf-probe-{}-{}",
            std::process::id(),
            probe_number()
        ));
        std::fs::create_dir_all(&dir).map_err(|e| PerfError::Failed {
            command: format!("mkdir {}", dir.display()),
            message: e.to_string(),
        })?;
        let perf = self.clone().with_buildid_dir(dir.join("buildid"));
        let data = dir.join("probe.data");
        let samples = perf
            .record(
                &data,
                call_graph,
                &Workload::command(&["sh", "-c", BUSY_LOOP]),
            )
            .and_then(|_| perf.script(&data));
        let _ = std::fs::remove_dir_all(&dir);
        match samples?.len() {
            0 => Err(PerfError::Failed {
                command: "perf record -e cpu-clock -F 9999 -g -- sh -c <busy loop>".into(),
                message: "no samples: is the cpu-clock event usable here? see `harness doctor`"
                    .into(),
            }),
            n => Ok(n),
        }
    }
}

/// Probes running at the same time in one process get folders of their own.
fn probe_number() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::SeqCst)
}

fn args_shown(global: &[OsString], args: &[OsString]) -> String {
    let shown: Vec<String> = global
        .iter()
        .chain(args)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    shown.join(" ")
}

fn last_line(stderr: &str) -> String {
    stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message")
        .to_string()
}

/// Recognises, in perf's stderr, the failures that mean "perf cannot work
/// here at all" (no permission to sample, no perf for this kernel).
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

/// Whether perf can sample here at all: `Ok` or the reason it cannot, with
/// the fix ([`Perf::probe`] with the `perf` of `PATH`).
pub fn can_sample(perf: &Path) -> Result<(), PerfError> {
    Perf::new(perf).probe().map(|_| ())
}

/// The arguments of a command as one line, for messages.
pub fn shown(program: &OsStr, args: &[OsString]) -> String {
    std::iter::once(program)
        .chain(args.iter().map(OsString::as_os_str))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
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
    fn record_arguments_put_the_call_graph_before_the_workload() {
        let workload = Workload::command(&["/b/minipy", "-X", "perf", "x.py", "10"]);
        let line = |call_graph| {
            shown(
                OsStr::new("perf"),
                &Perf::new("perf").record_args(Path::new("/w/perf.data"), call_graph, &workload),
            )
        };
        assert_eq!(
            line(CallGraph::Fp { max_stack: None }),
            "perf record -q --no-bpf-event -e cpu-clock -F 9999 -g -o /w/perf.data -- /b/minipy -X perf x.py 10"
        );
        assert!(line(CallGraph::Fp {
            max_stack: Some(512)
        })
        .contains(" --call-graph fp,512 -o "));
        assert!(line(CallGraph::Dwarf).contains(" -F 9999 --call-graph dwarf -o "));
        assert!(line(CallGraph::Jit).contains(" -F 9999 -k 1 --call-graph dwarf -o "));
    }

    #[test]
    fn a_slow_perf_is_killed_at_its_limit() {
        let perf = Perf::new("sleep").with_limit(Duration::from_millis(200));
        match perf.run(&["30"]) {
            Err(e @ PerfError::TimedOut { .. }) => {
                assert_eq!(e.killed().len(), 1, "{e:?}");
                assert!(
                    e.to_string().starts_with("`sleep 30` timed out after 0 s"),
                    "{e}"
                );
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }

    #[test]
    fn permission_failures_are_environment_failures_with_the_sysctl() {
        let err = environment_failure(
            "Error:\nAccess to performance monitoring and observability operations is limited.",
        );
        let Some(err @ PerfError::NoPermission(_)) = err else {
            panic!("{err:?}");
        };
        assert!(
            err.to_string()
                .contains("`sudo sysctl -w kernel.perf_event_paranoid=2`"),
            "{err}"
        );
        assert!(matches!(
            environment_failure("WARNING: perf not found for kernel 6.9"),
            Some(PerfError::NotFound)
        ));
        assert!(environment_failure("failed to open p.data: No such file").is_none());
    }
}
