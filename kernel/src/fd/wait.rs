//! The I/O wait queue: a thread that must wait for a file (a blocking read, poll,
//! select, epoll_wait) sleeps here until any file changes state (`notify`) or its
//! deadline passes, then re-checks. One queue for all files keeps this simple; a
//! thread blocked on one socket waits with its socket's bit (`wait_bits`), and the
//! network stack wakes only the bits of the sockets a poll changed (`notify_bits`), so
//! that with many connections an event on one does not wake the threads of all the
//! others (tests/programs/socket_waiters.c). The queue itself is `sched::io_wait`;
//! this adds blocking retries.

use crate::errno::{Errno, EAGAIN, EINTR, ERESTARTSYS};
use crate::sched::Wake;

pub use crate::sched::io_wait::{
    notifications, notify, notify_bits, notify_frame, wait, wait_bits, wait_files,
};

/// Waits as a poll, select or epoll over files does: with `network` (one of them is
/// `FileOps::network_driven`) for any file's change (`wait`), else only for a
/// change of a file that is not a socket (`wait_files`).
pub fn wait_for(network: bool, deadline: Option<u64>) -> Wake {
    if network {
        wait(deadline)
    } else {
        wait_files(deadline)
    }
}

/// How often waiters re-check files that need polling (console input).
pub const POLL_INTERVAL_NS: u64 = 10_000_000;

/// The earlier of two optional deadlines.
pub fn earliest(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Runs `op` until it stops saying EAGAIN, sleeping with `sleep(deadline)` in between,
/// unless `nonblock`. `timeout_ns` (a socket's SO_RCVTIMEO/SO_SNDTIMEO; 0 = none;
/// asked only when the call must wait) bounds the whole call: then EAGAIN, and a signal gives EINTR rather than a restart,
/// as on Linux (signal(7): calls with a socket timeout are never restarted).
pub fn retry_blocking<T>(
    nonblock: bool,
    timeout_ns: impl FnOnce() -> u64,
    mut sleep: impl FnMut(Option<u64>) -> Wake,
    mut op: impl FnMut() -> Result<T, Errno>,
) -> Result<T, Errno> {
    let mut timeout_ns = Some(timeout_ns);
    let mut deadline = None;
    loop {
        match op() {
            Err(EAGAIN) if !nonblock => {
                let now = crate::time::monotonic_ns();
                let until = *deadline.get_or_insert_with(|| {
                    let ns = timeout_ns.take().map_or(0, |f| f());
                    (ns != 0).then(|| now.saturating_add(ns))
                });
                if until.is_some_and(|t| now >= t) {
                    return Err(EAGAIN);
                }
                if sleep(until) == Wake::Interrupted {
                    return Err(if until.is_some() { EINTR } else { ERESTARTSYS });
                }
            }
            r => return r,
        }
    }
}
