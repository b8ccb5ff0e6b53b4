//! Unwind information for a *frame-record stub*: code that pushes a frame
//! record (saved frame pointer + return address), points the frame pointer
//! at it, calls, pops it and returns (SPEC §2). The `.eh_frame` says where
//! the caller's frame is at every instruction, so a DWARF unwinder (`perf
//! record --call-graph dwarf`) can step through the stub without frame
//! pointers.
//!
//! - [`FrameRecordStub`] is all the builder needs to know about a stub: the
//!   code offsets at which its rules change. The encoder that emits the
//!   stub fills it in while emitting, so the rules follow the code.
//! - [`build_unwinding_data`] writes the `.eh_frame` (one CIE, one FDE, with
//!   `gimli::write`) and the `.eh_frame_hdr`, laid out the way `perf inject
//!   --jit` places them in the ELF it synthesizes (see [`layout`]).
//! - [`decode_rows`] reads such data back (with `gimli::read`) into the rows
//!   of the unwind table, so two builders can be compared row by row.

mod build;
pub mod layout;
mod rows;

pub use build::build_unwinding_data;
pub use rows::{decode_rows, Cfa, Rule, UnwindRow};

use crate::format::Arch;
use crate::record::UnwindingInfo;

/// DWARF register numbers used by the stubs' rules.
pub mod dwarf_reg {
    /// x86_64 (System V psABI numbering).
    pub const X86_64_RBP: u16 = 6;
    pub const X86_64_RSP: u16 = 7;
    /// The return-address column (the pushed `%rip`).
    pub const X86_64_RA: u16 = 16;
    /// AArch64 (DWARF for the Arm 64-bit architecture).
    pub const AARCH64_X29: u16 = 29;
    pub const AARCH64_X30: u16 = 30;
    pub const AARCH64_SP: u16 = 31;
}

/// The shape of a frame-record stub: its architecture and the code offsets
/// (from the stub's first byte) just after each instruction that changes
/// where the caller's frame is.
///
/// x86_64: `[endbr64;] push %rbp; mov %rsp,%rbp; call *%rcx; pop %rbp; ret`.
/// AArch64: `[paciasp;] stp x29,x30,[sp,#-16]!; mov x29,sp; blr x3;
/// ldp x29,x30,[sp],#16; [autiasp;] ret`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FrameRecordStub {
    pub arch: Arch,
    /// Just after `push %rbp` / `stp x29,x30,[sp,#-16]!`.
    pub after_push: u32,
    /// Just after `mov %rsp,%rbp` / `mov x29,sp`.
    pub after_set_fp: u32,
    /// Just after `pop %rbp` / `ldp x29,x30,[sp],#16`.
    pub after_pop: u32,
    /// The whole stub, in bytes.
    pub code_size: u32,
}

/// Why unwind data could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum UnwindError {
    #[error("stub layout {0:?} is impossible: offsets must rise within the code (multiples of 4 on AArch64)")]
    BadLayout(FrameRecordStub),
    #[error("gimli could not write the .eh_frame: {0}")]
    Write(#[from] gimli::write::Error),
    #[error("{what}: {source}")]
    Read {
        what: &'static str,
        source: gimli::read::Error,
    },
    #[error("the unwinding data is {data} bytes, smaller than its {hdr}-byte .eh_frame_hdr")]
    HeaderLargerThanData { data: usize, hdr: u64 },
    #[error(".eh_frame_hdr points at {found:?} for .eh_frame, not at the .eh_frame right before it ({expected:#x})")]
    HeaderPointsElsewhere {
        found: gimli::Pointer,
        expected: u64,
    },
    #[error(".eh_frame_hdr has no search table")]
    NoSearchTable,
    #[error("the FDE for the code covers offsets {start:#x}..{end:#x}, not the code's 0..{code_size:#x}")]
    FdeRange {
        start: i64,
        end: i64,
        code_size: u64,
    },
    #[error("a pointer of the unwind data does not fit 32 bits")]
    OutOfRange,
}

/// The bytes of a `JIT_CODE_UNWINDING_INFO` record's data and its sizes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnwindingData {
    /// `.eh_frame`, then `.eh_frame_hdr`.
    pub bytes: Vec<u8>,
    pub eh_frame_hdr_size: u64,
    /// How much perf maps after the (8-aligned) code for this data.
    pub mapped_size: u64,
}

impl UnwindingData {
    pub fn eh_frame(&self) -> &[u8] {
        &self.bytes[..self.bytes.len() - self.eh_frame_hdr_size as usize]
    }

    pub fn eh_frame_hdr(&self) -> &[u8] {
        &self.bytes[self.bytes.len() - self.eh_frame_hdr_size as usize..]
    }

    /// The record body that carries this data.
    pub fn to_record(&self) -> UnwindingInfo {
        UnwindingInfo {
            unwinding_size: self.bytes.len() as u64,
            eh_frame_hdr_size: self.eh_frame_hdr_size,
            mapped_size: self.mapped_size,
            data: self.bytes.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dwarf_register_numbers_agree_with_gimli() {
        for (number, register) in super::build::gimli_numbers() {
            assert_eq!(number, register.0, "{register:?}");
        }
    }
}
