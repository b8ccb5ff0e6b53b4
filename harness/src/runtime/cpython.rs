//! CPython (or another Python) as a runtime under test: finding the
//! interpreter and reading what its build can do for perf.
//!
//! An interpreter is named by a path or by a command name (`python3.12`).
//! Names are looked up in `PATH` and then among pyenv's installed versions,
//! because a pyenv shim only works for the version selected in the current
//! folder. Whatever is found is asked for `sys.executable`, so runs use the
//! real binary, never a shim (a shim would add `bash` and `pyenv` processes
//! to every profile).
//!
//! The build is read from `sysconfig` with a small script whose output is
//! `key=value` lines ([`parse_build_info`]), and turned into
//! [`Capabilities`]: perf trampoline compiled in (`PY_HAVE_PERF_TRAMPOLINE`),
//! frame pointers (`-fno-omit-frame-pointer` in the compile flags), and the
//! `perf_jit` backend (CPython 3.13+). A capability read here is a claim of
//! the build; `harness doctor --python` backs it with probe runs under perf.
//!
//! As a [`Runtime`], CPython runs the case's script with the case's
//! `[python]` rules, and only the case's own files count: CPython runs
//! Python code of its own before and around the script (the import system's
//! `<frozen …>` modules, `site`, `<string>`, the standard library), and with
//! perf support on, every such function gets a map entry and shows up in
//! stacks.

use super::{py_name_is_own, py_qualname, Invocation, Runtime, Support};
use crate::cases::{Case, Unwind};
use crate::error::Error;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A Python version, `major.minor.micro`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
    pub micro: u32,
}

impl Version {
    /// Parses `3.12.1` or `3.13` (micro 0); a suffix after the numbers
    /// (`3.13.0t`, `3.14.0a1`) is ignored.
    pub fn parse(text: &str) -> Option<Version> {
        let mut numbers = text.split('.').map(|part| {
            let digits: String = part.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<u32>().ok()
        });
        let major = numbers.next()??;
        let minor = numbers.next()??;
        let micro = numbers.next().flatten().unwrap_or(0);
        Some(Version {
            major,
            minor,
            micro,
        })
    }

    pub fn at_least(self, major: u32, minor: u32) -> bool {
        (self.major, self.minor) >= (major, minor)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// What the interpreter says about itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildInfo {
    /// `sys.executable`: the real binary.
    pub executable: PathBuf,
    /// `sys.implementation.name`: `cpython`, `pypy`, …
    pub implementation: String,
    pub version: Version,
    /// The `sysconfig` variables of [`CONFIG_VARS`] that are set.
    pub vars: BTreeMap<String, String>,
}

/// The `sysconfig` variables read: the trampoline switch and every place a
/// compile flag can be recorded.
pub const CONFIG_VARS: [&str; 5] = [
    "PY_HAVE_PERF_TRAMPOLINE",
    "CFLAGS",
    "PY_CFLAGS",
    "PY_CFLAGS_NODIST",
    "CONFIG_ARGS",
];

/// The query, run with `-I` (no user site, no `PYTHON*` variables). Written
/// to run on any Python 2.7+, so an old interpreter gets a clear answer
/// instead of a syntax error.
pub const QUERY: &str = r#"import sys, sysconfig
impl = getattr(sys, "implementation", None)
print("executable=" + sys.executable)
print("implementation=" + (impl.name if impl else "cpython"))
print("version=%d.%d.%d" % tuple(sys.version_info[:3]))
for key in ("PY_HAVE_PERF_TRAMPOLINE", "CFLAGS", "PY_CFLAGS", "PY_CFLAGS_NODIST", "CONFIG_ARGS"):
    value = sysconfig.get_config_var(key)
    if value is not None:
        print("var " + key + "=" + " ".join(str(value).split()))
"#;

/// Parses the output of [`QUERY`].
pub fn parse_build_info(text: &str) -> Result<BuildInfo, String> {
    let mut executable = None;
    let mut implementation = None;
    let mut version = None;
    let mut vars = BTreeMap::new();
    for line in text.lines() {
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        match key {
            "executable" => executable = Some(PathBuf::from(value)),
            "implementation" => implementation = Some(value.to_string()),
            "version" => version = Version::parse(value),
            _ => {
                if let Some(name) = key.strip_prefix("var ") {
                    vars.insert(name.to_string(), value.to_string());
                }
            }
        }
    }
    match (executable, implementation, version) {
        (Some(executable), Some(implementation), Some(version)) => Ok(BuildInfo {
            executable,
            implementation,
            version,
            vars,
        }),
        _ => Err(format!(
            "unexpected answer to the sysconfig query: {:?}",
            text.lines().next().unwrap_or("(nothing)")
        )),
    }
}

/// Whether the compile flags keep frame pointers, and where that was read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramePointers {
    /// `-fno-omit-frame-pointer` is the last word on frame pointers.
    pub kept: bool,
    /// `-mno-omit-leaf-frame-pointer` too: leaf functions keep them.
    pub leaf: bool,
    /// The variable the flags were read from, or the variables searched.
    pub source: String,
}

