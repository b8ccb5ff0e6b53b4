//! The case format: `cases/<name>/case.toml`, read strictly.
//!
//! Unknown keys, wrong types, bad stack patterns and missing scripts are
//! reported as `<file>:<line>: <what is wrong>` before anything runs, so a
//! typo cannot silently turn an expectation off.
//!
//! Submodules: [`variant`] (unwinding and minipy's variants), [`pattern`]
//! (stack patterns), [`expectations`] (the `[expect]` table), [`rules`]
//! (the `[python]` table: the case on a runtime we did not write), [`arch`]
//! (the `[aarch64]` table: the case on that architecture).

mod arch;
mod expectations;
mod pattern;
mod rules;
mod variant;

pub use arch::ArchRules;
pub use expectations::Expectations;
pub use pattern::{fold_stack, StackPattern, MAX_REPEAT};
pub use rules::{Deviation, Rules};
pub use variant::{Unwind, Variant};

use expectations::ExpectFile;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// One case, validated.
#[derive(Clone, Debug)]
pub struct Case {
    pub name: String,
    /// `cases/<name>/case.toml` as given to the loader.
    pub file: PathBuf,
    pub description: String,
    /// The script on disk; it is copied into the run's folder.
    pub script: PathBuf,
    /// Its file name, as the command line shows it.
    pub script_name: String,
    pub interpreter_args: Vec<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
    pub unwind: Unwind,
    pub variants: Vec<Variant>,
    pub per_arch_snapshot: bool,
    /// Native frames per sample the case needs under fp unwinding, when more
    /// than perf's default 127; the case is skipped (with the `sysctl` that
    /// enables it) where `kernel.perf_event_max_stack` is lower.
    pub max_stack: Option<usize>,
    /// Fewer samples than this (over all processes, over the runs of one
    /// judgement) cannot be judged.
    pub min_samples: usize,
    /// How long one run may take before it is killed with its workload.
    pub timeout: Duration,
    pub expect: Expectations,
    /// How the case runs on a runtime of another family, by the name of its
    /// table (`python` for `[python]`).
    pub rules: BTreeMap<&'static str, Rules>,
    /// How the case differs on an architecture (`[aarch64]`).
    pub arch: BTreeMap<&'static str, ArchRules>,
}

impl Case {
    /// The case as it runs on `arch`: its `[aarch64]` expectations there,
    /// with a snapshot of its own; or why it does not run there.
    pub fn on_arch(&self, arch: &str) -> Result<Case, String> {
        match self.arch.get(arch) {
            None => Ok(self.clone()),
            Some(ArchRules::Skip(why)) => Err(format!("not on {arch}: {why}")),
            Some(ArchRules::Differs { expect, .. }) => Ok(Case {
                expect: (**expect).clone(),
                per_arch_snapshot: true,
                ..self.clone()
            }),
        }
    }

    /// The script and its arguments, after the interpreter's own options.
    pub fn script_line(&self) -> Vec<String> {
        std::iter::once(self.script_name.clone())
            .chain(self.args.iter().cloned())
            .collect()
    }
}

/// Default for `min_samples`: about 0.1 s of work at 9999 Hz, enough that a
/// share of 1% (absent below it, see [`crate::judge`]) is 10 samples.
pub const DEFAULT_MIN_SAMPLES: usize = 1000;

/// Default for `timeout`, in seconds: the cases take well under a second.
pub const DEFAULT_TIMEOUT: u64 = 120;

/// A problem in a case file, at a line.
/// Shown as `<file>:<line>: <message>`, or `<file>: <message>` when the
/// problem has no line (`line` 0: the file is missing or unreadable).
#[derive(Debug, PartialEq, Eq)]
pub struct CaseError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            0 => write!(f, "{}: {}", self.file.display(), self.message),
            line => write!(f, "{}:{line}: {}", self.file.display(), self.message),
        }
    }
}

impl std::error::Error for CaseError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    description: String,
    script: Spanned<String>,
    #[serde(default)]
    interpreter_args: Vec<String>,
    #[serde(default)]
    args: Vec<String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    unwind: Unwind,
    variants: Option<Spanned<Vec<Variant>>>,
    #[serde(default)]
    per_arch_snapshot: bool,
    max_stack: Option<usize>,
    min_samples: Option<usize>,
    timeout: Option<Spanned<u64>>,
    #[serde(default)]
    expect: ExpectFile,
    #[serde(default)]
    python: rules::RulesFile,
    #[serde(default)]
    aarch64: arch::ArchFile,
}

