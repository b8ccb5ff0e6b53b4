//! An x86_64 encoder for exactly the instructions the trampoline needs, one
//! function per instruction, each returning its machine code. Encodings follow
//! the Intel SDM Vol. 2: an optional REX prefix (`0100WRXB`), the opcode, and a
//! ModRM byte (`mod:2 reg:3 rm:3`) for register operands (`mod = 11`).

use jitdump::{Arch, FrameRecordStub};

/// A 64-bit general-purpose register, numbered as in its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Reg {
    Rax = 0,
    Rcx = 1,
    Rdx = 2,
    Rbx = 3,
    Rsp = 4,
    Rbp = 5,
    Rsi = 6,
    Rdi = 7,
    R8 = 8,
    R9 = 9,
    R10 = 10,
    R11 = 11,
    R12 = 12,
    R13 = 13,
    R14 = 14,
    R15 = 15,
}

impl Reg {
    /// The low three bits, which go into an opcode or ModRM field.
    fn low3(self) -> u8 {
        self as u8 & 0b111
    }

    /// Whether the register needs a REX extension bit (r8–r15).
    fn is_extended(self) -> bool {
        self as u8 >= 8
    }
}

const REX: u8 = 0b0100_0000;
const REX_W: u8 = 0b1000;
const REX_R: u8 = 0b0100;
const REX_B: u8 = 0b0001;

/// ModRM for a register-direct operand pair (`mod = 11`).
fn modrm_direct(reg: u8, rm: u8) -> u8 {
    0b1100_0000 | (reg & 0b111) << 3 | (rm & 0b111)
}

/// `push r64`: `50+rd`, REX.B for r8–r15 (64-bit operand size is the default).
pub fn push(reg: Reg) -> Vec<u8> {
    let mut code = Vec::with_capacity(2);
    if reg.is_extended() {
        code.push(REX | REX_B);
    }
    code.push(0x50 + reg.low3());
    code
}

/// `pop r64`: `58+rd`, REX.B for r8–r15.
pub fn pop(reg: Reg) -> Vec<u8> {
    let mut code = Vec::with_capacity(2);
    if reg.is_extended() {
        code.push(REX | REX_B);
    }
    code.push(0x58 + reg.low3());
    code
}

/// `mov %src, %dst` (64-bit): `REX.W 89 /r`, the MOV r/m64, r64 form that GNU as
/// picks, so `src` goes in ModRM.reg and `dst` in ModRM.rm.
pub fn mov_rr(dst: Reg, src: Reg) -> Vec<u8> {
    let mut rex = REX | REX_W;
    if src.is_extended() {
        rex |= REX_R;
    }
    if dst.is_extended() {
        rex |= REX_B;
    }
    vec![rex, 0x89, modrm_direct(src.low3(), dst.low3())]
}

/// `call *%reg`: `FF /2` with the target in ModRM.rm, REX.B for r8–r15.
pub fn call_indirect(target: Reg) -> Vec<u8> {
    let mut code = Vec::with_capacity(3);
    if target.is_extended() {
        code.push(REX | REX_B);
    }
    code.extend([0xff, modrm_direct(2, target.low3())]);
    code
}

/// `ret` (near): `C3`.
pub fn ret() -> Vec<u8> {
    vec![0xc3]
}

/// `endbr64`: `F3 0F 1E FA`, the CET indirect-branch landing pad (a no-op on
/// CPUs without IBT).
pub fn endbr64() -> Vec<u8> {
    vec![0xf3, 0x0f, 0x1e, 0xfa]
}

/// `int3`: `CC`. Fills the unused tail of a slot so a stray jump there traps.
pub fn int3() -> u8 {
    0xcc
}

/// The trampoline (SPEC §2): `[endbr64;] push %rbp; mov %rsp,%rbp;
/// call *%rcx; pop %rbp; ret`. `%rcx` is the fourth SysV argument, `eval`;
/// the first three pass through untouched in `%rdi`, `%rsi`, `%rdx`.
pub fn stub(with_endbr64: bool) -> Vec<u8> {
    framed_stub(with_endbr64).0
}

/// [`stub`] and where its unwind rules change, measured while emitting it,
/// so the jitdump's `.eh_frame` always follows the code.
pub fn framed_stub(with_endbr64: bool) -> (Vec<u8>, FrameRecordStub) {
    let mut code = Vec::new();
    let here = |code: &Vec<u8>| code.len() as u32;
    if with_endbr64 {
        code.extend(endbr64());
    }
    code.extend(push(Reg::Rbp));
    let after_push = here(&code);
    code.extend(mov_rr(Reg::Rbp, Reg::Rsp));
    let after_set_fp = here(&code);
    code.extend(call_indirect(Reg::Rcx));
    code.extend(pop(Reg::Rbp));
    let after_pop = here(&code);
    code.extend(ret());
    let layout = FrameRecordStub {
        arch: Arch::X86_64,
        after_push,
        after_set_fp,
        after_pop,
        code_size: here(&code),
    };
    (code, layout)
}

