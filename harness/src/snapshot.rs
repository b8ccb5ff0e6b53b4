//! The snapshot: what a case's run must show, as a structure ([`Snapshot`]),
//! its text in `snapshots/<case>.snap` ([`Snapshot::render`], and
//! [`Snapshot::read`] exactly back), and the files themselves through insta.
//!
//! A snapshot lists the command, the output, and per process the perf map's
//! names, the jitdump's names (only when the process wrote one), and the
//! script stacks that are *present*: at least [`PRESENT`]% of
//! the process's samples. Shares are not written down, so the text does not
//! churn with sample noise; the judge compares a run with it structurally.
//!
//! insta does the file work exactly as in tests (`.snap.new` for `cargo
//! insta review`, `INSTA_UPDATE`, `INSTA_FORCE_PASS`), and signals a
//! mismatch by panicking. Here that panic is caught with the panic hook
//! silenced, insta's own printing is turned off (`INSTA_OUTPUT=none`), and
//! the diff is printed by us, so a failing case reads as lines plus a diff,
//! never as a panic trace.

use crate::cases::{fold_stack, Case, StackPattern};
use crate::observe::{Observation, Presence, PRESENT};
use crate::runtime::minipy;
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Where snapshots live, under the project root.
pub const SNAPSHOT_DIR: &str = "snapshots";

/// What one process must show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProcessSnapshot {
    /// The perf map's names in file order; `None`: no map written.
    pub map: Option<Vec<String>>,
    /// The jitdump's code-load names; `None`: no jitdump written.
    pub dump: Option<Vec<String>>,
    /// The present script stacks, outermost frame first, sorted.
    pub stacks: Vec<Vec<String>>,
}

/// What a case's run must show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The case's command line, as minipy runs it.
    pub command: String,
    /// `K=V` pairs the case sets, space-separated; `(none)`.
    pub env: String,
    pub unwind: String,
    pub exit: String,
    /// Output lines, each without trailing blanks.
    pub stdout: Vec<String>,
    pub stderr: Vec<String>,
    /// The exec'd process, then forked children in fork order.
    pub processes: Vec<ProcessSnapshot>,
}

/// How the stacks are headed: the share that makes a stack present.
fn stacks_title() -> String {
    format!("py:: stacks (>= {PRESENT}% of samples)")
}

/// Output as the snapshot holds it: trailing blanks and blank ends dropped.
pub fn output_lines(text: &str) -> Vec<String> {
    let text = text.trim_end();
    if text.trim().is_empty() {
        return Vec::new();
    }
    text.lines().map(|l| l.trim_end().to_string()).collect()
}

impl Snapshot {
    /// The part of a snapshot the case itself decides.
    pub fn header(case: &Case) -> Snapshot {
        let env: Vec<String> = case.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
        Snapshot {
            command: minipy::command_line(case),
            env: if env.is_empty() {
                "(none)".into()
            } else {
                env.join(" ")
            },
            unwind: case.unwind.name().into(),
            ..Snapshot::default()
        }
    }

    /// The snapshot of a run: its present stacks only.
    pub fn of(case: &Case, obs: &Observation) -> Snapshot {
        let processes = obs
            .processes
            .iter()
            .map(|p| ProcessSnapshot {
                map: p.map.clone(),
                dump: p.dump.clone(),
                stacks: p
                    .stacks
                    .iter()
                    .filter(|(_, n)| Presence::of(*n, p.samples) == Presence::Present)
                    .map(|(s, _)| s.clone())
                    .collect(),
            })
            .collect();
        Snapshot {
            exit: obs.exit.to_string(),
            stdout: output_lines(&obs.stdout),
            stderr: output_lines(&obs.stderr),
            processes,
            ..Snapshot::header(case)
        }
    }

