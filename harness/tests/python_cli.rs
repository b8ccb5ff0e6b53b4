//! CPython as an interpreter under test, end to end: `check --python` and
//! `doctor --python` on the real interpreters when they are installed (each
//! test prints `skipped: <why>` otherwise), and the exits that need none.

use std::path::Path;
use std::process::{Command, Output};

fn harness(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(args)
        .output()
        .expect("harness runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn root() -> &'static str {
    concat!(env!("CARGO_MANIFEST_DIR"), "/..")
}

/// Why the test cannot run here, if it cannot: no such CPython, or perf
/// cannot sample.
fn unavailable(python: &str) -> Option<String> {
    if let Err(why) = harness::runtime::cpython::find(python) {
        return Some(why.to_string());
    }
    perf_script::can_sample(Path::new("perf"))
        .err()
        .map(|e| format!("perf cannot sample here: {e}"))
}

/// The table row of `case`, its words separated by single spaces.
fn row(stdout: &str, case: &str) -> String {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(case))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

#[test]
fn check_python312_judges_a_dwarf_case_fully_and_an_fp_case_at_the_maps_level() {
    if let Some(why) = unavailable("python3.12") {
        println!("skipped: {why}");
        return;
    }
    let out = harness(&[
        "--root",
        root(),
        "check",
        "--python",
        "python3.12",
        "control_dwarf",
        "seed_xperf",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    let label = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("cpython-3.12"))
        .map(|rest| format!("cpython-3.12{}", rest.split(':').next().unwrap_or("")))
        .unwrap_or_else(|| panic!("no cpython-3.12 interpreter line:\n{stdout}"));
    assert!(row(&stdout, "case").ends_with(&label), "{stdout}");
    assert_eq!(
        row(&stdout, "control_dwarf"),
        "control_dwarf dwarf same",
        "{stdout}"
    );
    // pyenv's 3.12 has no frame pointers: fp is not supported, but its
    // perf map still equals the snapshot's.
    let caps = harness::runtime::cpython::find("python3.12")
        .unwrap()
        .capabilities;
    if caps.frame_pointer_problem().is_some() {
        assert_eq!(
            row(&stdout, "seed_xperf"),
            "seed_xperf fp not supported (maps: same)",
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("  {label} in fp mode: no frame pointers")),
            "{stdout}"
        );
    } else {
        assert_eq!(row(&stdout, "seed_xperf"), "seed_xperf fp same", "{stdout}");
    }
}

#[test]
fn doctor_python313_answers_from_probes() {
    if let Some(why) = unavailable("python3.13") {
        println!("skipped: {why}");
        return;
    }
    let out = harness(&["--root", root(), "doctor", "--python", "python3.13"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(
            "  probe -X perf_jit with perf record -k 1 --call-graph dwarf + perf inject --jit: "
        ),
        "{stdout}"
    );
    assert!(stdout.contains("  answer: YES, with "), "{stdout}");
    assert!(
        stdout.contains(" samples show <module> > baz > bar > foo"),
        "{stdout}"
    );
}

#[test]
fn an_unknown_python_is_an_environment_error() {
    let out = harness(&[
        "--root",
        root(),
        "check",
        "--python",
        "/nonexistent/python3.99",
        "seed_xperf",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with("no working Python found for `/nonexistent/python3.99`"),
        "{stderr}"
    );
    for command in ["doctor", "conformance"] {
        let out = harness(&["--root", root(), command, "--python", "no-such-python3.99"]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        assert!(
            text(&out.stderr).starts_with("no Python found for `no-such-python3.99`"),
            "{command}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn conformance_without_any_cpython_says_so_and_exits_2() {
    let empty = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["--root", root(), "conformance", "seed_xperf"])
        .env("PATH", empty.path())
        .env("PYENV_ROOT", empty.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "no CPython 3.12+ found: looked in {}/versions and in PATH",
            empty.path().display()
        )),
        "{stderr}"
    );
}

#[test]
fn a_python_that_hangs_is_given_up_on_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let python = dir.path().join("python3");
    std::fs::write(&python, "#!/bin/sh\nsleep 100000\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&python, std::fs::Permissions::from_mode(0o755)).unwrap();
    let started = std::time::Instant::now();
    let out = harness(&[
        "--root",
        root(),
        "check",
        "--python",
        python.to_str().unwrap(),
        "seed_xperf",
    ]);
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("did not answer the sysconfig query within 10 s"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let left = Command::new("pgrep")
        .args(["-f", "sleep 100000"])
        .output()
        .unwrap();
    assert!(
        left.stdout.is_empty(),
        "the hanging program was left running"
    );
}
