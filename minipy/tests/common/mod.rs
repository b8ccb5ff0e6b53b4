//! Shared helpers for the integration tests: run the real `minipy` binary
//! on a script written to a temporary directory, with a controlled
//! environment, and clean up the perf map / jitdump files of the processes
//! a test started.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use trampoline_api::{jit_dump_path, perf_map_path, MapEntry};

/// Environment variables that change minipy's perf behaviour; every run
/// starts without them so the machine's environment cannot leak in.
const PERF_ENV: [&str; 3] = [
    "PYTHONPERFSUPPORT",
    "PYTHON_PERF_JIT_SUPPORT",
    "MINIPY_TRAMPOLINE",
];

pub fn minipy() -> &'static str {
    env!("CARGO_BIN_EXE_minipy")
}

/// The shared seed scripts (`cases/scripts/*.py`).
pub fn seed_script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cases/scripts")
        .join(name)
}

/// One finished run. Dropping it removes the perf map and jitdump of the
/// process (and of the extra pids registered with `also_clean`).
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub status: i32,
    pub pid: u32,
    pub script: PathBuf,
    extra_pids: Vec<u32>,
    _dir: Option<tempfile::TempDir>,
}

impl Run {
    pub fn map_path(&self) -> PathBuf {
        perf_map_path(self.pid)
    }

    pub fn dump_path(&self) -> PathBuf {
        jit_dump_path(self.pid)
    }

    /// Registers a pid (a forked child) whose files this run also removes.
    pub fn also_clean(&mut self, pid: u32) {
        self.extra_pids.push(pid);
    }