    /// The text of `snapshots/<case>.snap` (after insta's header).
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "command: {}", self.command);
        let _ = writeln!(out, "env: {}", self.env);
        let _ = writeln!(out, "unwind: {}", self.unwind);
        let _ = writeln!(out, "exit: {}", self.exit);
        for (title, lines) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if lines.is_empty() {
                let _ = writeln!(out, "{title}: (empty)");
            } else {
                let _ = writeln!(out, "{title}:");
                for line in lines {
                    let _ = writeln!(out, "  {line}");
                }
            }
        }
        for (i, process) in self.processes.iter().enumerate() {
            let role = if i == 0 { "main" } else { "forked" };
            let _ = writeln!(out, "process {} ({role}):", i + 1);
            match &process.map {
                None => {
                    let _ = writeln!(out, "  perf map: none");
                }
                Some(names) => list(
                    &mut out,
                    &format!("perf map: {} entries", names.len()),
                    names,
                ),
            }
            // Only when there is one: the snapshots of perf-map cases stay as
            // they were before jitdumps were read.
            if let Some(names) = &process.dump {
                list(
                    &mut out,
                    &format!("jitdump: {} code loads", names.len()),
                    names,
                );
            }
            if process.stacks.is_empty() {
                let _ = writeln!(out, "  {}: none", stacks_title());
            } else {
                let stacks: Vec<String> = process.stacks.iter().map(|s| fold_stack(s)).collect();
                list(&mut out, &format!("{}:", stacks_title()), &stacks);
            }
        }
        out
    }

    /// Reads a snapshot's text back; any line that is not of the format is
    /// an error naming it (`line N: …`).
    pub fn read(text: &str) -> Result<Snapshot, String> {
        Reader::new(text).snapshot()
    }
}

fn list(out: &mut String, title: &str, items: &[String]) {
    let _ = writeln!(out, "  {title}");
    for item in items {
        let _ = writeln!(out, "    {item}");
    }
}

/// Reads the text [`Snapshot::render`] writes, line by line.
struct Reader<'a> {
    lines: Vec<&'a str>,
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(text: &'a str) -> Reader<'a> {
        Reader {
            lines: text.lines().collect(),
            at: 0,
        }
    }

    fn error(&self, what: &str) -> String {
        match self.lines.get(self.at) {
            Some(line) => format!("line {}: {what}, found {line:?}", self.at + 1),
            None => format!("line {}: {what}, found the end", self.at + 1),
        }
    }

    /// The value of `<prefix><key>: <value>` on the current line.
    fn value(&mut self, prefix: &str, key: &str) -> Result<&'a str, String> {
        let line = self.lines.get(self.at).copied().unwrap_or("");
        match line
            .strip_prefix(prefix)
            .and_then(|l| l.strip_prefix(key))
            .and_then(|l| l.strip_prefix(':'))
        {
            Some(value) => {
                self.at += 1;
                Ok(value.strip_prefix(' ').unwrap_or(value))
            }
            None => Err(self.error(&format!("expected `{prefix}{key}:`"))),
        }
    }

    /// The lines indented by `indent` that follow.
    fn items(&mut self, indent: &str) -> Vec<&'a str> {
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.at) {
            // An output line may be blank: insta may have trimmed its indent.
            let item = match line.strip_prefix(indent) {
                Some(item) => item,
                None if indent == "  "
                    && line.trim().is_empty()
                    && self.at + 1 < self.lines.len() =>
                {
                    ""
                }
                None => break,
            };
            items.push(item);
            self.at += 1;
        }
        items
    }

    fn output(&mut self, key: &str) -> Result<Vec<String>, String> {
        match self.value("", key)? {
            "(empty)" => Ok(Vec::new()),
            "" => Ok(self
                .items("  ")
                .into_iter()
                .map(|l| l.trim_end().to_string())
                .collect()),
            _ => {
                self.at -= 1;
                Err(self.error(&format!("expected `{key}:` or `{key}: (empty)`")))
            }
        }
    }

    fn names(&mut self, key: &str, unit: &str) -> Result<Vec<String>, String> {
        let value = self.value("  ", key)?;
        let count = value
            .strip_suffix(unit)
            .and_then(|n| n.parse::<usize>().ok());
        let names: Vec<String> = self.items("    ").into_iter().map(String::from).collect();
        match count {
            Some(n) if n == names.len() => Ok(names),
            _ => {
                self.at -= names.len() + 1;
                Err(self.error(&format!("expected `{key}: <n>{unit}` and n names")))
            }
        }
    }

    fn process(&mut self, number: usize) -> Result<ProcessSnapshot, String> {
        let role = if number == 1 { "main" } else { "forked" };
        if self.lines.get(self.at) != Some(&format!("process {number} ({role}):").as_str()) {
            return Err(self.error(&format!("expected `process {number} ({role}):`")));
        }
        self.at += 1;
        let map = match self.lines.get(self.at) {
            Some(&"  perf map: none") => {
                self.at += 1;
                None
            }
            _ => Some(self.names("perf map", " entries")?),
        };
        let dump = match self.lines.get(self.at) {
            Some(line) if line.starts_with("  jitdump:") => {
                Some(self.names("jitdump", " code loads")?)
            }
            _ => None,
        };
        let title = stacks_title();
        let stacks = match self.value("  ", &title)? {
            "none" => Vec::new(),
            "" => {
                let first = self.at;
                let mut stacks = Vec::new();
                for (i, text) in self.items("    ").into_iter().enumerate() {
                    let stack = StackPattern::parse(text)
                        .map_err(|e| format!("line {}: {e}", first + i + 1))?;
                    stacks.push(stack.0);
                }
                stacks
            }
            _ => {
                self.at -= 1;
                return Err(self.error(&format!("expected `  {title}:` or `  {title}: none`")));
            }
        };
        Ok(ProcessSnapshot { map, dump, stacks })
    }

    fn snapshot(mut self) -> Result<Snapshot, String> {
        let mut snapshot = Snapshot {
            command: self.value("", "command")?.to_string(),
            env: self.value("", "env")?.to_string(),
            unwind: self.value("", "unwind")?.to_string(),
            exit: self.value("", "exit")?.to_string(),
            stdout: self.output("stdout")?,
            stderr: self.output("stderr")?,
            processes: Vec::new(),
        };
        while self.at < self.lines.len() {
            let process = self.process(snapshot.processes.len() + 1)?;
            snapshot.processes.push(process);
        }
        Ok(snapshot)
    }
}

