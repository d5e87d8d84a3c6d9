/* Kernel entry points from running code: CPU exceptions and interrupts (all on IST
 * stacks, so nothing is ever pushed into a program's red zone; see trap_common) and
 * the `syscall` instruction (caught through LSTAR; we switch to the kernel's syscall stack without
 * touching the program's stack). Both build the same TrapFrame (see trap.rs) with a
 * 512-byte FXSAVE-layout area below it, call into Rust and return with iretq (sysret
 * would drop to ring 3; the program runs in ring 0), or, for a plain syscall return,
 * with `sti; jmp`. Traps save the whole FPU/SSE state there; syscalls save only
 * xmm0-3, at their FXSAVE offsets: the compiled kernel uses no other vector register
 * and never x87 or MXCSR (kernel/check-fpu-use enforces it at every build). A full
 * fxsave/fxrstor pair was two thirds of a syscall's cost under TCG, and saving all 16
 * xmm registers still 37%. The rest of the state of a thread blocked in a syscall
 * travels through switch_stacks instead, and signal code completes the area when it
 * needs the whole image (arch::fpu). */

.macro SAVE_GPRS
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
.endm

.macro SAVE_XMM
    movdqa %xmm0, 160(%rsp)
    movdqa %xmm1, 176(%rsp)
    movdqa %xmm2, 192(%rsp)
    movdqa %xmm3, 208(%rsp)
.endm

.macro RESTORE_XMM
    movdqa 160(%rsp), %xmm0
    movdqa 176(%rsp), %xmm1
    movdqa 192(%rsp), %xmm2
    movdqa 208(%rsp), %xmm3
.endm

.macro RESTORE_GPRS
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
.endm

.text
/* Exceptions and interrupts. When one interrupts the program (interrupts reach the
 * kernel's own code only while it halts, and at the jump of the fast syscall return,
 * which counts as the program: see 4: below), the frame is moved from the IST stack to the current thread's kernel stack, which is
 * empty at that point: the handler may then switch threads (preemption), touch
 * program memory that is not committed yet (building a signal frame faults again on
 * the IST stack) and rewrite the frame to enter a signal handler. Exceptions in the
 * kernel's own code stay on the IST stack. */
trap_common:
    SAVE_GPRS
    cld
    movabs $0x0000800000000000, %rax
    cmp %rax, 17*8(%rsp)            /* interrupted rip */
    jae 4f
5:  swapgs                          /* from program code: the kernel's GS base */
    mov %rsp, %rsi
    mov %gs:16, %rdi                /* percpu: the running thread's kernel stack */
    sub $22*8, %rdi
    mov %rdi, %rdx
    mov $22, %ecx
    rep movsq
    mov %rdx, %rsp
1:  mov %rsp, %rdi
    sub $512, %rsp
    fxsave (%rsp)
    call trap_handler
    testb $0x80, 512+17*8+7(%rsp)   /* returning to kernel code (rip's top bit)? */
    jnz 2f
    cmpb $0, SMP_ACTIVE(%rip)
    je 2f
    call bkl_leave_to_program
2:  fxrstor (%rsp)
    add $512, %rsp
    RESTORE_GPRS
    add $16, %rsp
    testb $0x80, 7(%rsp)            /* rip's top bit: kernel code keeps the GS base */
    jnz 3f
    swapgs
3:  iretq
    /* Kernel code was interrupted. One kernel instruction runs with the program's GS
     * base and interrupts on: the `jmp *%rcx` after `swapgs; sti` of the fast syscall
     * return. STI's interrupt shadow should keep interrupts off until that jump is done,
     * but a vCPU does not always get one (seen on Xen PVH nested under QEMU's TCG: the
     * kernel then ran with the program's GS base and faulted on %gs:24 for ever). The
     * jump has no other effect, so the interrupt is taken as if at its target, in the
     * program: rip becomes the saved rcx and the program's path swaps the GS base. */
