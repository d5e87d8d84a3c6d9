//! The Linux x86_64 signal frame (`struct rt_sigframe`, arch/x86/kernel/signal.c),
//! built on the program's stack (or its alternate stack) when a handler is entered,
//! and read back by rt_sigreturn.
//!
//! From the new rsp upwards: the return address (`sa_restorer`, which calls
//! rt_sigreturn), `struct ucontext` (uc_flags, uc_link, uc_stack, uc_mcontext =
//! `struct sigcontext`, uc_sigmask), `siginfo_t` (128 bytes); above that, 64-byte
//! aligned, the `fpstate` that `sigcontext.fpstate` points to: the 512-byte FXSAVE
//! image and, when AVX is on (arch::fpu), Linux's extended form — FP_XSTATE_MAGIC1
//! and the sizes in the image's software bytes, the XSAVE header and the AVX
//! component after it, FP_XSTATE_MAGIC2 at the end — so that a handler's AVX code
//! cannot clobber the ymm registers of the code it interrupted. The frame
//! starts below the interrupted rsp's 128-byte red zone (or at the top of the alternate
//! stack), and the new rsp is chosen so that rsp + 8 is 16-byte aligned, as at a
//! function's entry.

use super::state::AltStack;
use super::{SigInfo, UNBLOCKABLE};
use crate::arch::fpu;
use crate::arch::trap::TrapFrame;
use crate::mm::user;

const RED_ZONE: u64 = 128;
const FX_SIZE: u64 = 512;
/// Linux's markers of an extended `fpstate` (struct _fpx_sw_bytes, uapi sigcontext.h).
const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
/// uc_flags: the fpstate is extended.
const UC_FP_XSTATE: u64 = 1;
/// `struct ucontext`: 5 words, a 32-word sigcontext, the 1-word sigset.
const UC_WORDS: usize = 5 + SC_WORDS + 1;
const SC_WORDS: usize = 32;
const UC_SIZE: u64 = UC_WORDS as u64 * 8;
/// Offsets inside `struct ucontext` (in words).
const UC_STACK: usize = 2;
const UC_MCONTEXT: usize = 5;
const UC_SIGMASK: usize = 5 + SC_WORDS;
/// Offsets inside `struct sigcontext` (in words).
const SC_R8: usize = 0;
const SC_RSP: usize = 15;
const SC_RIP: usize = 16;
const SC_EFLAGS: usize = 17;
const SC_SEGS: usize = 18;
const SC_ERR: usize = 19;
const SC_TRAPNO: usize = 20;
const SC_OLDMASK: usize = 21;
const SC_CR2: usize = 22;
const SC_FPSTATE: usize = 23;

const SS_ONSTACK: u64 = 1;
const SS_DISABLE: u64 = 2;

const KERNEL_CS: u64 = 0x08;
const KERNEL_SS: u64 = 0x10;
/// rflags bits a handler's context may carry back: CF, PF, AF, ZF, SF, OF, AC.
const RFLAGS_USER: u64 = 0x8d5 | 0x4_0000;
/// Always set on return to the program: IF (it is preemptible) and the fixed bit 1.
const RFLAGS_FIXED: u64 = 0x202;
const RFLAGS_TF_DF_RF: u64 = 0x100 | 0x400 | 0x1_0000;

/// The stack_t as saved in uc_stack: ss_sp, ss_flags, ss_size.
pub fn stack_t(alt: &AltStack, rsp: u64) -> [u64; 3] {
    let flags = if !alt.enabled {
        SS_DISABLE
    } else if alt.contains(rsp) {
        SS_ONSTACK
    } else {
        0
    };
    [alt.sp, flags, alt.size]
}

/// What went into a frame besides the registers: the trap's vector, error code and
/// faulting address (0 for signals that are not faults).
#[derive(Clone, Copy, Default)]
pub struct TrapInfo {
    pub trapno: u64,
    pub err: u64,
    pub cr2: u64,
}

