/* The application processors' trampoline: copied to TRAMPOLINE (smp.rs) and entered
 * by the startup IPI in real mode, it goes to long mode in one step with boot.S's
 * LONG_MODE_ON and KERNEL_SEGMENTS and the same GDT descriptors and selectors (the
 * braced operands: the same Rust constants as boot.S's, see mod.rs), through the root smp.rs writes into ap_tramp_cr3
 * (low memory identity-mapped), then calls ap_tramp_entry(ap_tramp_arg) on
 * ap_tramp_stack. It runs at TRAMPOLINE, so its own addresses are TRAMPOLINE +
 * (label - ap_trampoline_start). */
.section .rodata.ap_trampoline, "a"
.balign 16
.global ap_trampoline_start
ap_trampoline_start:
.code16
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl (ap_tramp_gdt_ptr - ap_trampoline_start)
    LONG_MODE_ON "(ap_tramp_cr3 - ap_trampoline_start)"
    ljmpl ${kernel_cs}, $({base} + ap_tramp64 - ap_trampoline_start)
.code64
ap_tramp64:
    KERNEL_SEGMENTS
    mov ({base} + ap_tramp_stack - ap_trampoline_start), %rsp
    mov ({base} + ap_tramp_arg - ap_trampoline_start), %rdi
    mov ({base} + ap_tramp_entry - ap_trampoline_start), %rax
    xor %ebp, %ebp
    call *%rax
1:  hlt
    jmp 1b
.balign 8
ap_tramp_gdt:
    .quad 0
    .quad {code64}
    .quad {data}
ap_tramp_gdt_ptr:
    .short 23
    .long {base} + ap_tramp_gdt - ap_trampoline_start
.balign 8
.global ap_tramp_cr3
ap_tramp_cr3: .quad 0
ap_tramp_stack: .quad 0
ap_tramp_entry: .quad 0
ap_tramp_arg: .quad 0
.global ap_trampoline_end
ap_trampoline_end:
.text
