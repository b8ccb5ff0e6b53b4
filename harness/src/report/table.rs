//! The conformance table: one row per case (its unwinding mode beside it),
//! one column per runtime, the [`Verdict`] in each cell; then the reasons,
//! grouped so that one cause reads once. As plain text or JSON.

use crate::cases::Case;
use crate::runtime::Runtime;
use crate::verdict::Verdict;
use serde::Serialize;
use std::collections::BTreeMap;
use std::fmt::Write;

/// An interpreter column and what is known of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Column {
    /// `minipy-c`, `cpython-3.12.1`.
    pub name: String,
    /// The binary run.
    pub path: String,
    /// One line about the build: frame pointers, trampoline, perf_jit.
    pub build: String,
}

/// One case's row: `None` where the interpreter does not run the case
/// (a minipy variant the case does not list).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub case: String,
    pub mode: String,
    pub cells: Vec<Option<Verdict>>,
}

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

/// What a cell reads when the interpreter does not run the case.
pub const NOT_RUN: &str = "·";

/// Reasons shown per cell in the text report (JSON has them all).
pub const MAX_REASONS: usize = 6;

impl Column {
    /// The column of a runtime.
    pub fn of(runtime: &dyn Runtime, name: String) -> Column {
        let (path, build) = runtime.describe();
        Column { name, path, build }
    }
}

impl Report {
    /// A report of `cases` (rows, with their unwinding mode) on `columns`,
    /// from `((case index, column index), outcome)` of the runs made.
    pub fn new(
        columns: Vec<Column>,
        cases: &[Case],
        outcomes: Vec<((usize, usize), Verdict)>,
    ) -> Report {
        let mut rows: Vec<Row> = cases
            .iter()
            .map(|c| Row {
                case: c.name.clone(),
                mode: c.unwind.name().to_string(),
                cells: vec![None; columns.len()],
            })
            .collect();
        for ((case, column), outcome) in outcomes {
            rows[case].cells[column] = Some(outcome);
        }
        Report { columns, rows }
    }

    /// Whether any cell fails the run (differs, or could not be judged).
    pub fn has_failures(&self) -> bool {
        self.cells().any(|(_, _, outcome)| outcome.is_failure())
    }

    fn cells(&self) -> impl Iterator<Item = (&Row, &Column, &Verdict)> {
        self.rows.iter().flat_map(move |row| {
            row.cells
                .iter()
                .zip(&self.columns)
                .filter_map(move |(cell, column)| cell.as_ref().map(|o| (row, column, o)))
        })
    }

