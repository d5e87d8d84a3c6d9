//! Making a process: fork (a copy-on-write copy of the caller's address space, see
//! `mm::address_space::fork_into`) and vfork (the child borrows the caller's page
//! tables until it calls execve or exits, while the caller sleeps). Either way the
//! child gets a new pid (the tid of its only thread, which resumes from the same
//! syscall with rax = 0), the descriptor table (the same open files), the signal
//! dispositions and the forking thread's mask, cwd and umask, process group and
//! session; timers and pending signals are not inherited.

use super::{create, current, forget, Pid, Process};
use crate::arch::trap::TrapFrame;
use crate::errno::*;
use crate::mm::address_space;
use core::sync::atomic::Ordering;

/// The most processes (running or zombies) at once: a fork bomb gets EAGAIN here, as
/// at Linux's RLIMIT_NPROC, with the kernel up.
pub const MAX_PROCESSES: usize = 512;
/// Frames a fork leaves free at least (its page tables and kernel stack, the first
/// copies): below that it fails with ENOMEM instead of starving everyone.
const RESERVE_FRAMES: usize = 512;

/// How to make the child.
pub struct ForkArgs {
    /// Borrow the parent's memory until execve/exit, the parent waiting (vfork,
    /// CLONE_VM|CLONE_VFORK); else copy on write.
    pub vfork: bool,
    /// The child's stack pointer (0: the parent's).
    pub stack: u64,
    /// CLONE_SETTLS: the child's FS base.
    pub tls: Option<u64>,
    /// CLONE_CHILD_SETTID: where the child's memory gets its tid.
    pub child_settid: u64,
    /// CLONE_CHILD_CLEARTID: zeroed and futex-woken when the child's thread exits.
    pub child_cleartid: u64,
}

/// Makes a child process of the running one, resuming from `frame` (the syscall's);
/// returns its pid. A vfork caller returns only when the child has exec'd or ended.
pub fn fork(frame: &TrapFrame, args: ForkArgs) -> Result<Pid, Errno> {
    let parent = current();
    if super::all().count() >= MAX_PROCESSES {
        crate::console::log_once(
            "nproc",
            "rumprun: fork: the process limit (512) is reached; returning EAGAIN",
        );
        return Err(EAGAIN);
    }
    if !crate::mm::frames::free_at_least(RESERVE_FRAMES) {
        return Err(ENOMEM);
    }
    let pid = crate::sched::next_tid();
    let child = create(pid).ok_or(ENOMEM)?;
    child.from_rc.store(false, Ordering::Relaxed);
    if args.vfork {
        child.root.store(parent.root(), Ordering::Relaxed);
        child.vfork_borrowed.store(true, Ordering::Relaxed);
        *child.aspace.lock() = address_space::snapshot();
    } else {
        match address_space::fork_into(child.root()) {
            Ok(space) => {
                *child.aspace.lock() = space;
                crate::ipc::shm::forked(parent.pid(), pid);
            }
            Err(_) => {
                abandon(child);
                return Err(ENOMEM);
            }
        }
    }
    if let Some(p) = parent.program() {
        child.set_program(p);
    }
    child.base.store(parent.base(), Ordering::Relaxed);
    child.fds.copy_from(&parent.fds);
    child.fs.copy_from(&parent.fs);
    // The credentials go with it; the death signal does not (Linux clears it).
    let mut creds = parent.creds.lock().clone();
    creds.pdeathsig = 0;
    *child.creds.lock() = creds;
    let me = crate::sched::current();
    child.signals.copy_from(&parent.signals, me, pid);
    child.ppid.store(parent.pid(), Ordering::Relaxed);
    child
        .pgid
        .store(parent.pgid.load(Ordering::Relaxed), Ordering::Relaxed);
    child
        .sid
        .store(parent.sid.load(Ordering::Relaxed), Ordering::Relaxed);
    let Some(tid) = crate::sched::spawn_in(
        Some(child),
        frame,
        args.stack,
        args.tls,
        args.child_cleartid,
    ) else {
        child.fds.close_all();
        abandon(child);
        return Err(EAGAIN);
    };
    debug_assert_eq!(tid, pid);
    *child.exe_file.lock() = parent.exe_file.lock().clone();
    if args.child_settid != 0 {
        // The child's memory: write it as the child (a copy-on-write fault there).
        let _ = in_process(child, || crate::mm::user::write(args.child_settid, pid));
    }
    if args.vfork {
        super::wait::wait_vfork(child);
    }
    Ok(pid)
}

/// Runs `f` in the address space of `p` (its root and its areas), then switches back.
pub fn in_process<R>(p: &'static Process, f: impl FnOnce() -> R) -> R {
    let me = current();
    if core::ptr::eq(me, p) {
        return f();
    }
    super::set_current(p);
    crate::arch::smp::load_root(p.root());
    let r = f();
    super::set_current(me);
    crate::arch::smp::load_root(me.root());
    r
}

/// Undoes a half-made child: frees what its page tables hold and forgets it.
fn abandon(child: &'static Process) {
    child.running.store(false, Ordering::Relaxed);
    if !child.vfork_borrowed.load(Ordering::Relaxed) {
        crate::arch::paging::clear_user_half_of(child.root(), crate::mm::frames::free);
    }
    forget(child);
}
