//! perf in, samples out: runs `perf record` / `perf script` with the fixed
//! field list of SPEC §9 and parses the text into [`Sample`]s.
//!
//! Both the trampoline crates' example tests and the harness read profiles
//! through this crate, so there is one parser and one place that turns perf's
//! failures (missing, no permission) into one-line errors with the fix.
//!
//! [`parse_profile`] / [`script_profile`] additionally read the task events
//! (`--show-task-events`: exec, fork, exit), so a caller can tell which
//! processes a workload consisted of, even those that were never sampled.
//!
//! Dependencies: `regex` for the sample, frame and task-event lines;
//! `thiserror` for [`PerfError`].

use regex::Regex;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The `perf script` field list every reader uses (SPEC §9).
pub const SCRIPT_FIELDS: &str = "comm,pid,tid,event,ip,sym,dso";

/// One native frame of a sample.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub ip: u64,
    pub sym: String,
    pub dso: String,
}

/// One sample: its thread and its call chain, innermost frame first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sample {
    pub comm: String,
    pub pid: u32,
    pub tid: u32,
    pub event: String,
    pub frames: Vec<Frame>,
}

impl Sample {
    /// The `py::` symbols of this sample, innermost first.
    pub fn py_frames(&self) -> Vec<&str> {
        self.frames
            .iter()
            .map(|f| f.sym.as_str())
            .filter(|s| s.starts_with("py::"))
            .collect()
    }
}

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
}

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // `comm  pid/tid  event:` and, without a call chain, ` ip sym (dso)`.
    RE.get_or_init(|| {
        Regex::new(r"^(?P<comm>.*?)\s+(?P<pid>\d+)/(?P<tid>\d+)\s+(?P<event>[^\s:]+):(?:\s+(?P<ip>[0-9a-f]+)\s+(?P<sym>.+)\s+\((?P<dso>.*)\))?\s*$")
            .unwrap()
    })
}

/// A call-chain line: `<blanks><hex ip> <sym> (<dso>)`. Split by hand, not
/// by regex: these lines are nearly all of perf script's output (hundreds
/// of thousands with deep stacks), and a regex per line is slow in the debug
/// builds `cargo run` makes. As with a greedy regex, the dso is the last
/// parenthesised group, so a symbol may contain spaces and parentheses.
fn frame_line(line: &str) -> Option<Frame> {
    if !line.starts_with(char::is_whitespace) {
        return None;
    }
    let (ip, rest) = line.trim().split_once(char::is_whitespace)?;
    if ip.is_empty()
        || !ip
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return None;
    }
    let body = rest.trim_start().strip_suffix(')')?;
    let open = body.rfind(" (")?;
    let sym = body[..open].trim_end();
    if sym.is_empty() {
        return None;
    }
    Some(Frame {
        ip: u64::from_str_radix(ip, 16).unwrap_or(0),
        sym: sym.to_string(),
        dso: body[open + 2..].to_string(),
    })
}

/// Parses sample (and, with `tasks`, task-event) lines in one pass.
fn parse_lines(
    text: &str,
    mut tasks: Option<&mut Vec<TaskEvent>>,
) -> Result<Vec<Sample>, PerfError> {
    let mut samples: Vec<Sample> = Vec::new();
    let mut in_sample = false;
    for (i, line) in text.lines().enumerate() {
        let error = || PerfError::Parse {
            line: i + 1,
            text: line.to_string(),
        };
        if line.trim().is_empty() {
            in_sample = false;
            continue;
        }
        if in_sample {
            if let Some(frame) = frame_line(line) {
                samples.last_mut().expect("in a sample").frames.push(frame);
                continue;
            }
        }
        if let Some(tasks) = tasks
            .as_deref_mut()
            .filter(|_| line.contains("PERF_RECORD_"))
        {
            if let Some(caps) = task_re().captures(line) {
                let (kind, rest) = (&caps["kind"], &caps["rest"]);
                match task_event(kind, rest) {
                    Some(event) => tasks.push(event),
                    None if matches!(kind, "COMM" | "FORK" | "EXIT") => return Err(error()),
                    None => {}
                }
                in_sample = false;
                continue;
            }
        }
        let caps = header_re().captures(line).ok_or_else(error)?;
        let frames = match (caps.name("ip"), caps.name("sym"), caps.name("dso")) {
            (Some(ip), Some(sym), Some(dso)) => vec![Frame {
                ip: u64::from_str_radix(ip.as_str(), 16).unwrap_or(0),
                sym: sym.as_str().to_string(),
                dso: dso.as_str().to_string(),
            }],
            _ => Vec::new(),
        };
        samples.push(Sample {
            comm: caps["comm"].trim().to_string(),
            pid: caps["pid"].parse().unwrap_or(0),
            tid: caps["tid"].parse().unwrap_or(0),
            event: caps["event"].to_string(),
            frames,
        });
        in_sample = true;
    }
    Ok(samples)
}

