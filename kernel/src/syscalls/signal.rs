//! Signal state: handlers, mask and alternate stack are recorded (and returned as
//! Linux would), but signals are not delivered yet, except a fatal one the program
//! sends itself (abort()), which ends it with 128 + signal.

use super::errno::*;
use super::user;
use spin::Mutex;

#[derive(Clone, Copy, Default)]
#[repr(C)]
struct SigAction {
    handler: u64,
    flags: u64,
    restorer: u64,
    mask: u64,
}

const NSIG: usize = 64;
const SIG_DFL: u64 = 0;
const SIG_IGN: u64 = 1;

struct State {
    actions: [SigAction; NSIG + 1],
    mask: u64,
    altstack: [u64; 3],
}

static STATE: Mutex<State> = Mutex::new(State {
    actions: [SigAction {
        handler: 0,
        flags: 0,
        restorer: 0,
        mask: 0,
    }; NSIG + 1],
    mask: 0,
    altstack: [0, 2, 0], // ss_sp, ss_flags = SS_DISABLE, ss_size
});

pub fn rt_sigaction(sig: u64, act: u64, old: u64, size: u64) -> SysResult {
    if sig == 0 || sig as usize > NSIG || size != 8 {
        return Err(EINVAL);
    }
    let new: Option<SigAction> = if act != 0 {
        Some(user::read(act)?)
    } else {
        None
    };
    if new.is_some() && (sig == 9 || sig == 19) {
        return Err(EINVAL);
    }
    let mut s = STATE.lock();
    if old != 0 {
        user::write(old, s.actions[sig as usize])?;
    }
    if let Some(a) = new {
        s.actions[sig as usize] = a;
    }
    Ok(0)
}

pub fn rt_sigprocmask(how: u64, set: u64, old: u64, size: u64) -> SysResult {
    if size != 8 {
        return Err(EINVAL);
    }
    let mut s = STATE.lock();
    if old != 0 {
        user::write(old, s.mask)?;
    }
    if set != 0 {
        let v: u64 = user::read(set)?;
        let unblockable = (1 << 8) | (1 << 18); // SIGKILL, SIGSTOP (bits sig-1)
        s.mask = match how {
            0 => s.mask | v,
            1 => s.mask & !v,
            2 => v,
            _ => return Err(EINVAL),
        } & !unblockable;
    }
    Ok(0)
}

pub fn sigaltstack(ss: u64, old: u64) -> SysResult {
    let mut s = STATE.lock();
    if old != 0 {
        user::write(old, s.altstack)?;
    }
    if ss != 0 {
        s.altstack = user::read(ss)?;
    }
    Ok(0)
}

/// tkill/tgkill: signals go to the whole program for now.
pub fn send_to_thread(tid: u64, sig: u64) -> SysResult {
    if tid == 0 || tid > u32::MAX as u64 || !crate::sched::exists(tid as u32) {
        return Err(ESRCH);
    }
    send_to_self(sig)
}

/// kill/tgkill/tkill aimed at the program itself.
pub fn send_to_self(sig: u64) -> SysResult {
    if sig as usize > NSIG {
        return Err(EINVAL);
    }
    if sig == 0 {
        return Ok(0);
    }
    let action = STATE.lock().actions[sig as usize].handler;
    // Default actions that ignore: SIGCHLD, SIGCONT, SIGURG, SIGWINCH.
    let ignored_by_default = matches!(sig, 17 | 18 | 23 | 28);
    if action == SIG_IGN || (action == SIG_DFL && ignored_by_default) {
        return Ok(0);
    }
    if action == SIG_DFL {
        crate::fault::killed_by_signal(sig as i32);
    }
    crate::console::log_once(
        "signal-handler",
        "rumprun: signal handlers are not run yet; a signal the program sent to itself was dropped",
    );
    Ok(0)
}
