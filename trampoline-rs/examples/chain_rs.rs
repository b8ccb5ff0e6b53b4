//! Runs `py::baz → py::bar → py::foo` through Rust-made stubs with `foo` busy
//! for a moment, for perf to sample. By default the stubs are named in the
//! perf map (for `perf record -g`); with `--jit` in the jitdump (for `perf
//! record -k 1 --call-graph dwarf` and `perf inject --jit`). The file is left
//! behind on purpose: perf reads it after this process has exited.

use std::time::Duration;
use trampoline_api::{Backend, Options, Trampolines};
use trampoline_rs::RustTrampolines;

fn main() {
    let backend = match std::env::args().nth(1).as_deref() {
        None => Backend::PerfMap,
        Some("--jit") => Backend::JitDump,
        Some(other) => {
            eprintln!("chain_rs: unknown argument {other:?} (usage: chain_rs [--jit])");
            std::process::exit(2);
        }
    };
    let options = Options {
        backend,
        ..Options::default()
    };
    let set = match RustTrampolines::create(options) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("chain_rs: {e}");
            std::process::exit(1);
        }
    };
    trampoline_api::conformance::spin_chain(&set, Duration::from_millis(400));
    println!(
        "pid {} map {}",
        std::process::id(),
        set.output_path().display()
    );
}