/// Parses the output of `perf script -F comm,pid,tid,event,ip,sym,dso`, with
/// or without call chains.
pub fn parse(text: &str) -> Result<Vec<Sample>, PerfError> {
    parse_lines(text, None)
}

fn run(perf: &Path, args: &[&str]) -> Result<Output, PerfError> {
    let command = format!("{} {}", perf.display(), args.join(" "));
    let output = Command::new(perf)
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

/// `perf record -e cpu-clock -F 9999 <unwind...> -o <data> -- <command...>`.
/// `unwind` is e.g. `["-g"]` or `["--call-graph", "dwarf"]`.
pub fn record(
    perf: &Path,
    data: &Path,
    unwind: &[&str],
    command: &[&str],
) -> Result<Output, PerfError> {
    let data = data.to_str().expect("UTF-8 path");
    // --no-bpf-event: otherwise perf waits out a 1 s poll of its BPF side-band
    // thread at exit, which would dominate short recordings.
    let mut args = vec!["record", "--no-bpf-event", "-e", "cpu-clock", "-F", "9999"];
    args.extend_from_slice(unwind);
    args.extend_from_slice(&["-o", data, "--"]);
    args.extend_from_slice(command);
    run(perf, &args)
}

/// `perf script -F <SCRIPT_FIELDS> -i <data>`, parsed.
pub fn script(perf: &Path, data: &Path) -> Result<Vec<Sample>, PerfError> {
    let data = data.to_str().expect("UTF-8 path");
    let output = run(perf, &["script", "-F", SCRIPT_FIELDS, "-i", data])?;
    parse(&String::from_utf8_lossy(&output.stdout))
}

/// A task event of `perf script --show-task-events`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskEvent {
    /// `PERF_RECORD_COMM`: thread `pid/tid` is now called `comm`; `exec` when
    /// it came from an `execve` (the workload starting).
    Comm {
        pid: u32,
        tid: u32,
        comm: String,
        exec: bool,
    },
    /// `PERF_RECORD_FORK(pid:tid):(ppid:ptid)`: a new process (pid != ppid)
    /// or thread (pid == ppid).
    Fork {
        pid: u32,
        tid: u32,
        ppid: u32,
        ptid: u32,
    },
    /// `PERF_RECORD_EXIT(pid:tid):(ppid:ptid)`.
    Exit { pid: u32, tid: u32 },
}

/// Samples and task events of one `perf script --show-task-events` run, in
/// the order perf printed them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub samples: Vec<Sample>,
    pub tasks: Vec<TaskEvent>,
}

impl Profile {
    /// The workload's processes: the one perf exec'd first, then every
    /// process forked from them, in fork order. Threads are not listed.
    pub fn processes(&self) -> Vec<u32> {
        let mut pids: Vec<u32> = Vec::new();
        for event in &self.tasks {
            match *event {
                TaskEvent::Comm {
                    pid, exec: true, ..
                } if pid != 0 && !pids.contains(&pid) => pids.push(pid),
                TaskEvent::Fork { pid, ppid, .. }
                    if pid != ppid && pids.contains(&ppid) && !pids.contains(&pid) =>
                {
                    pids.push(pid)
                }
                _ => {}
            }
        }
        pids
    }
}

fn task_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?P<comm>.*?)\s+(?P<pid>\d+)/(?P<tid>\d+)\s+PERF_RECORD_(?P<kind>[A-Z_0-9]+)(?P<rest>.*)$").unwrap()
    })
}

