//! Where `perf inject --jit` puts things, relative to the code's first byte,
//! in the ELF it synthesizes per `JIT_CODE_LOAD` (perf's `genelf.c`): the
//! code, then `.eh_frame` at the next 8-byte boundary, then `.eh_frame_hdr`
//! right after it, and a mapping of the code's address that is
//! `align8(code_size) + mapped_size` long. The pc-relative pointers in the
//! unwind data are only right in this layout.

use crate::format::align8;

/// Offset of `.eh_frame` from the code start.
pub fn eh_frame_offset(code_size: u64) -> u64 {
    align8(code_size)
}

/// Offset of `.eh_frame_hdr` from the code start.
pub fn eh_frame_hdr_offset(code_size: u64, eh_frame_size: u64) -> u64 {
    eh_frame_offset(code_size) + eh_frame_size
}

/// Length of the mapping perf records for the code (its `MMAP2` event): two
/// stubs closer than this overlap in perf's view, and the later mapping cuts
/// off the earlier one's unwind data.
pub fn perf_mapping_len(code_size: u64, mapped_size: u64) -> u64 {
    if mapped_size == 0 {
        code_size
    } else {
        align8(code_size) + mapped_size
    }
}
