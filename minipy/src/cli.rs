//! The command line, read like `python`'s: `minipy [-X opt[=val]]...
//! script.py [args...]`. Everything after the script passes through to
//! `sys.argv` untouched, so this is parsed by hand rather than with `clap`.
//!
//! Also turns `-X` options and the environment into the start-up perf
//! configuration (SPEC §4: `-X` beats the environment, the last `-X` wins):
//!
//! | option | effect |
//! |---|---|
//! | `-X perf` / `-X perf=0` | perf map backend on / off |
//! | `-X perf_jit` / `-X perf_jit=0` | jitdump backend on / off |
//! | `-X trampoline=c\|rust` | trampoline implementation (env `MINIPY_TRAMPOLINE`; default `rust`) |
//! | `-X perf_persist_after_fork` | a forked child's perf map starts as a copy of the parent's (SPEC §6) |
//!
//! Environment: `PYTHONPERFSUPPORT` (integer, non-zero → perf),
//! `PYTHON_PERF_JIT_SUPPORT` (non-zero → perf_jit, beats the former).
//! Unknown `-X` options are ignored, as CPython ignores them.

use crate::perf::Implementation;
use std::ffi::OsString;
use std::path::PathBuf;
use trampoline_api::Backend;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `-X` options in order: name and optional value.
    pub xopts: Vec<(String, Option<String>)>,
    /// Any bytes: a file name need not be UTF-8.
    pub script: PathBuf,
    /// `sys.argv[1:]` (not UTF-8 bytes replaced, as `str` holds UTF-8).
    pub args: Vec<String>,
}

pub const USAGE: &str = "usage: minipy [-X opt[=value]]... script.py [args...]";

/// What `minipy --help` prints.
pub const HELP: &str = "usage: minipy [-X opt[=value]]... script.py [args...]
Options:
  -X perf                      turn on perf map support (/tmp/perf-<pid>.map); -X perf=0 turns it off
  -X perf_jit                  turn on jitdump support (/tmp/jit-<pid>.dump); -X perf_jit=0 turns it off
  -X trampoline=c|rust         trampoline implementation (default rust; env MINIPY_TRAMPOLINE)
  -X perf_persist_after_fork   a forked child's perf map starts as a copy of the parent's entries
Environment:
  PYTHONPERFSUPPORT=<int>      non-zero: perf map support at start-up
  PYTHON_PERF_JIT_SUPPORT=<int> non-zero: jitdump support at start-up (beats PYTHONPERFSUPPORT)
-X options beat the environment; sys.activate_stack_trampoline() and
sys.deactivate_stack_trampoline() beat both from the moment they are called.
";

/// Whether the arguments ask for the help text.
pub fn wants_help(args: &[OsString]) -> bool {
    matches!(args.first().and_then(|a| a.to_str()), Some("-h" | "--help"))
}

/// Parses the arguments after the program name.
pub fn parse_args(args: &[OsString]) -> Result<Invocation, String> {
    let text = |a: &OsString| a.to_string_lossy().into_owned();
    let mut xopts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &text(&args[i]);
        if a == "--" {
            i += 1;
            break;
        }
        if !a.starts_with('-') || a == "-" {
            break;
        }
        if let Some(rest) = a.strip_prefix("-X") {
            let opt = if rest.is_empty() {
                i += 1;
                args.get(i)
                    .map(text)
                    .ok_or_else(|| "Argument expected for the -X option".to_string())?
            } else {
                rest.to_string()
            };
            xopts.push(match opt.split_once('=') {
                Some((k, v)) => (k.to_string(), Some(v.to_string())),
                None => (opt, None),
            });
            i += 1;
            continue;
        }
        return Err(format!("unknown option {a}\n{USAGE}"));
    }
    let Some(script) = args.get(i) else {
        return Err(format!("no script given\n{USAGE}"));
    };
    Ok(Invocation {
        xopts,
        script: PathBuf::from(script),
        args: args[i + 1..].iter().map(text).collect(),
    })
}

/// The perf configuration decided at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerfConfig {
    pub backend: Option<Backend>,
    pub implementation: Implementation,
    pub persist_after_fork: bool,
}

/// An environment variable as an integer flag: non-zero → on; `0`, empty
/// or not an integer → off.
fn env_flag(v: Option<&str>) -> bool {
    let Some(v) = v else { return false };
    let digits = v.strip_prefix(['-', '+']).unwrap_or(v);
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.bytes().any(|b| b != b'0')
}

