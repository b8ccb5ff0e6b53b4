//! Probe runs: the seed script (`<module> > baz > bar > foo`, nearly all
//! time in `foo`) run briefly under one way of profiling, and what perf
//! showed of it. `harness doctor --python` bases its answers on these, not
//! only on the build flags.

use crate::cases::{Case, Unwind};
use crate::normalize::{fold_stack, Observation};
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
        expect: Default::default(),
        python: Default::default(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::ProcessObservation;
    use crate::run::Exit;

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
}
