//! `harness doctor --python <path>`: will `perf` show my Python functions
//! with this interpreter, with which flags, and if not, what to do?
//!
//! The build is read first (trampoline, frame pointers, perf_jit), then each
//! way of profiling the build offers ([`Way`]) is tried for real: a probe
//! run of the seed script (`<module> > baz > bar > foo`, nearly all time in
//! `foo`) through the same pipeline as the cases. The answer follows the
//! probes, and says so when they contradict the build flags.

use crate::cases::{fold_stack, Case, Unwind};
use crate::error::{Error, Status};
use crate::observe::{observe, Observation};
use crate::profile::profile;
use crate::runtime::cpython::{self, rebuild_advice, Python};
use crate::runtime::Runtime;
use perf_script::Perf;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One way a Python user can ask perf for Python frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Way {
    /// `python -X perf` + `perf record -g`: the perf map, frame pointers.
    PerfMapFp,
    /// `python -X perf_jit` + `perf record -k 1 --call-graph dwarf` +
    /// `perf inject --jit`: the jitdump, DWARF unwinding.
    JitDwarf,
}

impl Way {
    pub const ALL: [Way; 2] = [Way::PerfMapFp, Way::JitDwarf];

    /// The interpreter option.
    pub fn option(self) -> &'static str {
        match self {
            Way::PerfMapFp => "-X perf",
            Way::JitDwarf => "-X perf_jit",
        }
    }

    /// The interpreter arguments and the unwinding of the probe run.
    pub fn setup(self) -> (&'static [&'static str], Unwind) {
        match self {
            Way::PerfMapFp => (&["-X", "perf"], Unwind::Fp),
            Way::JitDwarf => (&["-X", "perf_jit"], Unwind::Jit),
        }
    }

    /// The commands a user runs, for `python` running `app.py`.
    pub fn commands(self, python: &str) -> Vec<String> {
        match self {
            Way::PerfMapFp => vec![format!(
                "perf record -F 9999 -g -- {python} -X perf app.py && perf report"
            )],
            Way::JitDwarf => vec![
                format!(
                    "perf record -F 9999 -k 1 --call-graph dwarf -- {python} -X perf_jit app.py"
                ),
                "perf inject --jit -i perf.data -o perf.jit.data && perf report -i perf.jit.data"
                    .to_string(),
            ],
        }
    }
}

impl fmt::Display for Way {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Way::PerfMapFp => f.write_str("-X perf with perf record -g"),
            Way::JitDwarf => f.write_str(
                "-X perf_jit with perf record -k 1 --call-graph dwarf + perf inject --jit",
            ),
        }
    }
}

/// The stack the seed script must show.
pub const SEED_CHAIN: [&str; 4] = ["<module>", "baz", "bar", "foo"];

/// The seed script, shared with the cases.
pub fn seed_script(root: &Path) -> PathBuf {
    root.join("cases")
        .join(crate::cases::SCRIPTS_DIR)
        .join("seed.py")
}

/// Iterations of the probe: a few tenths of a second on CPython.
pub const PROBE_ITERATIONS: &str = "3000000";

/// The probe as a case, so it runs through the same pipeline as the cases
/// (the same perf commands, the files in /tmp read and removed).
pub fn probe_case(root: &Path, way: Way) -> Result<Case, String> {
    let script = seed_script(root);
    if !script.is_file() {
        return Err(format!("the seed script {} is missing", script.display()));
    }
    let (args, unwind) = way.setup();
    Ok(Case {
        name: "doctor-probe".into(),
        file: PathBuf::from("(doctor probe)"),
        description: format!("the seed script with {way}"),
        script,
        script_name: "seed.py".into(),
        interpreter_args: args.iter().map(|s| s.to_string()).collect(),
        args: vec![PROBE_ITERATIONS.into()],
        env: Default::default(),
        unwind,
        variants: Vec::new(),
        per_arch_snapshot: false,
        max_stack: None,
        min_samples: 1,
        timeout: std::time::Duration::from_secs(crate::cases::DEFAULT_TIMEOUT),
        expect: Default::default(),
        rules: BTreeMap::new(),
        arch: BTreeMap::new(),
    })
}