fn task_event(kind: &str, rest: &str) -> Option<TaskEvent> {
    static COMM: OnceLock<Regex> = OnceLock::new();
    static PAIR: OnceLock<Regex> = OnceLock::new();
    // ` exec: name:pid/tid` or `: name:pid/tid`
    let comm = COMM.get_or_init(|| {
        Regex::new(r"^(?P<exec> exec)?:\s*(?P<comm>.*):(?P<pid>\d+)/(?P<tid>\d+)\s*$").unwrap()
    });
    // `(pid:tid):(ppid:ptid)`
    let pair = PAIR.get_or_init(|| {
        Regex::new(r"^\((?P<pid>\d+):(?P<tid>\d+)\):\((?P<ppid>\d+):(?P<ptid>\d+)\)").unwrap()
    });
    let num = |caps: &regex::Captures, name: &str| caps[name].parse::<u32>().ok();
    match kind {
        "COMM" => {
            let caps = comm.captures(rest)?;
            Some(TaskEvent::Comm {
                pid: num(&caps, "pid")?,
                tid: num(&caps, "tid")?,
                comm: caps["comm"].to_string(),
                exec: caps.name("exec").is_some(),
            })
        }
        "FORK" => {
            let caps = pair.captures(rest)?;
            Some(TaskEvent::Fork {
                pid: num(&caps, "pid")?,
                tid: num(&caps, "tid")?,
                ppid: num(&caps, "ppid")?,
                ptid: num(&caps, "ptid")?,
            })
        }
        "EXIT" => {
            let caps = pair.captures(rest)?;
            Some(TaskEvent::Exit {
                pid: num(&caps, "pid")?,
                tid: num(&caps, "tid")?,
            })
        }
        _ => None,
    }
}

/// Parses the output of `perf script --show-task-events -F
/// comm,pid,tid,event,ip,sym,dso`: samples as [`parse`] does, plus the
/// exec/fork/exit events. Other `PERF_RECORD_*` lines are skipped.
pub fn parse_profile(text: &str) -> Result<Profile, PerfError> {
    let mut tasks = Vec::new();
    let samples = parse_lines(text, Some(&mut tasks))?;
    Ok(Profile { samples, tasks })
}

/// `perf script --show-task-events -F <SCRIPT_FIELDS> -i <data>`, parsed.
/// `max_stack` raises perf script's default of 127 frames per call chain
/// (for chains recorded with `--call-graph fp,<depth>`).
pub fn script_profile(
    perf: &Path,
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
    let output = run(perf, &args)?;
    parse_profile(&String::from_utf8_lossy(&output.stdout))
}

