//! CPython-style reports on stderr: the traceback of an uncaught exception
//! (with chained exceptions and "[Previous line repeated N more times]")
//! and the located report of a syntax error.

use crate::errors::{Exc, TbEntry};
use crate::interp::Interp;
use crate::lexer::SyntaxError;
use std::fmt::Write;

/// How many identical consecutive traceback lines CPython prints before
/// summarising the rest.
const REPEAT_SHOWN: usize = 3;

impl Interp {
    /// The full report for an uncaught exception.
    pub fn format_exception(&mut self, exc: &Exc) -> String {
        let mut out = String::new();
        self.format_chain(&mut out, exc, 0);
        out
    }

    fn format_chain(&mut self, out: &mut String, exc: &Exc, depth: usize) {
        if depth < 32 {
            if let Some(cause) = &exc.0.cause {
                self.format_chain(out, cause, depth + 1);
                out.push_str(
                    "\nThe above exception was the direct cause of the following exception:\n\n",
                );
            } else if let (Some(ctx), false) = (&exc.0.context, exc.0.suppress_context) {
                self.format_chain(out, ctx, depth + 1);
                out.push_str(
                    "\nDuring handling of the above exception, another exception occurred:\n\n",
                );
            }
        }
        if !exc.0.tb.is_empty() {
            out.push_str("Traceback (most recent call last):\n");
            self.format_entries(out, &exc.0.tb);
        }
        out.push_str(&self.exception_line(exc));
        out.push('\n');
    }

    fn format_entries(&self, out: &mut String, tb: &[TbEntry]) {
        let mut last: Option<&TbEntry> = None;
        let mut repeats = 0usize;
        let same = |a: &TbEntry, b: &TbEntry| {
            a.line == b.line && a.name == b.name && a.filename == b.filename
        };
        for e in tb.iter().rev() {
            if let Some(l) = last {
                if same(l, e) {
                    repeats += 1;
                    if repeats >= REPEAT_SHOWN {
                        continue;
                    }
                } else {
                    self.flush_repeats(out, repeats);
                    repeats = 0;
                }
            }
            last = Some(e);
            let _ = writeln!(
                out,
                "  File \"{}\", line {}, in {}",
                e.filename, e.line, e.name
            );
            if let Some(src) = self.source_line(&e.filename, e.line) {
                let _ = writeln!(out, "    {}", src.trim());
            }
        }
        self.flush_repeats(out, repeats);
    }

    fn flush_repeats(&self, out: &mut String, repeats: usize) {
        if repeats >= REPEAT_SHOWN {
            let n = repeats - (REPEAT_SHOWN - 1);
            let _ = writeln!(
                out,
                "  [Previous line repeated {n} more time{}]",
                if n == 1 { "" } else { "s" }
            );
        }
    }

    fn source_line(&self, filename: &str, line: u32) -> Option<&str> {
        if filename != &*self.script_path || line == 0 {
            return None;
        }
        self.source
            .lines()
            .nth(line as usize - 1)
            .filter(|l| !l.trim().is_empty())
    }

    /// `ValueError: message` (just the name when the message is empty).
    pub fn exception_line(&mut self, exc: &Exc) -> String {
        let class = exc.0.value.class.clone();
        let name = if &*class.module == "__main__" || &*class.module == "builtins" {
            class.qualname.to_string()
        } else {
            format!("{}.{}", class.module, class.qualname)
        };
        let msg = match self.to_str(&crate::value::Value::Instance(exc.0.value.clone())) {
            Ok(m) => m,
            Err(_) => "<exception str() failed>".to_string(),
        };
        if msg.is_empty() {
            name
        } else {
            format!("{name}: {msg}")
        }
    }
}

/// The most characters of a source line a syntax error report echoes.
const MAX_ECHOED_CHARS: usize = 200;

/// The report CPython prints for a syntax error in `path`.
pub fn format_syntax_error(path: &str, src: &str, e: &SyntaxError) -> String {
    let mut out = format!("  File \"{path}\", line {}\n", e.line);
    if let Some(line) = src.lines().nth(e.line.saturating_sub(1) as usize) {
        let trimmed = line.trim_start();
        let indent = line.chars().count() - trimmed.chars().count();
        let text = trimmed.trim_end();
        // CPython shows no caret for an unexpected indent.
        if !text.is_empty() && e.msg == "unexpected indent" {
            let shown: String = text.chars().take(MAX_ECHOED_CHARS).collect();
            let _ = writeln!(out, "    {shown}");
        } else if !text.is_empty() {
            let len = text.chars().count();
            let caret = (e.col as usize).saturating_sub(indent).min(len);
            // A huge line is shown only around the caret.
            let first = caret
                .saturating_sub(MAX_ECHOED_CHARS / 2)
                .min(len.saturating_sub(MAX_ECHOED_CHARS));
            let shown: String = text.chars().skip(first).take(MAX_ECHOED_CHARS).collect();
            let _ = writeln!(out, "    {shown}");
            let _ = writeln!(out, "    {}^", " ".repeat(caret - first));
        }
    }
    let kind = if e.indentation {
        "IndentationError"
    } else {
        "SyntaxError"
    };
    let _ = writeln!(out, "{kind}: {}", e.msg);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syntax_error_report_points_at_the_column() {
        let e = SyntaxError::new("invalid syntax", 2, 8);
        let r = format_syntax_error("/x.py", "a = 1\n    b = = 2\n", &e);
        assert_eq!(
            r,
            "  File \"/x.py\", line 2\n    b = = 2\n        ^\nSyntaxError: invalid syntax\n"
        );
    }
}