    pub fn describe(&self) -> String {
        format!(
            "status {}\n--- stdout\n{}--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        for pid in std::iter::once(self.pid).chain(self.extra_pids.iter().copied()) {
            for path in [perf_map_path(pid), jit_dump_path(pid)] {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// Runs `minipy <args...>` with `env` set on top of a clean perf environment.
pub fn run_args(
    args: &[&str],
    env: &[(&str, &str)],
    dir: Option<tempfile::TempDir>,
    script: PathBuf,
) -> Run {
    let mut cmd = Command::new(minipy());
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in PERF_ENV {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let child = cmd.spawn().expect("minipy binary runs");
    let pid = child.id();
    let out = child.wait_with_output().expect("minipy finishes");
    Run {
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        status: out.status.code().unwrap_or(-1),
        pid,
        script,
        extra_pids: Vec::new(),
        _dir: dir,
    }
}

/// Writes `source` to a temporary `script.py` and runs it with the given
/// `-X` options (each without the `-X`), environment and script arguments.
pub fn run_source(source: &str, xopts: &[&str], env: &[(&str, &str)], script_args: &[&str]) -> Run {
    let dir = tempfile::tempdir().expect("temporary directory");
    let script = dir.path().join("script.py");
    std::fs::write(&script, source).expect("script written");
    let script_text = script.to_string_lossy().into_owned();
    let mut args: Vec<&str> = Vec::new();
    for x in xopts {
        args.push("-X");
        args.push(x);
    }
    args.push(&script_text);
    args.extend_from_slice(script_args);
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_args(&args, env, Some(dir), script)
}

/// The entries of a perf map (empty if the file does not exist).
pub fn map_entries(path: &Path) -> Vec<MapEntry> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            MapEntry::parse(l)
                .unwrap_or_else(|| panic!("malformed map line {l:?} in {}", path.display()))
        })
        .collect()
}

/// Just the names, in file order.
pub fn map_names(path: &Path) -> Vec<String> {
    map_entries(path).into_iter().map(|e| e.name).collect()
}

/// Whether the Rust trampoline implementation has the jitdump backend yet
/// (asked once, in this test process; the probe's own dump is removed).
pub fn jitdump_supported() -> bool {
    use std::sync::OnceLock;
    use trampoline_api::{Backend, Error, Options, Trampolines};
    static SUPPORTED: OnceLock<bool> = OnceLock::new();
    *SUPPORTED.get_or_init(|| {
        let r = trampoline_rs::RustTrampolines::create(Options {
            backend: Backend::JitDump,
            persist_after_fork: false,
        });
        let supported = match r {
            Ok(set) => {
                // SAFETY: no stub of this probe set was ever made or called.
                unsafe { Box::new(set).teardown() };
                true
            }
            Err(Error::Unsupported(_)) => false,
            Err(_) => true,
        };
        let _ = std::fs::remove_file(jit_dump_path(std::process::id()));
        supported
    })
}

/// How a [`run_guarded`] run ended.
pub struct Guarded {
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// The exit status, or `None` when the process was killed by a signal
    /// (then `signal` says which) or by the timeout.
    pub status: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    /// Still running at the timeout, it was sent SIGINT and then ended
    /// within the grace period (`status`/`signal` say how).
    pub interrupted: bool,
    /// Wall time from spawn to exit.
    pub elapsed: std::time::Duration,
}

impl Guarded {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }

    pub fn describe(&self) -> String {
        format!(
            "status {:?} signal {:?} timed out {} interrupted {}\n--- stdout ({} bytes)\n{}\n--- stderr\n{}",
            self.status,
            self.signal,
            self.timed_out,
            self.interrupted,
            self.stdout.len(),
            String::from_utf8_lossy(&self.stdout[..self.stdout.len().min(2000)]),
            &self.stderr[..self.stderr.len().min(4000)]
        )
    }
}

/// Limits for [`run_guarded`].
#[derive(Clone, Copy)]
pub struct Guard {
    /// `RLIMIT_AS` of the child in bytes, so that a huge allocation fails
    /// in the child instead of taking the machine's memory.
    pub address_space: Option<u64>,
    /// Sent SIGINT when still running after this long (a script may
    /// legitimately run forever; a responsive interpreter then stops with
    /// `KeyboardInterrupt`)...
    pub timeout: std::time::Duration,
    /// ... and killed (SIGKILL, a hang) when still running this much later.
    pub grace: std::time::Duration,
}

impl Default for Guard {
    fn default() -> Guard {
        Guard {
            address_space: Some(4 << 30),
            timeout: std::time::Duration::from_secs(60),
            grace: std::time::Duration::from_secs(10),
        }
    }
}

/// Runs `minipy <script> <args>` (the script path given as an OS string,
/// so it may be any bytes) with stdin closed, a clean perf environment, an
/// optional address-space limit and a timeout. Never hangs. The binary is
/// this build's, or `$MINIPY_TEST_BINARY` (to try another build).
pub fn run_guarded(script: &Path, args: &[&str], guard: Guard) -> Guarded {
    use std::io::Read;
    use std::os::unix::process::{CommandExt, ExitStatusExt};
    use wait_timeout::ChildExt;
    let program = std::env::var_os("MINIPY_TEST_BINARY").unwrap_or_else(|| minipy().into());
    let mut cmd = Command::new(program);
    cmd.arg(script)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in PERF_ENV {
        cmd.env_remove(k);
    }
    let address_space = guard.address_space;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            // SIGINT may be ignored where the tests run (a background
            // job); the child must see it as a terminal user would.
            libc::signal(libc::SIGINT, libc::SIG_DFL);
            if let Some(bytes) = address_space {
                let lim = libc::rlimit {
                    rlim_cur: bytes,
                    rlim_max: bytes,
                };
                if libc::setrlimit(libc::RLIMIT_AS, &lim) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let started = std::time::Instant::now();
    let mut child = cmd.spawn().expect("minipy binary runs");
    // Readers on their own threads, so a full pipe cannot stall the child.
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let out_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut interrupted = false;
    let (status, timed_out) = match child.wait_timeout(guard.timeout).expect("wait") {
        Some(s) => (s, false),
        None => {
            // SAFETY: kill(2) of our own, not yet reaped, child.
            unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
            match child.wait_timeout(guard.grace).expect("wait") {
                Some(s) => {
                    interrupted = true;
                    (s, false)
                }
                None => {
                    let _ = child.kill();
                    (child.wait().expect("wait after kill"), true)
                }
            }
        }
    };
    let pid = child.id();
    for path in [perf_map_path(pid), jit_dump_path(pid)] {
        let _ = std::fs::remove_file(path);
    }
    Guarded {
        stdout: out_reader.join().unwrap_or_default(),
        stderr: String::from_utf8_lossy(&err_reader.join().unwrap_or_default()).into_owned(),
        status: status.code(),
        signal: if timed_out { None } else { status.signal() },
        timed_out,
        interrupted,
        elapsed: started.elapsed(),
    }
}

/// Writes `source` (any bytes) to `script.py` in a new temporary directory
/// and runs it with [`run_guarded`].
pub fn run_bytes(source: &[u8], guard: Guard) -> Guarded {
    let dir = tempfile::tempdir().expect("temporary directory");
    let script = dir.path().join("script.py");
    std::fs::write(&script, source).expect("script written");
    run_guarded(&script, &[], guard)
}