4:  lea syscall_return_jmp(%rip), %rax
    cmp %rax, 17*8(%rsp)
    jne 6f
    mov 12*8(%rsp), %rax            /* rcx: the program's rip */
    mov %rax, 17*8(%rsp)
    jmp 5b
    /* Two things that must not happen in kernel code, reported instead of faulting on
     * %gs for ever (or until the CPU triple-faults):
     * - An interrupt (vector 32 and up) taken at a trap stub (trap_stubs below), where
     *   interrupts are off: a hypervisor delivered an interrupt again after it had
     *   delivered it (seen with Xen nested under QEMU 7.2's TCG: Xen re-injects an event
     *   that QEMU reports as not delivered). The second delivery reused the IST stack and
     *   overwrote the first one's frame, so what the first interrupted is lost.
     * - Kernel code with a program's GS base, told by RDGSBASE when the CPU has FSGSBASE
     *   (a kernel address has the top bit set). The handler gets the kernel's GS base. */
6:  lea trap_redelivered(%rip), %rbx
    cmpq $32, 15*8(%rsp)            /* vector */
    jl 7f
    lea trap_stubs(%rip), %rax
    cmp %rax, 17*8(%rsp)
    jb 7f
    lea trap_stubs_end(%rip), %rax
    cmp %rax, 17*8(%rsp)
    jb 8f
7:  lea kernel_gs_wrong(%rip), %rbx
    cmpb $0, HAVE_RDGSBASE(%rip)
    je 1b
    rdgsbase %rax
    bt $63, %rax
    jc 1b
    swapgs
    jmp 9f
    /* Re-delivered: the lost frame may have had either GS base; get the kernel's. */
8:  cmpb $0, HAVE_RDGSBASE(%rip)
    je 10f
    rdgsbase %rax
    bt $63, %rax
    jc 9f
    swapgs
    jmp 9f
10: mov $0xc0000101, %ecx           /* IA32_GS_BASE */
    rdmsr
    bt $31, %edx
    jc 9f
    swapgs
9:  mov %rsp, %rdi
    sub $512, %rsp
    call *%rbx                      /* reports and stops: does not return */
    ud2

.macro TRAP_NOERR n
.balign 16
trap_\n:
    push $0
    push $\n
    jmp trap_common
.endm

.macro IRQ n
.balign 16
trap_\n:
    push $0
    push $\n
    jmp trap_common
.endm

.macro TRAP_ERR n
.balign 16
trap_\n:
    push $\n
    jmp trap_common
.endm

.balign 16
trap_stubs:                         /* the 256 stubs, up to trap_stubs_end */
TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR 29
TRAP_ERR 30
TRAP_NOERR 31
/* vectors 32..255: interrupts; one generic stub records the vector */
.altmacro
.macro TRAP_IRQ n
    IRQ %n
.endm
.set i, 32
.rept 224
    TRAP_IRQ %i
    .set i, i + 1
.endr
trap_stubs_end:

.section .rodata
.balign 8
.global trap_vectors
trap_vectors:
.macro TRAP_ADDR n
    .quad trap_\n
.endm
.set i, 0
.rept 256
    TRAP_ADDR %i
    .set i, i + 1
.endr
.noaltmacro

/* The syscall path lives in .text.hot, next to syscall_handler (see link.ld). */
.pushsection .text.hot, "ax"
.balign 16
.global syscall_entry
syscall_entry:
    swapgs                          /* the kernel's GS base: this CPU's percpu block */
    mov %rsp, %gs:8
    mov %gs:16, %rsp                /* the running thread's kernel stack */
    push $0x10                      /* ss */
    push %gs:8                      /* rsp */
    push %r11                       /* rflags */
    push $0x08                      /* cs */
    push %rcx                       /* rip */
    push $0                         /* error code */
    push $-1                        /* vector: -1 marks a syscall */
    SAVE_GPRS
    cld
    mov %rsp, %rdi
    sub $512, %rsp
    SAVE_XMM
    call syscall_handler
.global syscall_return
syscall_return:
    cmpb $0, SMP_ACTIVE(%rip)
    je 2f
    call bkl_leave_to_program
