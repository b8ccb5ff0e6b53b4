//! Benchmarks every implementation runs (feature `bench`), so the C and Rust
//! figures come from the same measuring code.

use crate::{EvalFn, Options, Trampolines};
use criterion::{black_box, Criterion, Throughput};
use std::ffi::c_void;

#[inline(never)]
unsafe extern "C" fn identity(_: *mut c_void, _: *mut c_void, arg: *mut c_void) -> *mut c_void {
    arg
}

fn remove_own_map() {
    let _ = std::fs::remove_file(crate::perf_map_path(std::process::id()));
}

/// A call through a stub versus a direct indirect call of the same
/// evaluator (ns/call); the difference is the stub's cost.
pub fn stub_call<T: Trampolines>(c: &mut Criterion) {
    let set = T::create(Options::default()).expect("create trampoline set");
    let stub = set.compile("py::bench_identity").expect("compile");
    let eval: EvalFn = identity;
    let mut group = c.benchmark_group(format!("{}/call", set.implementation()));
    group.bench_function("direct indirect call", |b| {
        b.iter(|| unsafe {
            black_box(eval)(black_box(1 as _), black_box(2 as _), black_box(3 as _))
        })
    });
    group.bench_function("through stub", |b| {
        b.iter(|| unsafe {
            black_box(stub).call(
                black_box(1 as _),
                black_box(2 as _),
                black_box(3 as _),
                eval,
            )
        })
    });
    group.finish();
    remove_own_map();
}

/// Stubs compiled per second, map line included.
pub fn compile_rate<T: Trampolines>(c: &mut Criterion) {
    let set = T::create(Options::default()).expect("create trampoline set");
    let mut group = c.benchmark_group(format!("{}/compile", set.implementation()));
    group.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    group.bench_function("stub + map line", |b| {
        b.iter(|| {
            i += 1;
            set.compile(&format!("py::function_{i}:/src/bench.py"))
                .expect("compile")
        })
    });
    group.finish();
    remove_own_map();
}
