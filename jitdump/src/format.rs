//! The fixed numbers of the jitdump format (perf's
//! `tools/perf/Documentation/jitdump-specification.txt`) and the ELF machine
//! of each architecture the stubs exist for.

/// `"JiTD"` read as a native-endian `u32`; a reader on the other endianness
/// sees `0x4454694A`.
pub const MAGIC: u32 = 0x4A69_5444;

/// The only header version perf knows.
pub const VERSION: u32 = 1;

/// Bytes of the version-1 file header: magic, version, total_size, elf_mach,
/// pad1, pid (six `u32`), timestamp, flags (two `u64`).
pub const HEADER_SIZE: usize = 40;

/// Bytes of every record's prefix: id, total_size (`u32`), timestamp (`u64`).
pub const RECORD_PREFIX_SIZE: usize = 16;

/// Fixed part of a `JIT_CODE_LOAD` record after its prefix: pid, tid
/// (`u32`), vma, code_addr, code_size, code_index (`u64`).
pub const CODE_LOAD_FIXED_SIZE: usize = RECORD_PREFIX_SIZE + 40;

/// Fixed part of a `JIT_CODE_UNWINDING_INFO` record after its prefix:
/// unwinding_size, eh_frame_hdr_size, mapped_size (`u64`).
pub const UNWINDING_INFO_FIXED_SIZE: usize = RECORD_PREFIX_SIZE + 24;

/// Record ids defined by the specification.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum RecordId {
    CodeLoad = 0,
    CodeMove = 1,
    DebugInfo = 2,
    CodeClose = 3,
    UnwindingInfo = 4,
}

/// ELF `e_machine` of x86_64 (`EM_X86_64`).
pub const EM_X86_64: u32 = 62;
/// ELF `e_machine` of AArch64 (`EM_AARCH64`).
pub const EM_AARCH64: u32 = 183;

/// The architectures a stub can be described for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// The architecture this crate was compiled for, if it is one of ours.
    pub fn host() -> Option<Arch> {
        if cfg!(target_arch = "x86_64") {
            Some(Arch::X86_64)
        } else if cfg!(target_arch = "aarch64") {
            Some(Arch::Aarch64)
        } else {
            None
        }
    }

    /// The architecture of a name as Rust spells it (`x86_64`, `aarch64`).
    pub fn from_name(name: &str) -> Option<Arch> {
        match name {
            "x86_64" => Some(Arch::X86_64),
            "aarch64" => Some(Arch::Aarch64),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Aarch64 => "aarch64",
        }
    }

    /// The header's `elf_mach` for this architecture.
    pub fn elf_machine(self) -> u32 {
        match self {
            Arch::X86_64 => EM_X86_64,
            Arch::Aarch64 => EM_AARCH64,
        }
    }
}

/// Rounds up to a multiple of 8, as perf's `ALIGN_8` does.
pub fn align8(n: u64) -> u64 {
    n.next_multiple_of(8)
}
