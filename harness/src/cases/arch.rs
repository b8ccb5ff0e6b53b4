//! The `[aarch64]` table of `case.toml`: how the case differs on that
//! architecture, with the reason. Either it is not run there (`skip`, with
//! why: a control the toolchain cannot build), or perf shows something
//! else there: `why` says what and `[aarch64.expect]` replaces `[expect]`
//! on that architecture, whose snapshot is then its own
//! (`snapshots/<case>@aarch64.snap`).

use super::expectations::ExpectFile;
use super::{Expectations, StackPattern};
use serde::Deserialize;
use std::ops::Range;
use toml::Spanned;

/// How a case differs on one architecture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ArchRules {
    /// Not run there; why.
    Skip(String),
    /// What perf shows there instead, and why.
    Differs {
        why: String,
        expect: Box<Expectations>,
    },
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct ArchFile {
    skip: Option<Spanned<String>>,
    why: Option<Spanned<String>>,
    expect: Option<Spanned<ExpectFile>>,
}

impl ArchFile {
    /// Validates the table `[<arch>]` (`None` when the case has none).
    pub(super) fn into_rules<E>(
        self,
        arch: &str,
        error: impl Fn(Option<Range<usize>>, String) -> E,
        pattern: impl Fn(Spanned<String>) -> Result<StackPattern, E>,
    ) -> Result<Option<ArchRules>, E> {
        let blank = |text: &Spanned<String>| text.get_ref().trim().is_empty();
        match (self.skip, self.why, self.expect) {
            (None, None, None) => Ok(None),
            (Some(skip), None, None) if !blank(&skip) => Ok(Some(ArchRules::Skip(skip.into_inner()))),
            (Some(skip), None, None) => Err(error(Some(skip.span()), "`skip` needs the reason".into())),
            (Some(skip), _, _) => Err(error(
                Some(skip.span()),
                format!("a case skipped on {arch} has nothing else in [{arch}]"),
            )),
            (None, Some(why), Some(expect)) if !blank(&why) => Ok(Some(ArchRules::Differs {
                why: why.into_inner(),
                expect: Box::new(expect.into_inner().into_expectations(pattern)?),
            })),
            (None, Some(why), _) => Err(error(
                Some(why.span()),
                format!("[{arch}] needs `why` (what perf shows there, and why) and an [{arch}.expect] table"),
            )),
            (None, None, Some(expect)) => Err(error(
                Some(expect.span()),
                format!("[{arch}.expect] needs `why` in [{arch}]: what perf shows there, and why"),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::cases::{parse_case, ArchRules, Case, CaseError};
    use std::path::Path;

    fn parse(table: &str) -> Result<Case, CaseError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("work.py"), "print(1)\n").unwrap();
        let text = format!("description = \"d\"\nscript = \"work.py\"\n{table}");
        parse_case("demo", Path::new("cases/demo/case.toml"), dir.path(), &text)
    }

    #[test]
    fn a_case_may_be_skipped_or_expect_otherwise_on_aarch64() {
        let case = parse("[aarch64]\nskip = \"Rust keeps frame pointers there\"\n").unwrap();
        assert_eq!(
            case.arch["aarch64"],
            ArchRules::Skip("Rust keeps frame pointers there".into())
        );
        let case = parse(
            "[aarch64]\nwhy = \"the stub shows twice\"\n[aarch64.expect]\nstacks = [\"foo*2\"]\n",
        )
        .unwrap();
        let ArchRules::Differs { why, expect } = &case.arch["aarch64"] else {
            panic!("{:?}", case.arch);
        };
        assert_eq!(
            (why.as_str(), expect.stacks[0].0.len()),
            ("the stub shows twice", 2)
        );
        let on = case.on_arch("aarch64").unwrap();
        assert!(on.per_arch_snapshot && on.expect.stacks.len() == 1);
        assert_eq!(case.on_arch("x86_64").unwrap().expect, case.expect);
        assert_eq!(
            parse("[aarch64]\nskip = \"x\"\nwhy = \"y\"\n")
                .unwrap_err()
                .to_string(),
            "cases/demo/case.toml:4: a case skipped on aarch64 has nothing else in [aarch64]"
        );
        assert!(parse("[aarch64]\nwhy = \"y\"\n")
            .unwrap_err()
            .to_string()
            .ends_with("and an [aarch64.expect] table"));
        assert!(parse("[aarch64.expect]\nexit = 1\n")
            .unwrap_err()
            .to_string()
            .starts_with("cases/demo/case.toml:3: [aarch64.expect] needs `why`"));
    }
}
