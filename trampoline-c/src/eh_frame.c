/*
 * eh_frame.c - the unwind information of one stub, written by hand as DWARF
 * call frame information (DWARF 4 §6.4, in its .eh_frame form from the LSB):
 * an .eh_frame holding one CIE and one FDE, then the .eh_frame_hdr that
 * indexes it. perf's DWARF unwinder reads these from the ELF that
 * `perf inject --jit` makes for each stub.
 *
 * The rules, by instruction (what the CFA is and where the caller's values
 * are after the instruction has run):
 *
 *   x86_64 (all offsets +4 when endbr64 comes first)
 *     0  entry             CFA = rsp+8,  return address at CFA-8
 *     1  push %rbp         CFA = rsp+16, rbp at CFA-16
 *     4  mov %rsp,%rbp     CFA = rbp+16
 *     6  call *%rcx        (no change)
 *     7  pop %rbp          CFA = rsp+8,  rbp restored
 *     8  ret
 *   aarch64
 *     0  entry                    CFA = sp+0, return address in x30
 *     4  stp x29,x30,[sp,#-16]!   CFA = sp+16, x29 at CFA-16, x30 at CFA-8
 *     8  mov x29,sp               CFA = x29+16
 *    12  blr x3                   (no change)
 *    16  ldp x29,x30,[sp],#16     CFA = sp+0, x29 and x30 restored
 *    20  ret
 *
 * Placement, as perf inject's ELF has it (tools/perf/util/genelf.c): the
 * code at the text offset, the .eh_frame at the code's start plus the code
 * size rounded up to 8, the .eh_frame_hdr right after the .eh_frame. Every
 * pointer here is relative to where it sits (pc-relative in the .eh_frame,
 * relative to the header in the header's table), so one copy serves every
 * stub wherever it is loaded. Both architectures are little-endian.
 */
#include "internal.h"

#include <string.h>

/* DWARF call frame instructions and pointer encodings used here. */
enum {
    DW_CFA_advance_loc = 0x40, /* low 6 bits: delta in code-alignment units */
    DW_CFA_offset = 0x80,      /* low 6 bits: register; ULEB factored offset */
    DW_CFA_restore = 0xc0,     /* low 6 bits: register */
    DW_CFA_nop = 0x00,
    DW_CFA_def_cfa = 0x0c,          /* ULEB register, ULEB offset */
    DW_CFA_def_cfa_register = 0x0d, /* ULEB register */
    DW_CFA_def_cfa_offset = 0x0e,   /* ULEB offset */

    DW_EH_PE_udata4 = 0x03,
    DW_EH_PE_sdata4 = 0x0b,
    DW_EH_PE_pcrel = 0x10,
    DW_EH_PE_datarel = 0x30,
};

/* DWARF register numbers (the psABIs'). */
enum {
    X86_64_RBP = 6,
    X86_64_RSP = 7,
    X86_64_RA = 16, /* the return-address column */
    AARCH64_X29 = 29,
    AARCH64_X30 = 30,
    AARCH64_SP = 31,
};

enum {
    DATA_ALIGNMENT = -8, /* saved registers sit at multiples of 8 from the CFA */
    ADDRESS_SIZE = 8,    /* CIE and FDE are padded to this */
    ENDBR64_SIZE = 4,
    EH_FRAME_HDR_SIZE = 20,
};

/* A byte sink that counts what does not fit, so one pass both sizes and
 * writes. */
struct sink {
    unsigned char *buf;
    size_t cap;
    size_t len;
};

static void put_u8(struct sink *out, unsigned value)
{
    if (out->len < out->cap)
        out->buf[out->len] = (unsigned char)value;
    out->len++;
}

static void put_u32_at(struct sink *out, size_t at, uint32_t value)
{
    for (int i = 0; i < 4; i++, at++)
        if (at < out->cap)
            out->buf[at] = (unsigned char)(value >> (8 * i));
}

static void put_u32(struct sink *out, uint32_t value)
{
    put_u32_at(out, out->len, value);
    out->len += 4;
}

static void put_s32(struct sink *out, int64_t value)
{
    put_u32(out, (uint32_t)(int32_t)value);
}

static void put_uleb(struct sink *out, uint64_t value)
{
    do {
        unsigned byte = value & 0x7f;
        value >>= 7;
        put_u8(out, value != 0 ? byte | 0x80 : byte);
    } while (value != 0);
}

static void put_sleb(struct sink *out, int64_t value)
{
    for (;;) {
        unsigned byte = (unsigned)value & 0x7f;
        value >>= 7; /* arithmetic shift: the sign is kept */
        int done = (value == 0 && !(byte & 0x40)) || (value == -1 && (byte & 0x40));
        put_u8(out, done ? byte : byte | 0x80);
        if (done)
            return;
    }
}

