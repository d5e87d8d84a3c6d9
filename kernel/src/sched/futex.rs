//! Futex wait queues, keyed by the process (each has its own address space) and the
//! futex word's address; a shared futex (no FUTEX_PRIVATE_FLAG) in MAP_SHARED memory
//! is keyed by the word's physical address instead, so that processes mapping the
//! same frame meet on one queue: wait with value check and optional deadline, wake,
//! bitsets, and requeue.

use super::{Pid, Tid, Wake};
use crate::sync::SpinLock;
use alloc::collections::{BTreeMap, VecDeque};

struct Waiter {
    tid: Tid,
    bitset: u32,
}

/// (pid of the program, address of the futex word); pid 0 (no program's) for the
/// kernel's own queues, which threads of every program share (`wait_kernel`), and
/// `PHYSICAL` with a physical address for shared futexes in shared memory.
pub type Key = (u32, u64);
const KERNEL: u32 = 0;
const PHYSICAL: u32 = u32::MAX;

/// The queues, by key. A waker removes waiters and wakes them with the lock held
/// (futex queues before the scheduler in the lock order); a waiter queues itself,
/// drops the lock, then blocks.
static QUEUES: SpinLock<BTreeMap<Key, VecDeque<Waiter>>> = SpinLock::new(BTreeMap::new());

/// The key of the futex word at `uaddr` of program `pid` (the running one: the
/// address is looked up in its memory): its physical address when it is shared
/// (`private` false) and lies in committed MAP_SHARED memory, else the program's own.
pub fn key_for(pid: Pid, uaddr: u64, private: bool) -> Key {
    if !private {
        if let Some(phys) = crate::mm::address_space::shared_phys_addr(uaddr) {
            return (PHYSICAL, phys);
        }
    }
    (pid, uaddr)
}

/// As `wait`, on `key` (from `key_for`).
pub fn wait_key(key: Key, bitset: u32, deadline: Option<u64>) -> Wake {
    wait_on(key, bitset, deadline)
}

/// As `wake`, on `key` (from `key_for`).
pub fn wake_key(key: Key, n: u32, bitset: u32) -> u32 {
    wake_on(key, n, bitset)
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
    QUEUES
        .lock()
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
    QUEUES
        .lock()
        .get(&(KERNEL, id))
        .is_some_and(|q| !q.is_empty())
}

fn remove(key: Key, tid: Tid) {
    let mut queues = QUEUES.lock();
    if let Some(q) = queues.get_mut(&key) {
        q.retain(|w| w.tid != tid);
        if q.is_empty() {
            queues.remove(&key);
        }
    }
}

fn wake_on(key: Key, n: u32, bitset: u32) -> u32 {
    let mut queues = QUEUES.lock();
    let Some(q) = queues.get_mut(&key) else {
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
        queues.remove(&key);
    }
    woken
}

/// Wakes up to `n_wake` waiters on `from`, then moves up to `n_move` of the rest to
/// `to`. Returns woken + moved.
pub fn requeue(from: Key, n_wake: u32, to: Key, n_move: u32) -> u32 {
    let woken = wake_on(from, n_wake, u32::MAX);
    let mut moved = 0;
    let mut queues = QUEUES.lock();
    if let Some(mut q) = queues.remove(&from) {
        let dest_take: VecDeque<Waiter> = q.drain(..(n_move as usize).min(q.len())).collect();
        moved = dest_take.len() as u32;
        queues.entry(to).or_default().extend(dest_take);
        if !q.is_empty() {
            queues.insert(from, q);
        }
    }
    woken + moved
}
