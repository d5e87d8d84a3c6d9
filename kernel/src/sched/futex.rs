//! Futex wait queues, keyed by the program (each has its own address space) and the
//! futex word's address (private and shared futexes are the same: nothing is shared
//! between programs): wait with value check and optional deadline, wake, bitsets, and
//! requeue.

use super::{Tid, Wake};
use alloc::collections::{BTreeMap, VecDeque};
use core::cell::UnsafeCell;

struct Waiter {
    tid: Tid,
    bitset: u32,
}

/// (pid of the program, address of the futex word); pid 0 (no program's) for the
/// kernel's own queues, which threads of every program share (`wait_kernel`).
type Key = (u32, u64);
const KERNEL: u32 = 0;

struct Queues(UnsafeCell<BTreeMap<Key, VecDeque<Waiter>>>);
// SAFETY: one CPU, and the kernel runs with interrupts off: no concurrent access.
unsafe impl Sync for Queues {}
static QUEUES: Queues = Queues(UnsafeCell::new(BTreeMap::new()));

fn queues() -> &'static mut BTreeMap<Key, VecDeque<Waiter>> {
    // SAFETY: one CPU, and the kernel runs with interrupts off: callers do not hold the
    // returned reference across a call that takes it again.
    unsafe { &mut *QUEUES.0.get() }
}

/// The running program's key for `uaddr`.
fn key(uaddr: u64) -> Key {
    (crate::process::current().pid(), uaddr)
}

/// Blocks the current thread on `uaddr` (the caller checked the value) until woken or
/// `deadline`. Returns how it woke.
pub fn wait(uaddr: u64, bitset: u32, deadline: Option<u64>) -> Wake {
    wait_on(key(uaddr), bitset, deadline)
}

/// Blocks the current thread on the kernel queue `id`, shared by all programs, until
/// `wake_kernel(id)` or `deadline`.
pub fn wait_kernel(id: u64, deadline: Option<u64>) -> Wake {
    wait_on((KERNEL, id), u32::MAX, deadline)
}

/// Wakes every waiter on the kernel queue `id`.
pub fn wake_kernel(id: u64) -> u32 {
    wake_on((KERNEL, id), u32::MAX, u32::MAX)
}

fn wait_on(key: Key, bitset: u32, deadline: Option<u64>) -> Wake {
    let tid = super::current();
    queues()
        .entry(key)
        .or_default()
        .push_back(Waiter { tid, bitset });
    let how = super::block(deadline);
    if how != Wake::Woken {
        remove(key, tid);
    }
    how
}

/// Whether some thread waits on the kernel queue `id`.
pub fn has_kernel_waiters(id: u64) -> bool {
    queues().get(&(KERNEL, id)).is_some_and(|q| !q.is_empty())
}

fn remove(key: Key, tid: Tid) {
    if let Some(q) = queues().get_mut(&key) {
        q.retain(|w| w.tid != tid);
        if q.is_empty() {
            queues().remove(&key);
        }
    }
}

/// Wakes up to `n` waiters on `uaddr` whose bitset matches; returns how many.
pub fn wake(uaddr: u64, n: u32, bitset: u32) -> u32 {
    wake_on(key(uaddr), n, bitset)
}

fn wake_on(key: Key, n: u32, bitset: u32) -> u32 {
    let Some(q) = queues().get_mut(&key) else {
        return 0;
    };
    let mut woken = 0;
    let mut i = 0;
    while i < q.len() && woken < n {
        if q[i].bitset & bitset != 0 {
            let w = q.remove(i).unwrap();
            if super::wake(w.tid) {
                woken += 1;
            }
        } else {
            i += 1;
        }
    }
    if q.is_empty() {
        queues().remove(&key);
    }
    woken
}

/// Wakes up to `n_wake` waiters on `from`, then moves up to `n_move` of the rest to
/// `to`. Returns woken + moved.
pub fn requeue(from: u64, n_wake: u32, to: u64, n_move: u32) -> u32 {
    let woken = wake(from, n_wake, u32::MAX);
    let mut moved = 0;
    if let Some(mut q) = queues().remove(&key(from)) {
        let dest_take: VecDeque<Waiter> = q.drain(..(n_move as usize).min(q.len())).collect();
        moved = dest_take.len() as u32;
        queues().entry(key(to)).or_default().extend(dest_take);
        if !q.is_empty() {
            queues().insert(key(from), q);
        }
    }
    woken + moved
}
