//! The runtime under test: the one seam between the generic pipeline
//! (profile a case under perf, observe, judge) and what is particular to an
//! interpreter. Like a callbacks table, each runtime answers a few
//! questions and the pipeline does the rest:
//!
//! - its label, binary and build, for verdict lines and report columns;
//! - whether it runs a case, and how far the case can be judged in the
//!   case's unwinding mode ([`Support`], with the reason when not fully);
//! - the command and environment that run the case's script
//!   ([`Invocation`]);
//! - which frame names are script functions, and their qualname;
//! - which names are the case's own (a runtime may run code of its own
//!   files around the script);
//! - the table of `case.toml` with its per-case rules (`[python]`).
//!
//! Implementations: [`minipy`] (each variant: the reference, whose runs the
//! snapshots record) and [`cpython`]. Adding a runtime is one file here
//! plus its registration on the command line.

pub mod cpython;
#[cfg(test)]
pub mod fake;
pub mod minipy;

use crate::cases::{Case, Rules, Unwind};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How far a case can be judged on a runtime.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Support {
    /// Everything: maps and stacks.
    Full,
    /// The runtime names its functions, but perf cannot unwind through it in
    /// this mode: everything but the stacks is judged (the maps level).
    MapsOnly(String),
    /// Nothing can be judged; why.
    None(String),
}

/// How a runtime runs one case: its program, the arguments before the
/// script, and the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    pub program: PathBuf,
    /// The interpreter's own options; the script and its arguments follow.
    pub options: Vec<String>,
    /// Set for the run, on top of the inherited environment.
    pub env: BTreeMap<String, String>,
    /// Inherited variables whose names start with one of these are removed
    /// first, so that only the case sets what changes the runtime.
    pub scrubbed: &'static [&'static str],
}

/// A runtime under test.
pub trait Runtime: Send + Sync {
    /// Its name in verdict lines and report columns: `c`, `cpython-3.12.1`.
    fn label(&self) -> String;

    /// The binary it runs, and one line about its build.
    fn describe(&self) -> (String, String);

    /// Whether the snapshots record this runtime's runs: its runs are
    /// compared byte for byte and may propose new snapshots. Other runtimes
    /// are compared without the command, and their stderr by its exception
    /// lines only (tracebacks differ between interpreters).
    fn is_reference(&self) -> bool {
        false
    }

    /// The `case.toml` table of this runtime's family (`python`), if any.
    fn rules_table(&self) -> Option<&'static str> {
        None
    }

    /// Whether the runtime runs `case` at all (a minipy variant runs only
    /// the cases that list it); a case it does not run has no verdict.
    fn runs(&self, _case: &Case) -> bool {
        true
    }

    /// How far a case unwound with `unwind` can be judged.
    fn support(&self, unwind: Unwind) -> Support;

    /// How it runs `case` (with the case's rules already applied).
    fn invocation(&self, case: &Case) -> Invocation;

    /// The qualname of a script function's frame symbol (`py::K.m:/x.py` →
    /// `K.m`), or `None` when the frame is not a script function's.
    fn qualname<'s>(&self, symbol: &'s str) -> Option<&'s str>;

    /// Whether a name (a map entry, a jitdump load, a frame), with the run
    /// folder written `$CASE`, belongs to the case's own files.
    fn is_own(&self, name: &str) -> bool;
}

impl dyn Runtime + '_ {
    /// The case's rules for this runtime, if its family has a table there.
    pub fn rules<'c>(&self, case: &'c Case) -> Option<&'c Rules> {
        self.rules_table().and_then(|table| case.rules.get(table))
    }

    /// The case as this runtime runs it: its rules' `interpreter_args`
    /// replace the case's.
    pub fn adapted(&self, case: &Case) -> Case {
        let mut adapted = case.clone();
        if let Some(args) = self.rules(case).and_then(|r| r.interpreter_args.as_ref()) {
            adapted.interpreter_args = args.clone();
        }
        adapted
    }
}

/// `py::K.m:/x/y.py` → `K.m`: the qualname of a `py::` frame (the naming of
/// the contract, §3, shared by minipy and CPython).
pub fn py_qualname(symbol: &str) -> Option<&str> {
    let name = symbol.strip_prefix("py::")?;
    Some(name.split_once(':').map_or(name, |(q, _)| q))
}

/// Whether a `py::<qualname>:<file>` name (normalised) has its file in the
/// run folder.
pub fn py_name_is_own(name: &str) -> bool {
    name.strip_prefix("py::")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(_, file)| file.starts_with("$CASE/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_names_give_qualnames_and_owners() {
        assert_eq!(
            py_qualname("py::K.m.<locals>.<lambda>:/a:b/x.py"),
            Some("K.m.<locals>.<lambda>")
        );
        assert_eq!(py_qualname("py::foo"), Some("foo"));
        assert_eq!(py_qualname("_PyEval_EvalFrameDefault"), None);
        assert!(py_name_is_own("py::a:$CASE/sub/x.py"));
        assert!(!py_name_is_own("py::a:/tmp/runner/x.py"));
        assert!(!py_name_is_own("py::a"));
        assert!(!py_name_is_own(
            "py::_find_and_load:<frozen importlib._bootstrap>"
        ));
    }
}
