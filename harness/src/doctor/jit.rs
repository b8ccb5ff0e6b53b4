//! Can this perf run the `jit` cases? `perf inject --jit` needs perf built
//! with libelf (it writes the `jitted-*.so` files), and `--call-graph dwarf`
//! needs a DWARF unwinder (libunwind or libdw); `perf version
//! --build-options` says which were built in, and a real DWARF recording
//! says whether the kernel takes it. On arm64 two hazards are named: SVE
//! (perf 6.1 asks for the SVE `VG` register with DWARF samples, which the
//! kernel refuses for `cpu-clock`) and pointer authentication (perf 6.1's
//! DWARF unwinder does not strip signed return addresses).

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
    let detail = match jit_support(&text) {
        Ok(detail) => detail,
        Err(why) => return problem("jit", why, REBUILD),
    };
    match perf_script::Perf::new(perf).probe_call_graph(perf_script::CallGraph::Jit) {
        Ok(n) => ok(
            "jit",
            format!("{detail}; a DWARF recording got {n} samples"),
        ),
        Err(e) => {
            let features =
                cpu_features(&std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default());
            let (why, fix) = dwarf_failure(&e.to_string(), &features);
            problem("jit", why, &fix)
        }
    }
}

/// The CPU's feature flags (`Features` on arm64, `flags` on x86_64).
pub fn cpu_features(cpuinfo: &str) -> Vec<String> {
    cpuinfo
        .lines()
        .find(|l| l.starts_with("Features") || l.starts_with("flags"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, list)| list.split_whitespace().map(String::from).collect())
        .unwrap_or_default()
}

/// Why a DWARF recording failed, and what to do.
pub fn dwarf_failure(error: &str, features: &[String]) -> (String, String) {
    let refused = error.contains("doesn't support sampling");
    if refused && features.iter().any(|f| f == "sve") {
        return (
            format!("--call-graph dwarf with cpu-clock is refused on this SVE CPU: perf asks for the SVE VG register, which the kernel does not give software events ({error})"),
            "use a perf that leaves VG out of DWARF samples, or `-e cycles` where the PMU can sample; fp cases (perf map) are not affected".into(),
        );
    }
    (
        format!("--call-graph dwarf cannot record: {error}"),
        REBUILD.into(),
    )
}

/// On arm64 with pointer authentication: what that means for the jit
/// cases (`None` elsewhere).
pub fn pointer_auth_finding(arch: &str, features: &[String]) -> Option<Finding> {
    (arch == "aarch64" && features.iter().any(|f| f == "paca" || f == "pacg")).then(|| {
        ok(
            "pointer auth",
            "return addresses are signed (PAC); perf 6.1's DWARF unwinder does not strip them, so a \
             sample in the vDSO loses its callers under --call-graph dwarf (jit cases); frame \
             pointers (perf map) are not affected"
                .into(),
        )
    })
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
    fn sve_and_pointer_auth_are_named_on_arm64() {
        let graviton = "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm jscvt fcma lrcpc dcpop sha3 sm3 sm4 asimddp sha512 sve asimdfhm dit uscat ilrcpc flagm ssbs paca pacg dcpodp svei8mm svebf16 i8mm bf16 dgh rng\n";
        let features = cpu_features(graviton);
        assert!(features.contains(&"sve".to_string()) && features.contains(&"paca".to_string()));
        let error = "`perf record` failed: cpu-clock: PMU Hardware doesn't support sampling/overflow-interrupts. Try 'perf stat'";
        let (why, fix) = dwarf_failure(error, &features);
        assert!(
            why.starts_with("--call-graph dwarf with cpu-clock is refused on this SVE CPU"),
            "{why}"
        );
        assert!(fix.contains("-e cycles"), "{fix}");
        let (why, _) = dwarf_failure(error, &cpu_features("flags\t: fpu vme avx2\n"));
        assert!(why.starts_with("--call-graph dwarf cannot record"), "{why}");
        let pac = pointer_auth_finding("aarch64", &features).unwrap();
        assert!(pac.ok && pac.detail.contains("vDSO"), "{pac}");
        assert!(pointer_auth_finding("x86_64", &features).is_none());
        assert!(
            pointer_auth_finding("aarch64", &cpu_features("Features\t: fp asimd sve\n")).is_none()
        );
    }

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