/// Frame pointer flags: the last of `-fno-omit-frame-pointer` /
/// `-fomit-frame-pointer` wins, as in the compiler. The core is compiled
/// with `PY_CFLAGS` then `PY_CFLAGS_NODIST`; `CFLAGS` stands in for
/// `PY_CFLAGS` when absent, and `CONFIG_ARGS` (the configure line) is the
/// last resort when neither says anything.
pub fn frame_pointers(vars: &BTreeMap<String, String>) -> FramePointers {
    let last_word = |text: &str, on: &str, off: &str| -> Option<bool> {
        let words = text.split(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == '=');
        words.fold(None, |state, word| match word {
            w if w == on => Some(true),
            w if w == off => Some(false),
            _ => state,
        })
    };
    let flags = |text: &str| {
        (
            last_word(text, "-fno-omit-frame-pointer", "-fomit-frame-pointer"),
            last_word(
                text,
                "-mno-omit-leaf-frame-pointer",
                "-momit-leaf-frame-pointer",
            ),
        )
    };
    let core_base = if vars.contains_key("PY_CFLAGS") {
        "PY_CFLAGS"
    } else {
        "CFLAGS"
    };
    let core = format!(
        "{} {}",
        vars.get(core_base).map_or("", String::as_str),
        vars.get("PY_CFLAGS_NODIST").map_or("", String::as_str)
    );
    let sources = [
        (format!("{core_base} + PY_CFLAGS_NODIST"), core),
        (
            "CONFIG_ARGS".to_string(),
            vars.get("CONFIG_ARGS").cloned().unwrap_or_default(),
        ),
    ];
    for (source, text) in &sources {
        if let (Some(kept), leaf) = flags(text) {
            return FramePointers {
                kept,
                leaf: kept && leaf.unwrap_or(false),
                source: source.clone(),
            };
        }
    }
    FramePointers {
        kept: false,
        leaf: false,
        source: "CFLAGS, PY_CFLAGS, PY_CFLAGS_NODIST, CONFIG_ARGS".into(),
    }
}

/// What the build can do for perf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Capabilities {
    /// `Ok` when the perf trampoline is compiled in, else why not.
    pub trampoline: Result<(), String>,
    pub frame_pointers: FramePointers,
    /// `Ok` when `-X perf_jit` exists, else why not.
    pub perf_jit: Result<(), String>,
}

impl Capabilities {
    /// Reads the capabilities from the build.
    pub fn of(info: &BuildInfo) -> Capabilities {
        let name = format!("{} {}", info.implementation, info.version);
        let trampoline = if info.implementation != "cpython" {
            Err(format!(
                "{name} is not CPython: no -X perf trampoline is known for it"
            ))
        } else if !info.version.at_least(3, 12) {
            Err(format!(
                "{name} has no perf trampoline (it came in CPython 3.12)"
            ))
        } else {
            match info.vars.get("PY_HAVE_PERF_TRAMPOLINE").map(String::as_str) {
                Some("1") => Ok(()),
                other => Err(format!(
                    "no perf trampoline compiled in (sysconfig PY_HAVE_PERF_TRAMPOLINE = {}; \
                     it is built only on Linux x86_64 and aarch64)",
                    other.unwrap_or("unset")
                )),
            }
        };
        let perf_jit = match &trampoline {
            Err(why) => Err(why.clone()),
            Ok(()) if info.version.at_least(3, 13) => Ok(()),
            Ok(()) => Err(format!("no perf_jit backend in {name} (CPython 3.13+)")),
        };
        Capabilities {
            trampoline,
            frame_pointers: frame_pointers(&info.vars),
            perf_jit,
        }
    }

