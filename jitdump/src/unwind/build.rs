//! Writing a stub's `.eh_frame` (with `gimli::write`) and `.eh_frame_hdr`
//! (by hand: gimli does not write one).

use super::layout::{eh_frame_hdr_offset, eh_frame_offset};
use super::{FrameRecordStub, UnwindError, UnwindingData};
use crate::format::Arch;
use gimli::write::{
    Address, CallFrameInstruction as Cfi, CommonInformationEntry, EhFrame, EndianVec,
    FrameDescriptionEntry, FrameTable,
};
use gimli::{constants, AArch64, Encoding, Format, NativeEndian, X86_64};

/// Pointer encoding of the FDE's start address and of `.eh_frame_hdr`'s
/// `eh_frame_ptr`: a signed 32-bit offset from the field itself, so the data
/// is right wherever perf maps it.
const PCREL_SDATA4: constants::DwEhPe = constants::DwEhPe(0x10 | 0x0b);
/// `.eh_frame_hdr`'s `fde_count`: an unsigned 32-bit count.
const UDATA4: constants::DwEhPe = constants::DwEhPe(0x03);
/// `.eh_frame_hdr`'s table: signed 32-bit offsets from the header's start.
const DATAREL_SDATA4: constants::DwEhPe = constants::DwEhPe(0x30 | 0x0b);

/// Size of an `.eh_frame_hdr` with a one-entry table.
const EH_FRAME_HDR_SIZE: usize = 4 + 4 + 4 + 8;

/// Builds the unwinding data of `stub`: `.eh_frame` (CIE + FDE + zero
/// terminator), then `.eh_frame_hdr`, for the layout of [`super::layout`].
pub fn build_unwinding_data(stub: &FrameRecordStub) -> Result<UnwindingData, UnwindError> {
    check_layout(stub)?;
    let code_size = u64::from(stub.code_size);
    let (eh_frame, fde_offset) = eh_frame(stub)?;
    let hdr = eh_frame_hdr(code_size, eh_frame.len() as u64, fde_offset)?;
    let mut bytes = eh_frame;
    bytes.extend(hdr);
    Ok(UnwindingData {
        mapped_size: bytes.len() as u64,
        eh_frame_hdr_size: EH_FRAME_HDR_SIZE as u64,
        bytes,
    })
}

fn check_layout(stub: &FrameRecordStub) -> Result<(), UnwindError> {
    let s = stub;
    let rising = 0 < s.after_push
        && s.after_push < s.after_set_fp
        && s.after_set_fp < s.after_pop
        && s.after_pop <= s.code_size;
    let aligned = match s.arch {
        Arch::X86_64 => true,
        Arch::Aarch64 => [s.after_push, s.after_set_fp, s.after_pop, s.code_size]
            .iter()
            .all(|o| o % 4 == 0),
    };
    if rising && aligned {
        Ok(())
    } else {
        Err(UnwindError::BadLayout(*stub))
    }
}

/// The rules, as CFI: the CIE holds the state at the stub's entry, the FDE
/// the changes after each instruction of `stub`.
fn cie_and_fde(stub: &FrameRecordStub) -> (CommonInformationEntry, Vec<(u32, Cfi)>) {
    let encoding = Encoding {
        format: Format::Dwarf32,
        version: 1,
        address_size: 8,
    };
    let (push, set_fp, pop) = (stub.after_push, stub.after_set_fp, stub.after_pop);
    match stub.arch {
        Arch::X86_64 => {
            let mut cie = CommonInformationEntry::new(encoding, 1, -8, X86_64::RA);
            // Entry: the call pushed the return address; CFA is above it.
            cie.add_instruction(Cfi::Cfa(X86_64::RSP, 8));
            cie.add_instruction(Cfi::Offset(X86_64::RA, -8));
            let changes = vec![
                (push, Cfi::CfaOffset(16)),
                (push, Cfi::Offset(X86_64::RBP, -16)),
                (set_fp, Cfi::CfaRegister(X86_64::RBP)),
                (pop, Cfi::Cfa(X86_64::RSP, 8)),
                (pop, Cfi::Restore(X86_64::RBP)),
            ];
            (cie, changes)
        }
        Arch::Aarch64 => {
            // Entry: nothing pushed yet; the return address is in x30.
            let mut cie = CommonInformationEntry::new(encoding, 4, -8, AArch64::X30);
            cie.add_instruction(Cfi::Cfa(AArch64::SP, 0));
            let changes = vec![
                (push, Cfi::CfaOffset(16)),
                (push, Cfi::Offset(AArch64::X29, -16)),
                (push, Cfi::Offset(AArch64::X30, -8)),
                (set_fp, Cfi::CfaRegister(AArch64::X29)),
                (pop, Cfi::Cfa(AArch64::SP, 0)),
                (pop, Cfi::Restore(AArch64::X29)),
                (pop, Cfi::Restore(AArch64::X30)),
            ];
            (cie, changes)
        }
    }
}

