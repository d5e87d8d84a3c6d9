//! x86_64: the boot stub, descriptor tables, traps, paging and the syscall entry.
//! Everything that needs an instruction the compiler won't emit on its own lives here.

pub mod apic;
pub mod bigstack;
pub mod cpu;
pub mod extable;
pub mod fpu;
pub mod gdt;
pub mod idt;
pub mod paging;
pub mod percpu;
pub mod smp;
pub mod syscall;
pub mod trap;

// The boot stub and the AP trampoline (smp.rs) take the same constants: one source
// for the CPU state, segments and page flags the assembly sets up.
core::arch::global_asm!(
    include_str!("boot.S"),
    include_str!("ap_trampoline.S"),
    base = const smp::TRAMPOLINE,
    cr4 = const cpu::long_mode::CR4,
    msr_efer = const cpu::MSR_EFER,
    efer = const cpu::long_mode::EFER,
    cr0_keep = const cpu::long_mode::CR0_KEEP,
    cr0_set = const cpu::long_mode::CR0_SET,
    kernel_cs = const gdt::KERNEL_CS,
    kernel_ds = const gdt::KERNEL_DS,
    code64 = const gdt::KERNEL_CODE64,
    data = const gdt::KERNEL_DATA,
    pte_table = const paging::BOOT_TABLE_FLAGS,
    pte_huge = const paging::BOOT_HUGE_FLAGS,
    options(att_syntax)
);
core::arch::global_asm!(include_str!("entry.S"), options(att_syntax));
core::arch::global_asm!(include_str!("mem.S"), options(att_syntax));

/// Sets up the CPU state the kernel relies on: descriptor tables, IST stacks,
/// exception vectors and the `syscall` MSRs.
pub fn init() {
    percpu::init_bsp();
    smp::load_root(cpu::read_cr3());
    fpu::init();
    cpu::enable_fsgsbase();
    gdt::init();
    idt::init();
    syscall::init();
    apic::init();
}

/// The same for an application processor (number `cpu`, APIC id `apic_id`), whose
/// trampoline left it in long mode on its own stack; the IDT is the boot CPU's.
pub fn init_ap(cpu: u32, apic_id: u32) {
    percpu::init_ap(cpu, apic_id);
    fpu::init();
    cpu::enable_fsgsbase();
    gdt::init_ap(cpu);
    idt::load();
    syscall::init_msrs();
    apic::init();
}
