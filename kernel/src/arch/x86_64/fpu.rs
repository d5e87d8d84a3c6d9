//! The program's FPU/SSE/AVX state around kernel entries. Traps save the legacy FXSAVE
//! image below their frame; syscalls save only xmm0-3 there. The compiled kernel uses
//! no other vector register, only legacy-encoded SSE (which leaves the upper halves of
//! the ymm registers alone) and never x87 or MXCSR — `kernel/check-fpu-use` checks the
//! binary at every build —, so everything else stays live in the CPU, and
//! `switch_stacks` carries it across thread switches: with XSAVE (x87, SSE and AVX,
//! enabled at boot when the CPU has AVX) or FXSAVE. Code that needs a syscall's
//! complete image (signal frames) fills in the rest from the CPU here, and signal
//! frames carry the AVX upper halves in Linux's extended `fpstate` layout.

use core::arch::asm;
use core::sync::atomic::{AtomicU8, Ordering};

/// Size of an FXSAVE image.
pub const FX_SIZE: usize = 512;
/// Bytes of the image before the xmm registers: x87 control/status, MXCSR, st0-7.
const X87_PART: usize = 160;
/// Bytes of the image a syscall saves itself: xmm0-3 (entry.S, SAVE_XMM).
const SYSCALL_XMM: core::ops::Range<usize> = X87_PART..X87_PART + 4 * 16;

/// Bytes of an FXSAVE/XSAVE image the CPU never writes (left to software).
pub const SOFTWARE_BYTES: core::ops::Range<usize> = 464..512;
/// XCR0 with x87, SSE and AVX state enabled.
const XCR0_X87_SSE_AVX: u64 = 0b111;
/// The AVX component alone (the upper halves of ymm0-15), as an XSAVE/XRSTOR mask.
const AVX_COMPONENT: u64 = 0b100;
/// Standard-format XSAVE layout: the 64-byte header after the legacy image, then the
/// AVX component (16 x 16 bytes).
const XSAVE_HEADER: usize = 512;
const XSAVE_AVX_END: usize = 576 + 256;
/// Bytes a thread switch keeps for the FPU state (64-byte aligned, see entry.S's
/// switch_stacks): the XSAVE image of x87 + SSE + AVX is 832 bytes.
pub const SWITCH_AREA: usize = 1024;
/// What a signal frame carries beyond the legacy image: the XSAVE header and the AVX
/// component (Linux's `fpstate` with FP_XSTATE_MAGIC1, then FP_XSTATE_MAGIC2).
pub const AVX_EXTRA: usize = XSAVE_AVX_END - XSAVE_HEADER;
/// Total XSAVE size a signal frame's `fpstate` advertises.
pub const XSTATE_SIZE: usize = XSAVE_AVX_END;
pub const XSTATE_FEATURES: u64 = XCR0_X87_SSE_AVX;

/// 1 when thread switches use XSAVE/XRSTOR (read by entry.S's switch_stacks).
#[no_mangle]
static FPU_XSAVE: AtomicU8 = AtomicU8::new(0);

#[repr(C, align(64))]
struct Image([u8; SWITCH_AREA]);

