//! THE comparison: the `.eh_frame` that C builds by hand (`src/eh_frame.c`)
//! and the one the `jitdump` crate builds with `gimli::write`, both decoded
//! with `gimli::read` (`jitdump::decode_rows`) into unwind-table rows, must
//! agree row by row, for x86_64 (with and without `endbr64`) and aarch64,
//! on any host. Both are also held against the rules of SPEC §2 written out
//! here, so two builders that are wrong the same way still fail.

use jitdump::unwind::dwarf_reg::*;
use jitdump::unwind::{Cfa, Rule, UnwindRow};
use jitdump::{build_unwinding_data, decode_rows, Arch, FrameRecordStub};
use trampoline_c::{host_stub_unwind_data, stub_unwind_data, StubUnwindData, UnwindArch};

/// The stub of SPEC §2 as the Rust builder takes it: the offsets just after
/// push, frame-pointer set-up and pop, from the instructions' sizes.
fn rust_layout(arch: UnwindArch) -> FrameRecordStub {
    match arch {
        UnwindArch::X86_64 { endbr64 } => {
            let shift = if endbr64 { 4 } else { 0 };
            // push %rbp (1) ; mov %rsp,%rbp (3) ; call *%rcx (2) ; pop %rbp (1) ; ret (1)
            FrameRecordStub {
                arch: Arch::X86_64,
                after_push: shift + 1,
                after_set_fp: shift + 4,
                after_pop: shift + 7,
                code_size: shift + 8,
            }
        }
        // stp ; mov ; blr ; ldp ; ret, 4 bytes each
        UnwindArch::Aarch64 => FrameRecordStub {
            arch: Arch::Aarch64,
            after_push: 4,
            after_set_fp: 8,
            after_pop: 16,
            code_size: 20,
        },
    }
}

fn c_rows(data: &StubUnwindData) -> Vec<UnwindRow> {
    let hdr_size = data.eh_frame_hdr().len() as u64;
    decode_rows(&data.bytes, hdr_size, data.code_size as u64)
        .unwrap_or_else(|e| panic!("the C-built unwind data does not decode: {e}"))
}

fn rust_rows(arch: UnwindArch) -> Vec<UnwindRow> {
    let layout = rust_layout(arch);
    let data = build_unwinding_data(&layout).expect("the jitdump crate builds the data");
    decode_rows(&data.bytes, data.eh_frame_hdr_size, layout.code_size.into())
        .expect("the Rust-built unwind data decodes")
}

fn row(start: u64, end: u64, register: u16, offset: i64, registers: &[(u16, Rule)]) -> UnwindRow {
    UnwindRow {
        start,
        end,
        cfa: Cfa::RegisterOffset { register, offset },
        registers: registers.to_vec(),
    }
}

/// SPEC §2's x86_64 stub, rule by rule (`shift` = 4 with endbr64).
fn x86_64_expected(shift: u64) -> Vec<UnwindRow> {
    let ra = (X86_64_RA, Rule::Offset(-8));
    let rbp = (X86_64_RBP, Rule::Offset(-16));
    vec![
        row(0, shift + 1, X86_64_RSP, 8, std::slice::from_ref(&ra)),
        row(
            shift + 1,
            shift + 4,
            X86_64_RSP,
            16,
            &[rbp.clone(), ra.clone()],
        ),
        row(shift + 4, shift + 7, X86_64_RBP, 16, &[rbp, ra.clone()]),
        row(shift + 7, shift + 8, X86_64_RSP, 8, &[ra]),
    ]
}

/// SPEC §2's aarch64 stub: the return address is in x30 until stp saves it.
fn aarch64_expected() -> Vec<UnwindRow> {
    let saved = [
        (AARCH64_X29, Rule::Offset(-16)),
        (AARCH64_X30, Rule::Offset(-8)),
    ];
    vec![
        row(0, 4, AARCH64_SP, 0, &[]),
        row(4, 8, AARCH64_SP, 16, &saved),
        row(8, 16, AARCH64_X29, 16, &saved),
        row(16, 20, AARCH64_SP, 0, &[]),
    ]
}

fn check(arch: UnwindArch, expected: Vec<UnwindRow>) {
    let c_data = stub_unwind_data(arch);
    let c = c_rows(&c_data);
    let rust = rust_rows(arch);
    assert_eq!(
        c.len(),
        rust.len(),
        "{arch:?}: C has {} rows, Rust {}",
        c.len(),
        rust.len()
    );
    for (i, (c_row, rust_row)) in c.iter().zip(&rust).enumerate() {
        assert_eq!(c_row, rust_row, "{arch:?}: row {i} differs");
    }
    assert_eq!(c, expected, "{arch:?}: the rows are not SPEC §2's rules");
    assert_eq!(c_data.code_size as u32, rust_layout(arch).code_size);
}

#[test]
fn x86_64_rows_match_the_rust_builder() {
    check(UnwindArch::X86_64 { endbr64: false }, x86_64_expected(0));
    assert_eq!(
        stub_unwind_data(UnwindArch::X86_64 { endbr64: false }).elf_machine,
        62
    );
}

#[test]
fn x86_64_with_endbr64_rows_match_the_rust_builder() {
    check(UnwindArch::X86_64 { endbr64: true }, x86_64_expected(4));
}

#[test]
fn aarch64_rows_match_the_rust_builder() {
    check(UnwindArch::Aarch64, aarch64_expected());
    assert_eq!(stub_unwind_data(UnwindArch::Aarch64).elf_machine, 183);
}

/// What the jitdump backend writes is the builder's output for this build's
/// own template (its size and, on x86_64, whether it starts with endbr64).
#[test]
fn host_data_describes_this_builds_template() {
    let host = host_stub_unwind_data();
    let template = trampoline_c::template_bytes();
    assert_eq!(host.code_size, template.len());
    let arch = if cfg!(target_arch = "x86_64") {
        UnwindArch::X86_64 {
            endbr64: trampoline_c::built_with_cet(),
        }
    } else {
        UnwindArch::Aarch64
    };
    assert_eq!(host, stub_unwind_data(arch));
}

/// The `.eh_frame_hdr` must lead to the same FDE perf's unwinder would use:
/// decode_rows follows it, so a broken header fails there; here the header's
/// fixed encodings are checked too (the ones perf and libunwind accept).
#[test]
fn eh_frame_hdr_uses_the_encodings_unwinders_accept() {
    for arch in [
        UnwindArch::X86_64 { endbr64: false },
        UnwindArch::X86_64 { endbr64: true },
        UnwindArch::Aarch64,
    ] {
        let data = stub_unwind_data(arch);
        let hdr = data.eh_frame_hdr();
        assert_eq!(hdr.len(), 20);
        // version 1; eh_frame_ptr pcrel|sdata4; fde_count udata4; table datarel|sdata4
        assert_eq!(hdr[..4], [1, 0x1b, 0x03, 0x3b], "{arch:?}");
        assert_eq!(
            u32::from_le_bytes(hdr[8..12].try_into().unwrap()),
            1,
            "{arch:?}: fde_count"
        );
        assert_eq!(
            data.eh_frame().len() % 4,
            0,
            "{arch:?}: .eh_frame_hdr would be misaligned"
        );
    }
}
