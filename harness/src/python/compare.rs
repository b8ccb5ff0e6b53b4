//! Comparing a run's snapshot text with the case's snapshot, part by part.
//!
//! The text ([`crate::render::render`]) is a list of items, `key: value`
//! lines each followed by indented lines, at the top and inside each
//! `process N (...):` block. Reading it back as items lets another
//! interpreter be compared at a chosen [`Level`], with one short line per
//! differing item instead of a raw diff:
//!
//! - `command` is not compared: the header names the case's command line;
//!   an interpreter may be given other arguments (`[python]
//!   interpreter_args`), and the run's real command is reported beside.
//! - `stderr` is compared without its indented lines, which are traceback
//!   frames, source lines and carets: CPython 3.13 underlines the failing
//!   call, minipy does not; the exception line itself must agree.
//! - At [`Level::Maps`] the `py:: stacks` items are left out: the level for
//!   an interpreter whose stacks perf cannot unwind (no frame pointers).

use std::fmt::Write;

/// One `key: value` line and the lines indented under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub key: String,
    pub value: String,
    pub lines: Vec<String>,
}

/// A snapshot text read back: top-level items, then each process's items.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Doc {
    pub items: Vec<Item>,
    /// `(title, items)`: `process 1 (main)` and its items.
    pub processes: Vec<(String, Vec<Item>)>,
}

/// How much of the snapshot is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// Everything (but `command`).
    Full,
    /// Exit, output, perf maps, jitdumps, process count: not the stacks.
    Maps,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Full => "full",
            Level::Maps => "maps",
        }
    }
}

/// `key: value` or `key:`; a `::` (as in `py:: stacks`) is part of the key.
fn split_item(line: &str) -> Item {
    let bytes = line.as_bytes();
    let separator = (0..bytes.len()).find(|&i| {
        bytes[i] == b':'
            && (i == 0 || bytes[i - 1] != b':')
            && bytes.get(i + 1).is_none_or(|&next| next == b' ')
    });
    let (key, value) = match separator {
        Some(i) => (&line[..i], &line[i + 1..]),
        None => (line, ""),
    };
    Item {
        key: key.trim().to_string(),
        value: value.trim().to_string(),
        lines: Vec::new(),
    }
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Reads a snapshot text. Lines indented deeper than their item belong to
/// it, whatever their own shape (stdout may hold anything).
pub fn parse(text: &str) -> Doc {
    let mut doc = Doc::default();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let depth = indent(line);
        let in_process = !doc.processes.is_empty();
        if depth == 0 && line.starts_with("process ") && line.ends_with(':') {
            let title = line.trim_end_matches(':').to_string();
            doc.processes.push((title, Vec::new()));
            continue;
        }
        let item_depth = if in_process { 2 } else { 0 };
        let items = match doc.processes.last_mut() {
            Some((_, items)) => items,
            None => &mut doc.items,
        };
        match items.last_mut() {
            Some(item) if depth > item_depth => item.lines.push(line.trim_end().to_string()),
            _ => items.push(split_item(line)),
        }
    }
    doc
}

/// Tracebacks differ between interpreters: only unindented lines count.
fn essential_stderr(item: &Item) -> Vec<String> {
    item.lines
        .iter()
        .filter(|l| indent(l) <= 2)
        .map(|l| l.trim().to_string())
        .collect()
}

fn compared(item: &Item) -> (String, Vec<String>) {
    let lines = if item.key == "stderr" {
        essential_stderr(item)
    } else {
        item.lines.iter().map(|l| l.trim().to_string()).collect()
    };
    (item.value.clone(), lines)
}

fn counts_at(level: Level, key: &str) -> bool {
    key != "command" && !(level == Level::Maps && key.starts_with("py:: stacks"))
}

/// A short rendering of an item's content for a difference line.
fn shown(item: Option<&Item>) -> String {
    let Some(item) = item else {
        return "absent".into();
    };
    let (value, lines) = compared(item);
    let mut text = value;
    const MAX: usize = 3;
    if !lines.is_empty() {
        let head: Vec<&str> = lines.iter().take(MAX).map(String::as_str).collect();
        let _ = write!(
            text,
            "{}[{}{}]",
            if text.is_empty() { "" } else { " " },
            head.join(" | "),
            if lines.len() > MAX {
                format!(" | … {} more", lines.len() - MAX)
            } else {
                String::new()
            }
        );
    }
    if text.is_empty() {
        "(empty)".into()
    } else {
        text
    }
}

fn compare_items(level: Level, place: &str, expected: &[Item], actual: &[Item]) -> Vec<String> {
    let mut keys: Vec<&str> = expected.iter().map(|i| i.key.as_str()).collect();
    for item in actual {
        if !keys.contains(&item.key.as_str()) {
            keys.push(&item.key);
        }
    }
    let mut differences = Vec::new();
    for key in keys.into_iter().filter(|k| counts_at(level, k)) {
        let find = |items: &'_ [Item]| items.iter().find(|i| i.key == key).cloned();
        let (want, got) = (find(expected), find(actual));
        if want.as_ref().map(compared) != got.as_ref().map(compared) {
            differences.push(format!(
                "{place}{key}: {} instead of {}",
                shown(got.as_ref()),
                shown(want.as_ref())
            ));
        }
    }
    differences
}

/// The differences of `actual` from `expected` at `level`, one line each;
/// empty when they agree.
pub fn differences(level: Level, expected: &Doc, actual: &Doc) -> Vec<String> {
    let mut out = compare_items(level, "", &expected.items, &actual.items);
    if expected.processes.len() != actual.processes.len() {
        out.push(format!(
            "{} processes instead of {}",
            actual.processes.len(),
            expected.processes.len()
        ));
    }
    for ((title, want), (_, got)) in expected.processes.iter().zip(&actual.processes) {
        let place = format!("{}: ", title.split(" (").next().unwrap_or(title));
        out.extend(compare_items(level, &place, want, got));
    }
    out
}