/* ---- call frame instructions ------------------------------------------ */

static void cfa_advance(struct sink *out, unsigned units)
{
    put_u8(out, DW_CFA_advance_loc | units); /* every advance here is < 64 */
}

static void cfa_def(struct sink *out, unsigned reg, unsigned offset)
{
    put_u8(out, DW_CFA_def_cfa);
    put_uleb(out, reg);
    put_uleb(out, offset);
}

static void cfa_def_offset(struct sink *out, unsigned offset)
{
    put_u8(out, DW_CFA_def_cfa_offset);
    put_uleb(out, offset);
}

static void cfa_def_register(struct sink *out, unsigned reg)
{
    put_u8(out, DW_CFA_def_cfa_register);
    put_uleb(out, reg);
}

/* `reg` is saved at CFA - `below_cfa`. */
static void cfa_saved_at(struct sink *out, unsigned reg, unsigned below_cfa)
{
    put_u8(out, DW_CFA_offset | reg);
    put_uleb(out, below_cfa / -DATA_ALIGNMENT);
}

static void cfa_restore(struct sink *out, unsigned reg)
{
    put_u8(out, DW_CFA_restore | reg);
}

/* ---- the two architectures -------------------------------------------- */

struct stub_rules {
    int arch;
    unsigned code_alignment;
    unsigned return_address_register;
    size_t code_size;
    size_t prologue; /* bytes before the first rule change (endbr64) */
    void (*initial)(struct sink *out);
    void (*body)(struct sink *out, const struct stub_rules *rules);
};

static void x86_64_initial(struct sink *out)
{
    cfa_def(out, X86_64_RSP, 8);
    cfa_saved_at(out, X86_64_RA, 8);
}

static void x86_64_body(struct sink *out, const struct stub_rules *rules)
{
    cfa_advance(out, (unsigned)rules->prologue + 1); /* after push %rbp */
    cfa_def_offset(out, 16);
    cfa_saved_at(out, X86_64_RBP, 16);
    cfa_advance(out, 3); /* after mov %rsp,%rbp */
    cfa_def_register(out, X86_64_RBP);
    cfa_advance(out, 3); /* after call *%rcx (2 bytes) and pop %rbp (1) */
    cfa_def(out, X86_64_RSP, 8);
    cfa_restore(out, X86_64_RBP);
}

static void aarch64_initial(struct sink *out)
{
    cfa_def(out, AARCH64_SP, 0); /* the return address is x30 itself */
}

/* Advances are in units of 4 bytes (the CIE's code alignment). */
static void aarch64_body(struct sink *out, const struct stub_rules *rules)
{
    (void)rules;
    cfa_advance(out, 1); /* after stp x29,x30,[sp,#-16]! */
    cfa_def_offset(out, 16);
    cfa_saved_at(out, AARCH64_X29, 16);
    cfa_saved_at(out, AARCH64_X30, 8);
    cfa_advance(out, 1); /* after mov x29,sp */
    cfa_def_register(out, AARCH64_X29);
    cfa_advance(out, 2); /* after blr x3 and ldp x29,x30,[sp],#16 */
    cfa_def(out, AARCH64_SP, 0);
    cfa_restore(out, AARCH64_X29);
    cfa_restore(out, AARCH64_X30);
}

static int host_arch(void)
{
#if defined(__x86_64__)
    return PERF_TRAMP_ARCH_X86_64;
#elif defined(__aarch64__)
    return PERF_TRAMP_ARCH_AARCH64;
#else
#error "trampoline-c supports x86_64 and aarch64 only"
#endif
}

/* Whether this library's template starts with endbr64 (a CET build). */
static int host_template_has_endbr64(void)
{
    static const unsigned char endbr64[ENDBR64_SIZE] = {0xf3, 0x0f, 0x1e, 0xfa};
    size_t len;
    const unsigned char *template = perf_tramp_template(&len);
    return host_arch() == PERF_TRAMP_ARCH_X86_64 && len >= ENDBR64_SIZE &&
           memcmp(template, endbr64, ENDBR64_SIZE) == 0;
}