    /// One line: `perf trampoline yes, frame pointers no, perf_jit yes`.
    pub fn summary(&self) -> String {
        let yes = |b: bool| if b { "yes" } else { "no" };
        format!(
            "perf trampoline {}, frame pointers {}, perf_jit {}",
            yes(self.trampoline.is_ok()),
            yes(self.frame_pointers.kept),
            yes(self.perf_jit.is_ok())
        )
    }

    /// Why frame-pointer unwinding cannot see through the interpreter, if it
    /// cannot.
    pub fn frame_pointer_problem(&self) -> Option<String> {
        (!self.frame_pointers.kept).then(|| {
            format!(
                "no frame pointers (-fno-omit-frame-pointer not in {})",
                self.frame_pointers.source
            )
        })
    }

    /// How far a case unwound with `unwind` can be judged.
    pub fn support(&self, unwind: Unwind) -> Support {
        if let Err(why) = &self.trampoline {
            return Support::None(why.clone());
        }
        match unwind {
            Unwind::Fp => match self.frame_pointer_problem() {
                Some(why) => Support::MapsOnly(why),
                None => Support::Full,
            },
            // CPython's own code has .eh_frame; what a perf map cannot
            // describe is the case's business (control_dwarf).
            Unwind::Dwarf => Support::Full,
            Unwind::Jit => match &self.perf_jit {
                Ok(()) => Support::Full,
                Err(why) => Support::None(why.clone()),
            },
        }
    }
}

/// An interpreter under test, found and read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Python {
    /// As the user gave it (`python3.12`, a path).
    pub given: String,
    pub info: BuildInfo,
    pub capabilities: Capabilities,
}

impl Runtime for Python {
    /// `cpython-3.12.1`: the interpreter's column in reports.
    fn label(&self) -> String {
        format!("{}-{}", self.info.implementation, self.info.version)
    }

    fn describe(&self) -> (String, String) {
        (
            self.info.executable.display().to_string(),
            self.capabilities.summary(),
        )
    }

    fn rules_table(&self) -> Option<&'static str> {
        Some("python")
    }

    fn support(&self, unwind: Unwind) -> Support {
        self.capabilities.support(unwind)
    }

    fn invocation(&self, case: &Case) -> Invocation {
        Invocation {
            program: self.info.executable.clone(),
            options: case.interpreter_args.clone(),
            env: BTreeMap::new(),
            scrubbed: &["PYTHON", "MINIPY_"],
        }
    }

    fn qualname<'s>(&self, symbol: &'s str) -> Option<&'s str> {
        py_qualname(symbol)
    }

    fn is_own(&self, name: &str) -> bool {
        py_name_is_own(name)
    }
}

/// A sysconfig query answers in well under a second; an interpreter that
/// takes this long is hanging, not thinking.
const QUERY_LIMIT: Duration = Duration::from_secs(10);

/// Asks `program` for its build (without `PYTHON*` variables, which could
/// change what it answers).
pub fn query(program: &Path) -> Result<BuildInfo, String> {
    let mut command = std::process::Command::new(program);
    command.args(["-I", "-c", QUERY]);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("PYTHON") {
            command.env_remove(key);
        }
    }
    let output = perf_script::output(command, QUERY_LIMIT).map_err(|e| match e {
        perf_script::ChildError::TimedOut { .. } => format!(
            "{} did not answer the sysconfig query within {} s",
            program.display(),
            QUERY_LIMIT.as_secs()
        ),
        perf_script::ChildError::Cancelled { .. } => "interrupted".to_string(),
        perf_script::ChildError::Spawn(e) => format!("cannot run {}: {e}", program.display()),
    })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let why = stderr
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("no message");
        return Err(format!("{} failed: {why}", program.display()));
    }
    parse_build_info(&String::from_utf8_lossy(&output.stdout))
        .map_err(|e| format!("{}: {e}", program.display()))
}

/// pyenv's root: `$PYENV_ROOT`, else `~/.pyenv`.
pub fn pyenv_root() -> Option<PathBuf> {
    std::env::var_os("PYENV_ROOT")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".pyenv")))
}

