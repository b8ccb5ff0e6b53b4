// trampoline_aarch64.S - the stub template that arena.c copies into every
// slot. Its .text holds exactly the stub, between the two global labels.
// No preprocessor directives: it must assemble with a bare assembler too.
//
//   stub(state x0, frame x1, arg x2, eval x3):
//     builds a frame record (x29, x30), calls eval(state, frame, arg) with
//     x0..x2 untouched (a real call: the return address into the stub stays
//     in the frame record for perf's walk), returns eval's x0.

    .text
    .p2align 4
    .globl perf_tramp_template_start
    .globl perf_tramp_template_end
    .type perf_tramp_template_start, %function
perf_tramp_template_start:
    stp x29, x30, [sp, #-16]!
    mov x29, sp
    blr x3
    ldp x29, x30, [sp], #16
    ret
perf_tramp_template_end:
    .size perf_tramp_template_start, perf_tramp_template_end - perf_tramp_template_start

    // The stub needs no executable stack.
    .section .note.GNU-stack,"",%progbits

    // Keep a branch-protected program's marking: the linker ANDs every
    // object's GNU_PROPERTY_AARCH64_FEATURE_1_AND, so without this note
    // linking the template would drop BTI and PAC from the whole program.
    // Both hold for this object: the template is only ever copied, never
    // run where it is linked. The copies run from arena pages mapped
    // without PROT_BTI, so they need no `bti c`, and they deliberately
    // leave the return address unsigned, for perf's unwinders
    // (docs/contract-notes-aarch64.md).
    .section .note.gnu.property,"a",%note
    .p2align 3
    .long 4                 // name size
    .long 16                // descriptor size
    .long 5                 // NT_GNU_PROPERTY_TYPE_0
    .asciz "GNU"
    .long 0xc0000000        // GNU_PROPERTY_AARCH64_FEATURE_1_AND
    .long 4                 // property data size
    .long 3                 // BTI (1) | PAC (2)
    .p2align 3
