//! The program's FPU/SSE state around kernel entries. Traps save the whole FXSAVE image
//! below their frame; syscalls save only xmm0-3 there (the compiled kernel uses no
//! other vector register and never x87 or MXCSR — `kernel/check-fpu-use` checks the
//! binary at every build —, so the rest stays live in the CPU, and `switch_stacks`
//! carries it across thread switches). Code that needs a syscall's complete image
//! (signal frames) fills in the rest from the CPU here.

use core::arch::asm;

/// Size of an FXSAVE image.
pub const FX_SIZE: usize = 512;
/// Bytes of the image before the xmm registers: x87 control/status, MXCSR, st0-7.
const X87_PART: usize = 160;
/// Bytes of the image a syscall saves itself: xmm0-3 (entry.S, SAVE_XMM).
const SYSCALL_XMM: core::ops::Range<usize> = X87_PART..X87_PART + 4 * 16;

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

/// x87 control word and MXCSR at power-on (and at a Linux program's start).
const DEFAULT_FCW: u16 = 0x037f;
const DEFAULT_MXCSR: u32 = 0x1f80;

/// Writes the power-on FPU/SSE state as an FXSAVE image at `area` (16-byte aligned):
/// what a new program's first thread starts with, whatever ran before it.
pub fn write_default(area: u64) {
    let mut image = Image([0; FX_SIZE]);
    image.0[0..2].copy_from_slice(&DEFAULT_FCW.to_le_bytes());
    image.0[24..28].copy_from_slice(&DEFAULT_MXCSR.to_le_bytes());
    unsafe { core::ptr::copy_nonoverlapping(image.0.as_ptr(), area as *mut u8, FX_SIZE) };
}

/// Completes a syscall's save area (xmm0-3 only) into a whole FXSAVE image: x87,
/// MXCSR and xmm4-15 come from the CPU, where they are still the program's.
pub fn complete_syscall_area(area: u64) {
    let mut live = Image([0; FX_SIZE]);
    save(live.0.as_mut_ptr() as u64);
    let live = &live.0;
    // SAFETY: `area` is the 512-byte save area below the syscall's frame.
    let image = unsafe { core::slice::from_raw_parts_mut(area as *mut u8, FX_SIZE) };
    image[..SYSCALL_XMM.start].copy_from_slice(&live[..SYSCALL_XMM.start]);
    image[SYSCALL_XMM.end..].copy_from_slice(&live[SYSCALL_XMM.end..]);
}
