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
    static mut syscall_stack_top: u64;
}

pub fn init() {
    // SAFETY: runs once at boot with interrupts off: syscall_stack_top (read by the
    // assembly entry) is set before LSTAR points at that entry, and the MSRs get the
    // kernel's own segments and entry point.
    unsafe {
        syscall_stack_top = (&raw mut SYSCALL_STACK) as u64 + SYSCALL_STACK_SIZE as u64;
        // SYSCALL loads CS from STAR[47:32] and SS = CS + 8: our kernel segments.
        wrmsr(MSR_STAR, (KERNEL_CS as u64) << 32);
        wrmsr(MSR_LSTAR, syscall_entry as *const () as usize as u64);
        // Clear IF, TF, DF and AC on entry.
        wrmsr(MSR_FMASK, (1 << 9) | (1 << 8) | (1 << 10) | (1 << 18));
    }
}
