//! The `chain_rs` example under real `perf record -g`: perf must name the stubs
//! `py::foo`, `py::bar`, `py::baz` in order on most samples.

use trampoline_api::conformance::{check_chain_example_under_perf, example_binary};

#[test]
fn chain_example_shows_the_py_frames_under_perf() {
    check_chain_example_under_perf(&example_binary("chain_rs"));
}
