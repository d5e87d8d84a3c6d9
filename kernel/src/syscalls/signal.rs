//! The signal syscalls: rt_sigaction, rt_sigprocmask, rt_sigpending, sigaltstack,
//! kill/tkill/tgkill (to the program itself), rt_sigtimedwait, rt_sigsuspend and
//! pause, and the temporary mask of ppoll/pselect6/epoll_pwait(2). The state lives in `crate::signal::state`; delivery happens in
//! `crate::signal::deliver` when the syscall returns.

use crate::arch::trap::TrapFrame;
use crate::errno::*;
use crate::mm::user;
use crate::sched::{self, Wake};
use crate::signal::state::{self, SigAction};
use crate::signal::{bit, SigInfo, NSIG, SI_TKILL, SI_USER, UNBLOCKABLE};

const SIGSET_SIZE: u64 = 8;

fn valid_signal(sig: u64) -> Result<i32, Errno> {
    if sig == 0 || sig as usize > NSIG {
        return Err(EINVAL);
    }
    Ok(sig as i32)
}

pub fn rt_sigaction(sig: u64, act: u64, old: u64, size: u64) -> SysResult {
    let sig = valid_signal(sig)?;
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let new: Option<SigAction> = if act != 0 {
        Some(user::read(act)?)
    } else {
        None
    };
    if new.is_some() && bit(sig) & UNBLOCKABLE != 0 {
        return Err(EINVAL);
    }
    if old != 0 {
        user::write(old, state::action(sig))?;
    }
    if let Some(a) = new {
        state::set_action(sig, a);
    }
    Ok(0)
}

pub fn rt_sigprocmask(how: u64, set: u64, old: u64, size: u64) -> SysResult {
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let mask = state::with_current(|t| t.mask);
    let new = if set != 0 {
        let v: u64 = user::read(set)?;
        Some(rumprun_signals::apply_mask(how, mask, v).ok_or(EINVAL)?)
    } else {
        None
    };
    if old != 0 {
        user::write(old, mask)?;
    }
    if let Some(m) = new {
        state::with_current(|t| t.mask = m);
    }
    Ok(0)
}

/// Pending signals that the calling thread blocks.
pub fn rt_sigpending(set: u64, size: u64) -> SysResult {
    if size > SIGSET_SIZE {
        return Err(EINVAL);
    }
    let tid = sched::current();
    let v = state::pending(tid) & state::with_thread(tid, |t| t.mask);
    user::write(set, v)?;
    Ok(0)
}

pub fn sigaltstack(frame: &TrapFrame, ss: u64, old: u64) -> SysResult {
    let new: Option<[u64; 3]> = if ss != 0 { Some(user::read(ss)?) } else { None };
    let (current, set) = state::with_current(|t| {
        let current = crate::signal::frame::stack_t(&t.altstack, frame.rsp);
        let set = new.map(|[sp, flags, size]| {
            crate::signal::deliver::set_altstack(t, frame.rsp, sp, flags & 0xffff_ffff, size)
        });
        (current, set)
    });
    if let Some(r) = set {
        r.map_err(Errno)?;
    }
    if old != 0 {
        user::write(old, current)?;
    }
    Ok(0)
}

fn user_info(sig: i32, code: i32) -> SigInfo {
    SigInfo {
        signo: sig,
        code,
        pid: super::process::pid() as u32,
        addr: 0,
        timer: None,
        value: 0,
    }
}