fn line_of(text: &str, span: Option<Range<usize>>) -> usize {
    let offset = span.map_or(0, |s| s.start.min(text.len()));
    text[..offset].matches('\n').count() + 1
}

/// Parses one `case.toml`. `file` names it in errors; `dir` is its folder
/// (relative script paths start there); `name` is the case's name.
pub fn parse_case(name: &str, file: &Path, dir: &Path, text: &str) -> Result<Case, CaseError> {
    let error = |span: Option<Range<usize>>, message: String| CaseError {
        file: file.to_path_buf(),
        line: line_of(text, span),
        message,
    };
    let raw: CaseFile =
        toml::from_str(text).map_err(|e| error(e.span(), e.message().trim().replace('\n', " ")))?;

    let script = dir.join(raw.script.get_ref());
    if !script.is_file() {
        let message = format!(
            "script `{}` not found (looked at {})",
            raw.script.get_ref(),
            script.display()
        );
        return Err(error(Some(raw.script.span()), message));
    }
    let script_name = script
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();

    let variants = match raw.variants {
        None => vec![Variant::C, Variant::Rust],
        Some(v) if v.get_ref().is_empty() => {
            return Err(error(
                Some(v.span()),
                "`variants` must name at least one variant".into(),
            ))
        }
        Some(v) => v.into_inner(),
    };

    let pattern =
        |s: Spanned<String>| StackPattern::parse(s.get_ref()).map_err(|m| error(Some(s.span()), m));
    let expect = raw.expect.into_expectations(pattern)?;
    let timeout = match raw.timeout {
        Some(t) if *t.get_ref() == 0 => {
            return Err(error(
                Some(t.span()),
                "`timeout` is in seconds and must be at least 1".into(),
            ))
        }
        Some(t) => t.into_inner(),
        None => DEFAULT_TIMEOUT,
    };
    let mut rules = BTreeMap::new();
    if let Some(python) = raw.python.into_rules("python", error, pattern)? {
        rules.insert("python", python);
    }
    let mut arch = BTreeMap::new();
    if let Some(aarch64) = raw.aarch64.into_rules("aarch64", error, pattern)? {
        arch.insert("aarch64", aarch64);
    }

    Ok(Case {
        name: name.to_string(),
        file: file.to_path_buf(),
        description: raw.description,
        script,
        script_name,
        interpreter_args: raw.interpreter_args,
        args: raw.args,
        env: raw.env,
        unwind: raw.unwind,
        variants,
        per_arch_snapshot: raw.per_arch_snapshot,
        max_stack: raw.max_stack,
        min_samples: raw.min_samples.unwrap_or(DEFAULT_MIN_SAMPLES),
        timeout: Duration::from_secs(timeout),
        expect,
        rules,
        arch,
    })
}

