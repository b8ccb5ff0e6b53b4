//! An AArch64 (A64) encoder for exactly the instructions the trampoline needs,
//! one function per instruction, each returning its 32-bit instruction word as
//! the four little-endian bytes that go into memory. Encodings follow the Arm
//! ARM (DDI 0487), section C6 "A64 Base Instruction Descriptions".

use jitdump::{Arch, FrameRecordStub};

/// A general-purpose 64-bit register `x0`–`x30`. Number 31 is not one of
/// them: it means `sp` or `xzr` depending on the field, see [`Base`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct X(u8);

impl X {
    /// `x<n>`; panics unless `n <= 30` (a bug in the caller, not bad input).
    pub const fn new(n: u8) -> X {
        assert!(n <= 30, "x0..x30 only; 31 is sp/xzr");
        X(n)
    }

    fn num(self) -> u32 {
        self.0 as u32
    }
}

pub const X3: X = X::new(3);
/// The frame pointer.
pub const X29: X = X::new(29);
/// The link register.
pub const X30: X = X::new(30);

/// A base register for an address or for ADD: `sp` or one of `x0`–`x30`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    Sp,
    X(X),
}

impl Base {
    /// In the Rn field of loads, stores and ADD (immediate), 31 is `sp`.
    fn num(self) -> u32 {
        match self {
            Base::Sp => 31,
            Base::X(x) => x.num(),
        }
    }
}

/// The scaled 7-bit signed offset of a 64-bit register pair: a multiple of 8
/// in -512..=504. Panics otherwise (the stub's offsets are constants).
fn pair_imm7(offset: i32) -> u32 {
    assert!(
        offset % 8 == 0 && (-512..=504).contains(&offset),
        "bad pair offset {offset}"
    );
    ((offset / 8) as u32) & 0x7f
}

/// Pair load/store, 64-bit: `opc=10 101 V=0 idx(3) L imm7 Rt2 Rn Rt`.
fn pair(index_bits: u32, load: bool, rt: X, rt2: X, base: Base, offset: i32) -> [u8; 4] {
    let word = 0b10 << 30
        | 0b101 << 27
        | index_bits << 23
        | (load as u32) << 22
        | pair_imm7(offset) << 15
        | rt2.num() << 10
        | base.num() << 5
        | rt.num();
    word.to_le_bytes()
}

/// Index field of a pair load/store: pre-index (`[base, #off]!`).
const PRE_INDEX: u32 = 0b011;
/// Index field of a pair load/store: post-index (`[base], #off`).
const POST_INDEX: u32 = 0b001;

/// `stp rt, rt2, [base, #offset]!` (64-bit, pre-index).
pub fn stp_pre(rt: X, rt2: X, base: Base, offset: i32) -> [u8; 4] {
    pair(PRE_INDEX, false, rt, rt2, base, offset)
}

/// `ldp rt, rt2, [base], #offset` (64-bit, post-index).
pub fn ldp_post(rt: X, rt2: X, base: Base, offset: i32) -> [u8; 4] {
    pair(POST_INDEX, true, rt, rt2, base, offset)
}

/// `mov rd, sp`, the alias of `add rd, sp, #0` (ADD immediate, 64-bit:
/// `sf=1 op=0 S=0 100010 sh=0 imm12 Rn Rd`). The ORR alias of MOV cannot name
/// `sp`, which is why this one is an ADD.
pub fn mov_from_sp(rd: X) -> [u8; 4] {
    let imm12 = 0;
    let word = 1 << 31 | 0b100010 << 23 | imm12 << 10 | Base::Sp.num() << 5 | rd.num();
    word.to_le_bytes()
}

/// Unconditional branch to register: `1101011 0 0 op(2) 11111 000000 Rn 00000`.
fn branch_register(op: u32, target: X) -> [u8; 4] {
    let word = 0b1101011 << 25 | op << 21 | 0b11111 << 16 | target.num() << 5;
    word.to_le_bytes()
}

/// `blr xn`: call through a register (sets `x30` to the return address).
pub fn blr(target: X) -> [u8; 4] {
    branch_register(0b01, target)
}

/// `ret xn` (plain `ret` is `ret x30`).
pub fn ret(target: X) -> [u8; 4] {
    branch_register(0b10, target)
}

/// `brk #imm16`: `11010100 001 imm16 00000`. Fills the unused tail of a slot
/// so a stray jump there traps.
pub fn brk(imm16: u16) -> [u8; 4] {
    let word = 0b110_1010_0001 << 21 | (imm16 as u32) << 5;
    word.to_le_bytes()
}

/// The trampoline (SPEC §2): `stp x29,x30,[sp,#-16]!; mov x29,sp; blr x3;
/// ldp x29,x30,[sp],#16; ret`. `x3` is the fourth AAPCS64 argument, `eval`;
/// the first three pass through untouched in `x0`–`x2`.
pub fn stub() -> Vec<u8> {
    framed_stub().0
}

/// [`stub`] and where its unwind rules change, measured while emitting it,
/// so the jitdump's `.eh_frame` always follows the code.
pub fn framed_stub() -> (Vec<u8>, FrameRecordStub) {
    let mut code = Vec::new();
    let here = |code: &Vec<u8>| code.len() as u32;
    code.extend(stp_pre(X29, X30, Base::Sp, -16));
    let after_push = here(&code);
    code.extend(mov_from_sp(X29));
    let after_set_fp = here(&code);
    code.extend(blr(X3));
    code.extend(ldp_post(X29, X30, Base::Sp, 16));
    let after_pop = here(&code);
    code.extend(ret(X30));
    let layout = FrameRecordStub {
        arch: Arch::Aarch64,
        after_push,
        after_set_fp,
        after_pop,
        code_size: here(&code),
    };
    (code, layout)
}