#[cfg(test)]
mod tests {
    //! Expected bytes are built here from the SDM's rules (opcode tables and
    //! the REX/ModRM bit layouts), independently of the encoder above.
    use super::*;

    /// REX = 0100 W R X B.
    fn rex(w: u8, r: u8, x: u8, b: u8) -> u8 {
        0x40 | w << 3 | r << 2 | x << 1 | b
    }

    /// ModRM = mod(2) reg(3) rm(3).
    fn modrm(md: u8, reg: u8, rm: u8) -> u8 {
        md << 6 | reg << 3 | rm
    }

    #[test]
    fn push_and_pop_add_the_register_number_to_the_opcode() {
        // SDM: PUSH r64 = 50+rd, POP r64 = 58+rd; rbp is register 5.
        assert_eq!(push(Reg::Rbp), [0x50 + 5]);
        assert_eq!(pop(Reg::Rbp), [0x58 + 5]);
        assert_eq!(push(Reg::Rax), [0x50]);
        // r12 is 1_100: REX.B carries the high bit, the opcode the low three.
        assert_eq!(push(Reg::R12), [rex(0, 0, 0, 1), 0x50 + 4]);
        assert_eq!(pop(Reg::R15), [rex(0, 0, 0, 1), 0x58 + 7]);
    }

    #[test]
    fn mov_rsp_to_rbp_is_rex_w_89_with_register_modrm() {
        // MOV r/m64, r64 = REX.W 89 /r; reg = source rsp (4), rm = dest rbp (5).
        let expected = [rex(1, 0, 0, 0), 0x89, modrm(0b11, 4, 5)];
        assert_eq!(mov_rr(Reg::Rbp, Reg::Rsp), expected);
        assert_eq!(expected, [0x48, 0x89, 0xe5]); // as objdump shows `mov %rsp,%rbp`
                                                  // r9 → r10: both extended, REX.R for the source and REX.B for the dest.
        assert_eq!(
            mov_rr(Reg::R10, Reg::R9),
            [rex(1, 1, 0, 1), 0x89, modrm(0b11, 1, 2)]
        );
    }

    #[test]
    fn call_through_a_register_is_ff_slash_2() {
        // CALL r/m64 = FF /2: ModRM.reg holds the opcode extension 2.
        assert_eq!(call_indirect(Reg::Rcx), [0xff, modrm(0b11, 2, 1)]);
        assert_eq!(call_indirect(Reg::Rcx), [0xff, 0xd1]);
        assert_eq!(
            call_indirect(Reg::R11),
            [rex(0, 0, 0, 1), 0xff, modrm(0b11, 2, 3)]
        );
    }

    #[test]
    fn fixed_encodings() {
        assert_eq!(ret(), [0xc3]);
        assert_eq!(endbr64(), [0xf3, 0x0f, 0x1e, 0xfa]);
        assert_eq!(int3(), 0xcc);
    }

    #[test]
    fn layout_marks_the_ends_of_push_mov_and_pop() {
        let (code, layout) = framed_stub(true);
        let at = |o: u32| code[o as usize - 1];
        assert_eq!((at(layout.after_push), layout.after_push), (0x55, 5));
        assert_eq!(
            &code[layout.after_set_fp as usize - 3..layout.after_set_fp as usize],
            [0x48, 0x89, 0xe5]
        );
        assert_eq!((at(layout.after_pop), layout.after_pop), (0x5d, 11));
        assert_eq!(layout.code_size as usize, code.len());
        let (_, plain) = framed_stub(false);
        assert_eq!(
            (
                plain.after_push,
                plain.after_set_fp,
                plain.after_pop,
                plain.code_size
            ),
            (1, 4, 7, 8)
        );
    }

    #[test]
    fn stub_is_the_five_instructions_in_order() {
        let body = [0x55, 0x48, 0x89, 0xe5, 0xff, 0xd1, 0x5d, 0xc3];
        assert_eq!(stub(false), body);
        let mut with_cet = vec![0xf3, 0x0f, 0x1e, 0xfa];
        with_cet.extend(body);
        assert_eq!(stub(true), with_cet);
    }
}
