//! The running program's threads as the syscalls and /proc see them, over the
//! scheduler's per-program bookkeeping (`sched` knows programs only by pid): the end
//! of one thread (exit), which threads are the program's, and its CPU time and
//! blocking counts. "The running program" is `process::current()`, which
//! `fork::in_process` may set to another one for a call (/proc/PID).

use super::current;
use crate::sched::{self, futex, Tid};
use alloc::vec::Vec;

/// Ends the calling thread (exit): CLONE_CHILD_CLEARTID's word is zeroed and its
/// futex woken; the program's last thread ends the program (`process::exit`).
pub fn exit_thread(status: i32) -> ! {
    let clear = sched::clear_child_tid();
    if clear != 0 {
        let _ = crate::mm::user::write(clear, 0u32);
        futex::wake_key(futex::key_for(current().pid(), clear, true), 1, u32::MAX);
    }
    if thread_count() <= 1 {
        super::exit(status);
    }
    crate::signal::state::thread_exited(sched::current());
    sched::exit_current()
}

/// Live threads of the running program.
pub fn thread_count() -> usize {
    sched::thread_count_of(current().pid())
}

/// The tids of the running program's live threads, lowest first.
pub fn thread_ids() -> Vec<Tid> {
    sched::live_threads_of(current().pid())
}

/// True when `tid` is a live thread of the running program.
pub fn is_own_thread(tid: Tid) -> bool {
    sched::pid_of(tid) == Some(current().pid())
}

/// CPU time of the running program (all its threads, live and exited), in ns.
pub fn cpu_ns() -> u64 {
    sched::cpu_ns_of(current().pid())
}

/// CPU time of thread `tid` of the running program, in ns (None: no such thread).
pub fn thread_cpu_ns(tid: Tid) -> Option<u64> {
    sched::thread_cpu_ns_of(current().pid(), tid)
}

/// How often the current thread (`thread`) or the whole running program blocked.
pub fn sleeps(thread: bool) -> u64 {
    if thread {
        sched::thread_sleeps()
    } else {
        sched::sleeps_of(current().pid())
    }
}