static int rules_for(int arch, int flags, struct stub_rules *rules)
{
    if (arch == PERF_TRAMP_ARCH_HOST) {
        arch = host_arch();
        flags = host_template_has_endbr64() ? PERF_TRAMP_UNWIND_ENDBR64 : 0;
    }
    if (arch == PERF_TRAMP_ARCH_X86_64) {
        size_t prologue = (flags & PERF_TRAMP_UNWIND_ENDBR64) ? ENDBR64_SIZE : 0;
        *rules = (struct stub_rules){arch, 1, X86_64_RA, prologue + 8, prologue,
                                     x86_64_initial, x86_64_body};
        return 1;
    }
    if (arch == PERF_TRAMP_ARCH_AARCH64) {
        *rules = (struct stub_rules){arch, 4, AARCH64_X30, 20, 0, aarch64_initial, aarch64_body};
        return 1;
    }
    return 0;
}

/* ---- .eh_frame and .eh_frame_hdr -------------------------------------- */

static size_t round_up(size_t value, size_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

/* Pads the entry that began at `start` (its length field) with DW_CFA_nop
 * to a multiple of the address size and fills in its length. */
static void close_entry(struct sink *out, size_t start)
{
    while ((out->len - start) % ADDRESS_SIZE != 0)
        put_u8(out, DW_CFA_nop);
    put_u32_at(out, start, (uint32_t)(out->len - start - 4));
}

/* The CIE, at offset 0: augmentation "zR" so the FDE's addresses can be
 * pc-relative 4-byte values. */
static void put_cie(struct sink *out, const struct stub_rules *rules)
{
    size_t start = out->len;
    put_u32(out, 0); /* length, filled in by close_entry */
    put_u32(out, 0); /* CIE id: 0 in .eh_frame */
    put_u8(out, 1);  /* version */
    put_u8(out, 'z');
    put_u8(out, 'R');
    put_u8(out, 0);
    put_uleb(out, rules->code_alignment);
    put_sleb(out, DATA_ALIGNMENT);
    put_uleb(out, rules->return_address_register);
    put_uleb(out, 1); /* augmentation data: the 'R' byte */
    put_u8(out, DW_EH_PE_pcrel | DW_EH_PE_sdata4);
    rules->initial(out);
    close_entry(out, start);
}

/* The FDE for the code that starts `code_before` bytes before the
 * .eh_frame's start. */
static void put_fde(struct sink *out, const struct stub_rules *rules, size_t code_before)
{
    size_t start = out->len;
    put_u32(out, 0);                    /* length, filled in by close_entry */
    put_u32(out, (uint32_t)(out->len)); /* back to the CIE at offset 0 */
    put_s32(out, -(int64_t)code_before - (int64_t)out->len); /* pc_begin, pc-relative */
    put_u32(out, (uint32_t)rules->code_size);                /* pc_range */
    put_uleb(out, 0);                                        /* no augmentation data */
    rules->body(out, rules);
    close_entry(out, start);
}

/* The header (LSB's .eh_frame_hdr): where the .eh_frame is, and a one-row
 * binary-search table from the code's start to its FDE. `eh_frame_size`
 * bytes of .eh_frame come right before it. */
static void put_eh_frame_hdr(struct sink *out, size_t eh_frame_size, size_t code_before,
                             size_t fde_offset)
{
    int64_t eh_frame_from_hdr = -(int64_t)eh_frame_size;
    put_u8(out, 1); /* version */
    put_u8(out, DW_EH_PE_pcrel | DW_EH_PE_sdata4);   /* eh_frame_ptr */
    put_u8(out, DW_EH_PE_udata4);                    /* fde_count */
    put_u8(out, DW_EH_PE_datarel | DW_EH_PE_sdata4); /* table, from the header */
    put_s32(out, eh_frame_from_hdr - 4);             /* pc-relative: the field is at +4 */
    put_u32(out, 1);
    put_s32(out, eh_frame_from_hdr - (int64_t)code_before); /* initial location */
    put_s32(out, eh_frame_from_hdr + (int64_t)fde_offset);  /* its FDE */
}

size_t perf_tramp_stub_unwind_data(int arch, int flags, unsigned char *buf, size_t cap,
                                   struct perf_tramp_unwind_layout *layout)
{
    struct stub_rules rules;
    if (!rules_for(arch, flags, &rules))
        return 0;
    struct sink out = {buf, buf != NULL ? cap : 0, 0};
    size_t code_before = round_up(rules.code_size, 8);

    put_cie(&out, &rules);
    size_t fde_offset = out.len;
    put_fde(&out, &rules, code_before);
    put_u32(&out, 0); /* a zero length ends the .eh_frame */
    size_t eh_frame_size = out.len;
    put_eh_frame_hdr(&out, eh_frame_size, code_before, fde_offset);

    if (layout != NULL) {
        layout->arch = rules.arch;
        layout->code_size = rules.code_size;
        layout->eh_frame_size = eh_frame_size;
        layout->eh_frame_hdr_size = EH_FRAME_HDR_SIZE;
    }
    return out.len;
}
