//! The snapshot text of one run: the command, the output, and per process
//! the perf map's names, the jitdump's names and the `py::` stacks that
//! carry at least [`THRESHOLD_PERCENT`] of its samples.

use crate::cases::Case;
use crate::normalize::{fold_stack, Observation, THRESHOLD_PERCENT};
use std::fmt::Write;

fn block(out: &mut String, title: &str, text: &str) {
    if text.trim().is_empty() {
        let _ = writeln!(out, "{title}: (empty)");
        return;
    }
    let _ = writeln!(out, "{title}:");
    for line in text.trim_end().lines() {
        let _ = writeln!(out, "  {}", line.trim_end());
    }
}

/// The snapshot text of one case's run.
pub fn render(case: &Case, observation: &Observation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "command: {}", case.command_line().join(" "));
    let env: Vec<String> = case.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let _ = writeln!(
        out,
        "env: {}",
        if env.is_empty() {
            "(none)".to_string()
        } else {
            env.join(" ")
        }
    );
    let _ = writeln!(out, "unwind: {}", case.unwind.name());
    let _ = writeln!(out, "exit: {}", observation.exit);
    block(&mut out, "stdout", &observation.stdout);
    block(&mut out, "stderr", &observation.stderr);
    for (i, process) in observation.processes.iter().enumerate() {
        let _ = writeln!(
            out,
            "process {}{}:",
            i + 1,
            if i == 0 { " (main)" } else { " (forked)" }
        );
        match &process.map {
            None => {
                let _ = writeln!(out, "  perf map: none");
            }
            Some(names) => {
                let _ = writeln!(out, "  perf map: {} entries", names.len());
                for name in names {
                    let _ = writeln!(out, "    {name}");
                }
            }
        }
        // Only when there is one: the snapshots of perf-map cases stay as
        // they were before jitdumps were read.
        if let Some(names) = &process.dump {
            let _ = writeln!(out, "  jitdump: {} code loads", names.len());
            for name in names {
                let _ = writeln!(out, "    {name}");
            }
        }
        let stacks = process.significant_stacks();
        if stacks.is_empty() {
            let _ = writeln!(
                out,
                "  py:: stacks (>= {THRESHOLD_PERCENT}% of samples): none"
            );
        } else {
            let _ = writeln!(out, "  py:: stacks (>= {THRESHOLD_PERCENT}% of samples):");
            for stack in stacks {
                let _ = writeln!(out, "    {}", fold_stack(stack));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::observe;
    use crate::normalize::tests::{run, sample};

    #[test]
    fn render_is_the_deterministic_text() {
        let case = crate::cases::tests_support::case("demo", &["-X", "perf"], &["10"]);
        let samples = vec![sample(7, &["<module>", "baz"]); 4];
        let text = render(&case, &observe(&run(samples)));
        let expected = "\
command: minipy -X perf x.py 10
env: PYTHONPERFSUPPORT=1
unwind: fp
exit: 0
stdout:
  $CASE/x.py done
stderr:
  cannot write /tmp/perf-$PID.map
process 1 (main):
  perf map: 2 entries
    py::<module>:$CASE/x.py
    py::foo:$CASE/x.py
  py:: stacks (>= 2% of samples):
    <module> > baz
process 2 (forked):
  perf map: none
  py:: stacks (>= 2% of samples): none
";
        assert_eq!(text, expected);
    }

    #[test]
    fn a_jitdump_lists_its_names_after_the_map() {
        let mut case = crate::cases::tests_support::case("demo", &["-X", "perf_jit"], &[]);
        case.unwind = crate::cases::Unwind::Jit;
        let mut obs = observe(&run(vec![sample(7, &["<module>", "baz"]); 4]));
        obs.processes[0].map = None;
        obs.processes[0].dump = Some(vec!["py::<module>:$CASE/x.py".into()]);
        let text = render(&case, &obs);
        assert!(text.contains("\nunwind: jit\n"), "{text}");
        assert!(
            text.contains(
                "process 1 (main):\n  perf map: none\n  jitdump: 1 code loads\n    py::<module>:$CASE/x.py\n  py:: stacks"
            ),
            "{text}"
        );
        assert!(
            !text.contains("process 2 (forked):\n  perf map: none\n  jitdump"),
            "{text}"
        );
    }
}