/// kill(pid, sig): a process by pid (a zombie takes nothing, but exists), 0: the
/// caller's process group, -1: every process but pid 1 and the caller, -pgid: that
/// group. ESRCH when nothing matches.
pub fn kill(pid: u64, sig: u64) -> SysResult {
    use core::sync::atomic::Ordering;
    let pid = pid as i32;
    let me = crate::process::current();
    if sig as usize > NSIG {
        return Err(EINVAL);
    }
    let targets: alloc::vec::Vec<&'static crate::process::Process> = match pid {
        p if p > 0 => crate::process::find(p as u32).into_iter().collect(),
        -1 => crate::process::all()
            .filter(|q| q.pid() != 1 && q.pid() != me.pid())
            .collect(),
        p => {
            let group = if p == 0 {
                me.pgid.load(Ordering::Relaxed)
            } else {
                p.unsigned_abs()
            };
            crate::process::all()
                .filter(|q| q.pgid.load(Ordering::Relaxed) == group)
                .collect()
        }
    };
    if targets.is_empty() {
        return Err(ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    let sig = valid_signal(sig)?;
    for to in targets.into_iter().filter(|q| q.is_running()) {
        state::send_to(to, user_info(sig, SI_USER));
    }
    Ok(0)
}

/// tkill(tid, sig) and tgkill(tgid, tid, sig).
pub fn send_to_thread(tid: u64, sig: u64) -> SysResult {
    if sig as usize > NSIG {
        return Err(EINVAL);
    }
    if tid == 0 || tid > u32::MAX as u64 || !crate::process::is_own_thread(tid as u32) {
        return Err(ESRCH);
    }
    if sig == 0 {
        return Ok(0);
    }
    state::send_thread(tid as u32, user_info(sig as i32, SI_TKILL));
    Ok(0)
}

/// rt_sigtimedwait(set, info, timeout, sigsetsize): takes a pending signal of `set`
/// without running its handler; EAGAIN when the timeout passes first, EINTR when
/// another signal interrupts the wait.
pub fn rt_sigtimedwait(set: u64, info: u64, timeout: u64, size: u64) -> SysResult {
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let want: u64 = user::read::<u64>(set)? & !UNBLOCKABLE;
    let deadline = super::time::timespec_timeout(timeout)?
        .map(|ns| crate::time::monotonic_ns().saturating_add(ns));
    let tid = sched::current();
    loop {
        if let Some(si) = state::dequeue(tid, want) {
            if info != 0 {
                user::write(info, si.to_bytes())?;
            }
            return Ok(si.signo as u64);
        }
        if deadline.is_some_and(|d| crate::time::monotonic_ns() >= d) {
            return Err(EAGAIN);
        }
        state::with_thread(tid, |t| t.waiting = want);
        let how = sched::block(deadline);
        state::with_thread(tid, |t| t.waiting = 0);
        if how == Wake::Interrupted && state::pending(tid) & want == 0 {
            return Err(EINTR);
        }
    }
}

/// Waits until a signal that runs a handler (or ends the program) arrives.
fn wait_for_signal() -> SysResult {
    while sched::block(None) != Wake::Interrupted {}
    Err(ERESTARTNOHAND)
}

/// rt_sigsuspend(mask, size): waits with `mask` in place; the handler runs with it and
/// the old mask comes back afterwards.
pub fn rt_sigsuspend(mask: u64, size: u64) -> SysResult {
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let m: u64 = user::read(mask)?;
    state::with_current(|t| {
        t.saved_mask = Some(t.mask);
        t.mask = m & !UNBLOCKABLE;
    });
    state::raise_attention();
    wait_for_signal()
}

/// ppoll, pselect6, epoll_pwait and epoll_pwait2: runs the wait `f` with the signal
/// mask at `mask` (if not NULL) in place of the thread's. As on Linux, when the wait
/// was interrupted the old mask comes back only after the handler that interrupted it
/// has run (as with sigsuspend); otherwise it comes back at once, so a signal the
/// temporary mask let in but that did not interrupt stays pending.
pub fn with_wait_mask(mask: u64, size: u64, f: impl FnOnce() -> SysResult) -> SysResult {
    if mask == 0 {
        return f();
    }
    if size != SIGSET_SIZE {
        return Err(EINVAL);
    }
    let m: u64 = user::read(mask)?;
    let old = state::with_current(|t| core::mem::replace(&mut t.mask, m & !UNBLOCKABLE));
    let result = f();
    if matches!(result, Err(e) if e == EINTR || e == ERESTARTNOHAND || e == ERESTARTSYS) {
        state::with_current(|t| t.saved_mask = Some(old));
        state::raise_attention();
    } else {
        state::with_current(|t| t.mask = old);
    }
    result
}

pub fn pause() -> SysResult {
    wait_for_signal()
}

/// rt_sigreturn is handled in syscall_handler (it must not overwrite rax).
pub fn rt_sigreturn(frame: &mut TrapFrame) {
    crate::signal::deliver::sigreturn(frame);
}

/// The siginfo a sigqueue()-style call passes in: its code (SI_QUEUE from the C
/// library), sender pid and si_value. Linux refuses codes the kernel itself uses
/// (>= 0, SI_TKILL) from a program, except to itself, which is all a program here
/// can reach.
fn queued_info(sig: i32, uinfo: u64) -> Result<SigInfo, Errno> {
    let raw: [u8; 32] = user::read(uinfo)?;
    let word = |i: usize| i32::from_le_bytes(raw[i..i + 4].try_into().unwrap());
    Ok(SigInfo {
        signo: sig,
        code: word(8),
        pid: word(16) as u32,
        value: u64::from_le_bytes(raw[24..32].try_into().unwrap()),
        ..SigInfo::default()
    })
}

/// rt_sigqueueinfo(tgid, sig, info): a signal with a value for the calling program
/// (sigqueue); real-time signals queue, up to 1024 per signal (then EAGAIN).
pub fn rt_sigqueueinfo(tgid: u64, sig: u64, uinfo: u64) -> SysResult {
    if tgid != super::process::pid() {
        return Err(ESRCH);
    }
    let sig = valid_signal(sig)?;
    let info = queued_info(sig, uinfo)?;
    if state::send_process(info) {
        Ok(0)
    } else {
        Err(EAGAIN)
    }
}

/// rt_tgsigqueueinfo(tgid, tid, sig, info): the same for one thread of the program.
pub fn rt_tgsigqueueinfo(tgid: u64, tid: u64, sig: u64, uinfo: u64) -> SysResult {
    if tgid != super::process::pid()
        || tid == 0
        || tid > u32::MAX as u64
        || !crate::process::is_own_thread(tid as u32)
    {
        return Err(ESRCH);
    }
    let sig = valid_signal(sig)?;
    let info = queued_info(sig, uinfo)?;
    if state::send_thread(tid as u32, info) {
        Ok(0)
    } else {
        Err(EAGAIN)
    }
}