/// The new program state for running a handler.
pub struct Entry {
    pub handler: u64,
    pub restorer: u64,
    pub on_altstack: bool,
}

/// Builds the frame for `info` and points `frame` at the handler. `fx` is the
/// program's FXSAVE area (just below the trap frame). Err when the frame does not fit
/// in accessible memory.
pub fn build(
    frame: &mut TrapFrame,
    fx: u64,
    e: &Entry,
    info: SigInfo,
    saved_mask: u64,
    alt: &AltStack,
    trap: TrapInfo,
) -> Result<(), &'static str> {
    let top = if e.on_altstack && alt.enabled && !alt.contains(frame.rsp) {
        alt.sp + alt.size
    } else {
        frame.rsp - RED_ZONE
    };
    let avx = fpu::save_avx();
    let fp_size = match avx {
        Some(_) => fpu::XSTATE_SIZE as u64 + 4, // + FP_XSTATE_MAGIC2
        None => FX_SIZE,
    };
    let fp = (top - fp_size) & !63;
    let uc_info_size = 8 + UC_SIZE + 128;
    let sp = ((fp - uc_info_size) & !15) - 8;
    if alt.contains(frame.rsp) && !alt.contains(sp + 1) {
        return Err("the alternate signal stack overflowed");
    }
    let uc = sp + 8;
    let info_at = uc + UC_SIZE;

    let mut sc = [0u64; SC_WORDS];
    let r = &*frame;
    let gprs = [
        r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14, r.r15, r.rdi, r.rsi, r.rbp, r.rbx, r.rdx,
        r.rax, r.rcx, r.rsp, r.rip, r.rflags,
    ];
    sc[SC_R8..=SC_EFLAGS].copy_from_slice(&gprs);
    sc[SC_SEGS] = KERNEL_CS | (KERNEL_SS << 48);
    sc[SC_ERR] = trap.err;
    sc[SC_TRAPNO] = trap.trapno;
    sc[SC_OLDMASK] = saved_mask;
    sc[SC_CR2] = trap.cr2;
    sc[SC_FPSTATE] = fp;

    let mut ucw = [0u64; UC_WORDS];
    if avx.is_some() {
        ucw[0] = UC_FP_XSTATE;
    }
    ucw[UC_STACK..UC_STACK + 3].copy_from_slice(&stack_t(alt, frame.rsp));
    ucw[UC_MCONTEXT..UC_MCONTEXT + SC_WORDS].copy_from_slice(&sc);
    ucw[UC_SIGMASK] = saved_mask;

    // SAFETY: `fx` is the interrupted thread's 512-byte FXSAVE image on its kernel stack,
    // 16-byte aligned, saved by the syscall or trap entry; only read here.
    let mut fx_bytes: [u8; FX_SIZE as usize] = unsafe { *(fx as *const [u8; FX_SIZE as usize]) };
    let sw = &mut fx_bytes[fpu::SOFTWARE_BYTES];
    sw.fill(0);
    let bad = |_| "the signal frame does not fit on the program's stack";
    if let Some(extra) = avx {
        // struct _fpx_sw_bytes: magic1, extended_size, xfeatures, xstate_size.
        sw[0..4].copy_from_slice(&FP_XSTATE_MAGIC1.to_le_bytes());
        sw[4..8].copy_from_slice(&(fp_size as u32).to_le_bytes());
        sw[8..16].copy_from_slice(&fpu::XSTATE_FEATURES.to_le_bytes());
        sw[16..20].copy_from_slice(&(fpu::XSTATE_SIZE as u32).to_le_bytes());
        user::write(fp + FX_SIZE, extra).map_err(bad)?;
        user::write(fp + fpu::XSTATE_SIZE as u64, FP_XSTATE_MAGIC2).map_err(bad)?;
    }
    user::write(fp, fx_bytes).map_err(bad)?;
    user::write(info_at, info.to_bytes()).map_err(bad)?;
    user::write(uc, ucw).map_err(bad)?;
    user::write(sp, e.restorer).map_err(bad)?;

    frame.rsp = sp;
    frame.rip = e.handler;
    frame.rdi = info.signo as u64;
    frame.rsi = info_at;
    frame.rdx = uc;
    frame.rax = 0;
    frame.rflags = (frame.rflags & !RFLAGS_TF_DF_RF) | RFLAGS_FIXED;
    Ok(())
}