/// Enables AVX for programs when the CPU has XSAVE and AVX (CR4.OSXSAVE, XCR0 = x87 |
/// SSE | AVX), so that glibc's AVX routines and programs built for AVX/AVX2 run.
/// Without it they keep SSE only (programs then see no OSXSAVE in CPUID). Returns
/// whether AVX is on.
pub fn init() -> bool {
    let features = super::cpu::cpuid(1, 0).ecx;
    const XSAVE: u32 = 1 << 26;
    const AVX: u32 = 1 << 28;
    if features & XSAVE == 0 || features & AVX == 0 {
        return false;
    }
    const CR4_OSXSAVE: u64 = 1 << 18;
    // SAFETY: CPUID said XSAVE and AVX exist (checked above), so setting CR4.OSXSAVE and
    // then XCR0 to x87|SSE|AVX, a combination the CPU supports, cannot fault; nothing else
    // in CR4 changes.
    unsafe {
        let cr4: u64;
        asm!("mov {}, cr4", out(reg) cr4, options(nostack, nomem));
        asm!("mov cr4, {}", in(reg) cr4 | CR4_OSXSAVE, options(nostack, nomem));
        asm!("xsetbv", in("ecx") 0, in("eax") XCR0_X87_SSE_AVX as u32,
             in("edx") (XCR0_X87_SSE_AVX >> 32) as u32, options(nostack, nomem));
    }
    // The XSAVE size for what XCR0 enables now: it must fit the switch area.
    if super::cpu::cpuid(0xd, 0).ebx as usize > SWITCH_AREA {
        // SAFETY: XCR0 back to x87|SSE, always valid once OSXSAVE is set above.
        unsafe {
            asm!("xsetbv", in("ecx") 0, in("eax") 0b11u32, in("edx") 0u32,
                 options(nostack, nomem));
        }
        return false;
    }
    FPU_XSAVE.store(1, Ordering::Relaxed);
    true
}

fn xsave_enabled() -> bool {
    FPU_XSAVE.load(Ordering::Relaxed) != 0
}

/// Saves the CPU's legacy FPU/SSE state (FXSAVE) into the 16-byte aligned area at `area`.
fn fxsave(area: u64) {
    // SAFETY: callers pass a 16-byte aligned area of at least 512 bytes that they own (a
    // thread's switch area or a signal frame's image), which FXSAVE writes.
    unsafe { asm!("fxsave [{}]", in(reg) area, options(nostack)) }
}

/// Loads the legacy FPU/SSE state from the 16-byte aligned FXSAVE image at `area`
/// (the upper halves of the ymm registers are left as they are).
pub fn load(area: u64) {
    // SAFETY: callers pass a 16-byte aligned, 512-byte FXSAVE image they own, written by
    // FXSAVE or checked for reserved MXCSR bits (signal return), so FXRSTOR reads only it
    // and does not fault.
    unsafe { asm!("fxrstor [{}]", in(reg) area, options(nostack)) }
}

/// Saves the CPU's whole FPU state into a thread-switch area (`SWITCH_AREA` bytes,
/// 64-byte aligned), the way switch_stacks does.
pub fn save_switch(area: u64) {
    if xsave_enabled() {
        let mask = XCR0_X87_SSE_AVX;
        // XSAVE writes only the XSTATE_BV bits it saves; XRSTOR faults unless the
        // rest of the header (other bits, XCOMP_BV, reserved) is zero.
        // SAFETY: the caller's area is SWITCH_AREA bytes, 64-byte aligned; the 64-byte
        // XSAVE header at XSAVE_HEADER lies inside it.
        unsafe {
            core::ptr::write_bytes((area as usize + XSAVE_HEADER) as *mut u8, 0, 64);
        }
        // SAFETY: XSAVE is enabled (checked above), the area is 64-byte aligned and
        // SWITCH_AREA bytes, which init checked is at least XSAVE's size for these
        // components.
        unsafe {
            asm!("xsave [{}]", in(reg) area, in("eax") mask as u32, in("edx") (mask >> 32) as u32,
                 options(nostack))
        }
    } else {
        fxsave(area);
    }
}

/// x87 control word and MXCSR at power-on (and at a Linux program's start).
const DEFAULT_FCW: u16 = 0x037f;
const DEFAULT_MXCSR: u32 = 0x1f80;

