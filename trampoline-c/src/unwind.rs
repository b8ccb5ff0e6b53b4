//! The unwind information the C library writes for each stub in the
//! jitdump (`src/eh_frame.c`), exposed so tests can decode it and hold it
//! against the Rust/gimli-built one, for either architecture on any host.

use crate::ffi;

/// An architecture the C builder describes stubs of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnwindArch {
    /// `push %rbp; mov %rsp,%rbp; call *%rcx; pop %rbp; ret`, with
    /// `endbr64` first when `endbr64` is set (a CET build).
    X86_64 { endbr64: bool },
    /// `stp x29,x30,[sp,#-16]!; mov x29,sp; blr x3; ldp x29,x30,[sp],#16; ret`.
    Aarch64,
}

/// One stub's unwinding data, as a `JIT_CODE_UNWINDING_INFO` record carries
/// it: `.eh_frame` then `.eh_frame_hdr`, placed for perf inject's ELF (the
/// `.eh_frame` starts at the stub's start plus its code size rounded up to 8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StubUnwindData {
    /// ELF machine of the architecture described (62 x86_64, 183 aarch64).
    pub elf_machine: u32,
    /// Bytes of the stub the rules describe.
    pub code_size: usize,
    /// `.eh_frame` followed by `.eh_frame_hdr`.
    pub bytes: Vec<u8>,
    /// Bytes of `.eh_frame` at the start of [`StubUnwindData::bytes`].
    pub eh_frame_size: usize,
}

impl StubUnwindData {
    pub fn eh_frame(&self) -> &[u8] {
        &self.bytes[..self.eh_frame_size]
    }

    pub fn eh_frame_hdr(&self) -> &[u8] {
        &self.bytes[self.eh_frame_size..]
    }

    /// Where the `.eh_frame` starts, counted from the stub's first byte.
    pub fn eh_frame_offset_from_code(&self) -> usize {
        self.code_size.next_multiple_of(8)
    }
}

/// The data the C builder makes for a stub of `arch`.
pub fn stub_unwind_data(arch: UnwindArch) -> StubUnwindData {
    let (arch, flags) = match arch {
        UnwindArch::X86_64 { endbr64 } => (
            ffi::PERF_TRAMP_ARCH_X86_64,
            if endbr64 {
                ffi::PERF_TRAMP_UNWIND_ENDBR64
            } else {
                0
            },
        ),
        UnwindArch::Aarch64 => (ffi::PERF_TRAMP_ARCH_AARCH64, 0),
    };
    build(arch, flags)
}

/// The data the jitdump backend of this build writes for every stub.
pub fn host_stub_unwind_data() -> StubUnwindData {
    build(ffi::PERF_TRAMP_ARCH_HOST, 0)
}

fn build(arch: libc::c_int, flags: libc::c_int) -> StubUnwindData {
    let mut layout = ffi::PerfTrampUnwindLayout::default();
    // SAFETY: a null buffer of capacity 0 only asks for the size.
    let size = unsafe {
        ffi::perf_tramp_stub_unwind_data(arch, flags, std::ptr::null_mut(), 0, &mut layout)
    };
    assert!(size > 0, "the C builder does not know architecture {arch}");
    let mut bytes = vec![0u8; size];
    // SAFETY: `bytes` has room for the `size` bytes the builder asked for.
    let written = unsafe {
        ffi::perf_tramp_stub_unwind_data(arch, flags, bytes.as_mut_ptr(), size, &mut layout)
    };
    assert_eq!(
        written, size,
        "the C builder changed its mind about the size"
    );
    assert_eq!(layout.eh_frame_size + layout.eh_frame_hdr_size, size);
    StubUnwindData {
        elf_machine: layout.arch as u32,
        code_size: layout.code_size,
        bytes,
        eh_frame_size: layout.eh_frame_size,
    }
}
