//! Can this perf run the `jit` cases? `perf inject --jit` needs perf built
//! with libelf (it writes the `jitted-*.so` files), and `--call-graph dwarf`
//! needs a DWARF unwinder (libunwind or libdw); `perf version
//! --build-options` says which were built in.

use super::{ok, problem, Finding};
use std::path::Path;
use std::process::Command;

const REBUILD: &str =
    "install a distribution perf (Debian: linux-perf), which has libelf and libdw or libunwind";

/// Whether `feature` shows `[ on  ]` in `perf version --build-options`.
fn is_on(build_options: &str, feature: &str) -> bool {
    build_options.lines().any(|line| {
        line.split_once(':')
            .is_some_and(|(name, state)| name.trim() == feature && state.contains("on"))
    })
}

/// What the build options allow, or what is missing.
pub fn jit_support(build_options: &str) -> Result<String, String> {
    if !is_on(build_options, "libelf") {
        return Err("perf lacks libelf: `perf inject --jit` cannot write jitted code".into());
    }
    let unwinders: Vec<&str> = ["libunwind", "libdw-dwarf-unwind"]
        .into_iter()
        .filter(|u| is_on(build_options, u))
        .collect();
    if unwinders.is_empty() {
        return Err(
            "perf has no DWARF unwinder (libunwind, libdw): --call-graph dwarf cannot unwind"
                .into(),
        );
    }
    Ok(format!(
        "perf inject --jit (libelf) and --call-graph dwarf ({})",
        unwinders.join(", ")
    ))
}

/// The doctor's finding on the jitdump workflow.
pub(super) fn jit_finding(perf: &Path) -> Finding {
    let output = Command::new(perf)
        .args(["version", "--build-options"])
        .output();
    let text = match output {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        _ => {
            let why = "`perf version --build-options` failed".to_string();
            return problem("jit", why, REBUILD);
        }
    };
    match jit_support(&text) {
        Ok(detail) => ok("jit", detail),
        Err(why) => problem("jit", why, REBUILD),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &str = "perf version 6.1.187
                 dwarf: [ on  ]  # HAVE_DWARF_SUPPORT
                libelf: [ on  ]  # HAVE_LIBELF_SUPPORT
             libunwind: [ OFF ]  # HAVE_LIBUNWIND_SUPPORT
    libdw-dwarf-unwind: [ on  ]  # HAVE_DWARF_SUPPORT
";

    #[test]
    fn build_options_decide_jit_support() {
        assert_eq!(
            jit_support(OPTIONS).unwrap(),
            "perf inject --jit (libelf) and --call-graph dwarf (libdw-dwarf-unwind)"
        );
        let no_elf = OPTIONS.replace("libelf: [ on  ]", "libelf: [ OFF ]");
        assert!(jit_support(&no_elf).unwrap_err().contains("lacks libelf"));
        let no_unwinder =
            OPTIONS.replace("libdw-dwarf-unwind: [ on  ]", "libdw-dwarf-unwind: [ OFF ]");
        assert!(jit_support(&no_unwinder)
            .unwrap_err()
            .contains("no DWARF unwinder"));
    }
}