/// Sets the insta environment for a binary. Call once, before threads start.
///
/// - `INSTA_WORKSPACE_ROOT`: paths in the files are relative to the project
///   root, and insta does not run `cargo metadata` to find it.
/// - `INSTA_OUTPUT=none`: we print our own diff.
/// - `INSTA_UPDATE=new` unless the user chose: insta writes no `.snap.new`
///   on CI by default, and CI uploads them for review.
pub fn configure_insta(root: &Path) {
    std::env::set_var("INSTA_WORKSPACE_ROOT", root);
    std::env::set_var("INSTA_OUTPUT", "none");
    if std::env::var_os("INSTA_UPDATE").is_none() {
        std::env::set_var("INSTA_UPDATE", "new");
    }
}

/// The architecture suffix of a case's snapshot on `arch` (the
/// architecture the case ran on), for cases whose snapshot is per
/// architecture.
pub fn arch_suffix<'a>(case: &Case, arch: &'a str) -> Option<&'a str> {
    case.per_arch_snapshot.then_some(arch)
}

/// `snapshots/<case>.snap` or `snapshots/<case>@<arch>.snap`.
pub fn snapshot_path(root: &Path, case: &Case, arch: &str) -> PathBuf {
    let file = match arch_suffix(case, arch) {
        Some(arch) => format!("{}@{arch}.snap", case.name),
        None => format!("{}.snap", case.name),
    };
    root.join(SNAPSHOT_DIR).join(file)
}

/// Snapshot files that belong to no case (a renamed or removed case), by
/// file name. Per-architecture files count for their case on every
/// architecture.
pub fn orphans(root: &Path, cases: &[Case]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(SNAPSHOT_DIR)) else {
        return Vec::new();
    };
    let mut orphans: Vec<String> = entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| {
            let Some(stem) = name.strip_suffix(".snap") else {
                return false;
            };
            let case = stem.split_once('@').map_or(stem, |(case, _)| case);
            !cases.iter().any(|c| c.name == case)
        })
        .collect();
    orphans.sort();
    orphans
}

