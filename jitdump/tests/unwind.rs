//! The `.eh_frame` builder, checked by decoding its output with
//! `gimli::read` (through `decode_rows`) and comparing the CFA and register
//! rules in force at every instruction of both stubs with the rules of
//! SPEC §2's instruction sequences, written out here by hand.

use jitdump::format::Arch;
use jitdump::unwind::dwarf_reg::*;
use jitdump::unwind::layout::{eh_frame_hdr_offset, eh_frame_offset, perf_mapping_len};
use jitdump::unwind::{Cfa, Rule, UnwindError, UnwindRow};
use jitdump::{build_unwinding_data, decode_rows, FrameRecordStub};

fn cfa(register: u16, offset: i64) -> Cfa {
    Cfa::RegisterOffset { register, offset }
}

/// One instruction: its offset, text, and the rules in force before it runs.
struct Step {
    offset: u64,
    text: &'static str,
    cfa: Cfa,
    registers: Vec<(u16, Rule)>,
}

fn x86_64_steps(endbr64: bool) -> (FrameRecordStub, Vec<Step>) {
    let b = if endbr64 { 4 } else { 0 };
    let entry = || (cfa(X86_64_RSP, 8), vec![(X86_64_RA, Rule::Offset(-8))]);
    let saved = || {
        vec![
            (X86_64_RBP, Rule::Offset(-16)),
            (X86_64_RA, Rule::Offset(-8)),
        ]
    };
    let mut steps = Vec::new();
    let mut step = |offset, text, (cfa, registers): (Cfa, Vec<(u16, Rule)>)| {
        steps.push(Step {
            offset,
            text,
            cfa,
            registers,
        })
    };
    if endbr64 {
        step(0, "endbr64", entry());
    }
    step(b, "push %rbp", entry());
    step(b + 1, "mov %rsp,%rbp", (cfa(X86_64_RSP, 16), saved()));
    step(b + 4, "call *%rcx", (cfa(X86_64_RBP, 16), saved()));
    step(b + 6, "pop %rbp", (cfa(X86_64_RBP, 16), saved()));
    step(b + 7, "ret", entry());
    let stub = FrameRecordStub {
        arch: Arch::X86_64,
        after_push: b as u32 + 1,
        after_set_fp: b as u32 + 4,
        after_pop: b as u32 + 7,
        code_size: b as u32 + 8,
    };
    (stub, steps)
}

fn aarch64_steps() -> (FrameRecordStub, Vec<Step>) {
    let saved = || {
        vec![
            (AARCH64_X29, Rule::Offset(-16)),
            (AARCH64_X30, Rule::Offset(-8)),
        ]
    };
    let steps = vec![
        Step {
            offset: 0,
            text: "stp x29,x30,[sp,#-16]!",
            cfa: cfa(AARCH64_SP, 0),
            registers: vec![],
        },
        Step {
            offset: 4,
            text: "mov x29,sp",
            cfa: cfa(AARCH64_SP, 16),
            registers: saved(),
        },
        Step {
            offset: 8,
            text: "blr x3",
            cfa: cfa(AARCH64_X29, 16),
            registers: saved(),
        },
        Step {
            offset: 12,
            text: "ldp x29,x30,[sp],#16",
            cfa: cfa(AARCH64_X29, 16),
            registers: saved(),
        },
        Step {
            offset: 16,
            text: "ret",
            cfa: cfa(AARCH64_SP, 0),
            registers: vec![],
        },
    ];
    let stub = FrameRecordStub {
        arch: Arch::Aarch64,
        after_push: 4,
        after_set_fp: 8,
        after_pop: 16,
        code_size: 20,
    };
    (stub, steps)
}

fn check(stub: FrameRecordStub, steps: &[Step]) {
    let data = build_unwinding_data(&stub).unwrap();
    let rows = decode_rows(&data.bytes, data.eh_frame_hdr_size, stub.code_size.into()).unwrap();
    // The rows tile the code exactly.
    assert_eq!(rows.first().map(|r| r.start), Some(0), "{rows:#?}");
    assert_eq!(
        rows.last().map(|r| r.end),
        Some(stub.code_size.into()),
        "{rows:#?}"
    );
    for pair in rows.windows(2) {
        assert_eq!(pair[0].end, pair[1].start, "{rows:#?}");
    }
    for step in steps {
        let row: &UnwindRow = rows
            .iter()
            .find(|r| r.contains(step.offset))
            .unwrap_or_else(|| panic!("no row covers {} at {}", step.text, step.offset));
        assert_eq!(
            row.cfa, step.cfa,
            "CFA before {} (+{})",
            step.text, step.offset
        );
        assert_eq!(
            row.registers, step.registers,
            "registers before {} (+{})",
            step.text, step.offset
        );
    }
}

