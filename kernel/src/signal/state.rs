//! Who holds which signal: each program's own dispositions (`sigaction`) and process-wide
//! pending set (kill), and per thread its mask, pending set (tkill/tgkill, faults),
//! alternate stack, the mask saved by sigsuspend, and the set it waits for in
//! sigtimedwait. Sending decides whether the signal is discarded (ignored and not
//! blocked), which thread should take it (kill: the first thread not blocking it,
//! the current one preferred), and wakes that thread if it is blocked.
//!
//! A standard signal is pending at most once (a send while it is pending is merged
//! into it, keeping the first siginfo, as on Linux); real-time signals queue, each
//! send with its own siginfo (sigqueue's value), taken oldest first.

use super::{bit, default_action, Default, SigInfo, NSIG, SIG_DFL, SIG_IGN, UNBLOCKABLE};
use crate::sched::{self, Tid};
use crate::sync::{SpinLock, SpinLockGuard};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use rumprun_signals::Source;

/// The siginfo of each pending signal: one for a standard signal, a queue for a
/// real-time one (`rumprun_signals::Queue`).
type Queued = rumprun_signals::Queue<SigInfo>;

/// False when no signal is pending anywhere and no thread has a mask to put back: then
/// returning to the program has nothing to do (`deliver::on_return`'s fast path, which
/// keeps a trivial syscall's cost low). Set by every send and by sigsuspend; recomputed
/// after each delivery pass.
static ATTENTION: AtomicBool = AtomicBool::new(false);

pub fn needs_attention() -> bool {
    ATTENTION.load(Ordering::Relaxed)
}

/// Marks that the next return to the program must look at the signal state.
pub fn raise_attention() {
    ATTENTION.store(true, Ordering::Relaxed);
}

/// Signals made pending so far: signalfd's readiness generation (edge-triggered epoll).
static SENDS: AtomicU64 = AtomicU64::new(0);

pub fn sends() -> u64 {
    SENDS.load(Ordering::Relaxed)
}

/// A signal became pending: returns to the program must look, and I/O waiters re-check
/// (a signalfd may have become readable although the signal is blocked).
fn posted() {
    raise_attention();
    SENDS.fetch_add(1, Ordering::Relaxed);
    crate::fd::wait::notify();
}

/// Clears the mark unless a signal is still pending (blocked, or for another thread,
/// or for another program) or a saved mask waits to be restored.
pub fn recompute_attention() {
    let busy = crate::process::running().any(|p| {
        let p = p.signals.0.lock();
        p.pending != 0
            || p.stopped.is_some()
            || p.threads
                .values()
                .any(|t| t.pending != 0 || t.saved_mask.is_some())
    });
    ATTENTION.store(busy, Ordering::Relaxed);
}

/// The kernel's `struct sigaction` on x86_64 (what rt_sigaction reads and writes).
#[derive(Clone, Copy, Default, Debug)]
#[repr(C)]
pub struct SigAction {
    pub handler: u64,
    pub flags: u64,
    pub restorer: u64,
    pub mask: u64,
}

// SAFETY: #[repr(C)], four u64s.
unsafe impl crate::mm::user::Pod for SigAction {}

/// A thread's alternate signal stack (sigaltstack).
#[derive(Clone, Copy, Default, Debug)]
pub struct AltStack {
    pub sp: u64,
    pub size: u64,
    pub enabled: bool,
}

impl AltStack {
    /// True when `rsp` lies on this (enabled) stack.
    pub fn contains(&self, rsp: u64) -> bool {
        self.enabled && rsp > self.sp && rsp - self.sp <= self.size
    }
}

pub struct ThreadSignals {
    pub mask: u64,
    pub pending: u64,
    info: Queued,
    pub altstack: AltStack,
    /// The mask to restore after a handler entered from rt_sigsuspend (or on its
    /// return without one).
    pub saved_mask: Option<u64>,
    /// Signals this thread is waiting for in rt_sigtimedwait (they wake it although
    /// blocked).
    pub waiting: u64,
}

