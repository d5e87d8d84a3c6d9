//! Delivery: on every return to program code (`on_return`, from the end of a syscall
//! and of a trap or interrupt that came from program code) a thread whose program is
//! ending ends (`end_if_doomed`); otherwise the calling thread takes
//! its highest-priority (lowest-numbered) unblocked pending signal and applies its
//! disposition: ignore, the default action (terminate with a report and status
//! 128 + signal, or stop: `job`), or a handler, entered through an rt_sigframe (frame.rs) with
//! `sa_mask` and the signal blocked. Interrupted syscalls are finished here too: EINTR,
//! or a restart (rip back over the `syscall` instruction) as Linux's ERESTART* rules
//! and SA_RESTART say. CPU faults in program code go to an installed handler through
//! `fault`; when there is none, or the signal is blocked or ignored, the caller reports
//! the fault and ends the program.

use super::frame::{self, Entry, TrapInfo};
use super::state::{self, SigAction};
use super::*;
use crate::arch::fpu;
use crate::arch::trap::TrapFrame;

/// Length of the `syscall` instruction, to step back over it for a restart.
const SYSCALL_INSN_LEN: u64 = 2;
const EINTR: i64 = 4;
/// TrapFrame::vector of a syscall frame.
const SYSCALL_VECTOR: i64 = -1;

/// The program's FPU/SSE image below `frame`, made whole if the frame is a syscall's
/// (see arch::fpu).
fn fx_area(frame: &TrapFrame) -> u64 {
    let area = frame as *const TrapFrame as u64 - fpu::FX_SIZE as u64;
    if frame.vector == SYSCALL_VECTOR {
        fpu::complete_syscall_area(area);
    }
    area
}

/// A thread whose program is ending (`sched::end_other_threads`) ends at its return to
/// program code, with nothing of a syscall left on its stack.
#[inline]
pub(super) fn end_if_doomed() {
    if crate::sched::is_doomed() {
        state::thread_exited(crate::sched::current());
        crate::sched::exit_current();
    }
}

/// Delivers pending signals to the current thread before it returns to the program.
/// `syscall` is the number of the syscall that is returning, if any.
pub fn on_return(frame: &mut TrapFrame, syscall: Option<u64>) {
    end_if_doomed();
    let restarting =
        syscall.is_some() && matches!(-(frame.rax as i64), ERESTARTSYS | ERESTARTNOHAND);
    if !restarting && !state::needs_attention() {
        return;
    }
    deliver_pending(frame, syscall);
    state::recompute_attention();
}

fn deliver_pending(frame: &mut TrapFrame, syscall: Option<u64>) {
    let tid = crate::sched::current();
    let mut restart = syscall.filter(|_| {
        let rax = frame.rax as i64;
        rax == -ERESTARTSYS || rax == -ERESTARTNOHAND
    });
    loop {
        super::job::park_if_stopped();
        let mask = state::with_thread(tid, |t| t.mask);
        let Some(info) = state::dequeue(tid, !mask) else {
            break;
        };
        let sig = info.signo;
        let act = state::action(sig);
        match act.handler {
            SIG_IGN => continue,
            SIG_DFL => match default_action(sig) {
                Default::Ignore => continue,
                Default::Stop => {
                    super::job::stop(sig);
                    continue;
                }
                Default::Terminate => crate::fault::killed_by_signal(sig, info.pid),
            },
            _ => {
                if let Some(nr) = restart.take() {
                    let rax = frame.rax as i64;
                    if rax == -ERESTARTSYS && act.flags & SA_RESTART != 0 {
                        restart_syscall(frame, nr);
                    } else {
                        frame.rax = (-EINTR) as u64;
                    }
                }
                enter_handler(frame, info, act, TrapInfo::default());
                return;
            }
        }
    }
    if let Some(nr) = restart {
        restart_syscall(frame, nr);
    }
    state::with_thread(tid, |t| {
        if let Some(m) = t.saved_mask.take() {
            t.mask = m;
        }
    });
}

fn restart_syscall(frame: &mut TrapFrame, nr: u64) {
    frame.rax = nr;
    frame.rip -= SYSCALL_INSN_LEN;
}

/// Enters the handler of `act` for `info` on the current thread.
fn enter_handler(frame: &mut TrapFrame, info: SigInfo, act: SigAction, trap: TrapInfo) {
    let sig = info.signo;
    if act.flags & SA_RESTORER == 0 || act.restorer == 0 {
        crate::fault::undeliverable(sig, "the handler was installed without SA_RESTORER");
    }
    // The frame is written with the signal state unlocked (it is user memory).
    let (saved_mask, altstack) =
        state::with_current(|t| (t.saved_mask.take().unwrap_or(t.mask), t.altstack));
    let entry = Entry {
        handler: act.handler,
        restorer: act.restorer,
        on_altstack: act.flags & SA_ONSTACK != 0,
    };
    if let Err(why) = frame::build(
        frame,
        fx_area(frame),
        &entry,
        info,
        saved_mask,
        &altstack,
        trap,
    ) {
        crate::fault::undeliverable(sig, why);
    }
    let mut block = act.mask;
    if act.flags & SA_NODEFER == 0 {
        block |= bit(sig);
    }
    state::with_current(|t| t.mask = (t.mask | block) & !UNBLOCKABLE);
    if act.flags & SA_RESETHAND != 0 {
        state::reset_action(sig);
    }
}

