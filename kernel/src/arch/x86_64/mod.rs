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

core::arch::global_asm!(include_str!("boot.S"), options(att_syntax));
core::arch::global_asm!(include_str!("entry.S"), options(att_syntax));
core::arch::global_asm!(include_str!("mem.S"), options(att_syntax));

/// Sets up the CPU state the kernel relies on: descriptor tables, IST stacks,
/// exception vectors and the `syscall` MSRs.
pub fn init() {
    percpu::init_bsp();
    smp::load_root(cpu::read_cr3());
    fpu::init();
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
    gdt::init_ap(cpu);
    idt::load();
    syscall::init_msrs();
    apic::init();
}