#[test]
fn x86_64_rules_at_every_instruction() {
    let (stub, steps) = x86_64_steps(true);
    check(stub, &steps);
    let (stub, steps) = x86_64_steps(false);
    check(stub, &steps);
}

#[test]
fn aarch64_rules_at_every_instruction() {
    let (stub, steps) = aarch64_steps();
    check(stub, &steps);
}

#[test]
fn eh_frame_hdr_is_laid_out_for_perf() {
    let (stub, _) = x86_64_steps(true);
    let data = build_unwinding_data(&stub).unwrap();
    let (eh_frame, hdr) = (data.eh_frame(), data.eh_frame_hdr());
    assert_eq!(hdr.len(), 20);
    assert_eq!(
        data.bytes.len(),
        eh_frame.len() + hdr.len(),
        ".eh_frame first, then the header"
    );
    // version 1; eh_frame_ptr pcrel|sdata4; fde_count udata4; table datarel|sdata4.
    assert_eq!(&hdr[..4], &[1, 0x1b, 0x03, 0x3b]);
    let i32_at = |i: usize| i32::from_ne_bytes(hdr[i..i + 4].try_into().unwrap()) as i64;
    let code_size = u64::from(stub.code_size);
    let hdr_at = eh_frame_hdr_offset(code_size, eh_frame.len() as u64) as i64;
    assert_eq!(
        hdr_at,
        16 + eh_frame.len() as i64,
        "the header follows .eh_frame, which follows the 8-aligned code"
    );
    assert_eq!(
        hdr_at + 4 + i32_at(4),
        eh_frame_offset(code_size) as i64,
        "eh_frame_ptr"
    );
    assert_eq!(i32_at(8), 1, "fde_count");
    assert_eq!(
        hdr_at + i32_at(12),
        0,
        "the table's location is the code start"
    );
    let fde_at = hdr_at + i32_at(16) - eh_frame_offset(code_size) as i64;
    let cie_len = u32::from_ne_bytes(eh_frame[0..4].try_into().unwrap()) as i64;
    assert_eq!(
        fde_at,
        4 + cie_len,
        "the table points at the FDE right after the CIE"
    );
    assert_eq!(&eh_frame[eh_frame.len() - 4..], &[0; 4], "zero terminator");
    assert_eq!(data.mapped_size, data.bytes.len() as u64);
    assert_eq!(
        perf_mapping_len(code_size, data.mapped_size),
        16 + data.bytes.len() as u64
    );
    let record = data.to_record();
    assert_eq!(
        (record.unwinding_size, record.eh_frame_hdr_size),
        (data.bytes.len() as u64, 20)
    );
}

#[test]
fn decoding_rejects_a_header_that_points_elsewhere_or_a_wrong_code_size() {
    let (stub, _) = aarch64_steps();
    let data = build_unwinding_data(&stub).unwrap();
    let mut bytes = data.bytes.clone();
    let ptr_at = bytes.len() - 20 + 4;
    let ptr = i32::from_ne_bytes(bytes[ptr_at..ptr_at + 4].try_into().unwrap());
    bytes[ptr_at..ptr_at + 4].copy_from_slice(&(ptr + 8).to_ne_bytes());
    let err = decode_rows(&bytes, 20, 20).unwrap_err();
    assert!(
        matches!(err, UnwindError::HeaderPointsElsewhere { .. }),
        "{err}"
    );
    // Decoded for other code sizes, the pc-relative pointers miss the code.
    let err = decode_rows(&data.bytes, 20, 40).unwrap_err();
    assert!(
        matches!(err, UnwindError::Read { .. } | UnwindError::FdeRange { .. }),
        "{err}"
    );
    let err = decode_rows(&data.bytes[..10], 20, 20).unwrap_err();
    assert!(
        matches!(err, UnwindError::HeaderLargerThanData { .. }),
        "{err}"
    );
}

#[test]
fn impossible_layouts_are_refused() {
    let (good, _) = aarch64_steps();
    for bad in [
        FrameRecordStub {
            after_push: 0,
            ..good
        },
        FrameRecordStub {
            after_set_fp: 4,
            ..good
        },
        FrameRecordStub {
            after_pop: 24,
            ..good
        },
        FrameRecordStub {
            after_set_fp: 6,
            ..good
        },
    ] {
        let err = build_unwinding_data(&bad).unwrap_err();
        assert!(matches!(err, UnwindError::BadLayout(_)), "{bad:?}: {err}");
    }
    let (x86, _) = x86_64_steps(false);
    assert!(
        build_unwinding_data(&FrameRecordStub {
            after_set_fp: 6,
            ..x86
        })
        .is_ok(),
        "x86_64 has no alignment rule"
    );
}