/// Whether perf can sample here at all: `Ok` or the reason it cannot.
pub fn can_sample(perf: &Path) -> Result<(), PerfError> {
    let dir = std::env::temp_dir().join(format!("perf-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| PerfError::Failed {
        command: "mkdir".into(),
        message: e.to_string(),
    })?;
    let data = dir.join("probe.data");
    let result = record(perf, &data, &[], &["true"]).map(|_| ());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHAIN: &str = "\
chain  4242/4242  cpu-clock: 
\t    7f1234 trampoline_api::conformance::walk::eval_foo (/work/target/debug/examples/chain)
\t    7fab06 py::foo (/tmp/perf-4242.map)
\t    7fab16 py::bar (/tmp/perf-4242.map)
\t    7fab26 py::baz (/tmp/perf-4242.map)
\t    55aa00 [unknown] ([unknown])

my comm  4242/4243  cpu-clock:  ffffffff81000000 do_syscall_64 ([kernel.kallsyms])
";

    #[test]
    fn parses_chains_and_chainless_samples() {
        let samples = parse(CHAIN).unwrap();
        assert_eq!(samples.len(), 2);
        assert_eq!(
            (samples[0].comm.as_str(), samples[0].pid, samples[0].tid),
            ("chain", 4242, 4242)
        );
        assert_eq!(samples[0].event, "cpu-clock");
        assert_eq!(samples[0].py_frames(), ["py::foo", "py::bar", "py::baz"]);
        assert_eq!(samples[0].frames[4].sym, "[unknown]");
        assert_eq!(samples[1].comm, "my comm");
        assert_eq!(
            samples[1].frames,
            [Frame {
                ip: 0xffffffff81000000,
                sym: "do_syscall_64".into(),
                dso: "[kernel.kallsyms]".into()
            }]
        );
    }

    #[test]
    fn symbols_may_contain_spaces_and_parentheses() {
        let text = "p 1/1 cpu-clock:\n\t  10 py::K.m.<locals>.<lambda>:/a dir/x (1).py (/tmp/perf-1.map)\n";
        let samples = parse(text).unwrap();
        assert_eq!(
            samples[0].frames[0].sym,
            "py::K.m.<locals>.<lambda>:/a dir/x (1).py"
        );
        assert_eq!(samples[0].frames[0].dso, "/tmp/perf-1.map");
    }

    const TASKS: &str = "\
perf-exec     0/0     PERF_RECORD_COMM: perf-exec:6669/6669
minipy  6669/6669  PERF_RECORD_COMM exec: minipy:6669/6669
minipy  6669/6669  cpu-clock: 
\t    7fab06 py::foo (/tmp/perf-6669.map)

minipy  6669/6669  PERF_RECORD_FORK(6671:6671):(6669:6669)
minipy  6669/6672  PERF_RECORD_FORK(6669:6672):(6669:6669)
minipy  6671/6671  cpu-clock: 
\t    7fab16 py::bar (/tmp/perf-6671.map)

minipy  6671/6671  PERF_RECORD_EXIT(6671:6671):(6669:6669)
minipy  6669/6669  PERF_RECORD_EXIT(6669:6669):(6668:6668)
";

    #[test]
    fn task_events_name_the_processes_in_fork_order() {
        let profile = parse_profile(TASKS).unwrap();
        assert_eq!(profile.samples.len(), 2);
        assert_eq!(profile.samples[1].py_frames(), ["py::bar"]);
        assert_eq!(
            profile.tasks[1],
            TaskEvent::Comm {
                pid: 6669,
                tid: 6669,
                comm: "minipy".into(),
                exec: true
            }
        );
        assert_eq!(
            profile.tasks[2],
            TaskEvent::Fork {
                pid: 6671,
                tid: 6671,
                ppid: 6669,
                ptid: 6669
            }
        );
        assert_eq!(
            profile.tasks[4],
            TaskEvent::Exit {
                pid: 6671,
                tid: 6671
            }
        );
        // The thread 6669/6672 is not a process; perf-exec's pid 0 is not either.
        assert_eq!(profile.processes(), [6669, 6671]);
    }

    #[test]
    fn a_malformed_task_event_is_an_error_with_its_line() {
        let err =
            parse_profile("x 1/1 PERF_RECORD_COMM exec: x:1/1\nx 1/1 PERF_RECORD_FORK(oops)\n")
                .unwrap_err();
        assert!(matches!(err, PerfError::Parse { line: 2, .. }), "{err}");
        let err =
            parse_profile("x 1/1 PERF_RECORD_COMM exec: x:1/1\n\nnot a sample\n").unwrap_err();
        assert!(matches!(err, PerfError::Parse { line: 3, .. }), "{err}");
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

    #[test]
    fn frame_lines_split_at_the_last_parenthesised_group() {
        let frame = frame_line("\t    7fab06 py::f:/x (y)/a.py (/tmp/perf-1.map)  ").unwrap();
        assert_eq!(
            (frame.ip, frame.sym.as_str(), frame.dso.as_str()),
            (0x7fab06, "py::f:/x (y)/a.py", "/tmp/perf-1.map")
        );
        let unknown = frame_line("  0 [unknown] ([unknown])").unwrap();
        assert_eq!(
            (unknown.sym.as_str(), unknown.dso.as_str()),
            ("[unknown]", "[unknown]")
        );
        assert_eq!(
            frame_line("p 1/1 cpu-clock:"),
            None,
            "a header is not a frame"
        );
        assert_eq!(frame_line("  10 no_dso"), None);
        assert_eq!(
            frame_line("  10 (only dso)"),
            None,
            "a frame needs a symbol"
        );
        assert_eq!(frame_line("  XYZ f (d)"), None, "the ip is lowercase hex");
    }

    #[test]
    fn garbage_is_an_error_with_its_line() {
        let err = parse("p 1/1 cpu-clock:\n\t 10 f (d)\n\nnot a sample\n").unwrap_err();
        assert!(matches!(err, PerfError::Parse { line: 4, .. }), "{err}");
    }
}