    /// The table alone, as aligned plain text.
    pub fn table(&self) -> String {
        let mut grid: Vec<Vec<String>> = vec![["case", "mode"]
            .into_iter()
            .map(String::from)
            .chain(self.columns.iter().map(|c| c.name.clone()))
            .collect()];
        for row in &self.rows {
            let mut line = vec![row.case.clone(), row.mode.clone()];
            line.extend(row.cells.iter().map(|cell| {
                cell.as_ref()
                    .map_or_else(|| NOT_RUN.to_string(), Verdict::cell)
            }));
            grid.push(line);
        }
        let widths: Vec<usize> = (0..grid[0].len())
            .map(|i| grid.iter().map(|l| l[i].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for line in &grid {
            let mut text = String::new();
            for (cell, width) in line.iter().zip(&widths) {
                let _ = write!(text, "{cell:<width$}  ");
            }
            let _ = writeln!(out, "{}", text.trim_end());
        }
        out
    }

    /// Counts of each cell kind, in one line.
    pub fn summary(&self) -> String {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for (_, _, outcome) in self.cells() {
            *counts.entry(outcome.cell()).or_default() += 1;
        }
        let order = |cell: &str| {
            [
                "same",
                "known deviation",
                "DIFFERS",
                "UNCLEAR",
                "not supported",
                "skipped",
                "ERROR",
            ]
            .iter()
            .position(|k| cell.starts_with(k))
            .unwrap_or(9)
        };
        let mut entries: Vec<(String, usize)> = counts.into_iter().collect();
        entries.sort_by(|a, b| order(&a.0).cmp(&order(&b.0)).then(a.0.cmp(&b.0)));
        let parts: Vec<String> = entries.iter().map(|(k, n)| format!("{n} {k}")).collect();
        format!("conformance: {}", parts.join(", "))
    }

    /// The reasons behind the cells, grouped: interpreters and modes that
    /// are not supported (once per cause), then per case the deviations,
    /// skips, differences and errors, with the interpreters they concern.
    pub fn reasons(&self) -> String {
        // (section, text) → interpreters (or cases) it applies to, in order.
        let mut unsupported: Vec<(String, Vec<String>)> = Vec::new();
        let mut per_case: Vec<(String, Vec<String>)> = Vec::new();
        let add = |list: &mut Vec<(String, Vec<String>)>, key: String, who: String| match list
            .iter_mut()
            .find(|(k, _)| *k == key)
        {
            Some((_, whos)) => {
                if !whos.contains(&who) {
                    whos.push(who)
                }
            }
            None => list.push((key, vec![who])),
        };
        for (row, column, outcome) in self.cells() {
            let lines = outcome.reasons();
            let mut rest = lines.as_slice();
            if let Verdict::NotSupported { why, .. } = outcome {
                add(
                    &mut unsupported,
                    format!("{} in {} mode: {why}", column.name, row.mode),
                    row.case.clone(),
                );
                rest = &lines[1..];
            }
            let shown: Vec<&String> = rest
                .iter()
                .filter(|l| *l != "maps level: same as the snapshot")
                .collect();
            for line in shown.iter().take(MAX_REASONS) {
                add(
                    &mut per_case,
                    format!("{}: {line}", row.case),
                    column.name.clone(),
                );
            }
            if shown.len() > MAX_REASONS {
                let more = format!(
                    "{}: … {} more (--format json lists them)",
                    row.case,
                    shown.len() - MAX_REASONS
                );
                add(&mut per_case, more, column.name.clone());
            }
        }
        let mut out = String::new();
        if !unsupported.is_empty() {
            let _ = writeln!(out, "not supported by the interpreter:");
            for (text, cases) in &unsupported {
                let _ = writeln!(out, "  {text} ({} cases)", cases.len());
            }
        }
        if !per_case.is_empty() {
            let _ = writeln!(out, "by case:");
            for (text, who) in &per_case {
                let (case, reason) = text.split_once(": ").unwrap_or((text, ""));
                let _ = writeln!(out, "  {case} [{}]: {reason}", who.join(", "));
            }
        }
        out
    }

    /// The plain-text report: interpreters, table, reasons, summary.
    pub fn text(&self) -> String {
        let mut out = String::from("interpreters:\n");
        for column in &self.columns {
            let _ = writeln!(out, "  {}: {} ({})", column.name, column.path, column.build);
        }
        out.push('\n');
        out.push_str(&self.table());
        let reasons = self.reasons();
        if !reasons.is_empty() {
            out.push('\n');
            out.push_str(&reasons);
        }
        out.push('\n');
        out.push_str(&self.summary());
        out.push('\n');
        out
    }

    /// The report as JSON: the interpreters, then one result per cell that
    /// ran (case, mode, interpreter, outcome with its reasons).
    pub fn json(&self) -> String {
        #[derive(Serialize)]
        struct Cell<'a> {
            case: &'a str,
            mode: &'a str,
            interpreter: &'a str,
            #[serde(flatten)]
            outcome: &'a Verdict,
        }
        #[derive(Serialize)]
        struct Json<'a> {
            interpreters: &'a [Column],
            results: Vec<Cell<'a>>,
            failed: bool,
        }
        let results = self
            .cells()
            .map(|(row, column, outcome)| Cell {
                case: &row.case,
                mode: &row.mode,
                interpreter: &column.name,
                outcome,
            })
            .collect();
        let json = Json {
            interpreters: &self.columns,
            results,
            failed: self.has_failures(),
        };
        serde_json::to_string_pretty(&json).expect("plain data serialises") + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str) -> Column {
        Column {
            name: name.into(),
            path: format!("/bin/{name}"),
            build: "test build".into(),
        }
    }

