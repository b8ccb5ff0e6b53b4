//! `harness doctor --python <path>`: will `perf` show my Python functions
//! with this interpreter, with which flags, and if not, what to do?
//!
//! The build is read first (trampoline, frame pointers, perf_jit), then each
//! way of profiling the build offers is tried for real on the seed script
//! ([`super::probe`]); the answer follows the probes, and says so when they
//! contradict the build flags.

use super::detect::{self, Python};
use super::judge::{self, Context};
use super::probe::{self, Probe, Way};
use crate::Status;
use std::path::Path;

/// The flags that give CPython frame pointers, as its docs recommend.
pub const FP_CFLAGS: &str = "-fno-omit-frame-pointer -mno-omit-leaf-frame-pointer";

/// One way of profiling, and how trying it went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tried {
    Ran(Probe),
    /// The build cannot offer this way; why.
    Unavailable(String),
    /// The probe itself failed (perf, the interpreter); why.
    Failed(String),
}

/// How to call the interpreter in the commands shown: the name the user
/// gave when `PATH` leads a shell to the same binary (not, say, to a pyenv
/// shim for another version), else the full path.
fn command_name(python: &Python) -> String {
    let real = |p: &Path| p.canonicalize().ok();
    let on_path = detect::candidates(&python.given, std::env::var_os("PATH").as_deref(), None);
    match on_path.first() {
        Some(first)
            if !python.given.contains('/')
                && real(first).is_some()
                && real(first) == real(&python.info.executable) =>
        {
            python.given.clone()
        }
        _ => python.info.executable.display().to_string(),
    }
}

/// The rebuild advice, with pyenv's spelling when pyenv installed it.
pub fn rebuild_advice(python: &Python) -> String {
    let mut advice = format!("rebuild it with frame pointers: ./configure CFLAGS=\"{FP_CFLAGS}\"");
    if python
        .info
        .executable
        .to_string_lossy()
        .contains("/.pyenv/versions/")
    {
        advice.push_str(&format!(
            " (pyenv: PYTHON_CFLAGS=\"{FP_CFLAGS}\" pyenv install --force {})",
            python.info.version
        ));
    }
    advice.push_str(", then use -X perf with perf record -g");
    advice
}

fn build_line(python: &Python) -> String {
    let caps = &python.capabilities;
    let trampoline = match &caps.trampoline {
        Ok(()) => "perf trampoline compiled in".to_string(),
        Err(why) => why.clone(),
    };
    let fp = match caps.frame_pointer_problem() {
        None if caps.frame_pointers.leaf => {
            format!("frame pointers kept ({})", caps.frame_pointers.source)
        }
        None => format!(
            "frame pointers kept ({}), but not in leaf functions (-mno-omit-leaf-frame-pointer missing)",
            caps.frame_pointers.source
        ),
        Some(why) => why,
    };
    let jit = match &caps.perf_jit {
        Ok(()) => "perf_jit backend available".to_string(),
        Err(why) if caps.trampoline.is_ok() => why.clone(),
        Err(_) => "no perf_jit backend".to_string(),
    };
    format!("{trampoline}; {fp}; {jit}")
}

