//! Runs the baz → bar → foo chain through C trampolines with `foo` busy for
//! 0.4 s, so that perf can sample it, and leaves this process's perf map
//! (or, with `--jit`, its jitdump) behind for perf to read.
//!
//! ```text
//! perf record -e cpu-clock -F 9999 -g -- target/release/examples/chain_c
//! perf script -F comm,pid,tid,event,ip,sym,dso
//! rm /tmp/perf-<pid>.map
//!
//! perf record -k 1 -e cpu-clock -F 9999 --call-graph dwarf -- target/release/examples/chain_c --jit
//! perf inject --jit -i perf.data -o perf.jit.data
//! perf script -F comm,pid,tid,event,ip,sym,dso -i perf.jit.data
//! rm /tmp/jit-<pid>.dump jitted-<pid>-*.so
//! ```

use std::time::Duration;
use trampoline_api::{conformance::spin_chain, Backend, Options, Trampolines};
use trampoline_c::CTrampolines;

fn main() {
    let backend = match std::env::args().nth(1).as_deref() {
        None => Backend::PerfMap,
        Some("--jit") => Backend::JitDump,
        Some(other) => {
            eprintln!("chain_c: unknown argument {other:?} (the only one is --jit)");
            std::process::exit(2);
        }
    };
    let options = Options {
        backend,
        ..Options::default()
    };
    let set = match CTrampolines::create(options) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("chain_c: {e}");
            std::process::exit(1);
        }
    };
    spin_chain(&set, Duration::from_millis(400));
    println!(
        "pid {} map {}",
        std::process::id(),
        set.output_path().display()
    );
}