/// The main process's `py::` stacks, `|`-separated, when they equal the
/// snapshot's.
pub fn same_main_stacks(expected: &Doc, actual: &Doc) -> Option<String> {
    let stacks = |doc: &Doc| {
        doc.processes
            .first()
            .and_then(|(_, items)| items.iter().find(|i| i.key.starts_with("py:: stacks")))
            .map(|item| {
                let (value, lines) = compared(item);
                if lines.is_empty() {
                    value
                } else {
                    lines.join(" | ")
                }
            })
    };
    let want = stacks(expected)?;
    (stacks(actual)? == want).then_some(want)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SNAPSHOT: &str = "\
command: minipy -X perf seed.py 5000000
env: (none)
unwind: fp
exit: 1
stdout:
  5000000
stderr:
  Traceback (most recent call last):
    File \"$CASE/x.py\", line 15, in <module>
      sys.activate_stack_trampoline(\"invalid\")
  ValueError: invalid backend: invalid
process 1 (main):
  perf map: 4 entries
    py::<module>:$CASE/seed.py
    py::baz:$CASE/seed.py
    py::bar:$CASE/seed.py
    py::foo:$CASE/seed.py
  py:: stacks (>= 2% of samples):
    <module> > baz > bar > foo
";

    fn edited(from: &str, to: &str) -> Doc {
        assert!(SNAPSHOT.contains(from), "{from}");
        parse(&SNAPSHOT.replace(from, to))
    }

    #[test]
    fn the_text_reads_back_as_items() {
        let doc = parse(SNAPSHOT);
        let keys: Vec<&str> = doc.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            ["command", "env", "unwind", "exit", "stdout", "stderr"]
        );
        assert_eq!(doc.items[3].value, "1");
        assert_eq!(doc.items[5].lines.len(), 4);
        assert_eq!(doc.processes.len(), 1);
        let (title, items) = &doc.processes[0];
        assert_eq!(title, "process 1 (main)");
        assert_eq!(items[0].key, "perf map");
        assert_eq!(items[0].value, "4 entries");
        assert_eq!(items[0].lines.len(), 4);
        assert_eq!(items[1].key, "py:: stacks (>= 2% of samples)");
        assert_eq!(items[1].lines, ["    <module> > baz > bar > foo"]);
    }

    #[test]
    fn equal_texts_and_other_commands_agree_at_both_levels() {
        let doc = parse(SNAPSHOT);
        let other_command = edited("minipy -X perf", "python -X perf");
        for level in [Level::Full, Level::Maps] {
            assert_eq!(differences(level, &doc, &doc), Vec::<String>::new());
            assert_eq!(
                differences(level, &doc, &other_command),
                Vec::<String>::new()
            );
        }
    }

    #[test]
    fn traceback_frames_and_carets_do_not_count_but_the_exception_does() {
        let doc = parse(SNAPSHOT);
        let carets = edited(
            "      sys.activate_stack_trampoline(\"invalid\")\n",
            "      sys.activate_stack_trampoline(\"invalid\")\n      ~~~~~~~~~~~~~^^^^^\n",
        );
        assert!(differences(Level::Full, &doc, &carets).is_empty());
        let other = edited("ValueError: invalid backend: invalid", "ValueError: nope");
        assert_eq!(
            differences(Level::Full, &doc, &other),
            [
                "stderr: [Traceback (most recent call last): | ValueError: nope] instead of \
              [Traceback (most recent call last): | ValueError: invalid backend: invalid]"
            ]
        );
    }

    #[test]
    fn stacks_count_only_at_the_full_level() {
        let doc = parse(SNAPSHOT);
        let short = edited("    <module> > baz > bar > foo\n", "    foo\n");
        assert_eq!(
            differences(Level::Full, &doc, &short),
            ["process 1: py:: stacks (>= 2% of samples): [foo] instead of [<module> > baz > bar > foo]"]
        );
        assert!(differences(Level::Maps, &doc, &short).is_empty());
        assert_eq!(
            same_main_stacks(&doc, &doc).as_deref(),
            Some("<module> > baz > bar > foo")
        );
        assert_eq!(same_main_stacks(&doc, &short), None);
    }

    #[test]
    fn map_output_and_process_differences_are_named() {
        let doc = parse(SNAPSHOT);
        let no_map = parse(&SNAPSHOT.replace(
            "  perf map: 4 entries\n    py::<module>:$CASE/seed.py\n    py::baz:$CASE/seed.py\n    py::bar:$CASE/seed.py\n    py::foo:$CASE/seed.py\n",
            "  perf map: none\n  jitdump: written\n",
        ));
        assert_eq!(
            differences(Level::Maps, &doc, &no_map),
            [
                "process 1: perf map: none instead of 4 entries [py::<module>:$CASE/seed.py | \
                 py::baz:$CASE/seed.py | py::bar:$CASE/seed.py | … 1 more]",
                "process 1: jitdump: written instead of absent",
            ]
        );
        let two = parse(&format!(
            "{SNAPSHOT}process 2 (forked):\n  perf map: none\n"
        ));
        assert_eq!(
            differences(Level::Maps, &doc, &two),
            ["2 processes instead of 1"]
        );
        let exit = edited("exit: 1", "exit: 0");
        assert_eq!(
            differences(Level::Maps, &doc, &exit),
            ["exit: 0 instead of 1"]
        );
        let stdout = edited("  5000000\n", "");
        assert_eq!(
            differences(Level::Maps, &doc, &stdout),
            ["stdout: (empty) instead of [5000000]"]
        );
    }
}
