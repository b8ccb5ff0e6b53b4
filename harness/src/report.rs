//! What the commands print: one verdict line per case and runtime (with the
//! re-runs it took), a progress bar while a terminal watches, the tally, and
//! for `conformance` and `check --python` the table ([`table`]).

pub mod table;

use crate::verdict::Verdict;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// `pass   name [label]`, `FAIL   name [label]: why; why`, `error  name
/// [label]: why`, `skip   name [label]: why`; then one indented line per
/// run that had to be run again.
pub fn verdict_lines(case: &str, label: &str, verdict: &Verdict, reruns: &[String]) -> String {
    let head = match verdict {
        Verdict::Same => format!("pass   {case} [{label}]"),
        Verdict::KnownDeviation { why, .. } => {
            format!("pass   {case} [{label}] (known deviation: {why})")
        }
        Verdict::Differs { .. } | Verdict::Unclear { .. } => {
            format!("FAIL   {case} [{label}]: {}", verdict.reasons().join("; "))
        }
        Verdict::Error { why } => format!("error  {case} [{label}]: {why}"),
        Verdict::Skipped { why } | Verdict::NotSupported { why, maps: None } => {
            format!("skip   {case} [{label}]: {why}")
        }
        Verdict::NotSupported {
            maps: Some(maps), ..
        } => {
            return verdict_lines(case, label, maps, reruns);
        }
    };
    let mut lines = vec![head];
    lines.extend(reruns.iter().map(|r| format!("         {r}")));
    lines.join("\n")
}

/// Counts of verdicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
    pub skipped: usize,
}

impl Tally {
    pub fn add(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Same | Verdict::KnownDeviation { .. } => self.passed += 1,
            Verdict::Differs { .. } | Verdict::Unclear { .. } => self.failed += 1,
            Verdict::Error { .. } => self.errors += 1,
            Verdict::Skipped { .. } | Verdict::NotSupported { maps: None, .. } => self.skipped += 1,
            Verdict::NotSupported {
                maps: Some(maps), ..
            } => self.add(maps),
        }
    }

    /// Whether anything failed or could not be judged.
    pub fn failing(&self) -> bool {
        self.failed + self.errors > 0
    }

    /// The closing line, in the `N passed, N failed` form CI tools read;
    /// errors count as failures there and are named before it.
    pub fn summary(&self) -> String {
        let errors = match self.errors {
            0 => String::new(),
            n => format!("{n} of the failures could not be judged (error lines above)\n"),
        };
        let skipped = match self.skipped {
            0 => String::new(),
            n => format!(", {n} skipped"),
        };
        format!(
            "{errors}check: {} passed, {} failed{skipped}",
            self.passed,
            self.failed + self.errors
        )
    }
}

/// Prints lines, above a progress bar when stdout is a terminal.
pub struct Reporter {
    bar: Option<ProgressBar>,
}

impl Reporter {
    /// A reporter for `total` steps.
    pub fn new(total: usize) -> Reporter {
        let bar = std::io::stdout().is_terminal().then(|| {
            let bar = ProgressBar::new(total as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed} {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Reporter { bar }
    }

    pub fn line(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.println(text),
            None => println!("{text}"),
        }
    }

    /// One step done; `message` says what ran.
    pub fn step(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(message.to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_summary_read_as_documented() {
        assert_eq!(
            verdict_lines("seed", "c", &Verdict::Same, &[]),
            "pass   seed [c]"
        );
        let fail = Verdict::Differs {
            differences: vec![
                "exit status 1 (expected 0)".into(),
                "stdout lacks \"x\"".into(),
            ],
        };
        assert_eq!(
            verdict_lines("seed", "rust", &fail, &[]),
            "FAIL   seed [rust]: exit status 1 (expected 0); stdout lacks \"x\""
        );
        let unclear = Verdict::Unclear {
            claims: vec!["stack `a`: 2.0% of 1000 samples".into()],
        };
        assert_eq!(
            verdict_lines("seed", "c", &unclear, &["run 1 was unclear: x".into()]),
            "FAIL   seed [c]: unclear: stack `a`: 2.0% of 1000 samples\n         run 1 was unclear: x"
        );
        let skip = Verdict::Skipped {
            why: "needs more".into(),
        };
        assert_eq!(
            verdict_lines("deep", "c", &skip, &[]),
            "skip   deep [c]: needs more"
        );
        let mut tally = Tally::default();
        for v in [
            &Verdict::Same,
            &fail,
            &Verdict::Error { why: "x".into() },
            &Verdict::Same,
            &skip,
        ] {
            tally.add(v);
        }
        assert_eq!(
            tally.summary(),
            "1 of the failures could not be judged (error lines above)\ncheck: 2 passed, 2 failed, 1 skipped"
        );
        assert!(tally.failing());
        let clean = Tally {
            passed: 3,
            ..Tally::default()
        };
        assert_eq!(clean.summary(), "check: 3 passed, 0 failed");
        assert!(!clean.failing());
    }
}
