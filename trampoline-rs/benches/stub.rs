//! The shared benchmarks (`trampoline_api::bench`) for the Rust implementation.

use criterion::{criterion_group, criterion_main, Criterion};
use trampoline_rs::RustTrampolines;

fn stub_call(c: &mut Criterion) {
    trampoline_api::bench::stub_call::<RustTrampolines>(c);
}

fn compile_rate(c: &mut Criterion) {
    trampoline_api::bench::compile_rate::<RustTrampolines>(c);
}

criterion_group!(benches, stub_call, compile_rate);
criterion_main!(benches);
