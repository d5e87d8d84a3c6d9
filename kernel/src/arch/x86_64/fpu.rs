//! The program's FPU/SSE state around kernel entries. Traps save the whole FXSAVE image
//! below their frame; syscalls save only xmm0-15 there (the kernel uses SSE but never
//! x87 or MXCSR, so those stay live in the CPU, and `switch_stacks` carries them across
//! thread switches). Code that needs a syscall's complete image (signal frames) fills
//! in the rest from the CPU here.

use core::arch::asm;

/// Size of an FXSAVE image.
pub const FX_SIZE: usize = 512;
/// Bytes of the image before the xmm registers: x87 control/status, MXCSR, st0-7.
const X87_PART: usize = 160;

#[repr(C, align(16))]
struct Image([u8; FX_SIZE]);

/// Saves the CPU's whole FPU/SSE state into the 16-byte aligned area at `area`.
pub fn save(area: u64) {
    unsafe { asm!("fxsave [{}]", in(reg) area, options(nostack)) }
}

/// Loads the whole FPU/SSE state from the 16-byte aligned image at `area`.
pub fn load(area: u64) {
    unsafe { asm!("fxrstor [{}]", in(reg) area, options(nostack)) }
}

/// Completes a syscall's save area (xmm only) into a whole FXSAVE image: the x87 and
/// MXCSR part comes from the CPU, where it is still the program's.
pub fn complete_syscall_area(area: u64) {
    let mut live = Image([0; FX_SIZE]);
    save(live.0.as_mut_ptr() as u64);
    unsafe { core::ptr::copy_nonoverlapping(live.0.as_ptr(), area as *mut u8, X87_PART) };
}
