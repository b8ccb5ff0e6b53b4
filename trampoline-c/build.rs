//! Compiles the C reference trampolines (`src/*.c` and the assembly template
//! of the target architecture) into a static library with the `cc` crate.
//!
//! Frame pointers are kept (`-fno-omit-frame-pointer
//! -mno-omit-leaf-frame-pointer`, SPEC §8) unless
//! `TRAMPOLINE_C_OMIT_FRAME_POINTER=1` asks for the control build that omits
//! them, which the harness uses to show that the flags matter.

const C_SOURCES: [&str; 9] = [
    "src/arena.c",
    "src/eh_frame.c",
    "src/error.c",
    "src/file.c",
    "src/fork.c",
    "src/jitdump.c",
    "src/name.c",
    "src/perf_map.c",
    "src/set.c",
];
const HEADERS: [&str; 2] = ["include/perf_trampoline.h", "src/internal.h"];
const OMIT_FRAME_POINTER_VAR: &str = "TRAMPOLINE_C_OMIT_FRAME_POINTER";

fn main() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let template = match arch.as_str() {
        "x86_64" => "src/trampoline_x86_64.S",
        "aarch64" => "src/trampoline_aarch64.S",
        other => {
            eprintln!("error: trampoline-c supports x86_64 and aarch64 only, not {other:?}");
            std::process::exit(1);
        }
    };

    let omit_frame_pointer = std::env::var(OMIT_FRAME_POINTER_VAR).is_ok_and(|v| v == "1");
    let frame_pointer_flags: [&str; 2] = if omit_frame_pointer {
        ["-fomit-frame-pointer", "-momit-leaf-frame-pointer"]
    } else {
        ["-fno-omit-frame-pointer", "-mno-omit-leaf-frame-pointer"]
    };

    let mut build = cc::Build::new();
    build
        .include("include")
        .std("c11")
        .warnings(true)
        .extra_warnings(true);
    build.files(C_SOURCES).file(template);
    for flag in frame_pointer_flags {
        build.flag(flag);
    }
    // pthread_atfork, pthread_mutex_*, process_vm_readv and the POSIX file calls.
    build.define("_GNU_SOURCE", None);
    build.compile("perf_trampoline");

    for path in C_SOURCES.iter().chain(&HEADERS).chain([&template]) {
        println!("cargo:rerun-if-changed={path}");
    }
    println!("cargo:rerun-if-env-changed={OMIT_FRAME_POINTER_VAR}");
}
