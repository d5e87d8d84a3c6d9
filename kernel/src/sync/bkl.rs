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
//! waiting CPU in first. A waiter spins a few microseconds, then halts until the
//! releaser wakes it when its turn comes (`arch::smp::halt_for_ipi`/`wake_halted`,
//! as paravirtual spin locks do): under QEMU's TCG each vCPU is a host thread, and a
//! spinning waiter on a loaded host took the CPU time its preempted holder needed —
//! both vCPUs then waited 10-30 ms for each other on every hand-over, and threaded
//! servers at `-c 2` answered 10-100 times slower than at `-c 1`. While it waits
//! (device interrupts and the timer held back), a waiter answers TLB shootdowns (the
//! holder may be waiting for exactly that), by polling and by their interrupt; a
//! reschedule interrupt that arrives meanwhile is sent again once the lock is taken.
//!
//! With one CPU nothing of this runs: `SMP_ACTIVE` turns on only when the first
//! application processor starts, so `-c 1` pays one byte compare per kernel entry.

use super::PerCpu;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

/// True once several CPUs run (read by entry.S, so it has a fixed name).
#[no_mangle]
static SMP_ACTIVE: AtomicBool = AtomicBool::new(false);

static NEXT_TICKET: AtomicU32 = AtomicU32::new(0);
static NOW_SERVING: AtomicU32 = AtomicU32::new(0);
/// `cpu_id() + 1` of the holder, 0 when free.
static OWNER: AtomicU32 = AtomicU32::new(0);
/// Per CPU: the ticket it halts for, plus one (0: it does not halt for the lock).
static HALTED_FOR: PerCpu<AtomicU64> = PerCpu::new([const { AtomicU64::new(0) }; super::MAX_CPUS]);
/// Per CPU: a reschedule interrupt arrived while it waited for the lock.
static KICK_WHILE_WAITING: PerCpu<AtomicBool> =
    PerCpu::new([const { AtomicBool::new(false) }; super::MAX_CPUS]);
/// Whether a waiter may halt (set at boot on QEMU and PCs). Not on Xen yet: the Xen
/// test host (Xen nested under QEMU's TCG) aborted in QEMU (`tcg_handle_interrupt`:
/// iothread lock not held) when a two-vCPU guest halted there; not found in time.
static WAITERS_HALT: AtomicBool = AtomicBool::new(false);

/// Lets a waiter halt rather than spin (see `WAITERS_HALT`).
pub fn let_waiters_halt() {
    WAITERS_HALT.store(true, Ordering::Relaxed);
}

/// How long a waiter spins before it halts: hand-overs within this need no interrupt.
const SPIN_NS: u64 = 10_000;

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

/// Takes the lock (interrupts off), waiting for its turn if another CPU holds it.
pub fn acquire() {
    let ticket = NEXT_TICKET.fetch_add(1, Ordering::Relaxed);
    if NOW_SERVING.load(Ordering::Acquire) != ticket {
        wait_turn(ticket);
    }
    OWNER.store(super::cpu_id() + 1, Ordering::Relaxed);
}

/// Waits until `ticket` is served: spins `SPIN_NS`, then halts until `release` wakes
/// it (see the module doc), answering TLB shootdowns meanwhile.
#[cold]
fn wait_turn(ticket: u32) {
    let served = || NOW_SERVING.load(Ordering::Acquire) == ticket;
    let t0 = crate::arch::cpu::rdtsc();
    let spin = SPIN_NS * crate::time::tsc_hz() / 1_000_000_000;
    let halts = WAITERS_HALT.load(Ordering::Relaxed);
    while !halts || crate::arch::cpu::rdtsc().wrapping_sub(t0) < spin {
        crate::arch::smp::poll_flush();
        if served() {
            return;
        }
        crate::arch::smp::spin_wait();
    }
    let halted_for = HALTED_FOR.get();
    loop {
        // Paired with `release`: either it sees this store and wakes us, or we see
        // its NOW_SERVING and do not halt.
        halted_for.store(u64::from(ticket) + 1, Ordering::SeqCst);
        if NOW_SERVING.load(Ordering::SeqCst) == ticket {
            break;
        }
        crate::arch::smp::halt_for_ipi();
        crate::arch::smp::poll_flush();
        if served() {
            break;
        }
    }
    halted_for.store(0, Ordering::Relaxed);
    if KICK_WHILE_WAITING.get().swap(false, Ordering::Relaxed) {
        crate::arch::smp::kick_self();
    }
}

/// Releases the lock (the caller holds it), and wakes the next CPU in line if it
/// halts for it.
pub fn release() {
    debug_assert!(held());
    OWNER.store(0, Ordering::Relaxed);
    let next = NOW_SERVING.fetch_add(1, Ordering::SeqCst).wrapping_add(1);
    for cpu in 0..crate::arch::percpu::online() {
        if HALTED_FOR.of(cpu).load(Ordering::SeqCst) == u64::from(next) + 1 {
            crate::arch::smp::wake_halted(cpu);
            break;
        }
    }
}

/// A reschedule interrupt reached this CPU in kernel code (halted idle, or waiting
/// for the lock): in the lock's wait it is sent again once the lock is taken, so that
/// a CPU about to return to program code still reschedules.
pub fn kick_arrived() {
    if HALTED_FOR.get().load(Ordering::Relaxed) != 0 {
        KICK_WHILE_WAITING.get().store(true, Ordering::Relaxed);
    }
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
