//! Runs `py::baz → py::bar → py::foo` through Rust-made stubs with `foo` busy
//! for a moment, for `perf record -g` to sample. The perf map is left behind
//! on purpose: `perf script` reads it after this process has exited.

use std::time::Duration;
use trampoline_api::{Options, Trampolines};
use trampoline_rs::RustTrampolines;

fn main() {
    let set = match RustTrampolines::create(Options::default()) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("chain: {e}");
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