impl ThreadSignals {
    fn new(mask: u64) -> Self {
        ThreadSignals {
            mask,
            pending: 0,
            info: Queued::new(),
            altstack: AltStack::default(),
            saved_mask: None,
            waiting: 0,
        }
    }

    /// True if a pending `sig` should make this thread act: not blocked, or awaited.
    fn wants(&self, sig: i32) -> bool {
        rumprun_signals::wants(self.mask, self.waiting, sig)
    }

    /// True if this thread keeps `sig` pending even when it is ignored: blocked, or
    /// awaited in rt_sigtimedwait.
    fn keeps(&self, sig: i32) -> bool {
        rumprun_signals::keeps(self.mask, self.waiting, sig)
    }
}

struct Process {
    actions: [SigAction; NSIG + 1],
    pending: u64,
    info: Queued,
    threads: BTreeMap<Tid, Box<ThreadSignals>>,
    /// Job control (see `job`): the stop signal that stopped the process, while it is
    /// stopped, and the change its parent's wait has not yet been told of.
    stopped: Option<i32>,
    report: Option<JobChange>,
}

/// A stop or continue of a process, as its parent's wait reports it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum JobChange {
    Stopped(i32),
    Continued,
}

/// One program's signal state (held by its `process::Process`; the functions below
/// act on the running program's unless they take a target). Locked while read or
/// changed; the lock comes first in the kernel's lock order (a send wakes threads with
/// it held), and nothing that may fault on user memory or block runs under it.
pub struct Signals(SpinLock<Process>);

impl Signals {
    /// Every disposition SIG_DFL, nothing pending.
    pub const fn new() -> Self {
        Signals(SpinLock::new(Process {
            actions: [SigAction {
                handler: 0,
                flags: 0,
                restorer: 0,
                mask: 0,
            }; NSIG + 1],
            pending: 0,
            info: Queued::new(),
            threads: BTreeMap::new(),
            stopped: None,
            report: None,
        }))
    }

    /// The stop signal that stopped this process, while it is stopped.
    pub fn stopped(&self) -> Option<i32> {
        self.0.lock().stopped
    }

    /// Marks the process stopped by `sig` (its threads stop on their way back to
    /// program code); false if it already was.
    pub fn stop(&self, sig: i32) -> bool {
        let mut p = self.0.lock();
        if p.stopped.is_some() {
            return false;
        }
        p.stopped = Some(sig);
        p.report = Some(JobChange::Stopped(sig));
        drop(p);
        raise_attention();
        true
    }

    /// The stop or continue its parent's wait has not yet seen, if `wanted` says it
    /// wants it (`stopped`: WUNTRACED, `continued`: WCONTINUED); taken unless `peek`.
    pub fn job_report(&self, stopped: bool, continued: bool, peek: bool) -> Option<JobChange> {
        let mut p = self.0.lock();
        let r = p.report?;
        let wanted = match r {
            JobChange::Stopped(_) => stopped,
            JobChange::Continued => continued,
        };
        if !wanted {
            return None;
        }
        if !peek {
            p.report = None;
        }
        Some(r)
    }

    /// True when a SIGKILL is pending for the process or thread `tid`.
    pub fn kill_pending(&self, tid: Tid) -> bool {
        let p = self.0.lock();
        let own = p.threads.get(&tid).map_or(0, |t| t.pending);
        (p.pending | own) & bit(super::SIGKILL) != 0
    }

    /// fork: the child (`self`, new) gets `parent`'s dispositions, and its only
    /// thread `child_tid` the mask of the forking thread `parent_tid`; nothing is
    /// pending in the child.
    pub fn copy_from(&self, parent: &Signals, parent_tid: Tid, child_tid: Tid) {
        let (actions, mask) = {
            let p = parent.0.lock();
            (p.actions, p.threads.get(&parent_tid).map_or(0, |t| t.mask))
        };
        let mut c = self.0.lock();
        c.actions = actions;
        c.threads
            .insert(child_tid, Box::new(ThreadSignals::new(mask)));
    }

