//! `perf record` around the interpreter: its command line, the environment
//! the case sets (and nothing inherited that could change the interpreter),
//! a timeout, and the workload's exit status and output.

use super::{failed, Exit, Request, RunError, RUN_TIMEOUT};
use perf_script::{Perf, PerfError};
use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

/// Environment variables that would change what the interpreter does; they
/// are removed from the inherited environment so only the case sets them.
const SCRUBBED_PREFIXES: [&str; 2] = ["PYTHON", "MINIPY_"];

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

pub(super) fn environment(req: &Request) -> BTreeMap<String, String> {
    let mut env: BTreeMap<String, String> = std::env::vars()
        .filter(|(k, _)| !SCRUBBED_PREFIXES.iter().any(|p| k.starts_with(p)))
        .collect();
    if let Some(variant) = req.variant {
        env.insert(
            "MINIPY_TRAMPOLINE".into(),
            variant.trampoline().name().into(),
        );
    }
    env.extend(req.case.env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// Lines perf itself may print on the workload's stderr even with `-q`.
fn is_perf_chatter(line: &str) -> bool {
    line.starts_with("[ perf record:")
        || line.starts_with("Couldn't synthesize")
        || line.starts_with("Failed to collect")
}

pub(super) fn record(
    req: &Request,
    perf: &Perf,
    folder: &Path,
    data: &Path,
) -> Result<(Exit, String, String), RunError> {
    // As an OsStr, so duct looks a bare `perf` up in PATH instead of treating
    // it as a path relative to the current folder.
    let args = perf.global_args().into_iter().chain(
        record_args(req, data)
            .into_iter()
            .map(std::ffi::OsString::from),
    );
    let expr = duct::cmd(perf.program().as_os_str(), args)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;
    use crate::cases::{Unwind, Variant};

    #[test]
    fn record_args_put_unwinding_before_the_command() {
        let case = case("demo", &["-X", "perf"], &["10"]);
        let req = Request {
            case: &case,
            variant: Some(Variant::Rust),
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
        let python = Request {
            variant: None,
            ..req
        };
        assert!(!environment(&python).contains_key("MINIPY_TRAMPOLINE"));
        let mut jit = case.clone();
        jit.unwind = Unwind::Jit;
        let req = Request { case: &jit, ..req };
        assert!(record_args(&req, Path::new("d"))
            .join(" ")
            .contains(" -F 9999 -k 1 --call-graph dwarf -o d -- "));
    }
}
