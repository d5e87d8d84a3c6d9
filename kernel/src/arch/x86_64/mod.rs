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
pub mod syscall;
pub mod trap;

core::arch::global_asm!(include_str!("boot.S"), options(att_syntax));
core::arch::global_asm!(include_str!("entry.S"), options(att_syntax));
core::arch::global_asm!(include_str!("mem.S"), options(att_syntax));

/// Sets up the CPU state the kernel relies on: descriptor tables, IST stacks,
/// exception vectors and the `syscall` MSRs.
pub fn init() {
    fpu::init();
    gdt::init();
    idt::init();
    syscall::init();
    apic::init();
}
