//! Futex wait queues apart from the scheduler, so they are tested on the host: one
//! FIFO of waiters per key (the kernel's key: a program and the futex word's address,
//! or a physical address, or a kernel queue), each waiter with the bitset it waits
//! for; a wake takes up to `n` waiters whose bitset matches, oldest first; a requeue
//! wakes some and moves up to `n_move` of the rest, in their order, to the end of
//! another queue. An empty queue is dropped. The kernel (`sched/futex.rs`) holds one
//! `Queues` under a lock and does the blocking and waking.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::{BTreeMap, VecDeque};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Waiter<T> {
    who: T,
    bitset: u32,
}

/// The wait queues, by key.
pub struct Queues<K, T> {
    map: BTreeMap<K, VecDeque<Waiter<T>>>,
}

impl<K, T> Default for Queues<K, T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K, T> Queues<K, T> {
    pub const fn new() -> Self {
        Queues {
            map: BTreeMap::new(),
        }
    }
}

impl<K: Ord + Copy, T: Copy + Eq> Queues<K, T> {
    /// Queues `who` on `key`, waiting for the bits of `bitset`.
    pub fn enqueue(&mut self, key: K, who: T, bitset: u32) {
        self.map
            .entry(key)
            .or_default()
            .push_back(Waiter { who, bitset });
    }

    /// Takes `who` off `key`'s queue (its wait ended otherwise: a timeout, a signal).
    pub fn remove(&mut self, key: K, who: T) {
        if let Some(q) = self.map.get_mut(&key) {
            q.retain(|w| w.who != who);
            if q.is_empty() {
                self.map.remove(&key);
            }
        }
    }

    /// Whether anyone waits on `key`.
    pub fn has_waiters(&self, key: K) -> bool {
        self.map.get(&key).is_some_and(|q| !q.is_empty())
    }

    /// Takes up to `n` waiters on `key` whose bitset shares a bit with `bitset`,
    /// oldest first, and hands each to `wake`, which says whether it was still
    /// waiting (only those count toward `n` and the result); returns how many.
    pub fn wake(&mut self, key: K, n: u32, bitset: u32, mut wake: impl FnMut(T) -> bool) -> u32 {
        let Some(q) = self.map.get_mut(&key) else {
            return 0;
        };
        let mut woken = 0;
        let mut i = 0;
        while i < q.len() && woken < n {
            if q[i].bitset & bitset != 0 {
                let w = q.remove(i).expect("index checked");
                if wake(w.who) {
                    woken += 1;
                }
            } else {
                i += 1;
            }
        }
        if q.is_empty() {
            self.map.remove(&key);
        }
        woken
    }

    /// Wakes up to `n_wake` waiters on `from` (any bitset), then moves up to `n_move`
    /// of the rest, oldest first, to the end of `to`'s queue. Returns woken + moved.
    /// A requeue onto the same key moves nobody but counts them, as on Linux.
    pub fn requeue(
        &mut self,
        from: K,
        n_wake: u32,
        to: K,
        n_move: u32,
        wake: impl FnMut(T) -> bool,
    ) -> u32 {
        let woken = self.wake(from, n_wake, u32::MAX, wake);
        if from == to {
            let stay = self
                .map
                .get(&from)
                .map_or(0, |q| q.len().min(n_move as usize));
            return woken + stay as u32;
        }
        let mut moved = 0;
        if let Some(mut q) = self.map.remove(&from) {
            let take: VecDeque<Waiter<T>> = q.drain(..(n_move as usize).min(q.len())).collect();
            moved = take.len() as u32;
            self.map.entry(to).or_default().extend(take);
            if !q.is_empty() {
                self.map.insert(from, q);
            }
        }
        woken + moved
    }
}
