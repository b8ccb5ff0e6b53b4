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
