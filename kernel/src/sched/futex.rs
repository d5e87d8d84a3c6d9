//! Futex wait queues, keyed by the process (each has its own address space) and the
//! futex word's address; a shared futex (no FUTEX_PRIVATE_FLAG) in MAP_SHARED memory
//! is keyed by the word's physical address instead, so that processes mapping the
//! same frame meet on one queue: wait with value check and optional deadline, wake,
//! bitsets, and requeue. The queues themselves (FIFO per key, bitset matching,
//! requeue) are the host-tested crate `rumprun-futex`; here are the keys, the lock
//! and the blocking.

use super::{Pid, Tid, Wake};
use crate::sync::SpinLock;
use rumprun_futex::Queues;

/// (pid of the program, address of the futex word); pid 0 (no program's) for the
/// kernel's own queues, which threads of every program share (`wait_kernel`), and
/// `PHYSICAL` with a physical address for shared futexes in shared memory.
pub type Key = (u32, u64);
const KERNEL: u32 = 0;
const PHYSICAL: u32 = u32::MAX;

/// The queues, by key. A waker removes waiters and wakes them with the lock held
/// (futex queues before the scheduler in the lock order); a waiter queues itself,
/// drops the lock, then blocks.
static QUEUES: SpinLock<Queues<Key, Tid>> = SpinLock::new(Queues::new());

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

/// As `wait_kernel`, woken only by a `wake_kernel_bits(id, bits)` whose `bits` meet
/// `bitset` (or by `wake_kernel`, which has them all).
pub fn wait_kernel_bits(id: u64, bitset: u32, deadline: Option<u64>) -> Wake {
    wait_on((KERNEL, id), bitset, deadline)
}

/// Wakes the waiters on the kernel queue `id` whose bitset meets `bits`.
pub fn wake_kernel_bits(id: u64, bits: u32) -> u32 {
    wake_on((KERNEL, id), u32::MAX, bits)
}

fn wait_on(key: Key, bitset: u32, deadline: Option<u64>) -> Wake {
    let tid = super::current();
    QUEUES.lock().enqueue(key, tid, bitset);
    let how = super::block(deadline);
    if how != Wake::Woken {
        QUEUES.lock().remove(key, tid);
    }
    how
}

/// Whether some thread waits on the kernel queue `id`.
pub fn has_kernel_waiters(id: u64) -> bool {
    QUEUES.lock().has_waiters((KERNEL, id))
}

fn wake_on(key: Key, n: u32, bitset: u32) -> u32 {
    QUEUES.lock().wake(key, n, bitset, super::wake)
}

/// Wakes up to `n_wake` waiters on `from`, then moves up to `n_move` of the rest to
/// `to` (onto the same key: they stay, as on Linux). Returns woken + moved.
pub fn requeue(from: Key, n_wake: u32, to: Key, n_move: u32) -> u32 {
    QUEUES.lock().requeue(from, n_wake, to, n_move, super::wake)
}
