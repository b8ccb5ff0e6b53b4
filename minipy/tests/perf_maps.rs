//! What the perf map says after real runs: the seed scripts' names (SPEC
//! §5), the run-time API naming only what ran while active, one entry per
//! function, both trampoline implementations agreeing, and fork (SPEC §6).

mod common;

use common::{map_entries, map_names, run_args, run_source, seed_script};
use std::collections::BTreeSet;

fn abs(path: &std::path::Path) -> String {
    std::fs::canonicalize(path)
        .expect("seed script exists")
        .display()
        .to_string()
}

#[test]
fn seed_py_names_module_baz_bar_foo_with_absolute_path() {
    let script = seed_script("seed.py");
    let path = abs(&script);
    for implementation in ["rust", "c"] {
        let t = format!("trampoline={implementation}");
        let run = run_args(
            &["-X", "perf", "-X", &t, &path, "1000"],
            &[],
            None,
            script.clone(),
        );
        assert_eq!(
            (run.status, run.stdout.as_str()),
            (0, "1000\n"),
            "{}",
            run.describe()
        );
        let names = map_names(&run.map_path());
        let want: Vec<String> = ["<module>", "baz", "bar", "foo"]
            .iter()
            .map(|q| format!("py::{q}:{path}"))
            .collect();
        assert_eq!(names, want, "{implementation}: map of seed.py");
    }
}

#[test]
fn relative_script_path_is_named_absolute() {
    let script = seed_script("seed.py");
    let dir = script.parent().expect("scripts dir").to_path_buf();
    let mut cmd = std::process::Command::new(common::minipy());
    cmd.current_dir(&dir).args(["-X", "perf", "seed.py", "10"]);
    for k in [
        "PYTHONPERFSUPPORT",
        "PYTHON_PERF_JIT_SUPPORT",
        "MINIPY_TRAMPOLINE",
    ] {
        cmd.env_remove(k);
    }
    let child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("runs");
    let pid = child.id();
    let out = child.wait_with_output().expect("finishes");
    let map = trampoline_api::perf_map_path(pid);
    let names = map_names(&map);
    let _ = std::fs::remove_file(&map);
    assert!(out.status.success());
    let want = format!("py::foo:{}", abs(&script));
    assert!(names.contains(&want), "{names:?} lacks {want}");
}

#[test]
fn sys_api_names_only_profiled_functions() {
    let script = seed_script("sys_api.py");
    let path = abs(&script);
    let run = run_args(&[&path, "1000"], &[], None, script.clone());
    assert_eq!(
        (run.status, run.stdout.as_str()),
        (0, "1000\n499500\n"),
        "{}",
        run.describe()
    );
    let names = map_names(&run.map_path());
    let want: Vec<String> = ["baz", "bar", "foo"]
        .iter()
        .map(|q| format!("py::{q}:{path}"))
        .collect();
    assert_eq!(
        names, want,
        "the module started before activation; unprofiled_* ran after deactivation"
    );
}

#[test]
fn each_function_is_named_once_and_entries_do_not_overlap() {
    let src = "def f(n):\n    return n + 1\nclass K:\n    def m(self):\n        def inner():\n            return (lambda: 1)()\n        return inner()\nfor i in range(50):\n    f(i)\n    K().m()\nprint('done')\n";
    let run = run_source(src, &["perf"], &[], &[]);
    assert_eq!(run.stdout, "done\n", "{}", run.describe());
    let entries = map_entries(&run.map_path());
    let script = run.script.display().to_string();
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    // The class body runs (and is named) when `class K` executes, before f is called.
    let want: Vec<String> = [
        "<module>",
        "K",
        "f",
        "K.m",
        "K.m.<locals>.inner",
        "K.m.<locals>.inner.<locals>.<lambda>",
    ]
    .iter()
    .map(|q| format!("py::{q}:{script}"))
    .collect();
    assert_eq!(names, want);
    for (i, a) in entries.iter().enumerate() {
        assert!(a.size > 0);
        for b in &entries[i + 1..] {
            assert!(
                a.start + a.size <= b.start || b.start + b.size <= a.start,
                "{a} overlaps {b}"
            );
        }
    }
}

#[test]
fn both_implementations_give_the_same_names() {
    let script = seed_script("call_heavy.py");
    let path = abs(&script);
    let mut maps = Vec::new();
    for implementation in ["rust", "c"] {
        let run = run_args(
            &[&path, "100"],
            &[
                ("PYTHONPERFSUPPORT", "1"),
                ("MINIPY_TRAMPOLINE", implementation),
            ],
            None,
            script.clone(),
        );
        assert_eq!(run.stdout, "200\n", "{}", run.describe());
        maps.push(map_names(&run.map_path()));
    }
    assert_eq!(maps[0].len(), 4, "{:?}", maps[0]);
    assert_eq!(maps[0], maps[1]);
}

const FORK: &str = r#"import os, sys

def parent_only():
    return 1

def child_only():
    return 2

parent_only()
pid = os.fork()
if pid == 0:
    child_only()
    sys.stdout.flush()
    os._exit(0)
_, status = os.waitpid(pid, 0)
parent_only()
print(pid, status)
"#;

fn fork_run(xopts: &[&str]) -> (common::Run, u32) {
    let mut run = run_source(FORK, xopts, &[], &[]);
    let child: u32 = run
        .stdout
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("{}", run.describe()));
    run.also_clean(child);
    assert_eq!(
        run.stdout.split_whitespace().nth(1),
        Some("0"),
        "child status; {}",
        run.describe()
    );
    (run, child)
}

fn qualnames(path: &std::path::Path, script: &str) -> BTreeSet<String> {
    map_names(path)
        .into_iter()
        .map(|n| {
            n.strip_prefix("py::")
                .and_then(|n| n.strip_suffix(&format!(":{script}")))
                .unwrap_or(&n)
                .to_string()
        })
        .collect()
}

#[test]
fn fork_child_writes_its_own_fresh_map() {
    let (run, child) = fork_run(&["perf"]);
    let script = run.script.display().to_string();
    let parent = qualnames(&run.map_path(), &script);
    let child_map = qualnames(&trampoline_api::perf_map_path(child), &script);
    assert_eq!(
        parent,
        BTreeSet::from(["<module>".to_string(), "parent_only".to_string()])
    );
    assert_eq!(
        child_map,
        BTreeSet::from(["child_only".to_string()]),
        "fresh map: only what the child called"
    );
}

#[test]
fn persist_after_fork_copies_the_parent_entries() {
    let (run, child) = fork_run(&["perf", "perf_persist_after_fork"]);
    let script = run.script.display().to_string();
    let child_map = qualnames(&trampoline_api::perf_map_path(child), &script);
    let want = ["<module>", "parent_only", "child_only"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(child_map, want);
}
