//! One queue of deadlines, ordered by time, apart from the scheduler so that it is
//! tested on the host. Each entry has a key (the kernel's: a blocked thread, or a
//! kind of timer) and at most one deadline: arming a key again moves it, and a key is
//! cancelled by its key, without a search. The earliest deadline is at hand (what the
//! CPU's timer is armed for), and what is due at a time is taken in deadline order
//! (equal deadlines: lowest key first). The kernel (`sched`) keeps one `Queue` under
//! its lock and does the waking and the firing.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::{BTreeMap, BTreeSet};

/// Deadlines (monotonic ns, or any `u64` clock) by key.
pub struct Queue<K> {
    /// (deadline, key), earliest first.
    by_time: BTreeSet<(u64, K)>,
    /// Each armed key's deadline (to move or cancel it).
    by_key: BTreeMap<K, u64>,
}

impl<K> Default for Queue<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K> Queue<K> {
    pub const fn new() -> Self {
        Queue {
            by_time: BTreeSet::new(),
            by_key: BTreeMap::new(),
        }
    }

    /// How many keys are armed.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }
}

impl<K: Ord + Copy> Queue<K> {
    /// Arms `key` for `at`, replacing its earlier deadline if it had one.
    pub fn arm(&mut self, key: K, at: u64) {
        if let Some(old) = self.by_key.insert(key, at) {
            if old == at {
                return;
            }
            self.by_time.remove(&(old, key));
        }
        self.by_time.insert((at, key));
    }

    /// Arms `key` for `at`, or cancels it with `None`.
    pub fn set(&mut self, key: K, at: Option<u64>) {
        match at {
            Some(at) => self.arm(key, at),
            None => {
                self.cancel(key);
            }
        }
    }

    /// Disarms `key`; its deadline, if it was armed.
    pub fn cancel(&mut self, key: K) -> Option<u64> {
        let at = self.by_key.remove(&key)?;
        self.by_time.remove(&(at, key));
        Some(at)
    }

    /// `key`'s deadline, if it is armed.
    pub fn get(&self, key: K) -> Option<u64> {
        self.by_key.get(&key).copied()
    }

    /// The earliest deadline of all.
    pub fn earliest(&self) -> Option<u64> {
        self.by_time.first().map(|&(at, _)| at)
    }

    /// Disarms and returns the earliest key whose deadline is at or before `now`, with
    /// its deadline.
    pub fn pop_due(&mut self, now: u64) -> Option<(K, u64)> {
        let &(at, key) = self.by_time.first()?;
        if at > now {
            return None;
        }
        self.by_time.pop_first();
        self.by_key.remove(&key);
        Some((key, at))
    }
}
