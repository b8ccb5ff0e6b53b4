//! Task events (`perf script --show-task-events`: exec, fork, exit) and the
//! [`Profile`] that tells which processes a workload consisted of.

use crate::Sample;
use regex::Regex;
use std::sync::OnceLock;

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

pub(crate) fn task_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"^(?P<comm>.*?)\s+(?P<pid>\d+)/(?P<tid>\d+)\s+PERF_RECORD_(?P<kind>[A-Z_0-9]+)(?P<rest>.*)$").unwrap()
    })
}

pub(crate) fn task_event(kind: &str, rest: &str) -> Option<TaskEvent> {
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
