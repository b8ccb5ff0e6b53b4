//! Only the case's own files count.
//!
//! CPython runs Python code of its own before and around the script: the
//! import system (`<frozen importlib._bootstrap>`), `site`, code compiled
//! from strings (`<string>`), the standard library. With perf support on,
//! every such function gets a map entry and shows up in stacks. A case
//! judges its own script, so before a CPython run is normalised, `py::`
//! frames and map entries whose file is not in the run folder are dropped.
//! What remains reads exactly like a minipy run of the same script.
//!
//! Jitdump names are filtered after normalisation instead
//! ([`keep_own_dump_names`]): the dump's records stay whole, so its checks
//! (running code indices, an unwinding record before each load) still see
//! the file as the interpreter wrote it.

use crate::normalize::{normalize_text, Observation};
use crate::run::RawRun;
use trampoline_api::MapEntry;

/// Whether a `py::<qualname>:<file>` name belongs to a file of the run
/// folder (`$CASE/...` once normalised). Names without a file do not.
pub fn is_own(name: &str, run: &RawRun) -> bool {
    let Some(rest) = name.strip_prefix("py::") else {
        return false;
    };
    match rest.split_once(':') {
        Some((_, file)) => normalize_text(file, run).starts_with("$CASE/"),
        None => false,
    }
}

/// Drops the `py::` frames and map entries of other files from `run`.
/// Frames that are not `py::` frames stay; map lines that do not parse stay
/// too, so the map checks still report them.
pub fn keep_own(run: &mut RawRun) {
    let mut samples = std::mem::take(&mut run.profile.samples);
    for sample in &mut samples {
        sample
            .frames
            .retain(|f| !f.sym.starts_with("py::") || is_own(&f.sym, run));
    }
    run.profile.samples = samples;
    let maps = std::mem::take(&mut run.maps);
    run.maps = maps
        .into_iter()
        .map(|(pid, text)| {
            let kept: String = text
                .lines()
                .filter(|line| MapEntry::parse(line).is_none_or(|e| is_own(&e.name, run)))
                .map(|line| format!("{line}\n"))
                .collect();
            (pid, kept)
        })
        .collect();
}

/// Keeps, in each process's jitdump names, those of the run folder's files
/// (`py::<qualname>:$CASE/...` once normalised).
pub fn keep_own_dump_names(obs: &mut Observation) {
    let own = |name: &String| {
        name.strip_prefix("py::")
            .and_then(|rest| rest.split_once(':'))
            .is_some_and(|(_, file)| file.starts_with("$CASE/"))
    };
    for process in &mut obs.processes {
        if let Some(names) = &mut process.dump {
            names.retain(own);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::Exit;
    use perf_script::{Frame, Profile, Sample};
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    fn frame(sym: &str) -> Frame {
        Frame {
            ip: 1,
            sym: sym.into(),
            dso: "/tmp/perf-7.map".into(),
        }
    }

    fn raw() -> RawRun {
        let sample = Sample {
            comm: "python3.12".into(),
            pid: 7,
            tid: 7,
            event: "cpu-clock".into(),
            frames: vec![
                frame("py::foo:/tmp/run/seed.py"),
                frame("_PyEval_EvalFrameDefault"),
                frame("py::<module>:/tmp/run/seed.py"),
                frame("py::_call_with_frames_removed:<frozen importlib._bootstrap>"),
                frame("py::helper:/tmp/run-other/x.py"),
                frame("py::main:/usr/lib/python3.12/runpy.py"),
            ],
        };
        RawRun {
            workdir: PathBuf::from("/tmp/run"),
            exit: Exit::Code(0),
            stdout: String::new(),
            stderr: String::new(),
            profile: Profile {
                samples: vec![sample],
                tasks: vec![],
            },
            maps: [(
                7,
                "10 b py::_find_and_load:<frozen importlib._bootstrap>\n\
                 1b b py::<module>:/tmp/run/seed.py\n\
                 26 b py::<lambda>:<string>\n\
                 garbage\n\
                 31 b py::K.m.<locals>.inner:/tmp/run/names.py\n"
                    .to_string(),
            )]
            .into(),
            dumps: BTreeMap::new(),
        }
    }

    #[test]
    fn frames_and_map_entries_of_other_files_are_dropped() {
        let mut run = raw();
        keep_own(&mut run);
        let syms: Vec<&str> = run.profile.samples[0]
            .frames
            .iter()
            .map(|f| f.sym.as_str())
            .collect();
        assert_eq!(
            syms,
            [
                "py::foo:/tmp/run/seed.py",
                "_PyEval_EvalFrameDefault",
                "py::<module>:/tmp/run/seed.py"
            ]
        );
        assert_eq!(
            run.maps[&7],
            "1b b py::<module>:/tmp/run/seed.py\ngarbage\n31 b py::K.m.<locals>.inner:/tmp/run/names.py\n"
        );
    }

    #[test]
    fn jitdump_names_of_other_files_are_dropped_after_normalisation() {
        let mut obs = crate::normalize::observe(&raw());
        obs.processes[0].dump = Some(vec![
            "py::_find_and_load:<frozen importlib._bootstrap>".into(),
            "py::<module>:$CASE/seed.py".into(),
            "py::<lambda>:<string>".into(),
            "py::foo:$CASE/seed.py".into(),
        ]);
        keep_own_dump_names(&mut obs);
        assert_eq!(
            obs.processes[0].dump.as_deref().unwrap(),
            ["py::<module>:$CASE/seed.py", "py::foo:$CASE/seed.py"]
        );
    }

    #[test]
    fn ownership_needs_a_file_inside_the_run_folder() {
        let run = raw();
        assert!(is_own("py::a:/tmp/run/sub/x.py", &run));
        assert!(!is_own("py::a:/tmp/runner/x.py", &run));
        assert!(!is_own("py::a", &run));
        assert!(!is_own("foo:/tmp/run/x.py", &run));
    }
}
