//! minipy, the reference runtime: the interpreter of this project, whose
//! runs the snapshots record. Each [`Variant`] of a case is a [`Build`]
//! (with frame pointers, or the control build without) and a trampoline
//! implementation, picked with `MINIPY_TRAMPOLINE`.
//!
//! The builds go into their own target folders under `target/harness/`, so
//! the user's own build is neither disturbed nor trusted. The frame-pointer
//! flags are set explicitly (contract §8): a user's `RUSTFLAGS`,
//! `CARGO_ENCODED_RUSTFLAGS` or `CFLAGS` could otherwise silently drop them,
//! and the control build must really lack them.

use super::{py_qualname, Invocation, Runtime, Support};
use crate::cases::{Case, Unwind, Variant};
use crate::error::Error;
use std::path::{Path, PathBuf};

/// The package that is minipy.
pub const PACKAGE: &str = "minipy";

/// Which binary runs the case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Build {
    /// Rust and C compiled with frame pointers (contract §8).
    Fp,
    /// The control build: frame pointers omitted in Rust and in C.
    NoFp,
}

impl Build {
    pub const ALL: [Build; 2] = [Build::Fp, Build::NoFp];

    pub fn of(variant: Variant) -> Build {
        match variant {
            Variant::C | Variant::Rust => Build::Fp,
            Variant::NoFpC | Variant::NoFpRust => Build::NoFp,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Build::Fp => "fp",
            Build::NoFp => "nofp",
        }
    }

    /// What progress lines and reports call it.
    pub fn description(self) -> &'static str {
        match self {
            Build::Fp => "with frame pointers",
            Build::NoFp => "without frame pointers (control)",
        }
    }

    fn rustflags(self) -> &'static str {
        match self {
            Build::Fp => "-C force-frame-pointers=yes",
            Build::NoFp => "-C force-frame-pointers=no",
        }
    }

    /// `<root>/target/harness/<fp|nofp>`.
    pub fn target_dir(self, root: &Path) -> PathBuf {
        root.join("target").join("harness").join(self.name())
    }

    /// Where its release binary ends up.
    pub fn binary(self, root: &Path) -> PathBuf {
        self.target_dir(root).join("release").join(PACKAGE)
    }

    /// The environment changes of the build: (variable, `Some(value)` to set
    /// or `None` to remove).
    pub fn environment(self) -> Vec<(&'static str, Option<&'static str>)> {
        vec![
            ("RUSTFLAGS", Some(self.rustflags())),
            // Takes precedence over RUSTFLAGS when set.
            ("CARGO_ENCODED_RUSTFLAGS", None),
            ("CARGO_BUILD_RUSTFLAGS", None),
            // The cc crate appends these after the build script's own flags.
            ("CFLAGS", None),
            ("TARGET_CFLAGS", None),
            (
                "TRAMPOLINE_C_OMIT_FRAME_POINTER",
                (self == Build::NoFp).then_some("1"),
            ),
        ]
    }

    /// Builds minipy in release mode (or, with `build == false`, finds the
    /// binary an earlier build left) and returns the binary.
    pub fn make(self, root: &Path, build: bool) -> Result<PathBuf, Error> {
        let binary = self.binary(root);
        if !build {
            return match binary.is_file() {
                true => Ok(binary),
                false => Err(Error::Environment(format!(
                    "{} is not built: run without --no-build",
                    binary.display()
                ))),
            };
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut command = std::process::Command::new(&cargo);
        command
            .args([
                "build",
                "--release",
                "--quiet",
                "-p",
                PACKAGE,
                "--target-dir",
            ])
            .arg(self.target_dir(root))
            .current_dir(root);
        for (name, value) in self.environment() {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        let failed = |why: String| {
            Error::Environment(format!(
                "building {PACKAGE} {} failed: {why}",
                self.description()
            ))
        };
        let output =
            perf_script::output(command, BUILD_LIMIT).map_err(|e| failed(format!("{e:?}")))?;
        if !output.status.success() {
            let text = String::from_utf8_lossy(&output.stderr);
            let lines: Vec<&str> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(30)..].join("\n");
            return Err(failed(format!("\n{tail}")));
        }
        match binary.is_file() {
            true => Ok(binary),
            false => Err(failed(format!("cargo left no {}", binary.display()))),
        }
    }
}