/// The signal, si_code and si_addr for a CPU exception in program code.
fn classify(frame: &TrapFrame, fault_addr: Option<u64>) -> Option<(i32, i32, u64)> {
    const SIGILL: i32 = 4;
    const SIGBUS: i32 = 7;
    const SIGFPE: i32 = 8;
    const SEGV_MAPERR: i32 = 1;
    const SEGV_ACCERR: i32 = 2;
    const ILL_ILLOPN: i32 = 2;
    const FPE_INTDIV: i32 = 1;
    const FPE_FLTINV: i32 = 7;
    const BUS_ADRALN: i32 = 1;
    const TRAP_BRKPT: i32 = 1;
    let rip = frame.rip;
    Some(match frame.vector {
        0 => (SIGFPE, FPE_INTDIV, rip),
        16 | 19 => (SIGFPE, FPE_FLTINV, rip),
        1 | 3 => (SIGTRAP, TRAP_BRKPT, rip),
        6 => (SIGILL, ILL_ILLOPN, rip),
        12 | 17 => (SIGBUS, BUS_ADRALN, 0),
        14 if crate::mm::address_space::sigbus_at(fault_addr.unwrap_or(0)) => {
            const BUS_ADRERR: i32 = 2;
            (SIGBUS, BUS_ADRERR, fault_addr.unwrap_or(0))
        }
        14 => {
            let addr = fault_addr.unwrap_or(0);
            let mapped = crate::mm::address_space::area_at(addr).is_some();
            let code = if mapped { SEGV_ACCERR } else { SEGV_MAPERR };
            (SIGSEGV, code, addr)
        }
        2 | 8 | 18 => return None, // NMI, double fault, machine check: never the program's
        _ => (SIGSEGV, SI_KERNEL, 0),
    })
}

/// A CPU exception in program code: enters the program's handler for the matching
/// signal and returns true, or returns false when the fault must end the program (no
/// handler, or the signal is blocked or ignored, e.g. a fault inside its own handler).
pub fn fault(frame: &mut TrapFrame, fault_addr: Option<u64>) -> bool {
    let Some((sig, code, addr)) = classify(frame, fault_addr) else {
        return false;
    };
    let act = state::action(sig);
    if act.handler == SIG_DFL || act.handler == SIG_IGN {
        return false;
    }
    if state::with_current(|t| t.mask) & bit(sig) != 0 {
        return false;
    }
    let info = SigInfo {
        signo: sig,
        code,
        pid: 0,
        addr,
        timer: None,
        value: 0,
    };
    let trap = TrapInfo {
        trapno: frame.vector as u64,
        err: frame.error_code,
        cr2: fault_addr.unwrap_or(0),
    };
    enter_handler(frame, info, act, trap);
    true
}

/// rt_sigreturn: restores the context saved when the handler was entered.
pub fn sigreturn(frame: &mut TrapFrame) {
    let handler_rsp = frame.rsp;
    let area = fx_area(frame);
    match frame::restore(frame, area) {
        Ok(r) => {
            // rt_sigreturn is a syscall: its return reloads only xmm0-3 from the area.
            fpu::load(area);
            if let Some(extra) = &r.avx {
                // SAFETY: `area` is the 512-byte image below the frame, just restored.
                let legacy = unsafe { &*(area as *const [u8; fpu::FX_SIZE]) };
                fpu::load_avx(legacy, extra);
            }
            // As on Linux, the saved alternate stack is re-installed unless the thread
            // is still on it (an error there is ignored).
            let [sp, flags, size] = r.stack;
            state::with_current(|t| {
                t.mask = r.mask;
                let _ = set_altstack(t, handler_rsp, sp, flags, size);
            });
        }
        Err(why) => crate::fault::undeliverable(SIGSEGV, why),
    }
}

/// sigaltstack's rules for installing a new alternate stack while running at `rsp`.
/// Err(errno).
pub fn set_altstack(
    t: &mut state::ThreadSignals,
    rsp: u64,
    sp: u64,
    flags: u64,
    size: u64,
) -> Result<(), i32> {
    const SS_ONSTACK: u64 = 1;
    const SS_DISABLE: u64 = 2;
    const SS_AUTODISARM: u64 = 1 << 31;
    const MINSIGSTKSZ: u64 = 2048;
    const EPERM: i32 = 1;
    const EINVAL: i32 = 22;
    const ENOMEM: i32 = 12;
    if t.altstack.contains(rsp) {
        return Err(EPERM);
    }
    let mode = flags & !SS_AUTODISARM;
    if mode != 0 && mode != SS_ONSTACK && mode != SS_DISABLE {
        return Err(EINVAL);
    }
    if mode == SS_DISABLE {
        t.altstack = state::AltStack::default();
        return Ok(());
    }
    if size < MINSIGSTKSZ {
        return Err(ENOMEM);
    }
    t.altstack = state::AltStack {
        sp,
        size,
        enabled: true,
    };
    Ok(())
}