/// The report for one interpreter, and whether perf shows its functions in
/// at least one way.
pub fn render(python: &Python, tried: &[(Way, Tried)]) -> (String, bool) {
    let mut lines = vec![
        format!("{} at {}", python.label(), python.info.executable.display()),
        format!("  build: {}", build_line(python)),
    ];
    for (way, result) in tried {
        lines.push(match result {
            Tried::Ran(probe) => format!("  probe {way}: {}", probe.describe()),
            Tried::Unavailable(why) => format!("  probe {way}: not tried: {why}"),
            Tried::Failed(why) => format!("  probe {way}: failed: {why}"),
        });
    }
    let probe = |way: Way| {
        tried.iter().find_map(|(w, t)| match t {
            Tried::Ran(p) if *w == way => Some(p),
            _ => None,
        })
    };
    let working: Vec<Way> = Way::ALL
        .into_iter()
        .filter(|w| probe(*w).is_some_and(Probe::works))
        .collect();
    let name = command_name(python);
    let fp_broken = probe(Way::PerfMapFp).is_some_and(|p| !p.works());
    match working.first() {
        Some(&way) => {
            lines.push(format!("  answer: YES, with {way}:"));
            lines.extend(
                way.commands(&name)
                    .into_iter()
                    .map(|c| format!("      {c}")),
            );
            if fp_broken {
                let why = python
                    .capabilities
                    .frame_pointer_problem()
                    .unwrap_or_else(|| "see the probe".into());
                lines.push(format!(
                    "  note: -X perf with perf record -g does not work here ({why}); to use it, {}",
                    rebuild_advice(python)
                ));
            }
        }
        None => {
            lines.push(
                "  answer: NO, perf will not show your Python functions with this interpreter"
                    .into(),
            );
            match &python.capabilities.trampoline {
                Err(_) => lines.push(format!(
                    "  fix: use CPython 3.12+ built for Linux x86_64 or aarch64 (3.13+ for -X perf_jit); or {}",
                    rebuild_advice(python)
                )),
                Ok(()) => {
                    let jit = if python.capabilities.perf_jit.is_ok() {
                        "check the perf_jit probe above (perf inject --jit must work)"
                    } else {
                        "or use CPython 3.13+ with -X perf_jit and perf record -k 1 --call-graph dwarf + perf inject --jit"
                    };
                    lines.push(format!("  fix: {}; {jit}", rebuild_advice(python)));
                }
            }
        }
    }
    // The flags are a claim; say so when the probe contradicts them.
    if let Some(fp) = probe(Way::PerfMapFp) {
        let flags_say = python.capabilities.frame_pointer_problem().is_none();
        if flags_say && !fp.works() {
            lines.push(
                "  note: the build flags keep frame pointers, yet the -X perf probe shows no \
                 full chain: a library or the compiler may still omit them"
                    .into(),
            );
        } else if !flags_say && fp.works() {
            lines.push(
                "  note: the -X perf probe shows the full chain although the recorded build \
                 flags do not keep frame pointers: the probe wins"
                    .into(),
            );
        }
    }
    (lines.join("\n") + "\n", !working.is_empty())
}

/// Tries one way on `python` with a probe run.
pub fn try_way(ctx: &Context, python: &Python, way: Way) -> Tried {
    if let Err(why) = &python.capabilities.trampoline {
        return Tried::Unavailable(why.clone());
    }
    if way == Way::JitDwarf {
        if let Err(why) = &python.capabilities.perf_jit {
            return Tried::Unavailable(why.clone());
        }
    }
    let case = match probe::probe_case(ctx.root, way) {
        Ok(case) => case,
        Err(why) => return Tried::Failed(why),
    };
    match judge::observe_run(ctx, &case, None, &python.info.executable) {
        Ok(obs) => Tried::Ran(Probe::from_observation(way, &obs)),
        Err(e) => Tried::Failed(e.to_string()),
    }
}

