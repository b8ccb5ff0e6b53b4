//! The `chain_rs` example with `--jit` under real perf (`perf record -k 1
//! --call-graph dwarf`, `perf inject --jit`): perf must name the stubs
//! `py::foo`, `py::bar`, `py::baz` in order on most samples, from the
//! unwind info in the dump alone (DWARF unwinding, no perf map).

use trampoline_api::conformance::{check_chain_example_under_perf_jit, example_binary};

#[test]
fn chain_example_shows_the_py_frames_under_perf_inject_jit() {
    check_chain_example_under_perf_jit(&example_binary("chain_rs"));
}
