//! Making freshly written code visible to instruction fetch. x86_64 keeps the
//! instruction cache coherent with data writes, so nothing is needed there.
//! AArch64 does not: each written line is cleaned to the point of
//! unification (`dc cvau`), then the matching instruction-cache lines are
//! invalidated (`ic ivau`), with barriers between, as the Arm ARM's
//! "self-modifying code" sequence requires. Line sizes come from `CTR_EL0`,
//! which Linux lets user space read.
//!
//! The AArch64 branch cannot be compiled on the x86_64 machine this crate is
//! developed on (no AArch64 Rust target there); it is kept this small so it
//! can be checked by eye.

/// Makes `len` bytes of code at `start` safe to execute after being written.
#[cfg(not(target_arch = "aarch64"))]
pub fn flush(_start: *const u8, _len: usize) {}

/// Makes `len` bytes of code at `start` safe to execute after being written.
#[cfg(target_arch = "aarch64")]
pub fn flush(start: *const u8, len: usize) {
    use std::arch::asm;
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects (EL0 access is enabled by Linux).
    unsafe { asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack, preserves_flags)) };
    // CTR_EL0.DminLine is bits [19:16], IminLine bits [3:0]: log2 of the line
    // size in 4-byte words.
    let data_line = 4usize << ((ctr >> 16) & 0xf);
    let insn_line = 4usize << (ctr & 0xf);
    let (begin, end) = (start as usize, start as usize + len);

    let mut line = begin & !(data_line - 1);
    while line < end {
        // SAFETY: cleaning a cache line of mapped, readable memory.
        unsafe { asm!("dc cvau, {}", in(reg) line, options(nostack, preserves_flags)) };
        line += data_line;
    }
    // SAFETY: a barrier only.
    unsafe { asm!("dsb ish", options(nostack, preserves_flags)) };
    let mut line = begin & !(insn_line - 1);
    while line < end {
        // SAFETY: invalidating an instruction-cache line of mapped memory.
        unsafe { asm!("ic ivau, {}", in(reg) line, options(nostack, preserves_flags)) };
        line += insn_line;
    }
    // SAFETY: barriers only.
    unsafe { asm!("dsb ish", "isb", options(nostack, preserves_flags)) };
}
