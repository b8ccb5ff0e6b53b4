//! `harness run <case>`: one case on one minipy variant, shown as a person
//! exploring it wants: the command, the output, a `perf report`-style call
//! tree of each process's script frames, the expectations, and perf.data
//! and the files in `/tmp` kept for `perf report` (with the `rm` line).

use crate::cases::Variant;
use crate::error::{Error, Status};
use crate::judge::{self, Level, Runs};
use crate::observe::observe;
use crate::profile::profile;
use crate::runtime::minipy::{self, Minipy};
use crate::session::{kernel_max_stack, Session};
use crate::tree;
use std::path::Path;

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned())
}

/// Why `harness run` leaves a file of /tmp in place.
fn why_kept(file: &Path) -> &'static str {
    let name = file_name(file);
    if name.ends_with(".map") {
        "perf report reads the names of perf-map stubs from there"
    } else if name.ends_with(".dump") {
        "perf inject --jit reads it"
    } else {
        "perf report reads the jitted code from there"
    }
}

pub fn run(
    root: &Path,
    name: &str,
    variant: Option<Variant>,
    build: bool,
    min_percent: f64,
) -> Result<Status, Error> {
    let mut session = Session::start(root, &[name.to_string()])?;
    let case = session.cases[0].clone();
    let variant = variant.unwrap_or(case.variants[0]);
    session.cases[0].variants = vec![variant];
    if let (Some(needed), Some(actual)) = (case.max_stack, kernel_max_stack()) {
        if actual < needed {
            return Err(Error::Environment(format!(
                "{} needs {needed} native frames per sample but kernel.perf_event_max_stack = {actual}: \
                 run `sudo sysctl -w kernel.perf_event_max_stack={needed}`",
                case.name
            )));
        }
    }
    let minipy: Minipy = session.minipy(build, |s| println!("{s}"))?.remove(0);
    let profiled = profile(&case, &minipy, &perf_script::Perf::new("perf"), true)?;
    let obs = observe(&profiled.recording, &minipy);
    let env: Vec<String> = case.env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    println!(
        "{} [{variant}]: {}{} (unwind {})",
        case.name,
        env.concat(),
        minipy::command_line(&case),
        case.unwind.name()
    );
    println!("exit {}; {} samples", obs.exit, obs.total_samples);
    for (name, text) in [("stdout", &obs.stdout), ("stderr", &obs.stderr)] {
        for line in text.lines().take(10) {
            println!("{name}: {line}");
        }
    }
    let pids = profiled.recording.profile.processes();
    for (i, process) in obs.processes.iter().enumerate() {
        let pid = pids.get(i).map_or(String::new(), |p| format!(", pid {p}"));
        println!(
            "\nprocess {}{pid}: {}",
            i + 1,
            tree::render(process, min_percent)
        );
    }
    let runs = [obs];
    let findings = judge::expectations(&case.expect, &Runs::new(&runs), Level::Full);
    let mut unmet = findings.differences;
    unmet.extend(
        findings
            .unclear
            .into_iter()
            .map(|u| format!("unclear: {u}")),
    );
    match unmet.is_empty() {
        true => println!("expectations: all met"),
        false => println!("expectations: {}", unmet.join("; ")),
    }
    println!(
        "\n{} kept at {}",
        file_name(&profiled.perf_data),
        profiled.perf_data.display()
    );
    for file in &profiled.kept_files {
        println!("kept {} ({})", file.display(), why_kept(file));
    }
    println!(
        "explore: perf report -i {} --stdio --no-children",
        profiled.perf_data.display()
    );
    let mut cleanup = vec![profiled.recording.workdir.display().to_string()];
    cleanup.extend(profiled.kept_files.iter().map(|m| m.display().to_string()));
    println!("clean up: rm -r {}", cleanup.join(" "));
    Ok(Status::from_failures(!unmet.is_empty()))
}
