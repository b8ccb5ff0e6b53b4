//! Running a command the way every perf command of a session must run: in a
//! process group of its own, with its output captured, and never for longer
//! than a time limit. When the limit passes, or when [`cancel`] is called
//! (the harness does on Ctrl-C), the whole group is killed — perf *and* the
//! workload it forked — and the error names the pids that were killed, so
//! that their perf maps and jitdumps can be removed.

use std::io::Read;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Why a command produced no output to use.
#[derive(Debug)]
pub enum ChildError {
    /// It could not be started (`NotFound` when the program is missing).
    Spawn(std::io::Error),
    /// It ran past the limit; the group was killed.
    TimedOut { pids: Vec<u32> },
    /// [`cancel`] was called; the group was killed.
    Cancelled { pids: Vec<u32> },
}

static CANCELLED: AtomicBool = AtomicBool::new(false);

/// Kills every command running under [`output`] (within 10 ms) and makes
/// every later one fail at once: for a Ctrl-C that must leave nothing
/// behind.
pub fn cancel() {
    CANCELLED.store(true, Ordering::SeqCst);
}

/// Whether [`cancel`] was called.
pub fn cancelled() -> bool {
    CANCELLED.load(Ordering::SeqCst)
}

/// The processes of process group `pgid`, from `/proc`.
pub fn group_members(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = entries
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            stat.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(2)?.parse::<u32>().ok())
                == Some(pgid)
        })
        .collect();
    pids.sort();
    pids
}

fn kill_group(pgid: u32) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is shared.
    unsafe {
        libc::kill(-(pgid as libc::pid_t), libc::SIGKILL);
    }
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        bytes
    })
}

/// Runs `command` (stdin closed, stdout and stderr captured) in a new
/// process group, for at most `limit`. Whatever of the group is still alive
/// when the leader exits is killed too: a workload may not leave orphans.
pub fn output(mut command: Command, limit: Duration) -> Result<Output, ChildError> {
    use std::os::unix::process::CommandExt;
    if cancelled() {
        return Err(ChildError::Cancelled { pids: Vec::new() });
    }
    command
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(ChildError::Spawn)?;
    let pgid = child.id();
    let (stdout, stderr) = (drain(child.stdout.take()), drain(child.stderr.take()));
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) => {}
            Err(e) => break Err(ChildError::Spawn(e)),
        }
        let stop = cancelled();
        if stop || started.elapsed() > limit {
            let pids = group_members(pgid);
            kill_group(pgid);
            let _ = child.wait();
            break Err(if stop {
                ChildError::Cancelled { pids }
            } else {
                ChildError::TimedOut { pids }
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    // Orphans would also hold the pipes open and the readers with them.
    if !group_members(pgid).is_empty() {
        kill_group(pgid);
    }
    let (stdout, stderr) = (stdout.join(), stderr.join());
    let status = status?;
    Ok(Output {
        status,
        stdout: stdout.unwrap_or_default(),
        stderr: stderr.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn output_and_status_come_back() {
        let out = output(
            sh("echo out; echo err >&2; exit 3"),
            Duration::from_secs(10),
        )
        .unwrap();
        assert_eq!(out.stdout, b"out\n");
        assert_eq!(out.stderr, b"err\n");
        assert_eq!(out.status.code(), Some(3));
    }

    #[test]
    fn a_command_past_its_limit_is_killed_with_its_children() {
        // The shell forks a sleeping child, as perf record forks the workload.
        let started = Instant::now();
        let result = output(sh("sleep 30 & sleep 30; wait"), Duration::from_millis(300));
        let Err(ChildError::TimedOut { pids }) = result else {
            panic!("expected a timeout, got {result:?}");
        };
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(pids.len() >= 2, "the shell and its children: {pids:?}");
        std::thread::sleep(Duration::from_millis(100));
        for pid in pids {
            let alive = std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
                !s.rsplit_once(')')
                    .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
            });
            assert!(!alive, "pid {pid} survived the timeout");
        }
    }

    #[test]
    fn orphans_do_not_outlive_their_leader() {
        // The background sleep would keep stdout open for 30 s.
        let started = Instant::now();
        let out = output(sh("sleep 30 & echo left"), Duration::from_secs(20)).unwrap();
        assert_eq!(out.stdout, b"left\n");
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn a_missing_program_is_a_spawn_error() {
        if let Some(why) = crate::user_mode_emulation() {
            // qemu-user runs glibc's posix_spawn child as a fork, so the
            // exec error never reaches the parent: it sees exit status 127.
            eprintln!("skipped: a missing program looks like one that exited 127: {why}");
            return;
        }
        let result = output(Command::new("/nonexistent/x"), Duration::from_secs(1));
        assert!(
            matches!(&result, Err(ChildError::Spawn(e)) if e.kind() == std::io::ErrorKind::NotFound),
            "{result:?}"
        );
    }
}
