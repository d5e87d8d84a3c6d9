//! The end of a process as its parent sees it: a process that ends stays a zombie
//! (its wait status kept, everything else freed) until its parent reaps it with
//! wait4/waitid, and its parent gets SIGCHLD; a parent that ignores SIGCHLD (SIG_IGN
//! or SA_NOCLDWAIT), or none at all (rc programs, orphans once pid 1 is gone), has
//! its children reaped at once. Children of an ending process go to its nearest
//! ancestor that made itself a subreaper (PR_SET_CHILD_SUBREAPER), else to pid 1 (and get
//! their PR_SET_PDEATHSIG signal), and a process group this leaves orphaned with a
//! stopped member gets SIGHUP and SIGCONT (`pgrp`). A child that stops or is continued (job control,
//! `signal::job`) tells its parent the same way. A vfork parent sleeps here until its child has
//! exec'd or ended.

use super::{current, find, forget, Pid, Process};
use crate::errno::*;
use crate::sched::{futex, Wake};
use crate::signal::{self, SigInfo};
use core::sync::atomic::Ordering;

/// Kernel futex queues: a parent waiting for a child to change state, a vfork
/// parent waiting for its child to let go of its memory.
const WAIT_QUEUE: u64 = 1 << 48;
const VFORK_QUEUE: u64 = 2 << 48;

pub const WNOHANG: u64 = 1;
pub const WUNTRACED: u64 = 2;
pub const WEXITED: u64 = 4;
pub const WCONTINUED: u64 = 8;
pub const WNOWAIT: u64 = 0x0100_0000;
const SA_NOCLDWAIT: u64 = 2;

const SA_NOCLDSTOP: u64 = 1;

/// si_code of SIGCHLD and waitid.
const CLD_EXITED: i32 = 1;
const CLD_KILLED: i32 = 2;
const CLD_STOPPED: i32 = 5;
const CLD_CONTINUED: i32 = 6;

/// wait4's status of a continued child (WIFCONTINUED).
const CONTINUED_STATUS: u32 = 0xffff;

/// Which children a wait is for.
#[derive(Clone, Copy)]
pub enum Which {
    Any,
    Pid(Pid),
    Group(Pid),
}

impl Which {
    fn matches(self, p: &Process) -> bool {
        match self {
            Which::Any => true,
            Which::Pid(pid) => p.pid() == pid,
            Which::Group(g) => p.pgid.load(Ordering::Relaxed) == g,
        }
    }
}

/// A reaped (or, with WNOWAIT, looked at) child: its pid and wait status.
pub struct Reaped {
    pub pid: Pid,
    pub status: u32,
}

impl Reaped {
    /// waitid's si_code and si_status.
    pub fn code_and_status(&self) -> (i32, i32) {
        if self.status == CONTINUED_STATUS {
            (CLD_CONTINUED, signal::SIGCONT)
        } else if self.status & 0xff == 0x7f {
            (CLD_STOPPED, (self.status >> 8 & 0xff) as i32)
        } else if self.status & 0x7f == 0 {
            (CLD_EXITED, (self.status >> 8 & 0xff) as i32)
        } else {
            (CLD_KILLED, (self.status & 0x7f) as i32)
        }
    }
}

/// True when `parent` does not keep zombies (SIGCHLD ignored, or SA_NOCLDWAIT).
fn auto_reaps(parent: &Process) -> bool {
    let a = parent.signals.action_of(signal::SIGCHLD);
    a.handler == signal::SIG_IGN || a.flags & SA_NOCLDWAIT != 0
}

/// Where the children of `me` go when it ends: its nearest running ancestor that is a
/// subreaper (PR_SET_CHILD_SUBREAPER), else pid 1 if it runs (Linux's
/// find_new_reaper), else none.
fn new_parent(me: &Process) -> Option<&'static Process> {
    let mut pid = me.ppid.load(Ordering::Relaxed);
    // Each step goes to a parent; the bound only guards against a cycle.
    for _ in 0..super::fork::MAX_PROCESSES {
        if pid == 0 || pid == 1 {
            break;
        }
        let Some(p) = find(pid).filter(|p| p.is_running()) else {
            break;
        };
        if p.subreaper.load(Ordering::Relaxed) {
            return Some(p);
        }
        pid = p.ppid.load(Ordering::Relaxed);
    }
    find(1).filter(|p| p.is_running() && p.pid() != me.pid())
}

/// The running process `me` has ended (its wait status is set, its memory freed):
/// its children go to its nearest subreaper ancestor or pid 1 (`new_parent`), and it
/// becomes its parent's zombie or is reaped.
pub fn ended(me: &'static Process) {
    let heir = new_parent(me);
    let heir_pid = heir.map_or(0, |p| p.pid());
    let orphans: alloc::vec::Vec<&'static Process> = super::all()
        .filter(|q| q.ppid.load(Ordering::Relaxed) == me.pid() && !core::ptr::eq(*q, me))
        .collect();
    for &q in &orphans {
        q.ppid.store(heir_pid, Ordering::Relaxed);
        // Only pid 1 is no holder of the orphan's group (Linux's is_global_init): a
        // subreaper is its parent like any other.
        q.adopted
            .store(heir.is_none_or(|h| h.pid() == 1), Ordering::Relaxed);
        let sig = q.creds.lock().pdeathsig;
        if sig != 0 && q.is_running() {
            signal::state::send_to(q, kernel_info(sig as i32, me.pid()));
        }
        if !q.is_running() {
            match heir {
                Some(h) if !auto_reaps(h) => notify_parent(h, q),
                _ => forget(q),
            }
        }
    }
    let parent = find(me.ppid.load(Ordering::Relaxed)).filter(|p| p.is_running());
    super::pgrp::process_ended(me, parent, &orphans);
    match parent {
        Some(p) if !auto_reaps(p) => notify_parent(p, me),
        Some(p) => {
            // Still tell the parent (a handler with SA_NOCLDWAIT runs), then vanish.
            send_sigchld(p, me);
            futex::wake_kernel(WAIT_QUEUE | p.pid() as u64);
            forget(me);
        }
        None => forget(me),
    }
    // Its pidfds are readable now: wake whoever polls them.
    crate::fd::wait::notify();
}

