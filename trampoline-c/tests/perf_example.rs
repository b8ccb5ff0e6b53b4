//! The `chain` example under real `perf record -g`: perf itself must name
//! py::foo, py::bar, py::baz in order on most samples.

use trampoline_api::conformance::{check_chain_example_under_perf, example_binary};

#[test]
fn perf_names_the_chain_of_the_chain_example() {
    check_chain_example_under_perf(&example_binary("chain"));
}