#[cfg(test)]
mod tests {
    //! Expected words are assembled here from the Arm ARM's field tables
    //! (bit position → value), independently of the encoder above, and
    //! cross-checked with the words objdump prints for the same instructions.
    use super::*;

    /// Builds a word from `(lowest bit, width, value)` fields.
    fn fields(parts: &[(u32, u32, u32)]) -> u32 {
        parts.iter().fold(0, |word, &(lsb, width, value)| {
            assert!(value < 1 << width, "field at bit {lsb} too wide");
            word | value << lsb
        })
    }

    fn word(bytes: [u8; 4]) -> u32 {
        u32::from_le_bytes(bytes)
    }

    /// STP/LDP (64-bit), C6.2: opc[31:30]=10, 101[29:27], V[26]=0,
    /// index[25:23], L[22], imm7[21:15], Rt2[14:10], Rn[9:5], Rt[4:0].
    fn pair_word(index: u32, load: u32, imm7: u32, rt2: u32, rn: u32, rt: u32) -> u32 {
        fields(&[
            (30, 2, 0b10),
            (27, 3, 0b101),
            (26, 1, 0),
            (23, 3, index),
            (22, 1, load),
            (15, 7, imm7),
            (10, 5, rt2),
            (5, 5, rn),
            (0, 5, rt),
        ])
    }

    #[test]
    fn stp_pre_index_stores_the_frame_record() {
        // -16 bytes scaled by 8 is -2, as 7-bit two's complement 0b1111110.
        let expected = pair_word(0b011, 0, 0b111_1110, 30, 31, 29);
        assert_eq!(word(stp_pre(X29, X30, Base::Sp, -16)), expected);
        assert_eq!(expected, 0xa9bf_7bfd);
        // Another operand set: stp x0, x1, [x2, #32]!
        let other = pair_word(0b011, 0, 4, 1, 2, 0);
        assert_eq!(
            word(stp_pre(X::new(0), X::new(1), Base::X(X::new(2)), 32)),
            other
        );
    }

    #[test]
    fn ldp_post_index_restores_the_frame_record() {
        let expected = pair_word(0b001, 1, 2, 30, 31, 29);
        assert_eq!(word(ldp_post(X29, X30, Base::Sp, 16)), expected);
        assert_eq!(expected, 0xa8c1_7bfd);
    }

    #[test]
    fn mov_from_sp_is_add_immediate_zero() {
        // ADD (immediate) 64-bit: sf[31]=1 op[30]=0 S[29]=0 100010[28:23]
        // sh[22]=0 imm12[21:10] Rn[9:5] Rd[4:0]; sp is 31 in Rn.
        let expected = fields(&[
            (31, 1, 1),
            (23, 6, 0b100010),
            (10, 12, 0),
            (5, 5, 31),
            (0, 5, 29),
        ]);
        assert_eq!(word(mov_from_sp(X29)), expected);
        assert_eq!(expected, 0x9100_03fd);
    }

    #[test]
    fn blr_and_ret_are_branch_register_with_their_opc() {
        // 1101011[31:25] Z[24]=0 0[23] op[22:21] 11111[20:16] 0000 A M [15:10] Rn[9:5] 0[4:0]
        let br = |op, rn| {
            fields(&[
                (25, 7, 0b1101011),
                (21, 2, op),
                (16, 5, 0b11111),
                (5, 5, rn),
            ])
        };
        assert_eq!(word(blr(X3)), br(0b01, 3));
        assert_eq!(word(blr(X3)), 0xd63f_0060);
        assert_eq!(word(ret(X30)), br(0b10, 30));
        assert_eq!(word(ret(X30)), 0xd65f_03c0);
    }

    #[test]
    fn brk_carries_its_immediate() {
        let expected = |imm| fields(&[(21, 11, 0b110_1010_0001), (5, 16, imm)]);
        assert_eq!(word(brk(0)), expected(0));
        assert_eq!(word(brk(0x3e8)), expected(0x3e8));
        assert_eq!(word(brk(0)), 0xd420_0000);
    }

    #[test]
    #[should_panic(expected = "bad pair offset")]
    fn pair_offsets_must_be_scaled_multiples_of_eight() {
        stp_pre(X29, X30, Base::Sp, -12);
    }

    #[test]
    fn layout_marks_the_ends_of_stp_mov_and_ldp() {
        let (code, layout) = framed_stub();
        let word_before = |o: u32| word(code[o as usize - 4..o as usize].try_into().unwrap());
        assert_eq!(word_before(layout.after_push), 0xa9bf_7bfd);
        assert_eq!(word_before(layout.after_set_fp), 0x9100_03fd);
        assert_eq!(word_before(layout.after_pop), 0xa8c1_7bfd);
        assert_eq!(layout.code_size as usize, code.len());
    }

    #[test]
    fn stub_is_the_five_words_in_order() {
        let words: Vec<u32> = stub()
            .chunks(4)
            .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
            .collect();
        assert_eq!(
            words,
            [
                0xa9bf_7bfd,
                0x9100_03fd,
                0xd63f_0060,
                0xa8c1_7bfd,
                0xd65f_03c0
            ]
        );
    }
}
