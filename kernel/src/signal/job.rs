//! Job control: a stop signal (SIGSTOP, or SIGTSTP/SIGTTIN/SIGTTOU left at SIG_DFL)
//! stops the whole process, SIGCONT continues it, and its parent learns of both (its
//! wait's WUNTRACED/WCONTINUED, SIGCHLD with CLD_STOPPED/CLD_CONTINUED unless
//! SA_NOCLDSTOP).
//!
//! Stopping is done by the threads themselves on their way back to program code
//! (`deliver::on_return`): the thread that takes the stop signal marks the process
//! stopped and parks; each other thread parks at its next return to program code (a
//! preempted one at once; one blocked in a syscall when the syscall ends). A parked
//! thread sleeps on its process's kernel queue with every signal but SIGKILL
//! blocked, until SIGCONT (sent by anyone: `continued`) or SIGKILL. pid 1 ignores
//! stop signals it has no handler for, as Linux's init does (nothing could continue
//! it in a one-program image). SIGTSTP, SIGTTIN and SIGTTOU do not stop a process
//! whose group is orphaned (`process::pgrp`).

use super::state::{self, JobChange};
use super::{bit, SIGKILL};
use crate::process::{self, Process};
use crate::sched::{self, futex};

/// Kernel futex queue of the stopped threads of a process (by pid).
const STOP_QUEUE: u64 = 4 << 48;

/// The current thread took stop signal `sig` with its default action: the process
/// stops (its parent is told) and this thread parks until it is continued.
pub fn stop(sig: i32) {
    let me = process::current();
    if me.pid() == 1 {
        crate::console::log_once(
            "signal-stop-init",
            "rumprun: pid 1 ignores stop signals it has no handler for (as Linux's init)",
        );
        return;
    }
    // POSIX: the terminal's stop signals do not stop an orphaned group (nothing would
    // continue it); SIGSTOP does.
    if sig != super::SIGSTOP
        && process::pgrp::is_orphaned(me.pgid.load(core::sync::atomic::Ordering::Relaxed))
    {
        return;
    }
    if me.signals.stop(sig) {
        process::wait::child_changed(me, JobChange::Stopped(sig));
    }
    park_if_stopped();
}

/// Parks the current thread while its process is stopped (returns at once when it is
/// not, or when a SIGKILL is pending: that ends it).
pub fn park_if_stopped() {
    let me = process::current();
    let tid = sched::current();
    if me.signals.stopped().is_none() {
        return;
    }
    // Only SIGKILL may wake a stopped thread (and SIGCONT, which wakes the queue).
    let saved = state::with_thread(tid, |t| {
        let saved = (t.mask, t.waiting);
        t.mask = !bit(SIGKILL);
        t.waiting = 0;
        saved
    });
    while me.signals.stopped().is_some() && !me.signals.kill_pending(tid) {
        super::deliver::end_if_doomed();
        // The deadline only guards against a SIGCONT between the check and the wait
        // on another CPU: `continued` wakes the queue.
        let deadline = crate::time::monotonic_ns() + 100_000_000;
        futex::wait_kernel(STOP_QUEUE | u64::from(me.pid()), Some(deadline));
    }
    state::with_thread(tid, |t| (t.mask, t.waiting) = saved);
}

/// `p` was stopped and a SIGCONT has just continued it: its parent is told and its
/// parked threads wake.
pub fn continued(p: &Process) {
    process::wait::child_changed(p, JobChange::Continued);
    futex::wake_kernel(STOP_QUEUE | u64::from(p.pid()));
}
