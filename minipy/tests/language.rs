//! The language subset against CPython: every `tests/py/<name>.py` must
//! print exactly `tests/py/<name>.out`, which is what CPython 3.12 prints
//! for it. When CPython 3.12 is installed the golden files are checked
//! against it too, so they cannot drift from real Python.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/py");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/py exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .collect();
    v.sort();
    v
}

/// Runs `program script.py` from the script's directory.
fn run(program: &str, script: &Path) -> (i32, String, String) {
    let out = Command::new(program)
        .current_dir(script.parent().expect("has a directory"))
        .arg(script.file_name().expect("has a name"))
        .env_remove("PYTHONPERFSUPPORT")
        .env_remove("PYTHON_PERF_JIT_SUPPORT")
        .output()
        .expect("interpreter runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn golden(script: &Path) -> String {
    std::fs::read_to_string(script.with_extension("out"))
        .expect("golden .out file next to the script")
}

#[test]
fn scripts_print_what_cpython_prints() {
    let cases = cases();
    assert!(
        cases.len() >= 4,
        "expected the language scripts in tests/py"
    );
    for script in cases {
        let (status, stdout, stderr) = run(common::minipy(), &script);
        assert_eq!((status, stderr.as_str()), (0, ""), "{}", script.display());
        let want = golden(&script);
        if stdout != want {
            let line = stdout
                .lines()
                .zip(want.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            panic!(
                "{}: first difference at output line {}\n  want: {:?}\n  got:  {:?}",
                script.display(),
                line + 1,
                want.lines().nth(line),
                stdout.lines().nth(line)
            );
        }
    }
}

fn cpython() -> Option<String> {
    let pinned = "/root/.pyenv/versions/3.12.1/bin/python3.12";
    if Path::new(pinned).exists() {
        return Some(pinned.to_string());
    }
    let out = Command::new("python3.12")
        .args(["-c", "import sys; print(sys.version_info[:2])"])
        .output()
        .ok()?;
    (out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "(3, 12)")
        .then(|| "python3.12".to_string())
}

#[test]
fn golden_files_match_cpython_312() {
    let Some(python) = cpython() else {
        println!("skipped: golden_files_match_cpython_312: CPython 3.12 not found");
        return;
    };
    for script in cases() {
        let (status, stdout, _) = run(&python, &script);
        assert_eq!(status, 0, "{} under CPython", script.display());
        assert_eq!(
            stdout,
            golden(&script),
            "{}: golden file differs from CPython",
            script.display()
        );
    }
}
