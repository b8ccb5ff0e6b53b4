//! The `harness` binary end to end: a real `check` of one small case when
//! perf can sample here, a tampered snapshot, a run past its time limit, a
//! Ctrl-C, and the exits that need no perf.

use harness::runtime::minipy::Build;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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
    if let Err(why) = perf_script::can_sample(Path::new("perf")) {
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

#[test]
fn a_perf_that_may_not_sample_is_an_environment_error_with_the_sysctl() {
    // What perf prints on a kernel that refuses a normal user (Debian's and
    // Ubuntu's kernel.perf_event_paranoid 3 and 4).
    let dir = tempfile::tempdir().unwrap();
    let perf = dir.path().join("perf");
    std::fs::write(
        &perf,
        "#!/bin/sh\necho 'Error:' >&2\n\
         echo 'Access to performance monitoring and observability operations is limited.' >&2\n\
         echo 'perf_event_paranoid setting is 3:' >&2\nexit 255\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&perf, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", dir.path().display());
    for command in [
        &["check", "seed_env"][..],
        &["run", "seed_env", "--no-build"],
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_harness"))
            .args(["--root", project_root().to_str().unwrap()])
            .args(command)
            .env("PATH", &path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{command:?}");
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with("perf may not sample here (kernel.perf_event_paranoid = "),
            "{stderr}"
        );
        assert!(
            stderr.contains("run `sudo sysctl -w kernel.perf_event_paranoid=2`"),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
    }
}

#[test]
fn an_empty_cases_folder_is_an_error_not_a_pass() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("cases/scripts")).unwrap();
    let out = harness(&[
        "--root",
        root.path().to_str().unwrap(),
        "check",
        "--no-build",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "cases: no cases: each case is a folder with a case.toml (see cases/README.md)\n"
    );
}

/// A project of its own with one case (`case.toml`, its script) and,
/// unless `None`, its snapshot; minipy's frame-pointer build of this
/// project stands in for its build. `None` when perf cannot sample here.
fn project(case: &str, script: &str, snapshot: Option<&str>) -> Option<tempfile::TempDir> {
    if let Err(why) = perf_script::can_sample(Path::new("perf")) {
        println!("skipped: perf cannot sample here: {why}");
        return None;
    }
    let minipy = Build::Fp
        .make(project_root(), true)
        .unwrap_or_else(|e| panic!("{e}"));
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("cases/demo");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("case.toml"), case).unwrap();
    std::fs::write(dir.join("script.py"), script).unwrap();
    std::fs::create_dir_all(root.path().join("snapshots")).unwrap();
    if let Some(snapshot) = snapshot {
        std::fs::write(root.path().join("snapshots/demo.snap"), snapshot).unwrap();
    }
    let built = Build::Fp.binary(root.path());
    std::fs::create_dir_all(built.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(minipy, built).unwrap();
    Some(root)
}

const SEED_CASE: &str = "description = \"the seed chain\"\nscript = \"script.py\"\n\
    interpreter_args = [\"-X\", \"perf\"]\nargs = [\"30000000\"]\nvariants = [\"c\"]\n";

fn seed_script() -> String {
    std::fs::read_to_string(project_root().join("cases/scripts/seed.py")).unwrap()
}

/// The accepted snapshot of `seed_xperf`, made this project's `demo`.
fn seed_snapshot() -> String {
    let text = std::fs::read_to_string(project_root().join("snapshots/seed_xperf.snap")).unwrap();
    let body = text.splitn(3, "---\n").nth(2).unwrap().to_string();
    format!(
        "---\nsource: test\n---\n{}",
        body.replace("seed.py", "script.py")
    )
}

#[test]
fn a_tampered_snapshot_fails_on_the_first_run() {
    let tampered =
        seed_snapshot().replace("<module> > baz > bar > foo", "<module> > baz > foo > bar");
    let Some(root) = project(SEED_CASE, &seed_script(), Some(&tampered)) else {
        return;
    };
    let out = harness(&[
        "--root",
        root.path().to_str().unwrap(),
        "check",
        "--no-build",
    ]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL   demo [c]: process 1: stack `<module> > baz > foo > bar` of the snapshot: absent"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("was unclear"),
        "a definite difference is not run again: {stdout}"
    );
    assert!(
        stdout.contains("+    <module> > baz > bar > foo\n"),
        "the diff: {stdout}"
    );
    assert!(root.path().join("snapshots/demo.snap.new").is_file());
    // The untouched snapshot passes.
    std::fs::write(root.path().join("snapshots/demo.snap"), seed_snapshot()).unwrap();
    let out = harness(&[
        "--root",
        root.path().to_str().unwrap(),
        "check",
        "--no-build",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

/// `/tmp/perf-<pid>.map` files that name a file under `folder`.
fn maps_naming(folder: &Path) -> Vec<PathBuf> {
    let needle = folder.to_string_lossy().into_owned();
    std::fs::read_dir("/tmp")
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("perf-")
        })
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(&needle)))
        .collect()
}

/// Processes whose working folder is under `folder` (a workload runs in its
/// run folder).
fn running_in(folder: &Path) -> Vec<u32> {
    let needle = folder.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_link(format!("/proc/{pid}/cwd"))
                .is_ok_and(|cwd| cwd.to_string_lossy().starts_with(&needle))
        })
        .collect()
}

const ENDLESS: &str = "def spin():\n    while True:\n        pass\n\nspin()\n";

#[test]
fn a_run_past_its_time_limit_is_killed_with_its_workload_and_files() {
    let case = "description = \"never ends\"\nscript = \"script.py\"\n\
        interpreter_args = [\"-X\", \"perf\"]\nvariants = [\"c\"]\ntimeout = 2\n";
    let Some(root) = project(case, ENDLESS, None) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "--root",
            root.path().to_str().unwrap(),
            "check",
            "--no-build",
        ])
        .env("TMPDIR", tmp.path())
        .output()
        .unwrap();
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(started.elapsed() < Duration::from_secs(60), "{stdout}");
    assert!(
        stdout.contains("error  demo [c]: `perf --buildid-dir"),
        "{stdout}"
    );
    assert!(
        stdout.contains("timed out after 2 s (killed it and its workload)"),
        "{stdout}"
    );
    assert_eq!(running_in(tmp.path()), Vec::<u32>::new(), "left running");
    assert_eq!(maps_naming(tmp.path()), Vec::<PathBuf>::new());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "run folders left"
    );
}

#[test]
fn ctrl_c_stops_the_check_and_leaves_nothing_behind() {
    let case = "description = \"never ends\"\nscript = \"script.py\"\n\
        interpreter_args = [\"-X\", \"perf\"]\nvariants = [\"c\"]\n";
    let Some(root) = project(case, ENDLESS, None) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_harness"))
        .args([
            "--root",
            root.path().to_str().unwrap(),
            "check",
            "--no-build",
        ])
        .env("TMPDIR", tmp.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the workload runs (its map is written), then interrupt.
    let started = Instant::now();
    while maps_naming(tmp.path()).is_empty() && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stderr));
    assert_eq!(running_in(tmp.path()), Vec::<u32>::new(), "left running");
    assert!(
        text(&out.stderr).contains("interrupted"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(maps_naming(tmp.path()), Vec::<PathBuf>::new());
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "run folders left"
    );
}