    fn unsupported(maps: Option<Verdict>) -> Verdict {
        Verdict::NotSupported {
            why: "no frame pointers".into(),
            maps: maps.map(Box::new),
        }
    }

    fn report() -> Report {
        let deviation = Verdict::KnownDeviation {
            why: "-X perf=0 turns perf on".into(),
            same_stacks: None,
            differences: vec!["a perf map was written, expected none".into()],
        };
        Report {
            columns: vec![column("minipy-c"), column("cpython-3.12.1")],
            rows: vec![
                Row {
                    case: "control_nofp".into(),
                    mode: "fp".into(),
                    cells: vec![
                        None,
                        Some(Verdict::Skipped {
                            why: "minipy's control build".into(),
                        }),
                    ],
                },
                Row {
                    case: "precedence_env_xperf0".into(),
                    mode: "fp".into(),
                    cells: vec![Some(Verdict::Same), Some(unsupported(Some(deviation)))],
                },
                Row {
                    case: "seed_xperf".into(),
                    mode: "fp".into(),
                    cells: vec![Some(Verdict::Same), Some(unsupported(Some(Verdict::Same)))],
                },
            ],
        }
    }

    #[test]
    fn the_text_report_has_the_table_reasons_and_summary() {
        let expected = "\
interpreters:
  minipy-c: /bin/minipy-c (test build)
  cpython-3.12.1: /bin/cpython-3.12.1 (test build)

case                   mode  minipy-c  cpython-3.12.1
control_nofp           fp    ·         skipped
precedence_env_xperf0  fp    same      not supported (maps: known deviation)
seed_xperf             fp    same      not supported (maps: same)

not supported by the interpreter:
  cpython-3.12.1 in fp mode: no frame pointers (2 cases)
by case:
  control_nofp [cpython-3.12.1]: skipped: minipy's control build
  precedence_env_xperf0 [cpython-3.12.1]: maps level: known deviation: -X perf=0 turns perf on
  precedence_env_xperf0 [cpython-3.12.1]: maps level: differs: a perf map was written, expected none

conformance: 2 same, 1 not supported (maps: known deviation), 1 not supported (maps: same), 1 skipped
";
        assert_eq!(report().text(), expected);
        assert!(!report().has_failures());
    }

    #[test]
    fn a_difference_fails_the_report_and_is_listed_per_interpreter() {
        let mut r = report();
        let differs = Verdict::Differs {
            differences: vec!["exit: 1 instead of 0".into()],
        };
        r.rows[2].cells = vec![Some(differs.clone()), Some(unsupported(Some(differs)))];
        assert!(r.has_failures());
        let text = r.text();
        assert!(
            text.contains("seed_xperf             fp    DIFFERS   not supported (maps: DIFFERS)\n"),
            "{text}"
        );
        assert!(
            text.contains("  seed_xperf [minipy-c]: exit: 1 instead of 0\n"),
            "{text}"
        );
        assert!(
            text.contains("  seed_xperf [cpython-3.12.1]: maps level: exit: 1 instead of 0\n"),
            "{text}"
        );
    }

    #[test]
    fn the_json_report_lists_every_cell_that_ran() {
        let json: serde_json::Value = serde_json::from_str(&report().json()).unwrap();
        assert_eq!(json["failed"], false);
        assert_eq!(json["interpreters"][1]["name"], "cpython-3.12.1");
        let results = json["results"].as_array().unwrap();
        // control_nofp has no minipy-c cell.
        assert_eq!(results.len(), 5);
        assert_eq!(results[0]["case"], "control_nofp");
        assert_eq!(results[0]["interpreter"], "cpython-3.12.1");
        assert_eq!(results[0]["outcome"], "skipped");
        assert_eq!(results[2]["mode"], "fp");
        assert_eq!(results[2]["outcome"], "not_supported");
        assert_eq!(results[2]["why"], "no frame pointers");
        assert_eq!(results[2]["maps"]["outcome"], "known_deviation");
        assert_eq!(results[3]["outcome"], "same");
    }
}