/// What rt_sigreturn read back besides the registers.
pub struct Restored {
    pub mask: u64,
    pub stack: [u64; 3],
    /// The extended fpstate's XSAVE header and AVX component, when the frame has one.
    pub avx: Option<[u8; fpu::AVX_EXTRA]>,
}

/// rt_sigreturn: the handler returned into its restorer, which popped the return
/// address, so the program's rsp points at the ucontext. Restores every register
/// (rflags sanitised) and the FXSAVE area `fx`.
pub fn restore(frame: &mut TrapFrame, fx: u64) -> Result<Restored, &'static str> {
    let uc = frame.rsp;
    let ucw: [u64; UC_WORDS] = user::read(uc).map_err(|_| "bad signal frame")?;
    let sc = &ucw[UC_MCONTEXT..UC_MCONTEXT + SC_WORDS];
    let user_end = crate::arch::paging::USER_END;
    if sc[SC_RIP] >= user_end || sc[SC_RSP] >= user_end {
        return Err("bad signal frame (kernel address in rip/rsp)");
    }
    let fp = sc[SC_FPSTATE];
    let mut avx = None;
    if fp != 0 {
        let mut img: [u8; FX_SIZE as usize] =
            user::read(fp).map_err(|_| "bad FPU state in the signal frame")?;
        // fxrstor faults on reserved MXCSR bits: keep only the ones this CPU supports.
        // SAFETY: `fx` is the thread's saved FXSAVE image (see `build`), only read here.
        let cur = unsafe { &*(fx as *const [u8; FX_SIZE as usize]) };
        let mut supported = u32::from_le_bytes(cur[28..32].try_into().unwrap());
        if supported == 0 {
            supported = 0xffbf;
        }
        let mxcsr = u32::from_le_bytes(img[24..28].try_into().unwrap()) & supported;
        img[24..28].copy_from_slice(&mxcsr.to_le_bytes());
        img[28..32].copy_from_slice(&cur[28..32]);
        let magic1 = u32::from_le_bytes(img[464..468].try_into().unwrap());
        let size = u32::from_le_bytes(img[480..484].try_into().unwrap()) as usize;
        if magic1 == FP_XSTATE_MAGIC1 && size >= fpu::XSTATE_SIZE {
            let extra: [u8; fpu::AVX_EXTRA] =
                user::read(fp + FX_SIZE).map_err(|_| "bad FPU state in the signal frame")?;
            if !fpu::avx_valid(&extra) {
                return Err("bad extended FPU state in the signal frame");
            }
            avx = Some(extra);
        }
        // SAFETY: `fx` is the thread's saved FXSAVE image, which this thread owns; `img`
        // has only MXCSR bits this CPU supports, so FXRSTOR will accept it.
        unsafe { *(fx as *mut [u8; FX_SIZE as usize]) = img };
    }
    let f = &mut *frame;
    [
        f.r8, f.r9, f.r10, f.r11, f.r12, f.r13, f.r14, f.r15, f.rdi, f.rsi, f.rbp, f.rbx, f.rdx,
        f.rax, f.rcx, f.rsp, f.rip,
    ] = sc[SC_R8..SC_EFLAGS].try_into().unwrap();
    f.rflags = (sc[SC_EFLAGS] & RFLAGS_USER) | RFLAGS_FIXED;
    f.cs = KERNEL_CS;
    f.ss = KERNEL_SS;
    Ok(Restored {
        mask: ucw[UC_SIGMASK] & !UNBLOCKABLE,
        stack: [ucw[UC_STACK], ucw[UC_STACK + 1], ucw[UC_STACK + 2]],
        avx,
    })
}