/// What one probe run showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    pub way: Way,
    /// Samples of the main process.
    pub samples: usize,
    /// Samples whose `py::` stack is exactly the seed chain.
    pub chain_samples: usize,
    /// The most common `py::` stack besides the chain, and its samples: what
    /// perf shows instead when the chain breaks.
    pub other: Option<(String, usize)>,
    /// Entries of the main process's perf map (0: none written).
    pub map_entries: usize,
    /// Code loads of the script in the main process's jitdump, if it wrote
    /// one.
    pub jitdump: Option<usize>,
}

impl Probe {
    /// Reads a probe from a run of the seed script (own frames only).
    pub fn from_observation(way: Way, obs: &Observation) -> Probe {
        let main = obs.processes.first().cloned().unwrap_or_default();
        let chain: Vec<String> = SEED_CHAIN.iter().map(|s| s.to_string()).collect();
        let chain_samples = main
            .stacks
            .iter()
            .filter(|(s, _)| *s == chain)
            .map(|(_, n)| n)
            .sum();
        let other = main
            .stacks
            .iter()
            .filter(|(s, _)| *s != chain)
            .max_by_key(|(_, n)| *n)
            .map(|(s, n)| (fold_stack(s), *n));
        Probe {
            way,
            samples: main.samples,
            chain_samples,
            other,
            map_entries: main.map.as_ref().map_or(0, Vec::len),
            jitdump: main.dump.as_ref().map(Vec::len),
        }
    }

    /// The chain is there, on at least half of the samples (the seed script
    /// spends nearly all its time in `foo`).
    pub fn works(&self) -> bool {
        self.samples > 0 && self.chain_samples * 2 >= self.samples
    }

    fn percent(&self, n: usize) -> String {
        if self.samples == 0 {
            "0%".into()
        } else {
            format!("{:.0}%", n as f64 * 100.0 / self.samples as f64)
        }
    }

    /// One line: what perf showed.
    pub fn describe(&self) -> String {
        let chain = SEED_CHAIN.join(" > ");
        let shown = if self.chain_samples > 0 {
            format!(
                "{} of {} samples show {chain}",
                self.percent(self.chain_samples),
                self.samples
            )
        } else {
            format!("no sample of {} shows {chain}", self.samples)
        };
        let instead = match &self.other {
            Some((stack, n)) if !self.works() => {
                format!("; most common instead: {stack} ({})", self.percent(*n))
            }
            None if !self.works() => "; no sample has a py:: frame of the script".into(),
            _ => String::new(),
        };
        let files = match (self.map_entries, self.jitdump) {
            (0, None) => "no perf map, no jitdump written".to_string(),
            (0, Some(d)) => format!("jitdump written ({d} code loads for the script)"),
            (n, None) => format!("perf map written ({n} entries for the script)"),
            (n, Some(d)) => format!("perf map ({n} entries) and jitdump ({d} code loads) written"),
        };
        format!("{shown}{instead} ({files})")
    }
}

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
    let on_path = cpython::candidates(&python.given, std::env::var_os("PATH").as_deref(), None);
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
pub fn try_way(root: &Path, perf: &Perf, python: &Python, way: Way) -> Tried {
    if let Err(why) = &python.capabilities.trampoline {
        return Tried::Unavailable(why.clone());
    }
    if way == Way::JitDwarf {
        if let Err(why) = &python.capabilities.perf_jit {
            return Tried::Unavailable(why.clone());
        }
    }
    let case = match probe_case(root, way) {
        Ok(case) => case,
        Err(why) => return Tried::Failed(why),
    };
    match profile(&case, python, perf, false) {
        Ok(profiled) => Tried::Ran(Probe::from_observation(
            way,
            &observe(&profiled.recording, python),
        )),
        Err(e) => Tried::Failed(e.to_string()),
    }
}