/// The stored snapshot's text, if there is one.
pub fn stored_text(path: &Path) -> Option<String> {
    let snapshot = insta::Snapshot::from_file(path).ok()?;
    snapshot.as_text().map(|t| t.to_string())
}

/// The case's stored snapshot: `Ok(None)` when there is none yet, an error
/// naming the file when it cannot be read.
pub fn stored(root: &Path, case: &Case, arch: &str) -> Result<Option<Snapshot>, String> {
    let path = snapshot_path(root, case, arch);
    if !path.exists() {
        return Ok(None);
    }
    let shown = snapshot_path(Path::new(""), case, arch);
    let text = stored_text(&path)
        .ok_or_else(|| format!("{}: not a snapshot insta can read", shown.display()))?;
    Snapshot::read(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", shown.display()))
}

/// Hands a run's text to insta, which writes it as the case's `.snap.new`
/// (or, with `INSTA_UPDATE=always`, as the snapshot): the file written, if
/// any.
pub fn propose(root: &Path, case: &Case, arch: &str, text: &str) -> Option<PathBuf> {
    let path = snapshot_path(root, case, arch);
    let pending = path.with_extension("snap.new");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join(SNAPSHOT_DIR));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(case.description.clone());
    settings.set_input_file(root.join(&case.file));
    match arch_suffix(case, arch) {
        Some(arch) => settings.set_snapshot_suffix(arch),
        None => settings.remove_snapshot_suffix(),
    }
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let _ = panic::catch_unwind(AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(case.name.as_str(), text));
    }));
    panic::set_hook(hook);
    pending.is_file().then_some(pending)
}

