//! Machine-code encoders, one module per architecture. Both are plain
//! functions from operands to bytes, so both compile and are tested on any
//! host; only [`host_stub`] picks the one the running CPU executes.

pub mod aarch64;
pub mod x86_64;

use trampoline_api::Error;

/// Whether the x86_64 stub starts with `endbr64`. It is a no-op on CPUs and
/// kernels without CET indirect-branch tracking and the landing pad a stub
/// reached by an indirect call needs where IBT is enforced; with it the stub
/// is 12 bytes and still fits one 16-byte slot, so there is no reason to leave
/// it out.
pub const X86_64_ENDBR64: bool = true;

/// What one slot of an arena holds: the stub, then `filler` repeated to the
/// end of the slot (an instruction that traps, so a stray jump into the
/// padding faults instead of running on).
pub struct HostStub {
    pub code: Vec<u8>,
    pub filler: Vec<u8>,
}

/// The stub and filler for the CPU this crate was built for.
pub fn host_stub() -> Result<HostStub, Error> {
    #[cfg(target_arch = "x86_64")]
    return Ok(HostStub {
        code: x86_64::stub(X86_64_ENDBR64),
        filler: vec![x86_64::int3()],
    });
    #[cfg(target_arch = "aarch64")]
    return Ok(HostStub {
        code: aarch64::stub(),
        filler: aarch64::brk(0).to_vec(),
    });
    #[allow(unreachable_code)]
    Err(Error::Unsupported(format!(
        "trampolines on {}",
        std::env::consts::ARCH
    )))
}
