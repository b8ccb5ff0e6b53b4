//! Whole-process benchmarks of the seed scripts: minipy (release build,
//! both trampoline implementations, perf support off and `-X perf`) next to
//! CPython 3.12 (off and `-X perf`). Each sample is one run of the script;
//! the perf maps the runs write are removed after each run.
//!
//! Run with `cargo bench -p minipy`; the numbers are seconds per run.

use criterion::{criterion_group, criterion_main, Criterion};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

fn script(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../cases/scripts")
        .join(name)
}

fn cpython() -> Option<PathBuf> {
    let pinned = PathBuf::from("/root/.pyenv/versions/3.12.1/bin/python3.12");
    if pinned.exists() {
        return Some(pinned);
    }
    let out = Command::new("python3.12")
        .args(["-c", "import sys; print(sys.executable)"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// One configuration: a program and the options before the script.
struct Config {
    label: String,
    program: PathBuf,
    options: Vec<&'static str>,
}

fn configs() -> Vec<Config> {
    let minipy = PathBuf::from(env!("CARGO_BIN_EXE_minipy"));
    let mut v = Vec::new();
    for implementation in ["rust", "c"] {
        let t = if implementation == "rust" {
            "trampoline=rust"
        } else {
            "trampoline=c"
        };
        v.push(Config {
            label: format!("minipy-{implementation}/off"),
            program: minipy.clone(),
            options: vec!["-X", t],
        });
        v.push(Config {
            label: format!("minipy-{implementation}/perf"),
            program: minipy.clone(),
            options: vec!["-X", t, "-X", "perf"],
        });
    }
    match cpython() {
        Some(python) => {
            v.push(Config { label: "cpython-3.12/off".into(), program: python.clone(), options: vec![] });
            v.push(Config { label: "cpython-3.12/perf".into(), program: python, options: vec!["-X", "perf"] });
        }
        None => println!("skipped: cpython-3.12: no /root/.pyenv/versions/3.12.1/bin/python3.12 or python3.12 on PATH"),
    }
    v
}

/// Runs the script once and removes the perf map the run wrote.
fn run_once(config: &Config, script: &Path, args: &[&str]) {
    let mut cmd = Command::new(&config.program);
    cmd.args(&config.options)
        .arg(script)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for k in [
        "PYTHONPERFSUPPORT",
        "PYTHON_PERF_JIT_SUPPORT",
        "MINIPY_TRAMPOLINE",
    ] {
        cmd.env_remove(k);
    }
    let mut child = cmd.spawn().expect("interpreter starts");
    let pid = child.id();
    let status = child.wait().expect("interpreter finishes");
    let _ = std::fs::remove_file(format!("/tmp/perf-{pid}.map"));
    assert!(status.success(), "{} {:?} failed", config.label, script);
}

fn bench_scripts(c: &mut Criterion) {
    let configs = configs();
    for (name, args) in [("seed.py", &[] as &[&str]), ("call_heavy.py", &[])] {
        let path = script(name);
        let mut group = c.benchmark_group(name);
        group
            .sample_size(10)
            .warm_up_time(Duration::from_millis(500))
            .measurement_time(Duration::from_secs(8));
        for config in &configs {
            group.bench_function(&config.label, |b| b.iter(|| run_once(config, &path, args)));
        }
        group.finish();
    }
}

criterion_group!(benches, bench_scripts);
criterion_main!(benches);
