//! What `check` prints: one verdict line per case and variant, a progress
//! bar while a terminal watches, the collected diffs, and the summary.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

/// The verdict on one case and variant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// The case ran and broke its snapshot or expectations.
    Fail(Vec<String>),
    /// The case could not be judged.
    Error(String),
}

/// `pass  name [variant]`, `FAIL  name [variant]: why; why`, `error name [variant]: why`.
pub fn verdict_line(case: &str, variant: &str, verdict: &Verdict) -> String {
    match verdict {
        Verdict::Pass => format!("pass   {case} [{variant}]"),
        Verdict::Fail(reasons) => format!("FAIL   {case} [{variant}]: {}", reasons.join("; ")),
        Verdict::Error(reason) => format!("error  {case} [{variant}]: {reason}"),
    }
}

/// Counts of verdicts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
}

impl Tally {
    pub fn add(&mut self, verdict: &Verdict) {
        match verdict {
            Verdict::Pass => self.passed += 1,
            Verdict::Fail(_) => self.failed += 1,
            Verdict::Error(_) => self.errors += 1,
        }
    }

    /// The closing line, in the `N passed, N failed` form CI tools read;
    /// errors count as failures there and are named before it.
    pub fn summary(&self) -> String {
        let errors = match self.errors {
            0 => String::new(),
            n => format!("{n} of the failures could not be judged (error lines above)\n"),
        };
        format!(
            "{errors}check: {} passed, {} failed",
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

    /// One step done; `message` says what runs now.
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
        assert_eq!(verdict_line("seed", "c", &Verdict::Pass), "pass   seed [c]");
        let fail = Verdict::Fail(vec![
            "exit status 1 (expected 0)".into(),
            "snapshot differs".into(),
        ]);
        assert_eq!(
            verdict_line("seed", "rust", &fail),
            "FAIL   seed [rust]: exit status 1 (expected 0); snapshot differs"
        );
        let mut tally = Tally::default();
        for v in [
            &Verdict::Pass,
            &fail,
            &Verdict::Error("x".into()),
            &Verdict::Pass,
        ] {
            tally.add(v);
        }
        assert_eq!(
            tally.summary(),
            "1 of the failures could not be judged (error lines above)\ncheck: 2 passed, 2 failed"
        );
        assert_eq!(
            Tally {
                passed: 3,
                ..Tally::default()
            }
            .summary(),
            "check: 3 passed, 0 failed"
        );
    }
}
