//! perf in, samples out: runs `perf record` / `perf script` with the fixed
//! field list of SPEC §9 and parses the text into [`Sample`]s.
//!
//! Both the trampoline crates' example tests and the harness read profiles
//! through this crate, so there is one parser and one place that turns perf's
//! failures (missing, no permission) into one-line errors with the fix.
//!
//! Dependencies: `regex` for the sample and frame lines; `thiserror` for
//! [`PerfError`].

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
        self.frames.iter().map(|f| f.sym.as_str()).filter(|s| s.starts_with("py::")).collect()
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

fn frame_re() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    // The dso is the last parenthesised group; the symbol may contain spaces.
    RE.get_or_init(|| Regex::new(r"^\s+(?P<ip>[0-9a-f]+)\s+(?P<sym>.+)\s+\((?P<dso>.*)\)\s*$").unwrap())
}

fn frame(caps: &regex::Captures) -> Frame {
    Frame {
        ip: u64::from_str_radix(&caps["ip"], 16).unwrap_or(0),
        sym: caps["sym"].to_string(),
        dso: caps["dso"].to_string(),
    }
}

/// Parses the output of `perf script -F comm,pid,tid,event,ip,sym,dso`, with
/// or without call chains.
pub fn parse(text: &str) -> Result<Vec<Sample>, PerfError> {
    let mut samples: Vec<Sample> = Vec::new();
    let mut in_sample = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            in_sample = false;
        } else if let (true, Some(caps)) = (in_sample, frame_re().captures(line)) {
            samples.last_mut().expect("in a sample").frames.push(frame(&caps));
        } else if let Some(caps) = header_re().captures(line) {
            let frames = if caps.name("ip").is_some() { vec![frame(&caps)] } else { Vec::new() };
            samples.push(Sample {
                comm: caps["comm"].trim().to_string(),
                pid: caps["pid"].parse().unwrap_or(0),
                tid: caps["tid"].parse().unwrap_or(0),
                event: caps["event"].to_string(),
                frames,
            });
            in_sample = true;
        } else {
            return Err(PerfError::Parse { line: i + 1, text: line.to_string() });
        }
    }
    Ok(samples)
}

fn run(perf: &Path, args: &[&str]) -> Result<Output, PerfError> {
    let command = format!("{} {}", perf.display(), args.join(" "));
    let output = Command::new(perf).args(args).output().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => PerfError::NotFound,
        _ => PerfError::Failed { command: command.clone(), message: e.to_string() },
    })?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if stderr.contains("perf_event_paranoid") || stderr.contains("Permission denied") || stderr.contains("Access to performance monitoring") {
        let paranoid = std::fs::read_to_string("/proc/sys/kernel/perf_event_paranoid").unwrap_or_default();
        return Err(PerfError::NoPermission(format!("kernel.perf_event_paranoid = {}", paranoid.trim())));
    }
    if stderr.contains("perf not found for kernel") {
        return Err(PerfError::NotFound);
    }
    let message = stderr.lines().map(str::trim).filter(|l| !l.is_empty()).last().unwrap_or("no message").to_string();
    Err(PerfError::Failed { command, message })
}

/// `perf record -e cpu-clock -F 9999 <unwind...> -o <data> -- <command...>`.
/// `unwind` is e.g. `["-g"]` or `["--call-graph", "dwarf"]`.
pub fn record(perf: &Path, data: &Path, unwind: &[&str], command: &[&str]) -> Result<Output, PerfError> {
    let data = data.to_str().expect("UTF-8 path");
    let mut args = vec!["record", "-e", "cpu-clock", "-F", "9999"];
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

/// Whether perf can sample here at all: `Ok` or the reason it cannot.
pub fn can_sample(perf: &Path) -> Result<(), PerfError> {
    let dir = std::env::temp_dir().join(format!("perf-probe-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| PerfError::Failed { command: "mkdir".into(), message: e.to_string() })?;
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
        assert_eq!((samples[0].comm.as_str(), samples[0].pid, samples[0].tid), ("chain", 4242, 4242));
        assert_eq!(samples[0].event, "cpu-clock");
        assert_eq!(samples[0].py_frames(), ["py::foo", "py::bar", "py::baz"]);
        assert_eq!(samples[0].frames[4].sym, "[unknown]");
        assert_eq!(samples[1].comm, "my comm");
        assert_eq!(samples[1].frames, [Frame { ip: 0xffffffff81000000, sym: "do_syscall_64".into(), dso: "[kernel.kallsyms]".into() }]);
    }

    #[test]
    fn symbols_may_contain_spaces_and_parentheses() {
        let text = "p 1/1 cpu-clock:\n\t  10 py::K.m.<locals>.<lambda>:/a dir/x (1).py (/tmp/perf-1.map)\n";
        let samples = parse(text).unwrap();
        assert_eq!(samples[0].frames[0].sym, "py::K.m.<locals>.<lambda>:/a dir/x (1).py");
        assert_eq!(samples[0].frames[0].dso, "/tmp/perf-1.map");
    }

    #[test]
    fn garbage_is_an_error_with_its_line() {
        let err = parse("p 1/1 cpu-clock:\n\t 10 f (d)\n\nnot a sample\n").unwrap_err();
        assert!(matches!(err, PerfError::Parse { line: 4, .. }), "{err}");
    }
}
