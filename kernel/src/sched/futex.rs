//! Futex wait queues, keyed by the futex word's address (one address space, so
//! private and shared futexes are the same): wait with value check and optional
//! deadline, wake, bitsets, and requeue.

use super::{Tid, Wake};
use alloc::collections::{BTreeMap, VecDeque};
use core::cell::UnsafeCell;

struct Waiter {
    tid: Tid,
    bitset: u32,
}

struct Queues(UnsafeCell<BTreeMap<u64, VecDeque<Waiter>>>);
// One CPU, kernel runs with interrupts off.
unsafe impl Sync for Queues {}
static QUEUES: Queues = Queues(UnsafeCell::new(BTreeMap::new()));

fn queues() -> &'static mut BTreeMap<u64, VecDeque<Waiter>> {
    unsafe { &mut *QUEUES.0.get() }
}

/// Blocks the current thread on `uaddr` (the caller checked the value) until woken or
/// `deadline`. Returns how it woke.
pub fn wait(uaddr: u64, bitset: u32, deadline: Option<u64>) -> Wake {
    let tid = super::current();
    queues()
        .entry(uaddr)
        .or_default()
        .push_back(Waiter { tid, bitset });
    let how = super::block(deadline);
    if how != Wake::Woken {
        remove(uaddr, tid);
    }
    how
}

/// Whether some thread waits on `uaddr`.
pub fn has_waiters(uaddr: u64) -> bool {
    queues().get(&uaddr).is_some_and(|q| !q.is_empty())
}

fn remove(uaddr: u64, tid: Tid) {
    if let Some(q) = queues().get_mut(&uaddr) {
        q.retain(|w| w.tid != tid);
        if q.is_empty() {
            queues().remove(&uaddr);
        }
    }
}

/// Wakes up to `n` waiters on `uaddr` whose bitset matches; returns how many.
pub fn wake(uaddr: u64, n: u32, bitset: u32) -> u32 {
    let Some(q) = queues().get_mut(&uaddr) else {
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
        queues().remove(&uaddr);
    }
    woken
}

/// Wakes up to `n_wake` waiters on `from`, then moves up to `n_move` of the rest to
/// `to`. Returns woken + moved.
pub fn requeue(from: u64, n_wake: u32, to: u64, n_move: u32) -> u32 {
    let woken = wake(from, n_wake, u32::MAX);
    let mut moved = 0;
    if let Some(mut q) = queues().remove(&from) {
        let dest_take: VecDeque<Waiter> = q.drain(..(n_move as usize).min(q.len())).collect();
        moved = dest_take.len() as u32;
        queues().entry(to).or_default().extend(dest_take);
        if !q.is_empty() {
            queues().insert(from, q);
        }
    }
    woken + moved
}
