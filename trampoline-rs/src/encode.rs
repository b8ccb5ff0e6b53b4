//! Machine-code encoders, one module per architecture. Both are plain
//! functions from operands to bytes, so both compile and are tested on any
//! host; only [`host_stub`] picks the one the running CPU executes.

pub mod aarch64;
pub mod x86_64;

use jitdump::FrameRecordStub;
use trampoline_api::Error;

/// Whether the x86_64 stub starts with `endbr64`. SPEC §2 wants it only in a
/// build for CET: indirect-branch tracking is enabled for a process only when
/// every object in it is marked for IBT, and stable Rust cannot build such
/// objects, so no branch into a stub is ever checked. Leaving it out keeps the
/// stub 8 bytes, the bytes of the C template built without CET.
pub const X86_64_ENDBR64: bool = false;

/// What one slot of an arena holds: the stub, then `filler` repeated to the
/// end of the slot (an instruction that traps, so a stray jump into the
/// padding faults instead of running on).
pub struct HostStub {
    pub code: Vec<u8>,
    pub filler: Vec<u8>,
    /// Where the code's unwind rules change (for the jitdump's `.eh_frame`).
    pub layout: FrameRecordStub,
}

/// The stub and filler for the CPU this crate was built for.
pub fn host_stub() -> Result<HostStub, Error> {
    #[cfg(target_arch = "x86_64")]
    return {
        let (code, layout) = x86_64::framed_stub(X86_64_ENDBR64);
        Ok(HostStub {
            code,
            filler: vec![x86_64::int3()],
            layout,
        })
    };
    #[cfg(target_arch = "aarch64")]
    return {
        let (code, layout) = aarch64::framed_stub();
        Ok(HostStub {
            code,
            filler: aarch64::brk(0).to_vec(),
            layout,
        })
    };
    #[allow(unreachable_code)]
    Err(Error::Unsupported(format!(
        "trampolines on {}",
        std::env::consts::ARCH
    )))
}
