//! A `baz → bar → foo` chain of evaluators, each entered through its own
//! stub, and the frame-pointer walk perf does, done in-process from `foo`.
//! The `chain` examples of both implementations run this same code.

use crate::{Stub, Trampolines};
use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::time::{Duration, Instant};

/// Three stubs (outermost first) and what `foo` saw.
pub struct Chain {
    stubs: [Stub; 3],
    spin: Duration,
    sentinel: Cell<usize>,
    return_addresses: RefCell<Vec<usize>>,
}

impl Chain {
    /// Compiles one stub per name; `names` is outermost first.
    pub fn new<T: Trampolines + ?Sized>(set: &T, names: [&str; 3]) -> Chain {
        let stubs = names.map(|n| {
            set.compile(n)
                .unwrap_or_else(|e| panic!("compile({n:?}): {e}"))
        });
        Chain {
            stubs,
            spin: Duration::ZERO,
            sentinel: Cell::new(0),
            return_addresses: RefCell::default(),
        }
    }

    /// Makes `foo` busy-loop this long before it walks, for perf to sample.
    pub fn with_spin(mut self, spin: Duration) -> Chain {
        self.spin = spin;
        self
    }
}

/// The current function's frame pointer (its frame record's address).
#[inline(always)]
pub fn frame_pointer() -> usize {
    let fp: usize;
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::asm!("mov {}, rbp", out(reg) fp, options(nomem, nostack, preserves_flags));
    }
    #[cfg(target_arch = "aarch64")]
    unsafe {
        std::arch::asm!("mov {}, x29", out(reg) fp, options(nomem, nostack, preserves_flags));
    }
    fp
}

/// Runs baz → bar → foo through the stubs; returns the return addresses that
/// `foo`'s frame-pointer walk found, innermost first, up to this function.
#[inline(never)]
pub fn run_chain(chain: &Chain) -> Vec<usize> {
    chain.sentinel.set(frame_pointer());
    let state = chain as *const Chain as *mut c_void;
    unsafe { chain.stubs[0].call(state, std::ptr::null_mut(), std::ptr::null_mut(), eval_baz) };
    chain.return_addresses.take()
}

/// Runs the chain with `foo` busy for `spin`, for the `chain` examples.
pub fn spin_chain<T: Trampolines + ?Sized>(set: &T, spin: Duration) -> Vec<usize> {
    let chain = Chain::new(set, ["py::baz", "py::bar", "py::foo"]).with_spin(spin);
    run_chain(&chain)
}

unsafe extern "C" fn eval_baz(
    state: *mut c_void,
    frame: *mut c_void,
    arg: *mut c_void,
) -> *mut c_void {
    let chain = &*(state as *const Chain);
    chain.stubs[1].call(state, frame, arg, eval_bar)
}

unsafe extern "C" fn eval_bar(
    state: *mut c_void,
    frame: *mut c_void,
    arg: *mut c_void,
) -> *mut c_void {
    let chain = &*(state as *const Chain);
    chain.stubs[2].call(state, frame, arg, eval_foo)
}

#[inline(never)]
unsafe extern "C" fn eval_foo(
    state: *mut c_void,
    _frame: *mut c_void,
    _arg: *mut c_void,
) -> *mut c_void {
    let chain = &*(state as *const Chain);
    let deadline = Instant::now() + chain.spin;
    let mut x = 0u64;
    while Instant::now() < deadline {
        for i in 0..10_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
    }
    *chain.return_addresses.borrow_mut() = walk(frame_pointer(), chain.sentinel.get());
    std::ptr::null_mut()
}

/// Follows frame records `[fp] = caller's fp, [fp + 8] = return address`
/// (the layout on both x86_64 and aarch64) until the sentinel frame.
fn walk(mut fp: usize, sentinel: usize) -> Vec<usize> {
    let mut found = Vec::new();
    while fp != 0 && fp.is_multiple_of(8) && fp < sentinel && found.len() < 64 {
        let (next, ret) = unsafe { (*(fp as *const usize), *((fp + 8) as *const usize)) };
        found.push(ret);
        if next <= fp {
            break;
        }
        fp = next;
    }
    found
}