/// A cold release build of minipy takes about a minute here; a build that
/// takes ten is stuck.
const BUILD_LIMIT: std::time::Duration = std::time::Duration::from_secs(600);

/// One variant of minipy, built.
#[derive(Clone, Debug)]
pub struct Minipy {
    pub variant: Variant,
    pub binary: PathBuf,
}

/// The trampoline implementation a variant tells minipy to use
/// (`MINIPY_TRAMPOLINE`, as `-X trampoline=` would).
fn trampoline(variant: Variant) -> &'static str {
    match variant {
        Variant::C | Variant::NoFpC => "c",
        Variant::Rust | Variant::NoFpRust => "rust",
    }
}

/// The command line the snapshots show for a case: minipy's.
pub fn command_line(case: &Case) -> String {
    let mut line = vec![PACKAGE.to_string()];
    line.extend(case.interpreter_args.iter().cloned());
    line.extend(case.script_line());
    line.join(" ")
}

impl Runtime for Minipy {
    fn label(&self) -> String {
        self.variant.to_string()
    }

    fn describe(&self) -> (String, String) {
        let build = Build::of(self.variant);
        (
            self.binary.display().to_string(),
            format!(
                "{} trampoline, built {}",
                trampoline(self.variant),
                build.description()
            ),
        )
    }

    fn is_reference(&self) -> bool {
        true
    }

    fn runs(&self, case: &Case) -> bool {
        case.variants.contains(&self.variant)
    }

    fn support(&self, _unwind: Unwind) -> Support {
        // The control build fails frame-pointer unwinding on purpose: its
        // cases expect exactly that.
        Support::Full
    }

    fn invocation(&self, case: &Case) -> Invocation {
        Invocation {
            program: self.binary.clone(),
            options: case.interpreter_args.clone(),
            env: [(
                "MINIPY_TRAMPOLINE".to_string(),
                trampoline(self.variant).to_string(),
            )]
            .into(),
            scrubbed: &["PYTHON", "MINIPY_"],
        }
    }

    fn qualname<'s>(&self, symbol: &'s str) -> Option<&'s str> {
        py_qualname(symbol)
    }

    fn is_own(&self, _name: &str) -> bool {
        // Every function minipy runs is the script's.
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::tests_support::case;

    #[test]
    fn each_build_sets_its_flags_explicitly() {
        let fp = Build::Fp.environment();
        assert!(fp.contains(&("RUSTFLAGS", Some("-C force-frame-pointers=yes"))));
        assert!(fp.contains(&("TRAMPOLINE_C_OMIT_FRAME_POINTER", None)));
        assert!(fp.contains(&("CARGO_ENCODED_RUSTFLAGS", None)));
        let nofp = Build::NoFp.environment();
        assert!(nofp.contains(&("RUSTFLAGS", Some("-C force-frame-pointers=no"))));
        assert!(nofp.contains(&("TRAMPOLINE_C_OMIT_FRAME_POINTER", Some("1"))));
        assert_eq!(
            Build::NoFp.binary(Path::new("/r")),
            Path::new("/r/target/harness/nofp/release/minipy")
        );
    }

    #[test]
    fn a_variant_runs_the_case_with_its_trampoline() {
        let mut case = case("demo", &["-X", "perf"], &["10"]);
        assert_eq!(command_line(&case), "minipy -X perf x.py 10");
        case.variants.push(Variant::NoFpRust);
        let minipy = Minipy {
            variant: Variant::NoFpRust,
            binary: "/b/minipy".into(),
        };
        let invocation = minipy.invocation(&case);
        assert_eq!(invocation.options, ["-X", "perf"]);
        assert_eq!(invocation.env["MINIPY_TRAMPOLINE"], "rust");
        assert!(minipy.runs(&case) && minipy.is_reference());
        assert_eq!(minipy.label(), "nofp-rust");
        assert_eq!(
            minipy.describe().1,
            "rust trampoline, built without frame pointers (control)"
        );
    }
}