    /// execve: handled signals go back to SIG_DFL (ignored ones stay ignored), the
    /// alternate stack goes; the mask and pending signals stay.
    pub fn reset_for_exec(&self, tid: Tid) {
        let mut p = self.0.lock();
        for a in p.actions.iter_mut() {
            if a.handler != SIG_IGN && a.handler != SIG_DFL {
                *a = SigAction::default();
            }
            a.flags &= !super::SA_ONSTACK;
        }
        if let Some(t) = p.threads.get_mut(&tid) {
            t.altstack = AltStack::default();
            t.saved_mask = None;
        }
    }

    /// The disposition of `sig` in this program.
    pub fn action_of(&self, sig: i32) -> SigAction {
        self.0.lock().actions[sig as usize]
    }

    /// Forgets every thread's state (the program has ended).
    pub fn clear_threads(&self) {
        self.0.lock().threads.clear();
    }
}

/// The running program's signal state, locked.
fn process() -> SpinLockGuard<'static, Process> {
    crate::process::current().signals.0.lock()
}

/// The signal state of thread `tid` in `threads` (created on first use).
fn thread_in(threads: &mut BTreeMap<Tid, Box<ThreadSignals>>, tid: Tid) -> &mut ThreadSignals {
    threads
        .entry(tid)
        .or_insert_with(|| Box::new(ThreadSignals::new(0)))
}

/// What `f` makes of the signal state of thread `tid` of the running program (created
/// on first use), with the program's signal state locked: `f` must not send signals,
/// touch user memory or block.
pub fn with_thread<R>(tid: Tid, f: impl FnOnce(&mut ThreadSignals) -> R) -> R {
    f(thread_in(&mut process().threads, tid))
}

/// As `with_thread`, for the calling thread.
pub fn with_current<R>(f: impl FnOnce(&mut ThreadSignals) -> R) -> R {
    with_thread(sched::current(), f)
}

/// clone: the new thread inherits the mask; pending set and alternate stack start
/// empty (Linux clears the alternate stack for CLONE_VM threads).
pub fn thread_created(parent: Tid, child: Tid) {
    let mut p = process();
    let mask = thread_in(&mut p.threads, parent).mask;
    p.threads.insert(child, Box::new(ThreadSignals::new(mask)));
}

pub fn thread_exited(tid: Tid) {
    process().threads.remove(&tid);
}

pub fn action(sig: i32) -> SigAction {
    process().actions[sig as usize]
}

fn action_of(p: &Process, sig: i32) -> SigAction {
    p.actions[sig as usize]
}

/// Installs a disposition; setting one that ignores `sig` discards it where pending.
pub fn set_action(sig: i32, mut act: SigAction) {
    act.mask &= !UNBLOCKABLE;
    let mut p = process();
    p.actions[sig as usize] = act;
    if ignores(&p, sig) {
        let p = &mut *p;
        p.pending &= !bit(sig);
        p.info.clear(sig);
        for t in p.threads.values_mut() {
            t.pending &= !bit(sig);
            t.info.clear(sig);
        }
    }
}

/// Resets `sig` to SIG_DFL (SA_RESETHAND).
pub fn reset_action(sig: i32) {
    let mut p = process();
    p.actions[sig as usize].handler = SIG_DFL;
    p.actions[sig as usize].flags &= !super::SA_SIGINFO;
}

fn ignores(p: &Process, sig: i32) -> bool {
    match action_of(p, sig).handler {
        SIG_IGN => true,
        SIG_DFL => default_action(sig) == Default::Ignore,
        _ => false,
    }
}

/// Drops the pending signals of `set` from the process and each of its threads.
fn discard(p: &mut Process, set: u64) {
    for sig in 1..=NSIG as i32 {
        if set & bit(sig) == 0 {
            continue;
        }
        p.pending &= !bit(sig);
        p.info.clear(sig);
        for t in p.threads.values_mut() {
            t.pending &= !bit(sig);
            t.info.clear(sig);
        }
    }
}

/// What sending `sig` does to job control at once, as on Linux (before it is
/// queued, whatever its disposition): a stop signal discards a pending SIGCONT;
/// SIGCONT discards pending stop signals and continues a stopped process. True when
/// that continued it (the caller tells the parent and wakes its threads).
fn job_control_on_send(p: &mut Process, sig: i32) -> bool {
    let discards = rumprun_signals::discarded_by(sig);
    if discards != 0 {
        discard(p, discards);
    }
    if sig == super::SIGCONT && p.stopped.take().is_some() {
        p.report = Some(JobChange::Continued);
        return true;
    }
    false
}

