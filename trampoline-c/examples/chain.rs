//! Runs the baz → bar → foo chain through C trampolines with `foo` busy for
//! 0.4 s, so that `perf record -e cpu-clock -F 9999 -g` can sample it, and
//! leaves this process's perf map behind for `perf script` to read.
//!
//! ```text
//! perf record -e cpu-clock -F 9999 -g -- target/release/examples/chain
//! perf script -F comm,pid,tid,event,ip,sym,dso
//! rm /tmp/perf-<pid>.map
//! ```

use std::time::Duration;
use trampoline_api::{conformance::spin_chain, Options, Trampolines};
use trampoline_c::CTrampolines;

fn main() {
    let set = match CTrampolines::create(Options::default()) {
        Ok(set) => set,
        Err(e) => {
            eprintln!("chain: {e}");
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
