//! Programs enter the kernel with the `syscall` instruction, caught through LSTAR
//! (entry.S: syscall_entry), on the kernel's syscall stack.

use super::cpu::wrmsr;
use super::gdt::KERNEL_CS;

const MSR_STAR: u32 = 0xc000_0081;
const MSR_LSTAR: u32 = 0xc000_0082;
const MSR_FMASK: u32 = 0xc000_0084;

const SYSCALL_STACK_SIZE: usize = 64 * 1024;

#[repr(C, align(16))]
struct Stack([u8; SYSCALL_STACK_SIZE]);
static mut SYSCALL_STACK: Stack = Stack([0; SYSCALL_STACK_SIZE]);

extern "C" {
    fn syscall_entry();
}

/// The boot CPU: its first kernel stack for entries from program code (the scheduler
/// gives each thread its own), then the MSRs.
pub fn init() {
    super::percpu::set_kstack_top((&raw mut SYSCALL_STACK) as u64 + SYSCALL_STACK_SIZE as u64);
    init_msrs();
}

/// Points this CPU's `syscall` at the entry, with the kernel's segments.
pub fn init_msrs() {
    // This CPU's percpu block (which the entry uses) is installed before (arch::init,
    // smp::ap_entry). SYSCALL loads CS from STAR[47:32] and SS = CS + 8: our kernel
    // segments.
    wrmsr(MSR_STAR, (KERNEL_CS as u64) << 32);
    wrmsr(MSR_LSTAR, syscall_entry as *const () as usize as u64);
    // Clear IF, TF, DF and AC on entry.
    wrmsr(MSR_FMASK, (1 << 9) | (1 << 8) | (1 << 10) | (1 << 18));
}
