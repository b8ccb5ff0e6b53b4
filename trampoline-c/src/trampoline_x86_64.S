/*
 * trampoline_x86_64.S - the stub template that arena.c copies into every
 * slot. Its .text holds exactly the stub, between the two global labels.
 *
 *   stub(state %rdi, frame %rsi, arg %rdx, eval %rcx):
 *     builds a frame record, calls eval(state, frame, arg) with the first
 *     three arguments untouched (a real call, so the return address into
 *     the stub stays on the stack for perf's walk), returns eval's %rax.
 */
    .text
    .p2align 4
    .globl perf_tramp_template_start
    .globl perf_tramp_template_end
    .type perf_tramp_template_start, @function
perf_tramp_template_start:
#if defined(__CET__)
    endbr64                 /* stubs are only ever reached indirectly */
#endif
    push %rbp
    mov %rsp, %rbp
    call *%rcx
    pop %rbp
    ret
perf_tramp_template_end:
    .size perf_tramp_template_start, perf_tramp_template_end - perf_tramp_template_start

    /* The stub needs no executable stack. */
    .section .note.GNU-stack,"",@progbits

#if defined(__CET__)
    /* Declare the CET features (__CET__: 1 IBT, 2 shadow stack) the stub
     * honours, so linking this object keeps the program's CET marking:
     * an NT_GNU_PROPERTY_TYPE_0 note with GNU_PROPERTY_X86_FEATURE_1_AND. */
    .section .note.gnu.property,"a",@note
    .p2align 3
    .long 4                 /* name size */
    .long 16                /* descriptor size */
    .long 5                 /* NT_GNU_PROPERTY_TYPE_0 */
    .asciz "GNU"
    .long 0xc0000002        /* GNU_PROPERTY_X86_FEATURE_1_AND */
    .long 4                 /* property data size */
    .long __CET__
    .p2align 3
#endif