/// Runs `doctor --python`: exit 0 when perf shows the functions in some
/// way, 1 when in none, 2 when the Python is not found or perf cannot
/// sample.
pub fn run(root: &Path, given: &str) -> Result<Status, Error> {
    let python = cpython::find(given)?;
    let perf = Perf::new("perf");
    perf.probe()?;
    let tried: Vec<(Way, Tried)> = Way::ALL
        .into_iter()
        .map(|way| (way, try_way(root, &perf, &python, way)))
        .collect();
    let (text, works) = render(&python, &tried);
    print!("{text}");
    Ok(Status::from_failures(!works))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observe::ProcessObservation;
    use crate::profile::Exit;

    fn obs(stacks: &[(&[&str], usize)], samples: usize, map: usize) -> Observation {
        let main = ProcessObservation {
            map: (map > 0).then(|| vec!["py::x:$CASE/seed.py".to_string(); map]),
            samples,
            stacks: stacks
                .iter()
                .map(|(s, n)| (s.iter().map(|f| f.to_string()).collect(), *n))
                .collect(),
            ..Default::default()
        };
        Observation {
            exit: Exit::Code(0),
            stdout: String::new(),
            stderr: String::new(),
            processes: vec![main],
            total_samples: samples,
        }
    }

    #[test]
    fn a_chain_on_most_samples_works() {
        let probe = Probe::from_observation(
            Way::JitDwarf,
            &obs(&[(&SEED_CHAIN, 900), (&["foo"], 30)], 1000, 0),
        );
        assert!(probe.works());
        assert_eq!(probe.chain_samples, 900);
        assert_eq!(
            probe.describe(),
            "90% of 1000 samples show <module> > baz > bar > foo (no perf map, no jitdump written)"
        );
        let mut with_dump = obs(&[(&SEED_CHAIN, 900)], 1000, 0);
        with_dump.processes[0].dump = Some(vec!["py::foo:$CASE/seed.py".into(); 4]);
        assert!(Probe::from_observation(Way::JitDwarf, &with_dump)
            .describe()
            .ends_with("(jitdump written (4 code loads for the script))"),);
    }

    #[test]
    fn fragments_or_nothing_do_not_work_and_say_what_was_seen() {
        let broken = Probe::from_observation(
            Way::PerfMapFp,
            &obs(&[(&["foo"], 800), (&SEED_CHAIN, 10)], 1000, 4),
        );
        assert!(!broken.works());
        assert_eq!(
            broken.describe(),
            "1% of 1000 samples show <module> > baz > bar > foo; most common instead: foo (80%) \
             (perf map written (4 entries for the script))"
        );
        let nothing = Probe::from_observation(Way::PerfMapFp, &obs(&[], 3000, 4));
        assert!(!nothing.works());
        assert_eq!(
            nothing.describe(),
            "no sample of 3000 shows <module> > baz > bar > foo; no sample has a py:: frame of \
             the script (perf map written (4 entries for the script))"
        );
        assert!(!Probe::from_observation(Way::PerfMapFp, &obs(&[], 0, 0)).works());
    }

    #[test]
    fn each_way_names_its_commands() {
        assert_eq!(
            Way::PerfMapFp.commands("python3.12"),
            ["perf record -F 9999 -g -- python3.12 -X perf app.py && perf report"]
        );
        let jit = Way::JitDwarf.commands("python3.13");
        assert_eq!(jit.len(), 2);
        assert!(jit[0].contains("-k 1 --call-graph dwarf -- python3.13 -X perf_jit app.py"));
        assert!(jit[1].starts_with("perf inject --jit"));
    }

    use crate::runtime::cpython::{parse_build_info, Capabilities};

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
