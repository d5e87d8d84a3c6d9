/* The C memory functions the compiler calls (memcpy, memset; memmove's backward half,
 * memmove_down), in AT&T syntax for global_asm! and for gcc: tests/system/tests/
 * kernel_mem.rs assembles this same file on the host and checks it against libc.
 * They move 64 bytes per loop turn through xmm0-3 (the only vector registers the kernel
 * may touch: a syscall saves just those, see kernel/check-fpu-use), then 8 bytes, then
 * single bytes; memcpy moves 256 bytes per turn first (four rounds of the four
 * registers: under TCG the loop's bookkeeping and the end of its translation block
 * were 7 of the 15 instructions per 64 bytes, and sendfile copies every byte of a
 * large response twice). Not `rep movsb`/`rep stosb`: fast on hardware with ERMS, but QEMU's
 * TCG runs them one byte per turn; reading a 4 KiB block through the ext2 cache cost
 * ~30 us that way. */

.pushsection .rumprun_mem, "ax"
.balign 16
.global memcpy
memcpy:
    mov %rdi, %rax
    cmp $256, %rdx
    jb 2f
1:
    .irp off, 0, 64, 128, 192
    movdqu \off(%rsi), %xmm0
    movdqu \off+16(%rsi), %xmm1
    movdqu \off+32(%rsi), %xmm2
    movdqu \off+48(%rsi), %xmm3
    movdqu %xmm0, \off(%rdi)
    movdqu %xmm1, \off+16(%rdi)
    movdqu %xmm2, \off+32(%rdi)
    movdqu %xmm3, \off+48(%rdi)
    .endr
    add $256, %rsi
    add $256, %rdi
    sub $256, %rdx
    cmp $256, %rdx
    jae 1b
2:  cmp $64, %rdx
    jb 3f
    movdqu (%rsi), %xmm0
    movdqu 16(%rsi), %xmm1
    movdqu 32(%rsi), %xmm2
    movdqu 48(%rsi), %xmm3
    movdqu %xmm0, (%rdi)
    movdqu %xmm1, 16(%rdi)
    movdqu %xmm2, 32(%rdi)
    movdqu %xmm3, 48(%rdi)
    add $64, %rsi
    add $64, %rdi
    sub $64, %rdx
    jmp 2b
3:  cmp $8, %rdx
    jb 4f
    mov (%rsi), %rcx
    mov %rcx, (%rdi)
    add $8, %rsi
    add $8, %rdi
    sub $8, %rdx
    jmp 3b
4:  mov %rdx, %rcx
    rep movsb
    ret

/* memmove_down(dst, src, n): copies from the end, for dst above an overlapping src. */
.global memmove_down
memmove_down:
    mov %rdi, %rax
2:  cmp $64, %rdx
    jb 3f
    sub $64, %rdx
    movdqu (%rsi,%rdx), %xmm0
    movdqu 16(%rsi,%rdx), %xmm1
    movdqu 32(%rsi,%rdx), %xmm2
    movdqu 48(%rsi,%rdx), %xmm3
    movdqu %xmm0, (%rdi,%rdx)
    movdqu %xmm1, 16(%rdi,%rdx)
    movdqu %xmm2, 32(%rdi,%rdx)
    movdqu %xmm3, 48(%rdi,%rdx)
    jmp 2b
3:  test %rdx, %rdx
    jz 4f
    dec %rdx
    movb (%rsi,%rdx), %cl
    movb %cl, (%rdi,%rdx)
    jmp 3b
4:  ret

.global memset
memset:
    mov %rdi, %rax
    movzbl %sil, %ecx
    movabs $0x0101010101010101, %r8
    imul %r8, %rcx
    movq %rcx, %xmm0
    punpcklqdq %xmm0, %xmm0
2:  cmp $64, %rdx
    jb 3f
    movdqu %xmm0, (%rdi)
    movdqu %xmm0, 16(%rdi)
    movdqu %xmm0, 32(%rdi)
    movdqu %xmm0, 48(%rdi)
    add $64, %rdi
    sub $64, %rdx
    jmp 2b
3:  cmp $8, %rdx
    jb 4f
    mov %rcx, (%rdi)
    add $8, %rdi
    sub $8, %rdx
    jmp 3b
4:  test %rdx, %rdx
    jz 5f
    movb %cl, (%rdi)
    inc %rdi
    dec %rdx
    jmp 4b
5:  ret
.popsection
