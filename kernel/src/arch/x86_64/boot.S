/* 32-bit entry (PVH and multiboot2) and the switch to long mode.
 *
 * Entered with paging off. PVH: %ebx = physical address of hvm_start_info.
 * Multiboot2: %eax = 0x36d76289, %ebx = multiboot2 info. We record which, build page
 * tables that map the first 4 GiB of physical memory three times (identity, for the
 * jump; the direct map at 0xffff800000000000; the kernel window at -2 GiB), enable
 * SSE, long mode, NX and SYSCALL, and call kernel_main(boot_magic, boot_info).
 *
 * The braced operands are Rust constants (arch/x86_64/mod.rs): the control-register bits
 * (cpu::long_mode), the GDT's descriptors and selectors (gdt.rs) and the page-table
 * flags (paging.rs), shared with the AP trampoline (smp.rs) and the Rust side. */

.set PTE_P_W, {pte_table}
.set PTE_P_W_PS, {pte_huge}

/* Long mode on, from 32-bit protected or 16-bit real mode (the AP trampoline uses
 * these too): CR4, CR3 = the root that `root` names (a source operand of a mov into
 * %eax), EFER, then CR0 (paging on). The caller far-jumps to 64-bit code next. */
.macro LONG_MODE_ON root:req
    mov %cr4, %eax
    or ${cr4}, %eax
    mov %eax, %cr4
    mov \root, %eax
    mov %eax, %cr3
    mov ${msr_efer}, %ecx
    rdmsr
    or ${efer}, %eax
    wrmsr
    mov %cr0, %eax
    and ${cr0_keep}, %eax
    or ${cr0_set}, %eax
    mov %eax, %cr0
.endm

/* First thing in 64-bit code: the kernel's data segments, null FS and GS, a clean FPU. */
.macro KERNEL_SEGMENTS
    mov ${kernel_ds}, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    fninit
.endm

.section .multiboot2, "a"
.balign 8
mb2_header:
    .long 0xe85250d6                /* magic */
    .long 0                         /* architecture: i386 protected mode */
    .long mb2_header_end - mb2_header
    .long -(0xe85250d6 + 0 + (mb2_header_end - mb2_header))
    /* entry address tag */
    .balign 8
    .short 3, 0
    .long 12
    .long boot_entry32
    .balign 8
    .short 0, 0                     /* end tag */
    .long 8
mb2_header_end:

.section .note.Xen, "a"
.balign 4
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long 18                        /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .long boot_entry32

.section .boot.text, "ax"
.code32
.global boot_entry32
boot_entry32:
    cli
    cld
    mov %eax, boot_magic
    mov %ebx, boot_info
    mov $boot_stack_top, %esp

    /* Page directories: 2048 entries of 2 MiB pages covering 0..4 GiB. */
    mov $boot_pd, %edi
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $PTE_P_W_PS, %eax
    mov %eax, (%edi,%ecx,8)
    mov %ecx, %eax
    shr $11, %eax
    mov %eax, 4(%edi,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 1b

    /* boot_pdpt_phys[0..4] -> the four page directories. */
    mov $boot_pdpt_phys, %edi
    mov $boot_pd + PTE_P_W, %eax
    mov %eax, 0(%edi)
    add $4096, %eax
    mov %eax, 8(%edi)
    add $4096, %eax
    mov %eax, 16(%edi)
    add $4096, %eax
    mov %eax, 24(%edi)

    /* boot_pdpt_high[510, 511] -> the first two page directories (-2 GiB window). */
    mov $boot_pdpt_high, %edi
    mov $boot_pd + PTE_P_W, %eax
    mov %eax, 510*8(%edi)
    add $4096, %eax
    mov %eax, 511*8(%edi)

    /* PML4: [0] identity (dropped once we run high), [256] direct map, [511] kernel. */
    mov $boot_pml4, %edi
    mov $boot_pdpt_phys + PTE_P_W, %eax
    mov %eax, 0(%edi)
    mov %eax, 256*8(%edi)
    mov $boot_pdpt_high + PTE_P_W, %eax
    mov %eax, 511*8(%edi)

    LONG_MODE_ON $boot_pml4
    lgdt boot_gdt_ptr
    ljmp ${kernel_cs}, $boot_entry64

.code64
boot_entry64:
    KERNEL_SEGMENTS
    movabs $kernel_boot_stack_top, %rsp
    xor %ebp, %ebp
    mov boot_magic, %edi
    mov boot_info, %esi
    movabs $kernel_main, %rax
    call *%rax
2:  hlt
    jmp 2b

.section .boot.data, "aw"
.balign 16
boot_gdt:
    .quad 0
    .quad {code64}                  /* kernel_cs: 64-bit code */
    .quad {data}                    /* kernel_ds: data */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .long boot_gdt
boot_magic: .long 0
boot_info:  .long 0

.section .boot.bss, "aw", @nobits
.balign 4096
boot_pml4:       .skip 4096
boot_pdpt_phys:  .skip 4096
boot_pdpt_high:  .skip 4096
boot_pd:         .skip 4096 * 4
boot_stack:      .skip 4096
boot_stack_top:
