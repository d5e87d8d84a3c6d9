/* copy_user(dst, src, n) -> bytes NOT copied (0 on success): the one routine through
 * which the kernel reads and writes program memory (mm::user). Either side may be a
 * program address; every instruction that touches memory has an entry in the
 * exception table (.rumprun_extable: pairs of faulting address, where to resume), so
 * a page or general-protection fault that the memory manager cannot resolve (no area,
 * PROT_NONE, a write to read-only memory) resumes at the fixup instead of being a
 * kernel fault (arch::extable, trap.rs). A fault in the 64- or 8-byte loops restarts
 * the rest byte by byte, so the count returned is exact: the bytes before the first
 * inaccessible one are copied. A page not touched yet is committed by the page-fault
 * handler first and the copy goes on, as for the program itself.
 * Same structure as mem.S's memcpy (xmm0-3 only: see kernel/check-fpu-use). */

.macro EX insn_label, fixup_label
    .pushsection .rumprun_extable, "a"
    .balign 8
    .quad \insn_label, \fixup_label
    .popsection
.endm

.pushsection .rumprun_mem, "ax"
.balign 16
.global copy_user
copy_user:
2:  cmp $64, %rdx
    jb 3f
10: movdqu (%rsi), %xmm0
11: movdqu 16(%rsi), %xmm1
12: movdqu 32(%rsi), %xmm2
13: movdqu 48(%rsi), %xmm3
14: movdqu %xmm0, (%rdi)
15: movdqu %xmm1, 16(%rdi)
16: movdqu %xmm2, 32(%rdi)
17: movdqu %xmm3, 48(%rdi)
    add $64, %rsi
    add $64, %rdi
    sub $64, %rdx
    jmp 2b
3:  cmp $8, %rdx
    jb 4f
20: mov (%rsi), %rcx
21: mov %rcx, (%rdi)
    add $8, %rsi
    add $8, %rdi
    sub $8, %rdx
    jmp 3b
4:  test %rdx, %rdx
    jz 5f
30: movb (%rsi), %cl
31: movb %cl, (%rdi)
    inc %rsi
    inc %rdi
    dec %rdx
    jmp 4b
5:  mov %rdx, %rax
    ret
    EX 10b, 4b
    EX 11b, 4b
    EX 12b, 4b
    EX 13b, 4b
    EX 14b, 4b
    EX 15b, 4b
    EX 16b, 4b
    EX 17b, 4b
    EX 20b, 4b
    EX 21b, 4b
    EX 30b, 5b
    EX 31b, 5b
.popsection
