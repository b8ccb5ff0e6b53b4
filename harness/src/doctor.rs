//! `harness doctor`: can this machine run the check, and do the built
//! interpreters really keep (or, for the control, drop) frame pointers?
//! Each finding is one `ok` / `problem` line with the fix. [`jit`] checks
//! that perf can run the jitdump workflow; [`python`] answers `doctor
//! --python` from probe runs.

pub mod jit;
pub mod python;

use crate::runtime::minipy::Build;
use regex::Regex;
use std::fmt;
use std::path::Path;
use std::process::Command;

/// One finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub topic: &'static str,
    pub ok: bool,
    pub detail: String,
    pub fix: Option<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.ok { "ok     " } else { "problem" };
        write!(f, "{status} {:<15} {}", self.topic, self.detail)?;
        if let Some(fix) = &self.fix {
            write!(f, "\n        {:<15} fix: {fix}", "")?;
        }
        Ok(())
    }
}

fn ok(topic: &'static str, detail: String) -> Finding {
    Finding {
        topic,
        ok: true,
        detail,
        fix: None,
    }
}

fn problem(topic: &'static str, detail: String, fix: &str) -> Finding {
    Finding {
        topic,
        ok: false,
        detail,
        fix: Some(fix.to_string()),
    }
}

fn read_proc(path: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
}

fn is_root() -> bool {
    let status = read_proc("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .any(|l| l.starts_with("Uid:") && l.split_whitespace().nth(2) == Some("0"))
}

const INSTALL_PERF: &str = "install perf for this kernel: Debian `apt-get install linux-perf`, \
    Ubuntu `apt-get install linux-tools-$(uname -r)`";

const PARANOID_FIX: &str = "sudo sysctl -w kernel.perf_event_paranoid=2 (lets users sample their own processes), or run as root";

/// What a `kernel.perf_event_paranoid` level allows a user who is not root.
pub fn paranoid_allows(level: i32) -> &'static str {
    match level {
        i32::MIN..=-1 => "everyone may sample everything",
        0 => "users may sample their own processes and whole CPUs, kernel included",
        1 => "users may sample their own processes, user and kernel space",
        2 => "users may sample their own processes in user space only (the event reads cpu-clock:u), which is all the harness needs",
        _ => "on kernels with Debian's or Ubuntu's restriction users may not use perf at all; other kernels treat it as 2",
    }
}

/// The level in force and what it allows; a problem only when sampling
/// does not work (`sampled` is the probe's answer).
fn paranoid_finding(sampled: bool) -> Finding {
    let Some(level) =
        read_proc("/proc/sys/kernel/perf_event_paranoid").and_then(|v| v.parse::<i32>().ok())
    else {
        return problem(
            "paranoid",
            "cannot read /proc/sys/kernel/perf_event_paranoid".into(),
            "run on Linux with perf events",
        );
    };
    let who = if is_root() {
        "running as root, which may sample at any level"
    } else {
        paranoid_allows(level)
    };
    let detail = format!("kernel.perf_event_paranoid = {level}: {who}");
    match sampled || is_root() {
        true => ok("paranoid", detail),
        false => problem("paranoid", detail, PARANOID_FIX),
    }
}

fn max_stack_finding(root: &Path) -> Finding {
    let needed = crate::cases::load_all(root)
        .ok()
        .and_then(|cases| cases.iter().filter_map(|c| c.max_stack).max());
    match (crate::session::kernel_max_stack(), needed) {
        (None, _) => {
            let what = "cannot read kernel.perf_event_max_stack".to_string();
            problem("max stack", what, "run on Linux with perf events")
        }
        (Some(actual), Some(needed)) if actual < needed => ok(
            "max stack",
            format!(
                "kernel.perf_event_max_stack = {actual}: the cases that need {needed} frames per sample are skipped \
                 (`sudo sysctl -w kernel.perf_event_max_stack={needed}` runs them)"
            ),
        ),
        (Some(actual), _) => ok(
            "max stack",
            format!("kernel.perf_event_max_stack = {actual} frames per sample"),
        ),
    }
}

