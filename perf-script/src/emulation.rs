//! Whether this program runs under user-mode emulation (qemu-user: an
//! aarch64 test binary on an x86_64 kernel). perf on the host then samples
//! the emulator's translated code, never this program's, so perf checks
//! cannot mean anything here; tests that meet other emulator limits ask too.
//!
//! Detection needs no help from whoever started the program: qemu-user
//! reports the guest's architecture through `uname`, but the kernel's own
//! `/proc/sys/kernel/arch` (Linux 6.1+) is read straight from the host. On
//! older kernels `/proc/cpuinfo`, which qemu-user 7 does not rewrite for
//! aarch64 guests, tells the CPU family apart.

use std::env::consts::ARCH;

/// `Some(reason)` when this program's architecture is not the kernel's.
pub fn user_mode_emulation() -> Option<String> {
    let kernel = kernel_arch()?;
    (kernel != ARCH).then(|| {
        format!(
            "this {ARCH} program runs under user-mode emulation on a {kernel} kernel (qemu-user)"
        )
    })
}

fn kernel_arch() -> Option<String> {
    if let Ok(arch) = std::fs::read_to_string("/proc/sys/kernel/arch") {
        return Some(arch.trim().to_owned());
    }
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    cpu_family(&cpuinfo).map(str::to_owned)
}

/// The architecture `/proc/cpuinfo` describes, from the fields only that
/// architecture's kernel prints.
fn cpu_family(cpuinfo: &str) -> Option<&'static str> {
    let has = |field: &str| cpuinfo.lines().any(|l| l.starts_with(field));
    if has("vendor_id") {
        Some("x86_64")
    } else if has("CPU implementer") {
        Some("aarch64")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpuinfo_names_the_family_by_its_own_fields() {
        assert_eq!(
            cpu_family("processor\t: 0\nvendor_id\t: AuthenticAMD\n"),
            Some("x86_64")
        );
        assert_eq!(
            cpu_family("processor\t: 0\nCPU implementer\t: 0x41\n"),
            Some("aarch64")
        );
        assert_eq!(cpu_family("hart\t: 0\n"), None);
    }

    #[test]
    fn the_kernel_names_its_architecture() {
        let kernel =
            kernel_arch().expect("neither /proc/sys/kernel/arch nor /proc/cpuinfo names it");
        assert!(["x86_64", "aarch64"].contains(&kernel.as_str()), "{kernel}");
    }
}