/// Runs `doctor --python`: exit 0 when perf shows the functions in some
/// way, 1 when in none, 2 when the Python is not found or perf cannot
/// sample.
pub fn run(root: &Path, given: &str) -> Status {
    let python = match detect::find(given) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return Status::Environment;
        }
    };
    let perf = Path::new("perf");
    if let Err(e) = crate::doctor::probe_sampling(perf) {
        eprintln!("cannot probe {}: {e}", python.label());
        return Status::Environment;
    }
    let ctx = Context { root, perf };
    let tried: Vec<(Way, Tried)> = Way::ALL
        .into_iter()
        .map(|way| (way, try_way(&ctx, &python, way)))
        .collect();
    let (text, works) = render(&python, &tried);
    print!("{text}");
    if works {
        Status::Passed
    } else {
        Status::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::detect::{parse_build_info, Capabilities};

    fn python(version: &str, cflags: &str) -> Python {
        let text = format!(
            "executable=/root/.pyenv/versions/{version}/bin/python3\nimplementation=cpython\n\
             version={version}\nvar PY_HAVE_PERF_TRAMPOLINE=1\nvar PY_CFLAGS={cflags}\n"
        );
        let info = parse_build_info(&text).unwrap();
        Python {
            given: "python3".into(),
            capabilities: Capabilities::of(&info),
            info,
        }
    }

    fn probe(way: Way, chain: usize, samples: usize) -> (Way, Tried) {
        (
            way,
            Tried::Ran(Probe {
                way,
                samples,
                chain_samples: chain,
                other: None,
                map_entries: 4,
                jitdump: (way == Way::JitDwarf).then_some(4),
            }),
        )
    }

    #[test]
    fn no_frame_pointers_and_no_perf_jit_answers_no_with_the_rebuild() {
        let py = python("3.12.1", "-O3");
        let tried = [
            probe(Way::PerfMapFp, 0, 3000),
            (Way::JitDwarf, Tried::Unavailable("no perf_jit".into())),
        ];
        let (text, works) = render(&py, &tried);
        assert!(!works);
        assert!(
            text.starts_with("cpython-3.12.1 at /root/.pyenv/versions/3.12.1/bin/python3\n"),
            "{text}"
        );
        assert!(text.contains("  answer: NO, perf will not show"), "{text}");
        assert!(
            text.contains(
                "  fix: rebuild it with frame pointers: ./configure CFLAGS=\"-fno-omit-frame-pointer \
                 -mno-omit-leaf-frame-pointer\" (pyenv: PYTHON_CFLAGS=\"-fno-omit-frame-pointer \
                 -mno-omit-leaf-frame-pointer\" pyenv install --force 3.12.1), then use -X perf with \
                 perf record -g; or use CPython 3.13+ with -X perf_jit"
            ),
            "{text}"
        );
        assert!(text.contains("  probe -X perf_jit with perf record -k 1 --call-graph dwarf + perf inject --jit: not tried: no perf_jit\n"), "{text}");
    }

    #[test]
    fn a_working_perf_jit_answers_yes_with_its_commands_and_notes_the_fp_fix() {
        let py = python("3.13.0", "-O3");
        let tried = [
            probe(Way::PerfMapFp, 0, 3000),
            probe(Way::JitDwarf, 2800, 3000),
        ];
        let (text, works) = render(&py, &tried);
        assert!(works);
        assert!(text.contains("  answer: YES, with -X perf_jit with perf record -k 1 --call-graph dwarf + perf inject --jit:\n      perf record -F 9999 -k 1 --call-graph dwarf -- /root/.pyenv/versions/3.13.0/bin/python3 -X perf_jit app.py\n      perf inject --jit"), "{text}");
        assert!(
            text.contains(
                "  note: -X perf with perf record -g does not work here (no frame pointers"
            ),
            "{text}"
        );
    }

    #[test]
    fn frame_pointers_answer_yes_with_x_perf_and_contradictions_are_told() {
        let py = python(
            "3.12.1",
            "-O3 -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer",
        );
        let (text, works) = render(&py, &[probe(Way::PerfMapFp, 2900, 3000)]);
        assert!(works);
        assert!(text.contains("  answer: YES, with -X perf with perf record -g:\n      perf record -F 9999 -g -- /root/.pyenv/versions/3.12.1/bin/python3 -X perf app.py"), "{text}");
        assert!(!text.contains("note:"), "{text}");
        let (text, works) = render(&py, &[probe(Way::PerfMapFp, 0, 3000)]);
        assert!(!works);
        assert!(
            text.contains("note: the build flags keep frame pointers, yet"),
            "{text}"
        );
        let plain = python("3.12.1", "-O3");
        let (text, works) = render(&plain, &[probe(Way::PerfMapFp, 2900, 3000)]);
        assert!(works);
        assert!(
            text.contains("note: the -X perf probe shows the full chain although"),
            "{text}"
        );
    }

    #[test]
    fn failed_probes_are_reported_and_do_not_count() {
        let py = python("3.13.0", "-O3");
        let tried = [
            probe(Way::PerfMapFp, 0, 3000),
            (Way::JitDwarf, Tried::Failed("perf inject failed".into())),
        ];
        let (text, works) = render(&py, &tried);
        assert!(!works);
        assert!(text.contains(": failed: perf inject failed\n"), "{text}");
        assert!(text.contains("check the perf_jit probe above"), "{text}");
    }
}