/// A unified diff of `old` → `new` with 3 lines of context.
pub fn diff(old: Option<&str>, new: &str) -> String {
    let mut out = String::new();
    let Some(old) = old else {
        let _ = writeln!(out, "(no snapshot yet; new content:)");
        for line in new.lines() {
            let _ = writeln!(out, "+{line}");
        }
        return out;
    };
    let (old, new) = (old.trim_end(), new.trim_end());
    let diff = TextDiff::from_lines(old, new);
    for group in diff.grouped_ops(3) {
        for op in group {
            for change in diff.iter_changes(&op) {
                let sign = match change.tag() {
                    ChangeTag::Delete => '-',
                    ChangeTag::Insert => '+',
                    ChangeTag::Equal => ' ',
                };
                let _ = writeln!(out, "{sign}{}", change.value().trim_end_matches('\n'));
            }
        }
        let _ = writeln!(out, "…");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;
    use crate::observe::tests::{observed, sample};

    const TEXT: &str = "\
command: minipy -X perf x.py 10
env: PYTHONPERFSUPPORT=1
unwind: fp
exit: 0
stdout:
  $CASE/x.py done
stderr:
  cannot write /tmp/perf-$PID.map
process 1 (main):
  perf map: 2 entries
    py::<module>:$CASE/x.py
    py::foo:$CASE/x.py
  py:: stacks (>= 5% of samples):
    <module> > baz
process 2 (forked):
  perf map: none
  py:: stacks (>= 5% of samples): none
";

    #[test]
    fn a_run_renders_its_present_stacks_and_reads_back() {
        let case = case("demo", &["-X", "perf"], &["10"]);
        // 1 of 21 samples (4.8%) is not present: not listed.
        let mut samples = vec![sample(7, &["<module>", "baz"]); 20];
        samples.push(sample(7, &["<module>"]));
        let snapshot = Snapshot::of(&case, &observed(samples));
        assert_eq!(snapshot.render(), TEXT);
        assert_eq!(Snapshot::read(TEXT).unwrap(), snapshot);
    }

    #[test]
    fn every_shape_reads_back_as_it_was_rendered() {
        let snapshot = Snapshot {
            command: "minipy -X perf_jit x.py".into(),
            env: "(none)".into(),
            unwind: "jit".into(),
            exit: "signal 11".into(),
            stdout: vec!["a".into(), "".into(), "  indented: b".into()],
            stderr: Vec::new(),
            processes: vec![
                ProcessSnapshot {
                    map: None,
                    dump: Some(vec!["py::<module>:$CASE/x.py".into()]),
                    stacks: vec![
                        vec!["<module>".into(), "rec".into(), "rec".into()],
                        vec!["foo".into()],
                    ],
                },
                ProcessSnapshot {
                    map: Some(Vec::new()),
                    dump: None,
                    stacks: Vec::new(),
                },
            ],
        };
        let text = snapshot.render();
        assert!(text.contains("    <module> > rec*2\n"), "{text}");
        assert_eq!(Snapshot::read(&text).unwrap(), snapshot);
        // insta may drop the indent of a blank output line.
        assert_eq!(
            Snapshot::read(&text.replace("\n  \n", "\n\n")).unwrap(),
            snapshot
        );
    }

    #[test]
    fn a_text_off_the_format_is_refused_with_its_line() {
        let wrong_count = TEXT.replace("perf map: 2 entries", "perf map: 3 entries");
        assert_eq!(
            Snapshot::read(&wrong_count).unwrap_err(),
            "line 10: expected `perf map: <n> entries` and n names, found \"  perf map: 3 entries\""
        );
        let old_share = TEXT.replace(">= 5%", ">= 2%");
        assert!(Snapshot::read(&old_share)
            .unwrap_err()
            .starts_with("line 13: expected `  py:: stacks (>= 5% of samples):`"));
        let bad_stack = TEXT.replace("<module> > baz", "<module> >> baz");
        assert!(Snapshot::read(&bad_stack)
            .unwrap_err()
            .starts_with("line 14: bad stack"));
        assert!(Snapshot::read("command: x\n")
            .unwrap_err()
            .starts_with("line 2: expected `env:`"));
    }

    #[test]
    fn insta_writes_pending_snapshots_and_the_stored_one_reads_back() {
        let root = tempfile::tempdir().unwrap();
        configure_insta(root.path());
        std::env::set_var("INSTA_UPDATE", "new");
        let case = case("demo", &[], &[]);
        assert_eq!(stored(root.path(), &case, "x86_64"), Ok(None));
        let pending = propose(root.path(), &case, "x86_64", TEXT).expect("a .snap.new");
        assert_eq!(pending, root.path().join("snapshots/demo.snap.new"));
        // What `cargo insta accept` does: the pending file becomes the snapshot.
        std::fs::rename(&pending, root.path().join("snapshots/demo.snap")).unwrap();
        assert_eq!(
            stored(root.path(), &case, "x86_64").unwrap(),
            Some(Snapshot::read(TEXT).unwrap())
        );
        std::fs::write(
            root.path().join("snapshots/demo.snap"),
            "---\nsource: x\n---\ncommand: x\n",
        )
        .unwrap();
        assert!(stored(root.path(), &case, "x86_64")
            .unwrap_err()
            .starts_with("snapshots/demo.snap: line 2: expected `env:`"));
    }

    #[test]
    fn snapshots_without_a_case_are_orphans() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join(SNAPSHOT_DIR);
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "demo.snap",
            "demo@aarch64.snap",
            "gone.snap",
            "gone.snap.new",
            "other@x86_64.snap",
        ] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let cases = [case("demo", &[], &[])];
        assert_eq!(
            orphans(root.path(), &cases),
            ["gone.snap", "other@x86_64.snap"]
        );
    }

    #[test]
    fn diff_marks_changed_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\ne\nF\ng\nh\n";
        assert_eq!(diff(Some(old), new), " c\n d\n e\n-f\n+F\n g\n h\n…\n");
        assert_eq!(
            diff(None, "x\ny\n"),
            "(no snapshot yet; new content:)\n+x\n+y\n"
        );
    }
}
