//! The encoder's stubs against the C reference's assembled templates
//! (`trampoline-c/src/trampoline_*.S`): two independent routes to the same
//! bytes. The x86_64 template is the one built into `trampoline-c`
//! (`template_bytes()`); the AArch64 one is assembled here with the cross
//! binutils (`binutils-aarch64-linux-gnu`), and without them the test says why
//! it skipped.

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

fn c_template(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../trampoline-c/src")
        .join(file)
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

#[test]
fn aarch64_encoder_matches_the_c_template_assembled_for_aarch64() {
    let source = c_template("trampoline_aarch64.S");
    assert!(source.exists(), "{} is missing", source.display());
    let dir = tempfile::tempdir().expect("tempdir");
    let (object, text) = (dir.path().join("stub.o"), dir.path().join("stub.text"));
    let assembled = run("aarch64-linux-gnu-as", &[&source, Path::new("-o"), &object])
        .unwrap_or_else(|e| panic!("{e}"));
    if assembled.is_none() {
        println!(
            "skipped: aarch64-linux-gnu-as not found \
             (apt-get install binutils-aarch64-linux-gnu)"
        );
        return;
    }
    let binary = ["-O", "binary", "--only-section=.text"].map(Path::new);
    let extracted = run(
        "aarch64-linux-gnu-objcopy",
        &[binary[0], binary[1], binary[2], &object, &text],
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        extracted.is_some(),
        "aarch64-linux-gnu-as is installed but its objcopy is not"
    );
    let template = std::fs::read(&text).expect("read the extracted .text");
    let emitted = aarch64::stub();
    assert_eq!(
        hex(&emitted),
        hex(&template),
        "the Rust encoder's aarch64 stub differs from {}",
        source.display()
    );
}

#[test]
fn x86_64_encoder_matches_the_c_template() {
    let template = trampoline_c::template_bytes();
    let with_endbr64 = trampoline_c::built_with_cet();
    let emitted = x86_64::stub(with_endbr64);
    assert_eq!(
        hex(&emitted),
        hex(template),
        "the Rust encoder's x86_64 stub (endbr64: {with_endbr64}) differs from {}",
        c_template("trampoline_x86_64.S").display()
    );
}

#[test]
fn both_implementations_hand_out_the_same_stub_bytes() {
    if trampoline_c::built_with_cet() {
        println!("skipped: the C library was built for CET (endbr64 first); Rust never is");
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
