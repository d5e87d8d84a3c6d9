//! The I/O wait queue: a thread that must wait for a file (a blocking read, poll,
//! select, epoll_wait) sleeps here until any file changes state (`notify`) or its
//! deadline passes, then re-checks. One queue for all files keeps this simple and
//! correct on one CPU; per-file queues can come when many connections make it matter.

use crate::sched::{futex, Wake};

/// The kernel futex queue it is (shared by every program: a pipe's writer and reader
/// may be different programs).
const QUEUE: u64 = 0;
/// How often waiters re-check files that need polling (console input).
pub const POLL_INTERVAL_NS: u64 = 10_000_000;

/// Waits until some file changes state or `deadline` (monotonic ns) passes, or a
/// signal interrupts (`Wake::Interrupted`).
pub fn wait(deadline: Option<u64>) -> Wake {
    futex::wait_kernel(QUEUE, deadline)
}

/// Wakes every waiter (a file became readier).
pub fn notify() {
    futex::wake_kernel(QUEUE);
}

/// Whether a device interrupt may still wake a waiter here: someone waits, and a
/// network card wakes the queue when a frame arrives. (The scheduler asks before it
/// calls all threads blocked with nothing to wake them a deadlock.)
pub fn device_may_wake() -> bool {
    futex::has_kernel_waiters(QUEUE) && crate::drivers::netdev::any_interrupt_driven()
}

/// The earlier of two optional deadlines.
pub fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}
