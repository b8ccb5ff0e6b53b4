//! A program built with `-mbranch-protection=standard` (Ubuntu's arm64
//! default) keeps its BTI and PAC marking when it links the aarch64
//! template: the linker ANDs the objects' GNU property notes, so a template
//! without one would silently drop the marking of the whole program
//! (docs/contract-notes-aarch64.md). Built with the aarch64 gcc (the cross
//! one on other hosts) and read back with `readelf -n`; without those tools
//! the test says why it skipped.

use std::path::Path;
use std::process::Command;

/// The aarch64 tool `name` (`gcc`, `readelf`): the cross one when
/// installed, the native one on aarch64.
fn aarch64_tool(name: &str) -> Option<String> {
    let cross = format!("aarch64-linux-gnu-{name}");
    let installed = |tool: &str| Command::new(tool).arg("--version").output().is_ok();
    if installed(&cross) {
        Some(cross)
    } else if cfg!(target_arch = "aarch64") && installed(name) {
        Some(name.to_owned())
    } else {
        None
    }
}

fn run(tool: &str, args: &[&str], dir: &Path) -> String {
    let out = Command::new(tool)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
    assert!(
        out.status.success(),
        "{tool} {args:?} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr).trim()
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The `AArch64 feature:` line of `readelf -n`, if any.
fn feature_line(readelf: &str, file: &str, dir: &Path) -> Option<String> {
    run(readelf, &["-n", file], dir)
        .lines()
        .find(|l| l.contains("AArch64 feature:"))
        .map(|l| l.trim().to_owned())
}

#[test]
fn a_branch_protected_program_linking_the_template_stays_marked() {
    let (Some(gcc), Some(readelf)) = (aarch64_tool("gcc"), aarch64_tool("readelf")) else {
        eprintln!(
            "skipped: no aarch64 gcc and readelf here (apt-get install gcc-aarch64-linux-gnu)"
        );
        return;
    };
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/trampoline_aarch64.S");
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("main.c"),
        "int pick(int (*f)(int), int x) { return f(x); }\n\
         static int twice(int x) { return 2 * x; }\n\
         int main(void) { return pick(twice, 0); }\n",
    )
    .expect("write main.c");
    let protect = "-mbranch-protection=standard";
    run(
        &gcc,
        &["-O2", protect, "-c", "main.c", "-o", "main.o"],
        dir.path(),
    );
    let template = template.to_str().expect("UTF-8 path");
    run(
        &gcc,
        &[protect, "-c", template, "-o", "template.o"],
        dir.path(),
    );
    assert_eq!(
        feature_line(&readelf, "main.o", dir.path()).as_deref(),
        Some("Properties: AArch64 feature: BTI, PAC"),
        "{gcc} {protect} does not mark its own objects, so this test cannot judge the template"
    );
    // No C library: only these two objects' notes decide the program's.
    let link = [
        "-nostdlib",
        "-static",
        "-Wl,-e,main",
        "main.o",
        "template.o",
        "-o",
        "program",
    ];
    run(&gcc, &link, dir.path());
    assert_eq!(
        feature_line(&readelf, "program", dir.path()).as_deref(),
        Some("Properties: AArch64 feature: BTI, PAC"),
        "linking {template} dropped the program's branch-protection marking"
    );
}
