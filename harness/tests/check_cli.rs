//! The `harness` binary end to end: a real `check` of one small case when
//! perf can sample here, and the exits that need no perf.

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

fn project_root() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

#[test]
fn check_passes_on_one_small_case() {
    if let Err(why) = harness::doctor::probe_sampling(Path::new("perf")) {
        println!("skipped: perf cannot sample here: {why}");
        return;
    }
    let root = project_root().to_str().unwrap();
    let out = harness(&["--root", root, "check", "seed_env"]);
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{}",
        text(&out.stderr)
    );
    assert!(stdout.contains("pass   seed_env [c]\n"), "{stdout}");
    assert!(stdout.contains("pass   seed_env [rust]\n"), "{stdout}");
    assert!(stdout.ends_with("check: 2 passed, 0 failed\n"), "{stdout}");
}

#[test]
fn a_malformed_case_stops_check_with_file_and_line() {
    let root = tempfile::tempdir().unwrap();
    let case = root.path().join("cases/bad");
    std::fs::create_dir_all(&case).unwrap();
    std::fs::write(case.join("x.py"), "print(1)\n").unwrap();
    std::fs::write(
        case.join("case.toml"),
        "description = \"d\"\nscript = \"x.py\"\nunwnid = \"fp\"\n",
    )
    .unwrap();
    for command in ["check", "list"] {
        let out = harness(&["--root", root.path().to_str().unwrap(), command]);
        assert_eq!(out.status.code(), Some(2), "{command}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("cases/bad/case.toml:3: unknown field `unwnid`"),
            "{command}: {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

#[test]
fn no_perf_is_an_environment_error_with_the_fix() {
    let root = project_root().to_str().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args(["--root", root, "check", "seed_env"])
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("perf not found: install it"), "{stderr}");
}
