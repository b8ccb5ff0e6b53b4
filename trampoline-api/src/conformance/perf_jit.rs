//! The `chain` example under real perf with the jitdump backend (SPEC §7):
//! `perf record -k 1 --call-graph dwarf`, `perf inject --jit`, `perf script`.
//! perf gets a build-id cache directory of its own, so the `jitted-*.so`
//! files `perf inject` makes are not copied into `~/.debug`; the ones it
//! leaves beside the dump (`<dump dir>/jitted-<pid>-<code_index>.so`, one per
//! code load) are removed with the dump.

use perf_script::{Sample, SCRIPT_FIELDS};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `perf --buildid-dir <cache> <args>`; the error is one line.
fn perf(cache: &Path, args: &[&str]) -> Result<Output, String> {
    let mut command = Command::new("perf");
    command.arg("--buildid-dir").arg(cache).args(args);
    let output = command
        .output()
        .map_err(|e| format!("cannot run perf: {e}"))?;
    if output.status.success() {
        return Ok(output);
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    if let Some(e) = perf_script::environment_failure(&stderr) {
        return Err(e.to_string());
    }
    let last = stderr
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty())
        .unwrap_or("no message");
    Err(format!("`perf {}` failed: {last}", args.join(" ")))
}

/// The dump the example names on stdout (`pid <pid> map <path>`).
fn dump_named_in(stdout: &[u8]) -> Option<PathBuf> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().find(|l| l.starts_with("pid "))?;
    line.split_whitespace().nth(3).map(PathBuf::from)
}

/// Removes `dump` and the `jitted-<pid>-<index>.so` file perf inject made
/// beside it for each of its code loads; returns the ones that were missing.
fn remove_dump_and_jitted(dump: &Path) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    if let Ok(parsed) = std::fs::read(dump).map(|b| jitdump::parse_complete_records(&b)) {
        let dir = dump.parent().unwrap_or(Path::new("/tmp"));
        for load in parsed.iter().flat_map(|(d, _)| d.code_loads()) {
            let so = dir.join(format!("jitted-{}-{}.so", load.pid, load.code_index));
            if std::fs::remove_file(&so).is_err() {
                missing.push(so);
            }
        }
    }
    let _ = std::fs::remove_file(dump);
    missing
}

/// Runs `example --jit` under `perf record -k 1 -e cpu-clock -F 9999
/// --call-graph dwarf`, injects the dump, and requires `py::foo`, `py::bar`,
/// `py::baz` in that order, from the injected `jitted-*.so` files, on most
/// samples. Prints why and returns when perf may not sample here; fails when
/// it got too few samples to judge.
pub fn check_chain_example_under_perf_jit(example: &Path) {
    assert!(
        example.exists(),
        "{} is missing: run `cargo test --workspace`, which builds the examples",
        example.display()
    );
    if let Err(why) = perf_script::can_sample(Path::new("perf")) {
        println!("skipped: {why}");
        return;
    }
    let dir = std::env::temp_dir().join(format!("chain-under-perf-jit-{}", std::process::id()));
    let cache = dir.join("buildid-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let (data, injected) = (dir.join("perf.data"), dir.join("perf.jit.data"));
    let (data_arg, injected_arg) = (data.to_str().unwrap(), injected.to_str().unwrap());

    let mut dump = None;
    let samples = (|| -> Result<(Vec<Sample>, PathBuf), String> {
        let record = [
            "record",
            "-k",
            "1",
            "-e",
            "cpu-clock",
            "-F",
            "9999",
            "--call-graph",
            "dwarf",
        ];
        let command = [example.to_str().unwrap(), "--jit"];
        let recorded = perf(
            &cache,
            &[&record[..], &["-o", data_arg, "--"], &command].concat(),
        )?;
        dump = dump_named_in(&recorded.stdout);
        let dump = dump
            .clone()
            .ok_or("the example did not name its dump on stdout")?;
        perf(
            &cache,
            &["inject", "--jit", "-i", data_arg, "-o", injected_arg],
        )?;
        let script = perf(&cache, &["script", "-F", SCRIPT_FIELDS, "-i", injected_arg])?;
        let samples = perf_script::parse(&String::from_utf8_lossy(&script.stdout))
            .map_err(|e| e.to_string())?;
        Ok((samples, dump))
    })();
    let missing = dump
        .as_deref()
        .map(remove_dump_and_jitted)
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&dir);
    let (samples, dump) = samples.unwrap_or_else(|e| panic!("{e}"));
    assert!(
        missing.is_empty(),
        "perf inject did not leave {missing:?}: where does it write them?"
    );

    assert!(
        samples.len() >= 100,
        "only {} samples: too few to judge",
        samples.len()
    );
    let jitted = format!("{}/jitted-", dump.parent().unwrap().display());
    let full = samples
        .iter()
        .filter(|s| s.py_frames() == ["py::foo", "py::bar", "py::baz"])
        .filter(|s| {
            s.frames
                .iter()
                .filter(|f| f.sym.starts_with("py::"))
                .all(|f| f.dso.starts_with(&jitted))
        })
        .count();
    assert!(
        full * 2 > samples.len(),
        "only {full} of {} samples show py::foo > py::bar > py::baz from {jitted}*.so",
        samples.len()
    );
}
