//! A test-only runtime, to show what adding one takes: a shell script that
//! writes a fixed perf map for its own pid, judged by the same machinery as
//! minipy and CPython (profile, observe, judge).

use super::{py_name_is_own, py_qualname, Invocation, Runtime, Support};
use crate::cases::{Case, Unwind};
use std::path::PathBuf;

/// The script of the shell runtime: `$1` is the case's script file; it
/// names two functions of that file in its map, spins a little so perf has
/// something to sample, and prints what the script file holds (with shell
/// builtins only, so that it stays one process).
pub const SHELL_RUNTIME: &str = r#"#!/bin/sh
printf '1000 10 py::<module>:%s/%s\n1010 10 py::work:%s/%s\n' "$PWD" "$1" "$PWD" "$1" > /tmp/perf-$$.map
i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
while IFS= read -r line; do printf '%s\n' "$line"; done < "$1"
"#;

/// A runtime that is a program of the test's choosing.
pub struct Fake {
    pub program: PathBuf,
    /// Whether only `$CASE` files count (as for CPython), or every name.
    pub only_case_files: bool,
}

impl Fake {
    /// Every name counts, as for minipy.
    pub fn all_own() -> Fake {
        Fake {
            program: "/bin/false".into(),
            only_case_files: false,
        }
    }

    /// Only names of the case's files count, as for CPython.
    pub fn py_own() -> Fake {
        Fake {
            program: "/bin/false".into(),
            only_case_files: true,
        }
    }
}

impl Runtime for Fake {
    fn label(&self) -> String {
        "fake".into()
    }

    fn describe(&self) -> (String, String) {
        (self.program.display().to_string(), "a shell script".into())
    }

    fn support(&self, unwind: Unwind) -> Support {
        match unwind {
            Unwind::Fp => Support::MapsOnly("a shell has no script frames to unwind".into()),
            _ => Support::None("a shell writes no jitdump".into()),
        }
    }

    fn invocation(&self, case: &Case) -> Invocation {
        Invocation {
            program: self.program.clone(),
            options: case.interpreter_args.clone(),
            env: Default::default(),
            scrubbed: &[],
        }
    }

    fn qualname<'s>(&self, symbol: &'s str) -> Option<&'s str> {
        py_qualname(symbol)
    }

    fn is_own(&self, name: &str) -> bool {
        !self.only_case_files || py_name_is_own(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::Session;
    use crate::verdict::Verdict;
    use std::os::unix::fs::PermissionsExt;

    const SNAPSHOT: &str = "---\nsource: hand-written\n---\n\
command: minipy hello.py
env: (none)
unwind: fp
exit: 0
stdout:
  print(\"hello\")
stderr: (empty)
process 1 (main):
  perf map: 2 entries
    py::<module>:$CASE/hello.py
    py::work:$CASE/hello.py
  py:: stacks (>= 5% of samples): none
";

    /// A project with one case and its snapshot, and the shell runtime.
    fn project(snapshot: &str) -> (tempfile::TempDir, Fake) {
        let root = tempfile::tempdir().unwrap();
        let case = root.path().join("cases/hello");
        std::fs::create_dir_all(&case).unwrap();
        std::fs::create_dir_all(root.path().join("snapshots")).unwrap();
        std::fs::write(case.join("hello.py"), "print(\"hello\")\n").unwrap();
        let toml =
            "description = \"a fake runtime's map\"\nscript = \"hello.py\"\nmin_samples = 10\n";
        std::fs::write(case.join("case.toml"), toml).unwrap();
        std::fs::write(root.path().join("snapshots/hello.snap"), snapshot).unwrap();
        let program = root.path().join("fake-runtime");
        std::fs::write(&program, SHELL_RUNTIME).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let fake = Fake {
            program,
            only_case_files: true,
        };
        (root, fake)
    }

    fn judged(snapshot: &str) -> Option<Verdict> {
        let (root, fake) = project(snapshot);
        let session = match Session::start(root.path(), &[]) {
            Ok(session) => session,
            Err(why) => {
                eprintln!("skipped: perf cannot sample here: {why}");
                return None;
            }
        };
        Some(session.judge(&session.cases[0], &fake).unwrap().verdict)
    }

    #[test]
    fn a_new_runtime_is_judged_by_the_same_machinery() {
        let Some(verdict) = judged(SNAPSHOT) else {
            return;
        };
        assert_eq!(
            verdict,
            Verdict::NotSupported {
                why: "a shell has no script frames to unwind".into(),
                maps: Some(Box::new(Verdict::Same)),
            }
        );
        let tampered = SNAPSHOT.replace("py::work:", "py::play:");
        let Some(Verdict::NotSupported {
            maps: Some(maps), ..
        }) = judged(&tampered)
        else {
            panic!("the fake runtime must be judged at the maps level");
        };
        assert_eq!(
            maps.reasons(),
            ["process 1: perf map: 2 entries [py::<module>:$CASE/hello.py | py::work:$CASE/hello.py] \
              instead of 2 entries [py::<module>:$CASE/hello.py | py::play:$CASE/hello.py]"]
        );
    }
}