/// kill(), sigqueue(): a signal for the whole of the running program. False when a
/// real-time signal's queue is full.
pub fn send_process(info: SigInfo) -> bool {
    send_to(crate::process::current(), info)
}

/// A signal for the whole of program `to` (kill, sigqueue, its timers). False when a
/// real-time signal's queue is full (nothing was sent).
pub fn send_to(to: &crate::process::Process, info: SigInfo) -> bool {
    let sig = info.signo;
    let mut p = to.signals.0.lock();
    if job_control_on_send(&mut p, sig) {
        drop(p);
        super::job::continued(to);
        p = to.signals.0.lock();
    }
    let kept_somewhere = p.threads.values().any(|t| t.keeps(sig));
    if ignores(&p, sig) && !kept_somewhere {
        return true;
    }
    if !p.info.push(info) {
        return false;
    }
    p.pending |= bit(sig);
    posted();
    let wants = |tid: Tid| p.threads.get(&tid).is_none_or(|t| t.wants(sig));
    // The current thread if it can take it (no wake-up needed unless it is the one
    // blocked while the scheduler idles), else the first thread that can.
    let cur = sched::current();
    let target = if sched::pid_of(cur) == Some(to.pid()) && wants(cur) {
        Some(cur)
    } else {
        sched::live_threads_of(to.pid())
            .into_iter()
            .find(|&tid| wants(tid))
    };
    if let Some(tid) = target {
        sched::interrupt(tid);
    }
    true
}

/// tkill/tgkill or a fault: a signal for one thread of the running program. False
/// when a real-time signal's queue is full.
pub fn send_thread(tid: Tid, info: SigInfo) -> bool {
    send_thread_in(crate::process::current(), tid, info)
}

/// A signal for thread `tid` of program `to` (tkill, a fault, a POSIX timer).
pub fn send_thread_in(to: &crate::process::Process, tid: Tid, info: SigInfo) -> bool {
    let sig = info.signo;
    let mut p = to.signals.0.lock();
    if job_control_on_send(&mut p, sig) {
        drop(p);
        super::job::continued(to);
        p = to.signals.0.lock();
    }
    let ignored = ignores(&p, sig);
    let keeps = thread_in(&mut p.threads, tid).keeps(sig);
    if ignored && !keeps {
        return true;
    }
    let t = thread_in(&mut p.threads, tid);
    if !t.info.push(info) {
        return false;
    }
    t.pending |= bit(sig);
    posted();
    if t.wants(sig) {
        sched::interrupt(tid);
    }
    true
}

/// Takes the lowest-numbered signal of `set` pending for `tid` (its own first, then
/// the process's), with its siginfo.
pub fn dequeue(tid: Tid, set: u64) -> Option<SigInfo> {
    let mut guard = process();
    let p = &mut *guard;
    let t = thread_in(&mut p.threads, tid);
    let (sig, from) = rumprun_signals::select(t.pending, p.pending, set)?;
    let (queue, pending) = match from {
        Source::Thread => (&mut t.info, &mut t.pending),
        Source::Process => (&mut p.info, &mut p.pending),
    };
    let (info, more) = queue.pop(sig);
    if !more {
        *pending &= !bit(sig);
    }
    Some(info.unwrap_or(SigInfo {
        signo: sig,
        ..SigInfo::default()
    }))
}

/// Signals pending for `tid`: its own and the process's.
pub fn pending(tid: Tid) -> u64 {
    let mut p = process();
    let shared = p.pending;
    thread_in(&mut p.threads, tid).pending | shared
}

/// True when a pending signal should end `tid`'s blocking syscall now.
pub fn should_interrupt(tid: Tid) -> bool {
    let mut p = process();
    let shared = p.pending;
    let t = thread_in(&mut p.threads, tid);
    rumprun_signals::interrupts(t.pending, shared, t.mask, t.waiting)
}