/// pyenv's installed versions `(version, bin folder)`, newest first.
pub fn pyenv_versions(root: &Path) -> Vec<(Version, PathBuf)> {
    let Ok(entries) = std::fs::read_dir(root.join("versions")) else {
        return Vec::new();
    };
    let mut found: Vec<(Version, PathBuf)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            Some((Version::parse(&name)?, e.path().join("bin")))
        })
        .collect();
    found.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    found
}

/// Where a command name may be: every match in `PATH`, then every pyenv
/// version that has it (newest first).
pub fn candidates(
    name: &str,
    path: Option<&std::ffi::OsStr>,
    pyenv: Option<&Path>,
) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = path
        .map(|p| std::env::split_paths(p).map(|dir| dir.join(name)).collect())
        .unwrap_or_default();
    if let Some(root) = pyenv {
        found.extend(
            pyenv_versions(root)
                .into_iter()
                .map(|(_, bin)| bin.join(name)),
        );
    }
    found.retain(|p| p.is_file());
    found.dedup();
    found
}

/// Finds the interpreter `given` names (a path, or a command name) and reads
/// its build. The error says what was tried.
pub fn find(given: &str) -> Result<Python, Error> {
    find_named(given).map_err(Error::Environment)
}

fn find_named(given: &str) -> Result<Python, String> {
    let tried: Vec<PathBuf> = if given.contains('/') {
        vec![PathBuf::from(given)]
    } else {
        candidates(
            given,
            std::env::var_os("PATH").as_deref(),
            pyenv_root().as_deref(),
        )
    };
    if tried.is_empty() {
        return Err(format!(
            "no Python found for `{given}`: not in PATH nor among pyenv's versions"
        ));
    }
    let mut failures = Vec::new();
    for program in &tried {
        if !program.is_file() {
            failures.push(format!("{} does not exist", program.display()));
            continue;
        }
        match query(program) {
            Ok(info) => {
                let capabilities = Capabilities::of(&info);
                return Ok(Python {
                    given: given.to_string(),
                    info,
                    capabilities,
                });
            }
            Err(e) => failures.push(e),
        }
    }
    Err(format!(
        "no working Python found for `{given}`: {}",
        failures.join("; ")
    ))
}

/// Why no default CPython was found, and what to do.
pub fn none_found() -> Error {
    let pyenv = pyenv_root()
        .map(|r| format!("{}/versions", r.display()))
        .unwrap_or_else(|| "pyenv (no HOME)".into());
    Error::Environment(format!(
        "no CPython 3.12+ found: looked in {pyenv} and in PATH for python3.12, python3.13, \
         python3.14 and python3; give one with --python <path-or-name>"
    ))
}

/// The CPythons a report uses when none is given: every pyenv version from
/// 3.12 on, then `python3.12`, `python3.13`, `python3.14` and `python3` from
/// `PATH`, by real executable, oldest first.
pub fn find_default() -> Vec<Python> {
    let mut programs: Vec<PathBuf> = Vec::new();
    if let Some(root) = pyenv_root() {
        for (version, bin) in pyenv_versions(&root) {
            if version.at_least(3, 12) {
                programs.push(bin.join(format!("python{}.{}", version.major, version.minor)));
            }
        }
    }
    let path = std::env::var_os("PATH");
    for name in ["python3.12", "python3.13", "python3.14", "python3"] {
        programs.extend(candidates(name, path.as_deref(), None));
    }
    let mut found: Vec<Python> = Vec::new();
    for program in programs.into_iter().filter(|p| p.is_file()) {
        let Ok(info) = query(&program) else { continue };
        let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        if info.implementation != "cpython"
            || !info.version.at_least(3, 12)
            || found
                .iter()
                .any(|f| real(&f.info.executable) == real(&info.executable))
        {
            continue;
        }
        let capabilities = Capabilities::of(&info);
        found.push(Python {
            given: program.display().to_string(),
            info,
            capabilities,
        });
    }
    found.sort_by_key(|p| p.info.version);
    found
}

/// The flags that give CPython frame pointers, as its docs recommend.
pub const FP_CFLAGS: &str = "-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer";

