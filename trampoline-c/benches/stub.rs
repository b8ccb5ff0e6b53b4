//! The shared trampoline benchmarks (trampoline-api, feature `bench`) for the
//! C implementation: the cost of one call through a stub, and stubs made per
//! second.

use criterion::{criterion_group, criterion_main};
use trampoline_api::bench::{compile_rate, stub_call};
use trampoline_c::CTrampolines;

criterion_group!(
    benches,
    stub_call::<CTrampolines>,
    compile_rate::<CTrampolines>
);
criterion_main!(benches);
