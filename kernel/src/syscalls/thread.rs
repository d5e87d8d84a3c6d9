//! Threads as pthreads use them: clone/clone3 with CLONE_VM|CLONE_THREAD, exit of one
//! thread, set_tid_address, gettid, sched_yield, and futex (WAIT, WAKE, the BITSET
//! variants, REQUEUE, CMP_REQUEUE, with timeouts). A clone without CLONE_THREAD makes
//! a process (process::fork).

use crate::arch::trap::TrapFrame;
use crate::errno::*;
use crate::mm::user;
use crate::sched::{self, futex, Wake};

const CLONE_VM: u64 = 0x100;
const CLONE_SIGHAND: u64 = 0x800;
const CLONE_VFORK: u64 = 0x4000;
const CLONE_THREAD: u64 = 0x10000;
const CLONE_SETTLS: u64 = 0x80000;
const CLONE_PARENT_SETTID: u64 = 0x100000;
const CLONE_CHILD_CLEARTID: u64 = 0x200000;
const CLONE_CHILD_SETTID: u64 = 0x1000000;

struct CloneArgs {
    flags: u64,
    stack: u64,
    parent_tid: u64,
    child_tid: u64,
    tls: u64,
}

fn do_clone(frame: &TrapFrame, a: CloneArgs) -> SysResult {
    if a.flags & CLONE_THREAD == 0 {
        return clone_process(frame, a);
    }
    if a.flags & CLONE_VM == 0 || a.flags & CLONE_VFORK != 0 {
        return Err(EINVAL);
    }
    if a.flags & CLONE_SIGHAND == 0 {
        return Err(EINVAL);
    }
    let tls = (a.flags & CLONE_SETTLS != 0).then_some(a.tls);
    let clear = if a.flags & CLONE_CHILD_CLEARTID != 0 {
        a.child_tid
    } else {
        0
    };
    let tid = sched::spawn(frame, a.stack, tls, clear).ok_or(EAGAIN)?;
    crate::signal::state::thread_created(sched::current(), tid);
    if a.flags & CLONE_PARENT_SETTID != 0 {
        user::write(a.parent_tid, tid)?;
    }
    if a.flags & CLONE_CHILD_SETTID != 0 {
        user::write(a.child_tid, tid)?;
    }
    Ok(tid as u64)
}

/// clone without CLONE_THREAD: a new process, as fork (CLONE_VM only with
/// CLONE_VFORK, as posix_spawn uses it: the child borrows the caller's memory until
/// it exec's or exits). Namespaces, pidfds and the like are refused with EINVAL.
fn clone_process(frame: &TrapFrame, a: CloneArgs) -> SysResult {
    const EXIT_SIGNAL: u64 = 0xff;
    const CLONE_FS: u64 = 0x200;
    const CLONE_FILES: u64 = 0x400;
    const CLONE_UNTRACED: u64 = 0x800000;
    const ALLOWED: u64 = EXIT_SIGNAL
        | CLONE_VM
        | CLONE_VFORK
        | CLONE_SETTLS
        | CLONE_PARENT_SETTID
        | CLONE_CHILD_CLEARTID
        | CLONE_CHILD_SETTID
        | CLONE_UNTRACED;
    if a.flags & !ALLOWED != 0 {
        crate::console::log_once(
            "clone-flags",
            "rumprun: clone of a process with flags beyond fork/vfork's (shared files, fs, namespaces, pidfd) is not supported; returning EINVAL",
        );
        let _ = (CLONE_FS, CLONE_FILES);
        return Err(EINVAL);
    }
    if a.flags & CLONE_VM != 0 && a.flags & CLONE_VFORK == 0 {
        crate::console::log_once(
            "clone-vm",
            "rumprun: clone of a process sharing memory without CLONE_VFORK is not supported; returning EINVAL",
        );
        return Err(EINVAL);
    }
    let args = crate::process::fork::ForkArgs {
        vfork: a.flags & CLONE_VM != 0,
        stack: a.stack,
        tls: (a.flags & CLONE_SETTLS != 0).then_some(a.tls),
        child_settid: if a.flags & CLONE_CHILD_SETTID != 0 {
            a.child_tid
        } else {
            0
        },
        child_cleartid: if a.flags & CLONE_CHILD_CLEARTID != 0 {
            a.child_tid
        } else {
            0
        },
    };
    if a.flags & CLONE_PARENT_SETTID != 0 {
        // Before the child runs, as Linux (the parent's memory).
        user::write(a.parent_tid, 0u32)?;
    }
    let pid = crate::process::fork::fork(frame, args)?;
    if a.flags & CLONE_PARENT_SETTID != 0 {
        let _ = user::write(a.parent_tid, pid);
    }
    Ok(pid as u64)
}