/// Whether a disassembled prologue sets up a frame record: x86_64 `push
/// %rbp` + `mov %rsp,%rbp`; aarch64 `stp x29, x30, ...` + `mov/add x29, sp`.
pub fn has_frame_setup(arch: &str, disassembly: &str) -> bool {
    let text = disassembly.replace(char::is_whitespace, "");
    match arch {
        "x86_64" => text.contains("push%rbp") && text.contains("mov%rsp,%rbp"),
        "aarch64" => {
            text.contains("stpx29,x30")
                && (text.contains("movx29,sp") || text.contains("addx29,sp"))
        }
        _ => false,
    }
}

/// Names of the interpreter's evaluation functions: what must keep a frame
/// pointer for the `py::` chain to hold.
pub const EVAL_SYMBOL: &str = r"^minipy::eval::eval$";

/// The first instructions of every function of `binary` whose demangled name
/// matches `symbol`: `(name, disassembly)`.
pub fn prologues(binary: &Path, symbol: &Regex) -> Result<Vec<(String, String)>, String> {
    let nm = Command::new("nm")
        .args(["-C", "-S", "--defined-only"])
        .arg(binary)
        .output()
        .map_err(|e| format!("nm: {e}"))?;
    let mut found = Vec::new();
    for line in String::from_utf8_lossy(&nm.stdout).lines() {
        let mut parts = line.splitn(4, ' ');
        let (Some(addr), Some(size), Some(kind), Some(name)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if !matches!(kind, "T" | "t") || !symbol.is_match(name) {
            continue;
        }
        let (Ok(start), Ok(size)) = (u64::from_str_radix(addr, 16), u64::from_str_radix(size, 16))
        else {
            continue;
        };
        let out = Command::new("objdump")
            .args(["-d", "--no-show-raw-insn"])
            .arg(format!("--start-address={start:#x}"))
            .arg(format!("--stop-address={:#x}", start + size.min(48)))
            .arg(binary)
            .output()
            .map_err(|e| format!("objdump: {e}"))?;
        found.push((
            name.to_string(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ));
    }
    Ok(found)
}

/// The first `n` instructions of an objdump listing, `; `-separated.
pub fn first_instructions(disassembly: &str, n: usize) -> String {
    let instructions: Vec<String> = disassembly
        .lines()
        .filter_map(|l| {
            l.split_once(":\t")
                .map(|(_, i)| i.split_whitespace().collect::<Vec<_>>().join(" "))
        })
        .filter(|i| !i.is_empty())
        .take(n)
        .collect();
    instructions.join("; ")
}

fn frame_pointer_finding(root: &Path, build: Build) -> Finding {
    let binary = build.binary(root);
    let topic = match build {
        Build::Fp => "fp build",
        Build::NoFp => "nofp build",
    };
    if !binary.is_file() {
        return problem(
            topic,
            format!("{} not built yet", binary.display()),
            "run `harness check` (it builds it)",
        );
    }
    let symbol = Regex::new(EVAL_SYMBOL).expect("valid");
    let functions = match prologues(&binary, &symbol) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            return problem(
                topic,
                format!("no function matching {EVAL_SYMBOL} in {}", binary.display()),
                "update EVAL_SYMBOL in harness/src/doctor.rs",
            )
        }
        Err(e) => return problem(topic, e, "install binutils (nm, objdump)"),
    };
    let arch = std::env::consts::ARCH;
    let with: Vec<&str> = functions
        .iter()
        .filter(|(_, d)| has_frame_setup(arch, d))
        .map(|(n, _)| n.as_str())
        .collect();
    let without: Vec<&str> = functions
        .iter()
        .filter(|(_, d)| !has_frame_setup(arch, d))
        .map(|(n, _)| n.as_str())
        .collect();
    let (with, without) = (with.join(", "), without.join(", "));
    match build {
        Build::Fp if without.is_empty() => ok(
            topic,
            format!(
                "{with} sets up a frame pointer ({})",
                first_instructions(&functions[0].1, 3)
            ),
        ),
        Build::Fp => problem(
            topic,
            format!("no frame-pointer prologue in {without}"),
            "build with RUSTFLAGS=\"-C force-frame-pointers=yes\" (harness check does)",
        ),
        Build::NoFp if with.is_empty() => ok(
            topic,
            format!(
                "{without} has no frame-pointer prologue, as a control should ({})",
                first_instructions(&functions[0].1, 3)
            ),
        ),
        Build::NoFp => problem(
            topic,
            format!("the control build still sets up frame pointers in {with}"),
            "check that RUSTFLAGS=\"-C force-frame-pointers=no\" reaches the build",
        ),
    }
}