/// Writes the power-on FPU state as a thread-switch area at `area` (`SWITCH_AREA`
/// bytes, 64-byte aligned): what a new program's first thread starts with, whatever
/// ran before it. For XRSTOR the header marks x87 and SSE as given and AVX as in its
/// initial state (zero). Bytes 464-511, which XSAVE/FXSAVE leave to software
/// (switch_stacks keeps a pointer there), are not touched.
pub fn write_default(area: u64) {
    let mut image = Image([0; SWITCH_AREA]);
    image.0[0..2].copy_from_slice(&DEFAULT_FCW.to_le_bytes());
    image.0[24..28].copy_from_slice(&DEFAULT_MXCSR.to_le_bytes());
    image.0[XSAVE_HEADER..XSAVE_HEADER + 8].copy_from_slice(&0b11u64.to_le_bytes());
    // SAFETY: `area` is a thread-switch area of SWITCH_AREA bytes.
    let out = unsafe { core::slice::from_raw_parts_mut(area as *mut u8, SWITCH_AREA) };
    out[..SOFTWARE_BYTES.start].copy_from_slice(&image.0[..SOFTWARE_BYTES.start]);
    out[SOFTWARE_BYTES.end..].copy_from_slice(&image.0[SOFTWARE_BYTES.end..]);
}

/// Completes a syscall's save area (xmm0-3 only) into a whole FXSAVE image: x87,
/// MXCSR and xmm4-15 come from the CPU, where they are still the program's.
pub fn complete_syscall_area(area: u64) {
    let mut live = Image([0; SWITCH_AREA]);
    fxsave(live.0.as_mut_ptr() as u64);
    let live = &live.0[..FX_SIZE];
    // SAFETY: `area` is the 512-byte save area below the syscall's frame.
    let image = unsafe { core::slice::from_raw_parts_mut(area as *mut u8, FX_SIZE) };
    image[..SYSCALL_XMM.start].copy_from_slice(&live[..SYSCALL_XMM.start]);
    image[SYSCALL_XMM.end..].copy_from_slice(&live[SYSCALL_XMM.end..]);
}

/// The program's AVX state (the upper halves of ymm0-15, live in the CPU) as the part
/// of a signal frame's `fpstate` after the legacy image: the XSAVE header and the AVX
/// component. None without XSAVE.
pub fn save_avx() -> Option<[u8; AVX_EXTRA]> {
    if !xsave_enabled() {
        return None;
    }
    let mut image = Image([0; SWITCH_AREA]);
    // SAFETY: XSAVE is enabled, `image` is a 64-byte aligned local of SWITCH_AREA bytes
    // (the `Image` type), enough for the AVX component.
    unsafe {
        asm!("xsave [{}]", in(reg) image.0.as_mut_ptr(), in("eax") AVX_COMPONENT as u32,
             in("edx") 0u32, options(nostack))
    }
    Some(image.0[XSAVE_HEADER..XSAVE_AVX_END].try_into().unwrap())
}

/// Whether `extra` (a signal frame's XSAVE header + AVX component, as `save_avx`
/// wrote it and the handler may have changed it) can be loaded: XRSTOR faults on
/// reserved header bits.
pub fn avx_valid(extra: &[u8; AVX_EXTRA]) -> bool {
    let word = |i: usize| u64::from_le_bytes(extra[i * 8..i * 8 + 8].try_into().unwrap());
    word(0) & !XCR0_X87_SSE_AVX == 0 && (1..8).all(|i| word(i) == 0)
}

/// Loads the AVX upper halves from a signal frame's extended state (checked with
/// `avx_valid`); `legacy` is the FXSAVE image being restored alongside (XRSTOR reads
/// MXCSR from it).
pub fn load_avx(legacy: &[u8; FX_SIZE], extra: &[u8; AVX_EXTRA]) {
    if !xsave_enabled() || !avx_valid(extra) {
        return;
    }
    let mut image = Image([0; SWITCH_AREA]);
    image.0[..FX_SIZE].copy_from_slice(legacy);
    image.0[XSAVE_HEADER..XSAVE_AVX_END].copy_from_slice(extra);
    // SAFETY: XSAVE is enabled, `image` is a 64-byte aligned local holding a header and AVX
    // state that `avx_valid` accepted, so XRSTOR neither faults nor reads past it.
    unsafe {
        asm!("xrstor [{}]", in(reg) image.0.as_ptr(), in("eax") AVX_COMPONENT as u32,
             in("edx") 0u32, options(nostack))
    }
}