/// clone(flags, stack, parent_tid, child_tid, tls) — the x86_64 argument order.
pub fn clone(frame: &TrapFrame, a: [u64; 6]) -> SysResult {
    do_clone(
        frame,
        CloneArgs {
            flags: a[0],
            stack: a[1],
            parent_tid: a[2],
            child_tid: a[3],
            tls: a[4],
        },
    )
}

/// clone3(struct clone_args *, size).
pub fn clone3(frame: &TrapFrame, args: u64, size: u64) -> SysResult {
    if size < 64 {
        return Err(EINVAL);
    }
    let c: [u64; 8] = user::read(args)?;
    let (flags, child_tid, parent_tid, stack, stack_size, tls) =
        (c[0], c[2], c[3], c[5], c[6], c[7]);
    let top = if stack != 0 { stack + stack_size } else { 0 };
    do_clone(
        frame,
        CloneArgs {
            flags,
            stack: top,
            parent_tid,
            child_tid,
            tls,
        },
    )
}

pub fn exit(status: u64) -> SysResult {
    crate::process::exit_thread(status as i32)
}

pub fn set_tid_address(addr: u64) -> SysResult {
    sched::set_clear_child_tid(addr);
    Ok(sched::current() as u64)
}

pub fn gettid() -> SysResult {
    Ok(sched::current() as u64)
}

pub fn sched_yield() -> SysResult {
    sched::yield_now();
    Ok(0)
}

fn timespec_ns(ptr: u64) -> Result<u64, Errno> {
    let ts: [i64; 2] = user::read(ptr)?;
    if ts[0] < 0 || !(0..1_000_000_000).contains(&ts[1]) {
        return Err(EINVAL);
    }
    Ok((ts[0] as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(ts[1] as u64))
}

pub fn futex(uaddr: u64, op: u64, val: u64, timeout: u64, uaddr2: u64, val3: u64) -> SysResult {
    const WAIT: u64 = 0;
    const WAKE: u64 = 1;
    const REQUEUE: u64 = 3;
    const CMP_REQUEUE: u64 = 4;
    const WAIT_BITSET: u64 = 9;
    const WAKE_BITSET: u64 = 10;
    const CLOCK_REALTIME: u64 = 256;
    const FUTEX_PRIVATE_FLAG: u64 = 128;
    let cmd = op & 0x7f;
    let private = op & FUTEX_PRIVATE_FLAG != 0;
    let pid = crate::process::current().pid();
    if !uaddr.is_multiple_of(4) {
        return Err(EINVAL);
    }
    match cmd {
        WAIT | WAIT_BITSET => {
            let bitset = if cmd == WAIT { u32::MAX } else { val3 as u32 };
            if bitset == 0 {
                return Err(EINVAL);
            }
            let deadline = if timeout == 0 {
                None
            } else {
                let ns = timespec_ns(timeout)?;
                Some(if cmd == WAIT {
                    crate::time::monotonic_ns().saturating_add(ns) // relative
                } else if op & CLOCK_REALTIME != 0 {
                    let now_real = crate::time::realtime_ns();
                    crate::time::monotonic_ns().saturating_add(ns.saturating_sub(now_real))
                } else {
                    ns // absolute CLOCK_MONOTONIC
                })
            };
            let cur: u32 = user::read(uaddr)?;
            if cur != val as u32 {
                return Err(EAGAIN);
            }
            let key = futex::key_for(pid, uaddr, private);
            match futex::wait_key(key, bitset, deadline) {
                Wake::Woken => Ok(0),
                Wake::TimedOut => Err(ETIMEDOUT),
                // Without a timeout SA_RESTART restarts the wait; with one, EINTR after
                // a handler (Linux's restart block would resume with the time left).
                Wake::Interrupted if deadline.is_none() => Err(ERESTARTSYS),
                Wake::Interrupted => Err(ERESTARTNOHAND),
            }
        }
        WAKE | WAKE_BITSET => {
            let bitset = if cmd == WAKE { u32::MAX } else { val3 as u32 };
            if bitset == 0 {
                return Err(EINVAL);
            }
            Ok(futex::wake_key(futex::key_for(pid, uaddr, private), val as u32, bitset) as u64)
        }
        REQUEUE | CMP_REQUEUE => {
            if cmd == CMP_REQUEUE {
                let cur: u32 = user::read(uaddr)?;
                if cur != val3 as u32 {
                    return Err(EAGAIN);
                }
            }
            // The "timeout" argument carries the requeue count here.
            let (from, to) = (
                futex::key_for(pid, uaddr, private),
                futex::key_for(pid, uaddr2, private),
            );
            Ok(futex::requeue(from, val as u32, to, timeout as u32) as u64)
        }
        _ => Err(ENOSYS),
    }
}