/// Every finding, in order.
pub fn diagnose(root: &Path, perf: &Path) -> Vec<Finding> {
    let mut findings = Vec::new();
    let version = Command::new(perf).arg("--version").output();
    let perf_ok = match version {
        Ok(out) if out.status.success() => {
            findings.push(ok(
                "perf",
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            ));
            true
        }
        Ok(out) => {
            let why = String::from_utf8_lossy(&out.stderr)
                .lines()
                .next()
                .unwrap_or("")
                .to_string();
            findings.push(problem(
                "perf",
                format!("perf does not run: {why}"),
                INSTALL_PERF,
            ));
            false
        }
        Err(_) => {
            findings.push(problem("perf", "perf not found".into(), INSTALL_PERF));
            false
        }
    };
    let sampling = perf_ok.then(|| perf_script::Perf::new(perf).probe());
    findings.push(paranoid_finding(matches!(sampling, Some(Ok(_)))));
    if let Some(sampling) = sampling {
        findings.push(match sampling {
            Ok(n) => ok(
                "sampling",
                format!("event cpu-clock at 9999 Hz with -g: {n} samples of a short busy loop"),
            ),
            Err(e) => problem(
                "sampling",
                format!("event cpu-clock cannot sample: {e}"),
                PARANOID_FIX,
            ),
        });
    }
    if perf_ok {
        findings.push(jit::jit_finding(perf));
    }
    findings.push(max_stack_finding(root));
    let arch = std::env::consts::ARCH;
    let features = jit::cpu_features(&std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default());
    findings.extend(jit::pointer_auth_finding(arch, &features));
    findings.push(match arch {
        "x86_64" | "aarch64" => ok("architecture", arch.to_string()),
        other => problem(
            "architecture",
            format!("{other} has no trampoline"),
            "use x86_64 or aarch64",
        ),
    });
    for build in [Build::Fp, Build::NoFp] {
        findings.push(frame_pointer_finding(root, build));
    }
    findings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_setup_is_recognised_per_architecture() {
        let x86 = "0000000000012340 <eval>:\n   12340:\tendbr64\n   12344:\tpush   %rbp\n   12345:\tmov    %rsp,%rbp\n";
        assert!(has_frame_setup("x86_64", x86));
        let x86_nofp =
            "   12340:\tpush   %r15\n   12342:\tpush   %rbx\n   12343:\tsub    $0x48,%rsp\n";
        assert!(!has_frame_setup("x86_64", x86_nofp));
        let arm = "  4000:\tstp\tx29, x30, [sp, #-48]!\n  4004:\tmov\tx29, sp\n";
        assert!(has_frame_setup("aarch64", arm));
        let arm_offset = "  4000:\tsub\tsp, sp, #0x60\n  4004:\tstp\tx29, x30, [sp, #80]\n  4008:\tadd\tx29, sp, #0x50\n";
        assert!(has_frame_setup("aarch64", arm_offset));
        assert!(!has_frame_setup(
            "aarch64",
            "  4000:\tstp\tx19, x20, [sp, #-32]!\n"
        ));
        assert!(!has_frame_setup("riscv64", x86));
    }

    #[test]
    fn the_first_instructions_are_quoted() {
        let x86 = "0000000000012340 <eval>:\n   12340:\tpush   %rbp\n   12341:\tmov    %rsp,%rbp\n   12344:\tpush   %r15\n   12346:\tret\n";
        assert_eq!(
            first_instructions(x86, 3),
            "push %rbp; mov %rsp,%rbp; push %r15"
        );
    }

    #[test]
    fn findings_print_status_and_fix() {
        let line = problem(
            "paranoid",
            "kernel.perf_event_paranoid = 3".into(),
            PARANOID_FIX,
        )
        .to_string();
        assert!(
            line.starts_with("problem paranoid        kernel.perf_event_paranoid = 3\n"),
            "{line}"
        );
        assert!(
            line.ends_with("fix: sudo sysctl -w kernel.perf_event_paranoid=2 (lets users sample their own processes), or run as root"),
            "{line}"
        );
        assert!(paranoid_allows(2).contains("cpu-clock:u"));
        assert!(paranoid_allows(4).contains("may not use perf at all"));
        assert_eq!(
            ok("architecture", "x86_64".into()).to_string(),
            "ok      architecture    x86_64"
        );
    }
}
