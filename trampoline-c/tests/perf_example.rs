//! The `chain_c` example under real perf: perf itself must name py::foo,
//! py::bar, py::baz in order on most samples, through the perf map under
//! frame-pointer unwinding, and through the jitdump (`chain_c --jit`) under
//! DWARF unwinding after `perf inject --jit`. Both checks are the shared
//! ones of trampoline-api, so the C and Rust examples face the same test.

use trampoline_api::conformance::{
    check_chain_example_under_perf, check_chain_example_under_perf_jit, example_binary,
};

#[test]
fn perf_names_the_chain_of_the_chain_example() {
    check_chain_example_under_perf(&example_binary("chain_c"));
}

#[test]
fn perf_inject_jit_names_the_chain_under_dwarf_unwinding() {
    check_chain_example_under_perf_jit(&example_binary("chain_c"));
}