/// Folder of shared scripts inside `cases/`; not a case.
pub const SCRIPTS_DIR: &str = "scripts";

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// Reads every case under `<root>/cases`, sorted by name. Paths in errors
/// are relative to `root`.
pub fn load_all(root: &Path) -> Result<Vec<Case>, CaseError> {
    let cases_dir = root.join("cases");
    let io_error = |path: &Path, e: std::io::Error| CaseError {
        file: path.to_path_buf(),
        line: 0,
        message: e.to_string(),
    };
    let mut names = Vec::new();
    let entries = std::fs::read_dir(&cases_dir).map_err(|e| io_error(Path::new("cases"), e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io_error(Path::new("cases"), e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if entry.path().is_dir() && name != SCRIPTS_DIR {
            names.push(name);
        }
    }
    names.sort();
    if names.is_empty() {
        return Err(CaseError {
            file: PathBuf::from("cases"),
            line: 0,
            message: "no cases: each case is a folder with a case.toml (see cases/README.md)"
                .into(),
        });
    }
    let mut cases = Vec::new();
    for name in names {
        let shown = Path::new("cases").join(&name).join("case.toml");
        if !valid_name(&name) {
            return Err(CaseError {
                file: shown,
                line: 0,
                message: "case names use only a-z, 0-9, `_` and `-`".into(),
            });
        }
        let text = std::fs::read_to_string(root.join(&shown)).map_err(|e| io_error(&shown, e))?;
        cases.push(parse_case(&name, &shown, &cases_dir.join(&name), &text)?);
    }
    Ok(cases)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(tempfile::TempDir);

    fn case_dir() -> Dir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("work.py"), "print(1)\n").unwrap();
        Dir(dir)
    }

    fn parse(text: &str) -> Result<Case, CaseError> {
        let dir = case_dir();
        parse_case(
            "demo",
            Path::new("cases/demo/case.toml"),
            dir.0.path(),
            text,
        )
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    const GOOD: &str = r#"
description = "demo"
script = "work.py"
interpreter_args = ["-X", "perf"]
args = ["1000"]
env = { PYTHONPERFSUPPORT = "1" }
unwind = "dwarf"
variants = ["c", "nofp-rust"]
min_samples = 50
max_stack = 512
timeout = 5

[expect]
exit = 1
stderr_contains = ["ValueError"]
stacks = ["<module> > baz > bar > foo", "<module> > rec*3"]
absent_stacks = ["baz > bar"]
max_py_depth = 1
map_names = ["py::<module>:$CASE/work.py"]
no_jitdump = true
dump_names = ["py::foo:$CASE/work.py"]
dump_valid = true
"#;

    #[test]
    fn a_good_file_gives_every_field() {
        let case = parse(GOOD).unwrap();
        assert_eq!(case.name, "demo");
        assert_eq!(case.interpreter_args, ["-X", "perf"]);
        assert_eq!(case.script_line(), ["work.py", "1000"]);
        assert_eq!(case.env["PYTHONPERFSUPPORT"], "1");
        assert_eq!(case.unwind, Unwind::Dwarf);
        assert_eq!(case.variants, [Variant::C, Variant::NoFpRust]);
        assert_eq!(case.min_samples, 50);
        assert_eq!(case.max_stack, Some(512));
        assert_eq!(case.timeout, Duration::from_secs(5));
        assert_eq!(case.expect.exit, 1);
        assert_eq!(case.expect.stacks[0].0, ["<module>", "baz", "bar", "foo"]);
        assert_eq!(case.expect.stacks[1].0, ["<module>", "rec", "rec", "rec"]);
        assert_eq!(case.expect.max_py_depth, Some(1));
        assert!(case.expect.no_jitdump && !case.expect.no_map);
        let dump_names = case.expect.dump_names.as_deref().unwrap();
        assert_eq!(dump_names, ["py::foo:$CASE/work.py"]);
        assert!(case.expect.dump_valid);
    }

    #[test]
    fn defaults_are_fp_both_trampolines_and_exit_zero() {
        let case = parse("description = \"d\"\nscript = \"work.py\"\n").unwrap();
        assert_eq!(case.unwind, Unwind::Fp);
        assert_eq!(case.variants, [Variant::C, Variant::Rust]);
        assert_eq!(case.expect, Expectations::default());
        assert_eq!(case.min_samples, DEFAULT_MIN_SAMPLES);
    }

    #[test]
    fn an_unknown_key_names_its_line() {
        let err = error_of("description = \"d\"\nscript = \"work.py\"\n\n[expect]\nstack = []\n");
        assert!(
            err.starts_with("cases/demo/case.toml:5: unknown field `stack`"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_type_names_its_line() {
        let err = error_of("description = \"d\"\nscript = \"work.py\"\nargs = \"1000\"\n");
        assert!(
            err.starts_with("cases/demo/case.toml:3: invalid type: string"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_variant_or_unwind_names_its_line() {
        let err =
            error_of("description = \"d\"\nscript = \"work.py\"\nvariants = [\"c\", \"go\"]\n");
        assert!(
            err.starts_with("cases/demo/case.toml:3: unknown variant `go`"),
            "{err}"
        );
        let err = error_of("description = \"d\"\nscript = \"work.py\"\n\nunwind = \"lbr\"\n");
        let jit = parse("description = \"d\"\nscript = \"work.py\"\nunwind = \"jit\"\n").unwrap();
        assert_eq!(jit.unwind, Unwind::Jit);
        assert!(
            err.starts_with("cases/demo/case.toml:4: unknown variant `lbr`"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_key_is_reported() {
        let err = error_of("script = \"work.py\"\n");
        assert!(
            err.starts_with("cases/demo/case.toml:1: missing field `description`"),
            "{err}"
        );
    }

    #[test]
    fn a_missing_script_names_the_script_line() {
        let err = error_of("description = \"d\"\n\nscript = \"../scripts/nope.py\"\n");
        assert!(
            err.starts_with("cases/demo/case.toml:3: script `../scripts/nope.py` not found"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_stack_pattern_names_its_line() {
        let err = error_of("description = \"d\"\nscript = \"work.py\"\n[expect]\nstacks = [\n \"a > b\",\n \"a > rec*x\",\n]\n");
        assert_eq!(
            err,
            "cases/demo/case.toml:6: bad repeat count in stack frame `rec*x`"
        );
        let err = error_of(
            "description = \"d\"\nscript = \"work.py\"\n[expect]\nabsent_stacks = [\"a >> b\"]\n",
        );
        assert!(
            err.starts_with("cases/demo/case.toml:4: bad stack `a >> b`"),
            "{err}"
        );
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        let err = error_of("description = \"d\"\nscript = \"work.py\"\ntimeout = 0\n");
        assert_eq!(
            err,
            "cases/demo/case.toml:3: `timeout` is in seconds and must be at least 1"
        );
    }

    #[test]
    fn empty_variants_are_refused() {
        let err = error_of("description = \"d\"\nscript = \"work.py\"\nvariants = []\n");
        assert_eq!(
            err,
            "cases/demo/case.toml:3: `variants` must name at least one variant"
        );
    }

    #[test]
    fn load_all_skips_scripts_and_sorts() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("cases/scripts")).unwrap();
        let err = load_all(root.path()).unwrap_err().to_string();
        assert_eq!(
            err,
            "cases: no cases: each case is a folder with a case.toml (see cases/README.md)"
        );
        for name in ["b", "a", "scripts"] {
            std::fs::create_dir_all(root.path().join("cases").join(name)).unwrap();
        }
        std::fs::write(root.path().join("cases/scripts/s.py"), "").unwrap();
        for name in ["a", "b"] {
            let toml = "description = \"d\"\nscript = \"../scripts/s.py\"\n";
            std::fs::write(root.path().join("cases").join(name).join("case.toml"), toml).unwrap();
        }
        let cases = load_all(root.path()).unwrap();
        assert_eq!(
            cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert_eq!(cases[0].script_name, "s.py");
        std::fs::create_dir_all(root.path().join("cases/c")).unwrap();
        let err = load_all(root.path()).unwrap_err().to_string();
        assert!(err.starts_with("cases/c/case.toml: No such file"), "{err}");
        std::fs::remove_dir(root.path().join("cases/c")).unwrap();
        std::fs::write(root.path().join("cases/b/case.toml"), "description = 1\n").unwrap();
        let err = load_all(root.path()).unwrap_err().to_string();
        assert!(
            err.starts_with("cases/b/case.toml:1: invalid type: integer"),
            "{err}"
        );
    }
}

/// Cases built in memory for other modules' tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    /// A `PYTHONPERFSUPPORT=1` case running `x.py` under fp unwinding.
    pub fn case(name: &str, interpreter_args: &[&str], args: &[&str]) -> Case {
        Case {
            name: name.into(),
            file: PathBuf::from(format!("cases/{name}/case.toml")),
            description: format!("{name} for tests"),
            script: PathBuf::from("/nonexistent/x.py"),
            script_name: "x.py".into(),
            interpreter_args: interpreter_args.iter().map(|s| s.to_string()).collect(),
            args: args.iter().map(|s| s.to_string()).collect(),
            env: [("PYTHONPERFSUPPORT".to_string(), "1".to_string())].into(),
            unwind: Unwind::Fp,
            variants: vec![Variant::C, Variant::Rust],
            per_arch_snapshot: false,
            max_stack: None,
            min_samples: 1,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT),
            expect: Expectations::default(),
            rules: BTreeMap::new(),
            arch: BTreeMap::new(),
        }
    }
}