/// Applies SPEC §4's precedence. `env` reads an environment variable.
pub fn perf_config(
    xopts: &[(String, Option<String>)],
    env: impl Fn(&str) -> Option<String>,
) -> Result<PerfConfig, String> {
    let mut backend = None;
    if env_flag(env("PYTHONPERFSUPPORT").as_deref()) {
        backend = Some(Backend::PerfMap);
    }
    if env_flag(env("PYTHON_PERF_JIT_SUPPORT").as_deref()) {
        backend = Some(Backend::JitDump);
    }
    let mut implementation = match env("MINIPY_TRAMPOLINE") {
        None => Implementation::Rust,
        Some(v) => Implementation::parse(&v)
            .ok_or_else(|| format!("invalid MINIPY_TRAMPOLINE value '{v}' (expected c or rust)"))?,
    };
    let mut persist_after_fork = false;
    for (name, value) in xopts {
        let on = value.as_deref() != Some("0");
        match name.as_str() {
            "perf" => backend = on.then_some(Backend::PerfMap),
            "perf_jit" => backend = on.then_some(Backend::JitDump),
            "perf_persist_after_fork" => persist_after_fork = on,
            "trampoline" => {
                let v = value.as_deref().unwrap_or("");
                implementation = Implementation::parse(v).ok_or_else(|| {
                    format!("invalid -X trampoline value '{v}' (expected c or rust)")
                })?;
            }
            _ => {}
        }
    }
    Ok(PerfConfig {
        backend,
        implementation,
        persist_after_fork,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    #[test]
    fn script_args_pass_through_untouched() {
        let inv = parse_args(&s(&[
            "-X",
            "perf",
            "-Xtrampoline=c",
            "x.py",
            "-X",
            "--flag",
            "1",
        ]))
        .unwrap();
        assert_eq!(inv.script, PathBuf::from("x.py"));
        assert_eq!(inv.args, ["-X", "--flag", "1"]);
        assert_eq!(
            inv.xopts,
            vec![
                ("perf".into(), None),
                ("trampoline".into(), Some("c".into()))
            ]
        );
        assert!(parse_args(&s(&["-q", "x.py"])).is_err());
        assert!(parse_args(&s(&["-X", "perf"])).is_err());
    }

    fn backend(xopts: &[&str], env: &[(&str, &str)]) -> Option<Backend> {
        let inv = parse_args(
            &xopts
                .iter()
                .flat_map(|x| [OsString::from("-X"), OsString::from(x)])
                .chain(["a.py".into()])
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        perf_config(&inv.xopts, |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
        .unwrap()
        .backend
    }

    #[test]
    fn a_script_name_keeps_its_bytes() {
        use std::os::unix::ffi::OsStringExt;
        let name = OsString::from_vec(b"bad\xff.py".to_vec());
        let inv = parse_args(&[name.clone(), OsString::from_vec(b"\xfe".to_vec())]).unwrap();
        assert_eq!(inv.script.as_os_str(), name);
        assert_eq!(inv.args, ["\u{fffd}"]);
    }

    #[test]
    fn precedence_follows_the_spec() {
        assert_eq!(backend(&[], &[]), None);
        assert_eq!(
            backend(&[], &[("PYTHONPERFSUPPORT", "2")]),
            Some(Backend::PerfMap)
        );
        assert_eq!(backend(&[], &[("PYTHONPERFSUPPORT", "foo")]), None);
        assert_eq!(backend(&[], &[("PYTHONPERFSUPPORT", "0")]), None);
        assert_eq!(
            backend(
                &[],
                &[("PYTHONPERFSUPPORT", "1"), ("PYTHON_PERF_JIT_SUPPORT", "1")]
            ),
            Some(Backend::JitDump)
        );
        assert_eq!(
            backend(&["perf"], &[("PYTHON_PERF_JIT_SUPPORT", "1")]),
            Some(Backend::PerfMap)
        );
        assert_eq!(backend(&["perf=0"], &[("PYTHONPERFSUPPORT", "1")]), None);
        assert_eq!(backend(&["perf", "perf_jit"], &[]), Some(Backend::JitDump));
        assert_eq!(backend(&["perf_jit", "perf_jit=0"], &[]), None);
        assert_eq!(backend(&["unknown_option"], &[]), None);
    }

    #[test]
    fn trampoline_choice_and_bad_values() {
        let cfg = perf_config(&[("trampoline".into(), Some("c".into()))], |_| {
            Some("rust".into())
        })
        .unwrap();
        assert_eq!(cfg.implementation, Implementation::C);
        assert!(perf_config(&[("trampoline".into(), Some("x".into()))], |_| None).is_err());
        assert!(perf_config(&[], |k| (k == "MINIPY_TRAMPOLINE")
            .then(|| "zig".to_string()))
        .is_err());
    }
}
