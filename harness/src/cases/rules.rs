//! A runtime family's table of `case.toml` (`[python]`): how the case runs
//! on a runtime we did not write (`harness check --python`, `harness
//! conformance`).
//!
//! A case either cannot run there at all (`skip`, with the reason: a
//! minipy-only option, minipy's control build), may need other interpreter
//! arguments there, or documents where that runtime's behaviour is known to
//! differ (contract §4): `deviation` says why, and `[python.expect]` (the
//! keys of `[expect]`) says what it does instead, so that only that
//! difference reads as a known deviation.

use super::expectations::ExpectFile;
use super::{Expectations, StackPattern};
use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// How a case runs on a runtime of another family.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rules {
    /// Not run there; why. Reported as skipped, with the reason.
    pub skip: Option<String>,
    /// Used instead of the case's `interpreter_args`.
    pub interpreter_args: Option<Vec<String>>,
    pub deviation: Option<Deviation>,
}

/// A documented difference from the snapshot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deviation {
    /// Why the runtime differs, as the report prints it.
    pub why: String,
    /// What it does instead.
    pub expect: Expectations,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RulesFile {
    skip: Option<Spanned<String>>,
    interpreter_args: Option<Vec<String>>,
    deviation: Option<Spanned<String>>,
    expect: Option<Spanned<ExpectFile>>,
}

impl RulesFile {
    /// Validates the table `[<table>]` (`None` when the case has none);
    /// `error` places a message at a span of the file.
    pub(super) fn into_rules<E>(
        self,
        table: &str,
        error: impl Fn(Option<Range<usize>>, String) -> E,
        pattern: impl Fn(Spanned<String>) -> Result<StackPattern, E>,
    ) -> Result<Option<Rules>, E> {
        if self.skip.is_none()
            && self.interpreter_args.is_none()
            && self.deviation.is_none()
            && self.expect.is_none()
        {
            return Ok(None);
        }
        if let Some(skip) = &self.skip {
            if skip.get_ref().trim().is_empty() {
                return Err(error(
                    Some(skip.span()),
                    "`skip` needs the reason, as the report shows it".into(),
                ));
            }
            if self.interpreter_args.is_some() || self.deviation.is_some() || self.expect.is_some()
            {
                return Err(error(
                    Some(skip.span()),
                    format!("a skipped case runs nothing there: `skip` goes alone in [{table}]"),
                ));
            }
        }
        let deviation = match (self.deviation, self.expect) {
            (None, None) => None,
            (Some(why), None) => {
                return Err(error(
                    Some(why.span()),
                    format!(
                    "a `deviation` needs a [{table}.expect] table: what the runtime does instead"
                ),
                ))
            }
            (None, Some(expect)) => {
                return Err(error(
                    Some(expect.span()),
                    format!(
                        "[{table}.expect] belongs to a `deviation`: add `deviation = \"<why>\"`"
                    ),
                ))
            }
            (Some(why), Some(expect)) => {
                let span = expect.span();
                let expect = expect.into_inner().into_expectations(pattern)?;
                if !expect.says_something() {
                    return Err(error(
                        Some(span),
                        format!("[{table}.expect] must expect something beyond the exit status"),
                    ));
                }
                if why.get_ref().trim().is_empty() {
                    return Err(error(
                        Some(why.span()),
                        "`deviation` needs the reason".into(),
                    ));
                }
                Some(Deviation {
                    why: why.into_inner(),
                    expect,
                })
            }
        };
        Ok(Some(Rules {
            skip: self.skip.map(Spanned::into_inner),
            interpreter_args: self.interpreter_args,
            deviation,
        }))
    }
}

#[cfg(test)]
mod tests {
    use crate::cases::{parse_case, Case, CaseError};
    use std::path::Path;

    fn parse(python: &str) -> Result<Case, CaseError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("work.py"), "print(1)\n").unwrap();
        let text = format!("description = \"d\"\nscript = \"work.py\"\n{python}");
        parse_case("demo", Path::new("cases/demo/case.toml"), dir.path(), &text)
    }

    fn error_of(python: &str) -> String {
        parse(python).unwrap_err().to_string()
    }

    #[test]
    fn no_table_means_run_it_as_it_is() {
        let case = parse("").unwrap();
        assert!(case.rules.is_empty());
    }

    #[test]
    fn a_deviation_carries_what_python_does_instead() {
        let case = parse(
            "[python]\ninterpreter_args = [\"-X\", \"perf\"]\n\
             deviation = \"-X perf=0 turns perf on\"\n\
             [python.expect]\nmap_names = [\"py::<module>:$CASE/work.py\"]\nstacks = [\"<module>\"]\n",
        )
        .unwrap();
        assert_eq!(
            case.rules["python"].interpreter_args.as_deref(),
            Some(["-X".to_string(), "perf".to_string()].as_slice())
        );
        let deviation = case.rules["python"].deviation.clone().unwrap();
        assert_eq!(deviation.why, "-X perf=0 turns perf on");
        assert_eq!(
            deviation.expect.map_names.as_deref(),
            Some(["py::<module>:$CASE/work.py".to_string()].as_slice())
        );
        assert_eq!(deviation.expect.stacks[0].0, ["<module>"]);
    }

    #[test]
    fn skip_needs_a_reason_and_goes_alone() {
        let case = parse("[python]\nskip = \"uses -X trampoline=c\"\n").unwrap();
        assert_eq!(
            case.rules["python"].skip.as_deref(),
            Some("uses -X trampoline=c")
        );
        assert_eq!(
            error_of("[python]\nskip = \" \"\n"),
            "cases/demo/case.toml:4: `skip` needs the reason, as the report shows it"
        );
        assert_eq!(
            error_of("[python]\nskip = \"x\"\ninterpreter_args = []\n"),
            "cases/demo/case.toml:4: a skipped case runs nothing there: `skip` goes alone in [python]"
        );
    }

    #[test]
    fn a_deviation_and_its_expectations_come_together() {
        assert_eq!(
            error_of("[python]\ndeviation = \"why\"\n"),
            "cases/demo/case.toml:4: a `deviation` needs a [python.expect] table: what the runtime does instead"
        );
        let err = error_of("[python.expect]\nno_map = true\n");
        assert!(
            err.starts_with("cases/demo/case.toml:3: [python.expect] belongs to a `deviation`"),
            "{err}"
        );
        let err = error_of("[python]\ndeviation = \"why\"\n[python.expect]\nexit = 1\n");
        assert!(
            err.starts_with("cases/demo/case.toml:5: [python.expect] must expect something"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_and_bad_patterns_name_their_line() {
        assert!(error_of("[python]\nskipp = \"x\"\n")
            .starts_with("cases/demo/case.toml:4: unknown field `skipp`"));
        assert_eq!(
            error_of("[python]\ndeviation = \"w\"\n[python.expect]\nstacks = [\"a >> b\"]\n"),
            "cases/demo/case.toml:6: bad stack `a >> b`: frames are qualnames separated by ` > `"
        );
    }
}
