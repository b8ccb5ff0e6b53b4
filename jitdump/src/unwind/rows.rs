//! Reading unwinding data back into the rows of its unwind table, with
//! `gimli::read`, the way an unwinder sees it: `.eh_frame_hdr` is followed
//! to the FDE of the code's first byte, and that FDE's program is run.

use super::layout::{eh_frame_hdr_offset, eh_frame_offset};
use super::UnwindError;
use gimli::{
    BaseAddresses, CfaRule, EhFrame, EhFrameHdr, NativeEndian, Pointer, RegisterRule,
    UnwindContext, UnwindSection,
};

/// How to find the caller's CFA.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cfa {
    /// `register + offset`.
    RegisterOffset { register: u16, offset: i64 },
    /// A DWARF expression (never used by the stubs).
    Expression,
}

/// Where a register's caller value is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    Undefined,
    SameValue,
    /// Saved at `CFA + offset`.
    Offset(i64),
    /// Is `CFA + offset`.
    ValOffset(i64),
    /// Is in that other register.
    Register(u16),
    /// An expression, an architectural or constant rule.
    Other(String),
}

/// One row: for code offsets `start..end` (from the code's first byte), the
/// CFA and every register that has a rule, sorted by register number.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnwindRow {
    pub start: u64,
    pub end: u64,
    pub cfa: Cfa,
    pub registers: Vec<(u16, Rule)>,
}

impl UnwindRow {
    pub fn contains(&self, offset: u64) -> bool {
        self.start <= offset && offset < self.end
    }
}

/// Where the code is assumed to start while decoding. Every pointer in the
/// data is relative, so any 8-aligned address gives the same rows.
const CODE_ADDRESS: u64 = 0x10_0000;

/// Decodes unwinding data (`.eh_frame` then `.eh_frame_hdr`, the tail
/// `eh_frame_hdr_size` bytes) for `code_size` bytes of code, laid out as
/// perf lays it out ([`super::layout`]). The header must point at the
/// `.eh_frame` and its table must lead to an FDE covering exactly the code.
pub fn decode_rows(
    unwinding_data: &[u8],
    eh_frame_hdr_size: u64,
    code_size: u64,
) -> Result<Vec<UnwindRow>, UnwindError> {
    let data = unwinding_data;
    let hdr_size = usize::try_from(eh_frame_hdr_size)
        .ok()
        .filter(|&h| h <= data.len())
        .ok_or(UnwindError::HeaderLargerThanData {
            data: data.len(),
            hdr: eh_frame_hdr_size,
        })?;
    let (eh_frame_bytes, hdr_bytes) = data.split_at(data.len() - hdr_size);
    let eh_frame_address = CODE_ADDRESS + eh_frame_offset(code_size);
    let hdr_address = CODE_ADDRESS + eh_frame_hdr_offset(code_size, eh_frame_bytes.len() as u64);
    let bases = BaseAddresses::default()
        .set_text(CODE_ADDRESS)
        .set_eh_frame(eh_frame_address)
        .set_eh_frame_hdr(hdr_address);
    let read = |what| move |source| UnwindError::Read { what, source };

    let hdr = EhFrameHdr::new(hdr_bytes, NativeEndian)
        .parse(&bases, 8)
        .map_err(read("cannot parse .eh_frame_hdr"))?;
    match hdr.eh_frame_ptr() {
        Pointer::Direct(p) if p == eh_frame_address => {}
        found => {
            return Err(UnwindError::HeaderPointsElsewhere {
                found,
                expected: eh_frame_address,
            })
        }
    }
    let table = hdr.table().ok_or(UnwindError::NoSearchTable)?;
    let mut eh_frame = EhFrame::new(eh_frame_bytes, NativeEndian);
    eh_frame.set_address_size(8);
    let fde = table
        .fde_for_address(&eh_frame, &bases, CODE_ADDRESS, EhFrame::cie_from_offset)
        .map_err(read("no FDE for the code's first byte via .eh_frame_hdr"))?;
    if fde.initial_address() != CODE_ADDRESS || fde.len() != code_size {
        return Err(UnwindError::FdeRange {
            start: fde.initial_address().wrapping_sub(CODE_ADDRESS) as i64,
            end: fde.end_address().wrapping_sub(CODE_ADDRESS) as i64,
            code_size,
        });
    }

    let mut context = UnwindContext::new();
    let mut rows_table = fde
        .rows(&eh_frame, &bases, &mut context)
        .map_err(read("cannot start the FDE's program"))?;
    let mut rows = Vec::new();
    while let Some(row) = rows_table
        .next_row()
        .map_err(read("cannot run the FDE's program"))?
    {
        let cfa = match row.cfa() {
            CfaRule::RegisterAndOffset { register, offset } => Cfa::RegisterOffset {
                register: register.0,
                offset: *offset,
            },
            CfaRule::Expression(_) => Cfa::Expression,
        };
        let mut registers: Vec<(u16, Rule)> = row
            .registers()
            .map(|(reg, rule)| (reg.0, convert(rule)))
            .collect();
        registers.sort_by_key(|(reg, _)| *reg);
        rows.push(UnwindRow {
            start: row.start_address() - CODE_ADDRESS,
            end: row.end_address() - CODE_ADDRESS,
            cfa,
            registers,
        });
    }
    Ok(rows)
}

fn convert<T: gimli::ReaderOffset>(rule: &RegisterRule<T>) -> Rule {
    match rule {
        RegisterRule::Undefined => Rule::Undefined,
        RegisterRule::SameValue => Rule::SameValue,
        RegisterRule::Offset(o) => Rule::Offset(*o),
        RegisterRule::ValOffset(o) => Rule::ValOffset(*o),
        RegisterRule::Register(r) => Rule::Register(r.0),
        other => Rule::Other(format!("{other:?}")),
    }
}