/// How to get frame pointers into this build, with pyenv's spelling when
/// pyenv installed it.
pub fn rebuild_advice(python: &Python) -> String {
    let mut advice = format!("rebuild it with frame pointers: ./configure CFLAGS=\"{FP_CFLAGS}\"");
    if python
        .info
        .executable
        .to_string_lossy()
        .contains("/.pyenv/versions/")
    {
        advice.push_str(&format!(
            " (pyenv: PYTHON_CFLAGS=\"{FP_CFLAGS}\" pyenv install --force {})",
            python.info.version
        ));
    }
    advice.push_str(", then use -X perf with perf record -g");
    advice
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What pyenv's CPython 3.12.1 on this project's machine answers.
    const PYENV_312: &str = "\
executable=/root/.pyenv/versions/3.12.1/bin/python3.12
implementation=cpython
version=3.12.1
var PY_HAVE_PERF_TRAMPOLINE=1
var CFLAGS=-fno-strict-overflow -Wsign-compare -DNDEBUG -g -O3 -Wall
var PY_CFLAGS=-fno-strict-overflow -Wsign-compare -DNDEBUG -g -O3 -Wall
var PY_CFLAGS_NODIST=-std=c11 -Wextra -Wno-unused-parameter -fvisibility=hidden -I./Include/internal
var CONFIG_ARGS='--prefix=/root/.pyenv/versions/3.12.1' '--enable-shared' 'LDFLAGS=-L/root/.pyenv/versions/3.12.1/lib'
";

    fn info(text: &str) -> BuildInfo {
        parse_build_info(text).unwrap()
    }

    fn with_var(text: &str, key: &str, value: &str) -> BuildInfo {
        let mut info = info(text);
        info.vars.insert(key.into(), value.into());
        info
    }

    #[test]
    fn the_query_answer_is_parsed() {
        let info = info(PYENV_312);
        assert_eq!(
            info.executable,
            Path::new("/root/.pyenv/versions/3.12.1/bin/python3.12")
        );
        assert_eq!(info.implementation, "cpython");
        assert_eq!(info.version.to_string(), "3.12.1");
        assert_eq!(info.vars["PY_HAVE_PERF_TRAMPOLINE"], "1");
        assert_eq!(info.vars.len(), 5);
        let err = parse_build_info("Traceback (most recent call last):\n").unwrap_err();
        assert!(
            err.contains("\"Traceback (most recent call last):\""),
            "{err}"
        );
    }

    #[test]
    fn pyenv_312_has_the_trampoline_but_no_frame_pointers_and_no_perf_jit() {
        let caps = Capabilities::of(&info(PYENV_312));
        assert_eq!(caps.trampoline, Ok(()));
        assert!(!caps.frame_pointers.kept);
        assert_eq!(
            caps.summary(),
            "perf trampoline yes, frame pointers no, perf_jit no"
        );
        assert_eq!(
            caps.support(Unwind::Fp),
            Support::MapsOnly(
                "no frame pointers (-fno-omit-frame-pointer not in CFLAGS, PY_CFLAGS, \
                 PY_CFLAGS_NODIST, CONFIG_ARGS)"
                    .into()
            )
        );
        assert_eq!(caps.support(Unwind::Dwarf), Support::Full);
        assert_eq!(
            caps.support(Unwind::Jit),
            Support::None("no perf_jit backend in cpython 3.12.1 (CPython 3.13+)".into())
        );
        assert_eq!(
            caps.perf_jit,
            Err("no perf_jit backend in cpython 3.12.1 (CPython 3.13+)".into())
        );
    }

    #[test]
    fn the_cflags_rebuild_gives_frame_pointers_and_full_fp_support() {
        let flags = "-fno-strict-overflow -O3 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer";
        let caps = Capabilities::of(&with_var(PYENV_312, "PY_CFLAGS", flags));
        assert_eq!(
            caps.frame_pointers,
            FramePointers {
                kept: true,
                leaf: true,
                source: "PY_CFLAGS + PY_CFLAGS_NODIST".into()
            }
        );
        assert_eq!(caps.support(Unwind::Fp), Support::Full);
    }

    #[test]
    fn the_last_frame_pointer_flag_wins() {
        let vars = |py_cflags: &str, config_args: &str| {
            let mut vars = BTreeMap::new();
            vars.insert("PY_CFLAGS".to_string(), py_cflags.to_string());
            vars.insert("CONFIG_ARGS".to_string(), config_args.to_string());
            vars
        };
        let off_later = vars("-fno-omit-frame-pointer -O2 -fomit-frame-pointer", "");
        assert!(!frame_pointers(&off_later).kept);
        assert_eq!(
            frame_pointers(&off_later).source,
            "PY_CFLAGS + PY_CFLAGS_NODIST"
        );
        // Only the configure line mentions it, quoted: still found.
        let configure = vars("-O3", "'--enable-shared' 'CFLAGS=-fno-omit-frame-pointer'");
        let fp = frame_pointers(&configure);
        assert!(fp.kept && !fp.leaf);
        assert_eq!(fp.source, "CONFIG_ARGS");
        // A similar-looking flag is not the flag.
        assert!(!frame_pointers(&vars("-fno-omit-frame-pointers", "")).kept);
        // CFLAGS stands in when PY_CFLAGS is absent.
        let mut only_cflags = BTreeMap::new();
        only_cflags.insert("CFLAGS".to_string(), "-fno-omit-frame-pointer".to_string());
        assert_eq!(
            frame_pointers(&only_cflags).source,
            "CFLAGS + PY_CFLAGS_NODIST"
        );
    }

    #[test]
    fn cpython_313_has_perf_jit() {
        let text = PYENV_312.replace("3.12.1", "3.13.0");
        let caps = Capabilities::of(&info(&text));
        assert_eq!(caps.perf_jit, Ok(()));
        assert_eq!(caps.support(Unwind::Jit), Support::Full);
    }

    #[test]
    fn old_or_foreign_or_unconfigured_interpreters_support_nothing() {
        let old = PYENV_312.replace("version=3.12.1", "version=3.11.7");
        let caps = Capabilities::of(&info(&old));
        assert_eq!(
            caps.support(Unwind::Fp),
            Support::None("cpython 3.11.7 has no perf trampoline (it came in CPython 3.12)".into())
        );
        assert_eq!(caps.perf_jit, caps.trampoline);
        let pypy = PYENV_312.replace("implementation=cpython", "implementation=pypy");
        assert!(matches!(
            Capabilities::of(&info(&pypy)).support(Unwind::Dwarf),
            Support::None(why) if why.contains("not CPython")
        ));
        let off = with_var(PYENV_312, "PY_HAVE_PERF_TRAMPOLINE", "0");
        assert!(matches!(
            Capabilities::of(&off).support(Unwind::Dwarf),
            Support::None(why) if why.contains("PY_HAVE_PERF_TRAMPOLINE = 0")
        ));
        let mut unset = info(PYENV_312);
        unset.vars.remove("PY_HAVE_PERF_TRAMPOLINE");
        assert!(Capabilities::of(&unset)
            .trampoline
            .unwrap_err()
            .contains("PY_HAVE_PERF_TRAMPOLINE = unset"));
    }

    #[test]
    fn versions_parse_and_order() {
        assert_eq!(Version::parse("3.13.0t").unwrap().to_string(), "3.13.0");
        assert_eq!(Version::parse("3.14").unwrap().to_string(), "3.14.0");
        assert_eq!(Version::parse("3.14.0a1").unwrap().micro, 0);
        assert!(Version::parse("system").is_none());
        assert!(Version::parse("3.12.1").unwrap() < Version::parse("3.13.0").unwrap());
        assert!(Version::parse("3.12.9").unwrap().at_least(3, 12));
        assert!(!Version::parse("3.11.9").unwrap().at_least(3, 12));
    }

    #[test]
    fn names_are_looked_up_in_path_then_in_pyenv_newest_first() {
        let dir = tempfile::tempdir().unwrap();
        let make = |rel: &str| {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, "").unwrap();
            p
        };
        let on_path = make("bin/python3.12");
        let old = make("pyenv/versions/3.12.1/bin/python3.12");
        let new = make("pyenv/versions/3.12.10/bin/python3.12");
        make("pyenv/versions/system/bin/python3.12");
        make("pyenv/versions/3.13.0/bin/python3.13");
        let path = std::env::join_paths([dir.path().join("bin"), dir.path().join("nope")]).unwrap();
        let found = candidates("python3.12", Some(&path), Some(&dir.path().join("pyenv")));
        assert_eq!(found, [on_path, new, old]);
        assert!(candidates("python3.14", Some(&path), None).is_empty());
    }
}