fn kernel_info(sig: i32, pid: Pid) -> SigInfo {
    SigInfo {
        signo: sig,
        code: signal::SI_KERNEL,
        pid,
        ..SigInfo::default()
    }
}

fn send_sigchld(parent: &Process, child: &Process) {
    let status = child.wait_status.lock().unwrap_or(0);
    let r = Reaped {
        pid: child.pid(),
        status,
    };
    let (code, st) = r.code_and_status();
    let info = SigInfo {
        signo: signal::SIGCHLD,
        code,
        pid: child.pid(),
        value: st as u32 as u64,
        ..SigInfo::default()
    };
    signal::state::send_to(parent, info);
}

/// `child` is now `parent`'s zombie: SIGCHLD and a wake-up for its waiters.
fn notify_parent(parent: &Process, child: &Process) {
    send_sigchld(parent, child);
    futex::wake_kernel(WAIT_QUEUE | parent.pid() as u64);
}

/// A child stopped or was continued (job control): its parent gets SIGCHLD
/// (CLD_STOPPED / CLD_CONTINUED, unless SA_NOCLDSTOP) and its waiters wake.
pub fn child_changed(child: &Process, change: signal::state::JobChange) {
    let Some(parent) = find(child.ppid.load(Ordering::Relaxed)).filter(|p| p.is_running()) else {
        return;
    };
    if parent.signals.action_of(signal::SIGCHLD).flags & SA_NOCLDSTOP == 0 {
        let (code, st) = match change {
            signal::state::JobChange::Stopped(sig) => (CLD_STOPPED, sig),
            signal::state::JobChange::Continued => (CLD_CONTINUED, signal::SIGCONT),
        };
        let info = SigInfo {
            signo: signal::SIGCHLD,
            code,
            pid: child.pid(),
            value: st as u32 as u64,
            ..SigInfo::default()
        };
        signal::state::send_to(parent, info);
    }
    futex::wake_kernel(WAIT_QUEUE | parent.pid() as u64);
}

/// wait4/waitid: waits for a child of the running process matching `which` to end
/// (WEXITED), stop (WUNTRACED) or be continued (WCONTINUED) (unless WNOHANG:
/// `Ok(None)` when none has yet); reaps an ended one and takes the news of a stop or
/// continue unless WNOWAIT. ECHILD when there is no such child; ERESTARTSYS when a
/// signal interrupts the wait.
pub fn wait(which: Which, options: u64) -> Result<Option<Reaped>, Errno> {
    let me = current();
    let peek = options & WNOWAIT != 0;
    loop {
        let mut any = false;
        let mut zombie = None;
        for q in super::all() {
            if q.ppid.load(Ordering::Relaxed) != me.pid() || !which.matches(q) {
                continue;
            }
            any = true;
            if !q.is_running() {
                if options & WEXITED == 0 {
                    continue;
                }
                if let Some(status) = *q.wait_status.lock() {
                    zombie = Some((q, status));
                    break;
                }
                continue;
            }
            let stops = options & WUNTRACED != 0;
            let continues = options & WCONTINUED != 0;
            if stops || continues {
                let status = match q.signals.job_report(stops, continues, peek) {
                    Some(signal::state::JobChange::Stopped(sig)) => (sig as u32) << 8 | 0x7f,
                    Some(signal::state::JobChange::Continued) => CONTINUED_STATUS,
                    None => continue,
                };
                return Ok(Some(Reaped {
                    pid: q.pid(),
                    status,
                }));
            }
        }
        if let Some((q, status)) = zombie {
            if !peek {
                forget(q);
            }
            return Ok(Some(Reaped {
                pid: q.pid(),
                status,
            }));
        }
        if !any {
            return Err(ECHILD);
        }
        if options & WNOHANG != 0 {
            return Ok(None);
        }
        if futex::wait_kernel(WAIT_QUEUE | me.pid() as u64, None) == Wake::Interrupted {
            return Err(ERESTARTSYS);
        }
    }
}

/// The vfork parent sleeps until `child` has exec'd or ended (a signal does not cut
/// this short: the child is using the parent's memory).
pub fn wait_vfork(child: &'static Process) {
    while child.vfork_borrowed.load(Ordering::Relaxed) && child.is_running() {
        if futex::wait_kernel(VFORK_QUEUE | child.pid() as u64, None) == Wake::Interrupted {
            // A signal is pending for the parent: it waits all the same, letting the
            // child run.
            crate::sched::yield_now();
        }
    }
}

/// `child` (a vfork child) no longer uses its parent's memory.
pub fn vfork_done(child: &'static Process) {
    futex::wake_kernel(VFORK_QUEUE | child.pid() as u64);
}
