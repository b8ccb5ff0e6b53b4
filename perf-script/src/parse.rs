//! The text of `perf script -F comm,pid,tid,event,ip,sym,dso` (with or
//! without `--show-task-events`) to [`Sample`]s and [`Profile`]s.

use crate::tasks::{task_event, task_re};
use crate::{PerfError, Profile, TaskEvent};
use regex::Regex;
use std::sync::OnceLock;

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

fn header_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // `comm  pid/tid  event:` and, without a call chain, ` ip sym (dso)`. The
    // event may carry modifiers: `cpu-clock:u` when perf may sample only
    // user space (a normal user at kernel.perf_event_paranoid 2).
    RE.get_or_init(|| {
        Regex::new(r"^(?P<comm>.*?)\s+(?P<pid>\d+)/(?P<tid>\d+)\s+(?P<event>[^\s:]+(?::[a-zA-Z]+)?):(?:\s+(?P<ip>[0-9a-f]+)\s+(?P<sym>.+)\s+\((?P<dso>.*)\))?\s*$")
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

/// Parses the output of `perf script --show-task-events -F
/// comm,pid,tid,event,ip,sym,dso`: samples as [`parse`] does, plus the
/// exec/fork/exit events. Other `PERF_RECORD_*` lines are skipped.
pub fn parse_profile(text: &str) -> Result<Profile, PerfError> {
    let mut tasks = Vec::new();
    let samples = parse_lines(text, Some(&mut tasks))?;
    Ok(Profile { samples, tasks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskEvent;

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
    fn user_space_events_carry_their_modifier() {
        let text = "sh  2247/2247  cpu-clock:u: \n\t  544e [unknown] (/usr/bin/dash)\n";
        let samples = parse(text).unwrap();
        assert_eq!(samples[0].event, "cpu-clock:u");
        assert_eq!((samples[0].pid, samples[0].frames.len()), (2247, 1));
        let chainless = parse("sh 1/1 cpu-clock:uk:  10 f (d)\n").unwrap();
        assert_eq!(chainless[0].frames[0].sym, "f");
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
