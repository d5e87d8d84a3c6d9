//! The I/O wait queue's core (what `fd::wait` builds on): a thread that must wait for
//! a file sleeps on one kernel futex queue until any file changes state (`notify`, also
//! what network cards' interrupts run) or its deadline passes, then re-checks; a thread
//! blocked on one socket sleeps with its socket's bit (`wait_bits`) and only events of
//! that bit (`notify_bits`) or of every file wake it; a thread waiting only for files
//! that no network card's frame can change (pipes, eventfds: `wait_files`) sleeps on
//! a queue of its own that frames and socket events leave alone. It lives
//! in the scheduler so that the scheduler, which asks `device_may_wake` before it calls
//! all threads blocked with nothing to wake them a deadlock, does not reach up into fd.

use super::{futex, Wake};
use core::sync::atomic::{AtomicU64, Ordering};

/// The kernel futex queue it is (shared by every program: a pipe's writer and reader
/// may be different programs).
const QUEUE: u64 = 0;
/// The kernel futex queue of `wait_files`: woken by `notify` only.
const FILES_QUEUE: u64 = 1;

/// Waits until some file changes state or `deadline` (monotonic ns) passes, or a
/// signal interrupts (`Wake::Interrupted`).
pub fn wait(deadline: Option<u64>) -> Wake {
    futex::wait_kernel(QUEUE, deadline)
}

/// As `wait`, for a thread that waits for one file whose changes are announced with
/// `notify_bits(bits)` (sockets: `rumprun_net::wait_bit`): a `notify_bits` of other
/// bits leaves it asleep, so that an event on one connection does not wake every
/// thread blocked on another. `notify` (any file, a card's interrupt) still wakes it.
pub fn wait_bits(bits: u32, deadline: Option<u64>) -> Wake {
    futex::wait_kernel_bits(QUEUE, bits, deadline)
}

/// As `wait`, for a thread whose files no network card's frame and no socket event
/// can change (`fd::FileOps::network_driven`): only `notify` wakes it, not
/// `notify_bits` or `notify_frame`. (memcached's idle worker threads wait in epoll on
/// an eventfd alone: each frame woke all four to find nothing, four of the five
/// sleeps per request at one connection, bench/insn-profile.)
pub fn wait_files(deadline: Option<u64>) -> Wake {
    futex::wait_kernel(FILES_QUEUE, deadline)
}

/// Counts `notify` calls: something that waiters look at may have changed since a
/// caller last read it (the network stack skips polls when nothing did).
static NOTIFIED: AtomicU64 = AtomicU64::new(0);

/// Wakes every waiter (a file became readier).
pub fn notify() {
    notify_bits(u32::MAX);
    futex::wake_kernel(FILES_QUEUE);
}

/// A card received a frame (or finished sending): wakes the waiters that may look
/// at sockets (not those of `wait_files`).
pub fn notify_frame() {
    notify_bits(u32::MAX);
}

/// Wakes the waiters of `wait` (they look at any file) and those of `wait_bits` whose
/// bits meet `bits` (the network stack's socket events; not those of `wait_files`).
pub fn notify_bits(bits: u32) {
    NOTIFIED.fetch_add(1, Ordering::Relaxed);
    futex::wake_kernel_bits(QUEUE, bits);
}

/// How many times `notify` has run.
pub fn notifications() -> u64 {
    NOTIFIED.load(Ordering::Relaxed)
}

/// Whether a device interrupt may still wake a waiter here: someone waits, and a
/// network card wakes the queue when a frame arrives. (The scheduler asks before it
/// calls all threads blocked with nothing to wake them a deadlock.)
pub fn device_may_wake() -> bool {
    (futex::has_kernel_waiters(QUEUE) || futex::has_kernel_waiters(FILES_QUEUE))
        && crate::drivers::netdev::any_interrupt_driven()
}