2:  RESTORE_XMM
    add $512, %rsp
    /* Fast return when the frame is a plain syscall return: rcx and r11 still hold the
     * program's rip and rflags (as the syscall instruction left them, which is also what
     * Linux's sysret hands back), and rflags has IF set and no TF/DF/NT/AC. Then restore
     * rflags with IF clear, switch to the program's stack and `sti; jmp *%rcx`: sti's
     * one-instruction interrupt shadow makes the jump land before any interrupt, so no
     * interrupt sees the kernel's rip on the program's stack. Anything else (a signal
     * handler entered, sigreturn to an interrupted context) takes iretq. iretq is a
     * slow helper under TCG, and this path halves getppid's cost there. */
    mov 17*8(%rsp), %rcx            /* rip */
    cmp 12*8(%rsp), %rcx            /* saved rcx */
    jne 1f
    mov 19*8(%rsp), %r11            /* rflags */
    cmp 4*8(%rsp), %r11             /* saved r11 */
    jne 1f
    and $0x44700, %r11              /* TF IF DF NT AC */
    cmp $0x200, %r11
    jne 1f
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    add $8, %rsp                    /* r11: set below */
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    add $8, %rsp                    /* rcx: holds rip */
    pop %rbx
    pop %rax
    /* rsp -> vector, error, rip, cs, rflags, rsp, ss */
    mov 4*8(%rsp), %r11
    btr $9, %r11
    push %r11
    popfq                           /* program's flags, interrupts still off */
    mov 4*8(%rsp), %r11             /* rflags as the program sees it in r11 */
    mov 5*8(%rsp), %rsp             /* program's stack */
    swapgs                          /* the program's GS base */
    sti
.global syscall_return_jmp
syscall_return_jmp:                 /* see trap_common */
    jmp *%rcx
1:  RESTORE_GPRS
    add $16, %rsp
    swapgs
    iretq
.popsection

/* Start the program: rdi = entry, rsi = initial stack pointer. Linux's ELF ABI wants
 * rdx = 0 (no rtld fini function) and the other registers zeroed. */
.global enter_program
enter_program:
    cmpb $0, SMP_ACTIVE(%rip)
    je 1f
    sub $8, %rsp
    push %rdi
    push %rsi
    call bkl_leave_to_program
    pop %rsi
    pop %rdi
    add $8, %rsp
1:
    push $0x10
    push %rsi
    push $0x202                     /* rflags: IF on (the program is preemptible) */
    push $0x08
    push %rdi
    xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    swapgs                          /* the program's GS base */
    iretq

/* switch_stacks(save: *mut u64, next: u64): saves the callee-saved registers and the
 * FPU state the kernel leaves live (x87, MXCSR, xmm4-15, the ymm upper halves; see the
 * top of this file and arch::fpu) on the current kernel stack, stores its rsp in
 * *save, and continues on `next` (a stack saved the same way, or a new thread's
 * prepared stack whose "return address" is syscall_return). The rsp stored points at
 * the FPU area: 1024 bytes (fpu::SWITCH_AREA), 64-byte aligned, saved with XSAVE (x87,
 * SSE, AVX) when fpu::init enabled it, else FXSAVE; its bytes 504-511 (left to
 * software by both) hold the rsp of the saved registers. */
.global switch_stacks
switch_stacks:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rax
    sub $1024, %rsp
    and $-64, %rsp
    mov %rax, 504(%rsp)
    mov $7, %eax                    /* XSAVE mask: x87, SSE, AVX */
    xor %edx, %edx
    cmpb $0, FPU_XSAVE(%rip)
    je 1f
    /* XSAVE writes only the XSTATE_BV bits it saves; XRSTOR faults unless the other
     * bits, XCOMP_BV and the reserved bytes are zero, and this is old stack memory. */
    movq $0, 512(%rsp)
    movq $0, 520(%rsp)
    movq $0, 528(%rsp)
    movq $0, 536(%rsp)
    movq $0, 544(%rsp)
    movq $0, 552(%rsp)
    movq $0, 560(%rsp)
    movq $0, 568(%rsp)
    xsave (%rsp)
    jmp 2f
1:  fxsave (%rsp)
2:  mov %rsp, (%rdi)
    mov %rsi, %rsp
    mov $7, %eax
    xor %edx, %edx
    cmpb $0, FPU_XSAVE(%rip)
    je 3f
    xrstor (%rsp)
    jmp 4f
3:  fxrstor (%rsp)
4:  mov 504(%rsp), %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

.bss
.balign 4096
.global kernel_boot_stack_top
kernel_boot_stack: .skip 65536
kernel_boot_stack_top:
