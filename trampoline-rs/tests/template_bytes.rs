//! The encoder's stubs against the C reference's assembled templates
//! (`trampoline-c/src/trampoline_*.S`): two independent routes to the same
//! bytes, for each architecture on any host. The template of the host's
//! architecture is the one built into `trampoline-c` (`template_bytes()`);
//! the other architecture's is assembled here with its cross binutils
//! (`binutils-aarch64-linux-gnu`, `binutils-x86-64-linux-gnu`), and without
//! them the test says why it skipped.

use std::path::{Path, PathBuf};
use std::process::Command;
use trampoline_api::conformance::MapWatch;
use trampoline_api::{Options, Stub, Trampolines};
use trampoline_c::CTrampolines;
use trampoline_rs::encode::{aarch64, x86_64};
use trampoline_rs::RustTrampolines;

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn template_source(arch: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../trampoline-c/src")
        .join(format!("trampoline_{arch}.S"))
}

/// Runs a tool; `Ok(None)` when it is not installed.
fn run(tool: &str, args: &[&Path]) -> Result<Option<()>, String> {
    match Command::new(tool).args(args).output() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot run {tool}: {e}")),
        Ok(out) if out.status.success() => Ok(Some(())),
        Ok(out) => Err(format!(
            "{tool} {args:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )),
    }
}

/// The C template of `arch` as assembled by that architecture's cross
/// binutils (after the C preprocessor, with no CET macro defined); `None`
/// after saying why when a tool is missing.
fn assembled_template(arch: &str) -> Option<Vec<u8>> {
    let source = template_source(arch);
    assert!(source.exists(), "{} is missing", source.display());
    let dir = tempfile::tempdir().expect("tempdir");
    let (plain, object, text) = (
        dir.path().join("stub.s"),
        dir.path().join("stub.o"),
        dir.path().join("stub.text"),
    );
    let prefix = format!("{arch}-linux-gnu-");
    let package = format!("binutils-{}-linux-gnu", arch.replace('_', "-"));
    let cpp = ["-x", "assembler-with-cpp", "-P", "-o"].map(Path::new);
    let steps: [(String, Vec<&Path>); 3] = [
        ("cpp".into(), [&cpp[..], &[&plain, &source]].concat()),
        (
            format!("{prefix}as"),
            vec![&plain, Path::new("-o"), &object],
        ),
        (
            format!("{prefix}objcopy"),
            vec![
                Path::new("-O"),
                Path::new("binary"),
                Path::new("--only-section=.text"),
                &object,
                &text,
            ],
        ),
    ];
    for (tool, args) in &steps {
        if run(tool, args).unwrap_or_else(|e| panic!("{e}")).is_none() {
            eprintln!("skipped: {tool} not found (apt-get install cpp {package})");
            return None;
        }
    }
    Some(std::fs::read(&text).expect("read the extracted .text"))
}

#[test]
fn aarch64_encoder_matches_the_c_template() {
    let emitted = aarch64::stub();
    let template = if cfg!(target_arch = "aarch64") {
        trampoline_c::template_bytes().to_vec()
    } else {
        match assembled_template("aarch64") {
            Some(bytes) => bytes,
            None => return,
        }
    };
    assert_eq!(
        hex(&emitted),
        hex(&template),
        "the Rust encoder's aarch64 stub differs from {}",
        template_source("aarch64").display()
    );
}

#[test]
fn x86_64_encoder_matches_the_c_template() {
    let (template, with_endbr64) = if cfg!(target_arch = "x86_64") {
        let built = trampoline_c::template_bytes().to_vec();
        (built, trampoline_c::built_with_cet())
    } else {
        match assembled_template("x86_64") {
            Some(bytes) => (bytes, false),
            None => return,
        }
    };
    let emitted = x86_64::stub(with_endbr64);
    assert_eq!(
        hex(&emitted),
        hex(&template),
        "the Rust encoder's x86_64 stub (endbr64: {with_endbr64}) differs from {}",
        template_source("x86_64").display()
    );
}

#[test]
fn both_implementations_hand_out_the_same_stub_bytes() {
    if trampoline_c::built_with_cet() {
        eprintln!("skipped: the C library was built for CET (endbr64 first); Rust never is");
        return;
    }
    let _map = MapWatch::this_process();
    let rust = RustTrampolines::create(Options::default()).expect("Rust set");
    let c = CTrampolines::create(Options::default()).expect("C set");
    // SAFETY: both stubs stay mapped while their sets live.
    let code = |stub: Stub| {
        unsafe { std::slice::from_raw_parts(stub.addr() as *const u8, stub.size()) }.to_vec()
    };
    let rust_stub = code(rust.compile("py::from_rust").expect("compile"));
    let c_stub = code(c.compile("py::from_c").expect("compile"));
    assert_eq!(hex(&rust_stub), hex(&c_stub), "the running stubs differ");
}
