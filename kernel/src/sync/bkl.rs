//! The big kernel lock: with several CPUs, kernel code runs on one CPU at a time,
//! while program code runs on all of them in parallel.
//!
//! The lock belongs to the CPU, not to a thread. A CPU takes it when it enters the
//! kernel from program code (syscall, interrupt, exception: `syscalls::syscall_handler`
//! and `arch::trap::trap_handler`) or wakes from its idle halt with work to do, and
//! releases it when it returns to program code (entry.S calls
//! `bkl_leave_to_program` on each return path) or halts (`sched::schedule`'s idle
//! loop). A context switch inside the kernel keeps it: the next thread continues on
//! the same CPU, in the kernel, under the same lock.
//!
//! What it protects: every piece of kernel state, including what the `SpinLock`s,
//! `spin::Mutex`es and `PerCpu` slots guard. The kernel's code was written for one
//! CPU with interrupts off; the BKL keeps that true with several CPUs, so no existing
//! code needed to change. `SpinLock`s stay correct without it (they spin on an atomic
//! flag), which is the way to finer locking: a subsystem whose state is entirely
//! under its own `SpinLock`s (the futex queues, a pipe, the scheduler's queue) can
//! be entered without the BKL once nothing it calls needs the BKL either; the
//! syscalls that touch only it then skip `enter`.
//!
//! What runs without it: program code, the idle halt, the TLB-shootdown interrupt
//! (it only reloads CR3 and acknowledges), and an application processor's start-up
//! until it enters the scheduler.
//!
//! A ticket lock, so that a CPU that releases and takes it again (`yield_now`) lets a
//! waiting CPU in first. While a CPU waits for it (interrupts off), it answers TLB
//! shootdowns by polling (`arch::smp::poll_flush`): the holder may be waiting for
//! exactly that, and an interrupt could not reach the waiter.
//!
//! With one CPU nothing of this runs: `SMP_ACTIVE` turns on only when the first
//! application processor starts, so `-c 1` pays one byte compare per kernel entry.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// True once several CPUs run (read by entry.S, so it has a fixed name).
#[no_mangle]
static SMP_ACTIVE: AtomicBool = AtomicBool::new(false);

static NEXT_TICKET: AtomicU32 = AtomicU32::new(0);
static NOW_SERVING: AtomicU32 = AtomicU32::new(0);
/// `cpu_id() + 1` of the holder, 0 when free.
static OWNER: AtomicU32 = AtomicU32::new(0);

/// True once several CPUs run (and kernel entries take the lock).
#[inline]
pub fn active() -> bool {
    SMP_ACTIVE.load(Ordering::Relaxed)
}

/// True when this CPU holds the lock.
#[inline]
pub fn held() -> bool {
    OWNER.load(Ordering::Relaxed) == super::cpu_id() + 1
}

/// Takes the lock, spinning (interrupts off) and answering TLB shootdowns meanwhile.
pub fn acquire() {
    let ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
    while NOW_SERVING.load(Ordering::Acquire) != ticket {
        crate::arch::smp::poll_flush();
        crate::arch::smp::spin_wait();
    }
    OWNER.store(super::cpu_id() + 1, Ordering::Relaxed);
}

/// Releases the lock (the caller holds it).
pub fn release() {
    debug_assert!(held());
    OWNER.store(0, Ordering::Relaxed);
    NOW_SERVING.fetch_add(1, Ordering::Release);
}

/// At a kernel entry: takes the lock if several CPUs run and this CPU does not hold
/// it yet. True when it took it.
#[inline]
pub fn enter() -> bool {
    if !active() || held() {
        return false;
    }
    acquire();
    true
}

/// Lets a CPU waiting for the lock run kernel code, then takes it again (the
/// scheduler calls it: a CPU looping in the kernel must not keep the others out).
pub fn yield_now() {
    if active()
        && held()
        && NEXT_TICKET.load(Ordering::Relaxed) != NOW_SERVING.load(Ordering::Relaxed) + 1
    {
        release();
        acquire();
    }
}

/// Turns the lock on, taken by the calling CPU: called by the boot CPU in the kernel
/// before it starts the first application processor.
pub fn activate() {
    if !active() {
        acquire();
        SMP_ACTIVE.store(true, Ordering::Release);
    }
}

/// Called by entry.S on every return to program code while several CPUs run.
#[no_mangle]
extern "C" fn bkl_leave_to_program() {
    if held() {
        release();
    }
}
