//! Snapshot files through insta, from a binary.
//!
//! insta does the file work exactly as in tests (`snapshots/<case>.snap`,
//! `.snap.new` for `cargo insta review`, `INSTA_UPDATE`, `INSTA_FORCE_PASS`),
//! and signals a mismatch by panicking. Here that panic is caught with the
//! panic hook silenced, insta's own printing is turned off
//! (`INSTA_OUTPUT=none`), and the diff is printed by us, so a failing case
//! reads as one line plus a diff, never as a panic trace.

use crate::cases::Case;
use similar::{ChangeTag, TextDiff};
use std::fmt::Write;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

/// Where snapshots live, under the project root.
pub const SNAPSHOT_DIR: &str = "snapshots";

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

/// The architecture suffix of per-architecture snapshots.
pub fn arch_suffix(case: &Case) -> Option<&'static str> {
    case.per_arch_snapshot.then_some(std::env::consts::ARCH)
}

/// `snapshots/<case>.snap` or `snapshots/<case>@<arch>.snap`.
pub fn snapshot_path(root: &Path, case: &Case) -> PathBuf {
    let file = match arch_suffix(case) {
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

/// The outcome of comparing one case's text with its snapshot.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Matches,
    /// No snapshot yet, or a different one; `diff` is ready to print and
    /// `pending` is the `.snap.new` insta wrote (if it wrote one).
    Differs {
        diff: String,
        pending: Option<PathBuf>,
    },
}

/// The stored snapshot's text, if there is one.
pub fn stored_text(path: &Path) -> Option<String> {
    let snapshot = insta::Snapshot::from_file(path).ok()?;
    snapshot.as_text().map(|t| t.to_string())
}

/// Compares `text` with the case's snapshot through insta.
pub fn compare(root: &Path, case: &Case, text: &str) -> Outcome {
    let path = snapshot_path(root, case);
    let pending = path.with_extension("snap.new");
    let old = stored_text(&path);

    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(root.join(SNAPSHOT_DIR));
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_description(case.description.clone());
    settings.set_input_file(root.join(&case.file));
    match arch_suffix(case) {
        Some(arch) => settings.set_snapshot_suffix(arch),
        None => settings.remove_snapshot_suffix(),
    }

    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        settings.bind(|| insta::assert_snapshot!(case.name.as_str(), text));
    }));
    panic::set_hook(hook);

    match result {
        Ok(()) => Outcome::Matches,
        Err(_) => Outcome::Differs {
            diff: diff(old.as_deref().unwrap_or(""), text, old.is_none()),
            pending: pending.is_file().then_some(pending),
        },
    }
}

/// A unified diff of `old` → `new` with 3 lines of context.
pub fn diff(old: &str, new: &str, old_missing: bool) -> String {
    let mut out = String::new();
    if old_missing {
        let _ = writeln!(out, "(no snapshot yet; new content:)");
        for line in new.lines() {
            let _ = writeln!(out, "+{line}");
        }
        return out;
    }
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

    #[test]
    fn insta_writes_pending_snapshots_and_accepts_stored_ones() {
        let root = tempfile::tempdir().unwrap();
        configure_insta(root.path());
        std::env::set_var("INSTA_UPDATE", "new");
        let case = case("demo", &[], &[]);
        let Outcome::Differs {
            diff,
            pending: Some(pending),
        } = compare(root.path(), &case, "a\nb\n")
        else {
            panic!("a missing snapshot must differ and leave a .snap.new");
        };
        assert!(diff.starts_with("(no snapshot yet"), "{diff}");
        assert_eq!(pending, root.path().join("snapshots/demo.snap.new"));
        // What `cargo insta accept` does: the pending file becomes the snapshot.
        std::fs::rename(&pending, root.path().join("snapshots/demo.snap")).unwrap();
        assert_eq!(
            stored_text(&snapshot_path(root.path(), &case)).as_deref(),
            Some("a\nb")
        );
        assert_eq!(compare(root.path(), &case, "a\nb\n"), Outcome::Matches);
        let Outcome::Differs { diff, .. } = compare(root.path(), &case, "a\nc\n") else {
            panic!("a changed text must differ");
        };
        assert_eq!(diff, " a\n-b\n+c\n…\n");
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
        assert_eq!(diff(old, new, false), " c\n d\n e\n-f\n+F\n g\n h\n…\n");
        assert_eq!(
            diff("", "x\ny\n", true),
            "(no snapshot yet; new content:)\n+x\n+y\n"
        );
    }
}