/// The `.eh_frame` section and the offset of its FDE.
fn eh_frame(stub: &FrameRecordStub) -> Result<(Vec<u8>, u64), UnwindError> {
    let (mut cie, changes) = cie_and_fde(stub);
    cie.fde_address_encoding = PCREL_SDATA4;
    // gimli writes a pc-relative `Address::Constant(a)` as `a` minus the
    // field's offset in the section, so `a` is the code's address taking the
    // section start as 0: the code lies `eh_frame_offset` bytes before it.
    let code_start = (eh_frame_offset(stub.code_size.into()) as i64).wrapping_neg();
    let mut fde = FrameDescriptionEntry::new(Address::Constant(code_start as u64), stub.code_size);
    for (offset, instruction) in changes {
        fde.add_instruction(offset, instruction);
    }
    let mut table = FrameTable::default();
    let cie_id = table.add_cie(cie);
    table.add_fde(cie_id, fde);
    let mut section = EhFrame(EndianVec::new(NativeEndian));
    table.write_eh_frame(&mut section)?;
    let mut bytes = section.0.into_vec();
    // gimli writes the CIE first, then the FDE: the FDE starts where the
    // CIE's length field (4 bytes, plus the length it holds) ends.
    let cie_len = u32::from_ne_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    let fde_offset = 4 + u64::from(cie_len);
    // A zero length ends the section for unwinders that walk it linearly.
    bytes.extend([0; 4]);
    Ok((bytes, fde_offset))
}

/// `.eh_frame_hdr` (LSB "eh_frame_hdr" format) for one FDE, placed right
/// after `.eh_frame`: version 1, `eh_frame_ptr` pc-relative, `fde_count`,
/// and the (one-entry, so sorted) table of (initial location, FDE address),
/// both relative to the header's start.
fn eh_frame_hdr(
    code_size: u64,
    eh_frame_size: u64,
    fde_offset: u64,
) -> Result<Vec<u8>, UnwindError> {
    let hdr = eh_frame_hdr_offset(code_size, eh_frame_size) as i64;
    let eh_frame = eh_frame_offset(code_size) as i64;
    let to_i32 = |v: i64| i32::try_from(v).map_err(|_| UnwindError::OutOfRange);
    // eh_frame_ptr is relative to its own field, 4 bytes into the header.
    let eh_frame_ptr = to_i32(eh_frame - (hdr + 4))?;
    let initial_location = to_i32(-hdr)?;
    let fde_address = to_i32(eh_frame + fde_offset as i64 - hdr)?;
    let mut out = Vec::with_capacity(EH_FRAME_HDR_SIZE);
    out.extend([1, PCREL_SDATA4.0, UDATA4.0, DATAREL_SDATA4.0]);
    out.extend(eh_frame_ptr.to_ne_bytes());
    out.extend(1u32.to_ne_bytes());
    out.extend(initial_location.to_ne_bytes());
    out.extend(fde_address.to_ne_bytes());
    Ok(out)
}

/// Registers named in the rules, as plain numbers (for [`super::dwarf_reg`]
/// to agree with gimli's names, checked in the tests).
#[cfg(test)]
pub(super) fn gimli_numbers() -> [(u16, gimli::Register); 6] {
    use super::dwarf_reg::*;
    [
        (X86_64_RBP, X86_64::RBP),
        (X86_64_RSP, X86_64::RSP),
        (X86_64_RA, X86_64::RA),
        (AARCH64_X29, AArch64::X29),
        (AARCH64_X30, AArch64::X30),
        (AARCH64_SP, AArch64::SP),
    ]
}
