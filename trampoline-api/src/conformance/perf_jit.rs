//! The `chain` example under real perf with the jitdump backend (SPEC §7):
//! `perf record -k 1 --call-graph dwarf`, `perf inject --jit`, `perf script`,
//! through `perf-script`'s shared jitdump workflow. perf gets a build-id
//! cache directory of its own, so the `jitted-*.so` files `perf inject`
//! makes are not copied into `~/.debug`; the ones it leaves beside the dump
//! (`<dump dir>/jitted-<pid>-<code_index>.so`, one per code load) are removed
//! with the dump.

use perf_script::{CallGraph, JittedFiles, Perf, Sample, Workload};
use std::path::{Path, PathBuf};

/// The dump the example names on stdout (`pid <pid> map <path>`).
fn dump_named_in(stdout: &[u8]) -> Option<PathBuf> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().find(|l| l.starts_with("pid "))?;
    line.split_whitespace().nth(3).map(PathBuf::from)
}

/// Removes `dump` and the `jitted-<pid>-<index>.so` files perf inject made
/// beside it; returns the code loads' files that were not among them.
fn remove_dump_and_jitted(dump: &Path, jitted: &JittedFiles) -> Vec<PathBuf> {
    let mut missing = Vec::new();
    if let Ok(parsed) = std::fs::read(dump).map(|b| jitdump::parse_complete_records(&b)) {
        let dir = dump.parent().unwrap_or(Path::new("/tmp"));
        let pid = parsed.as_ref().map_or(0, |(d, _)| d.header.pid);
        let removed = jitted.remove_new(&[pid]);
        for load in parsed.iter().flat_map(|(d, _)| d.code_loads()) {
            let so = dir.join(format!("jitted-{}-{}.so", load.pid, load.code_index));
            if !removed.contains(&so) {
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

    let perf = Perf::new("perf").with_buildid_dir(&cache);
    let dump_dir = crate::jit_dump_path(0).parent().unwrap().to_path_buf();
    let jitted = JittedFiles::before_inject(&dump_dir);
    let mut dump = None;
    let samples = (|| -> Result<(Vec<Sample>, PathBuf), String> {
        let command = [example.to_str().unwrap(), "--jit"];
        let recorded = perf
            .record(&data, CallGraph::Jit, &Workload::command(&command))
            .map_err(|e| e.to_string())?;
        dump = dump_named_in(&recorded.stdout);
        let dump = dump
            .clone()
            .ok_or("the example did not name its dump on stdout")?;
        perf.inject_jit(&data, &injected)
            .map_err(|e| e.to_string())?;
        let samples = perf.script(&injected).map_err(|e| e.to_string())?;
        Ok((samples, dump))
    })();
    let missing = dump
        .as_deref()
        .map(|d| remove_dump_and_jitted(d, &jitted))
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
