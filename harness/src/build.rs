//! Builds the interpreters under test with `cargo`, each into its own target
//! folder under `target/harness/`, so the user's own build is neither
//! disturbed nor trusted.
//!
//! The frame-pointer flags are set explicitly (SPEC §8): a user's `RUSTFLAGS`,
//! `CARGO_ENCODED_RUSTFLAGS` or `CFLAGS` could otherwise silently drop them,
//! and the control build must really lack them.

use crate::cases::Build;
use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// The package the harness tests.
pub const PACKAGE: &str = "minipy";

impl Build {
    pub fn name(self) -> &'static str {
        match self {
            Build::Fp => "fp",
            Build::NoFp => "nofp",
        }
    }

    /// What `--help` and progress lines call it.
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
}

/// `<root>/target/harness/<fp|nofp>`.
pub fn target_dir(root: &Path, build: Build) -> PathBuf {
    root.join("target").join("harness").join(build.name())
}

/// Where the release binary of `build` ends up.
pub fn binary(root: &Path, build: Build) -> PathBuf {
    target_dir(root, build).join("release").join(PACKAGE)
}

/// The environment changes of a build: (variable, `Some(value)` to set or
/// `None` to remove).
pub fn environment(build: Build) -> Vec<(&'static str, Option<&'static str>)> {
    let mut env = vec![
        ("RUSTFLAGS", Some(build.rustflags())),
        // Takes precedence over RUSTFLAGS when set.
        ("CARGO_ENCODED_RUSTFLAGS", None),
        ("CARGO_BUILD_RUSTFLAGS", None),
        // The cc crate appends these after the build script's own flags.
        ("CFLAGS", None),
        ("TARGET_CFLAGS", None),
    ];
    env.push((
        "TRAMPOLINE_C_OMIT_FRAME_POINTER",
        if build == Build::NoFp {
            Some("1")
        } else {
            None
        },
    ));
    env
}

/// Builds minipy for `build` in release mode and returns the binary.
pub fn build(root: &Path, build: Build) -> Result<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = target_dir(root, build);
    let args = [
        "build",
        "--release",
        "--quiet",
        "-p",
        PACKAGE,
        "--target-dir",
    ];
    let mut expr = duct::cmd(
        &cargo,
        args.iter()
            .map(|s| s.to_string())
            .chain([target.to_string_lossy().into_owned()]),
    )
    .dir(root)
    .stdin_null()
    .stderr_to_stdout()
    .stdout_capture()
    .unchecked();
    for (name, value) in environment(build) {
        expr = match value {
            Some(value) => expr.env(name, value),
            None => expr.env_remove(name),
        };
    }
    let output = expr
        .run()
        .with_context(|| format!("cannot run {}", Path::new(&cargo).display()))?;
    if !output.status.success() {
        let text = String::from_utf8_lossy(&output.stdout);
        let tail: Vec<&str> = text
            .lines()
            .rev()
            .take(30)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        bail!(
            "building {PACKAGE} {} failed:\n{}",
            build.description(),
            tail.join("\n")
        );
    }
    let binary = binary(root, build);
    if !binary.is_file() {
        bail!("cargo built {PACKAGE} but {} is missing", binary.display());
    }
    Ok(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_build_sets_its_flags_explicitly() {
        let fp = environment(Build::Fp);
        assert!(fp.contains(&("RUSTFLAGS", Some("-C force-frame-pointers=yes"))));
        assert!(fp.contains(&("TRAMPOLINE_C_OMIT_FRAME_POINTER", None)));
        assert!(fp.contains(&("CARGO_ENCODED_RUSTFLAGS", None)));
        let nofp = environment(Build::NoFp);
        assert!(nofp.contains(&("RUSTFLAGS", Some("-C force-frame-pointers=no"))));
        assert!(nofp.contains(&("TRAMPOLINE_C_OMIT_FRAME_POINTER", Some("1"))));
        assert_eq!(
            binary(Path::new("/r"), Build::NoFp),
            Path::new("/r/target/harness/nofp/release/minipy")
        );
    }
}
