//! [`SleepLock`]: the lock a file system holds across block I/O. The kernel's disk
//! drivers put the calling thread to sleep until the device answers, and the kernel
//! runs other threads meanwhile, without preemption inside the kernel: a thread that
//! *spun* on a lock held by a sleeping thread would never let it run again. A
//! contended `SleepLock` waits through the hooks the kernel installs
//! ([`install_wait_hooks`]: sleep on a key, wake a key), and its release wakes the
//! waiters. Without hooks (host tests, real preemptive threads) it spins.

use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicBool, Ordering};
use spin::{Mutex, MutexGuard};

/// How a contended lock sleeps and how its release wakes the sleepers; `key` is the
/// lock's address. `wait` may return early (the lock is tried again).
#[derive(Clone, Copy)]
pub struct WaitHooks {
    /// Sleeps until `wake(key)` (or a short deadline: a safety net).
    pub wait: fn(key: u64),
    /// Wakes every thread in `wait(key)`.
    pub wake: fn(key: u64),
}

static HOOKS: Mutex<Option<WaitHooks>> = Mutex::new(None);

/// Installs the kernel's hooks, for every `SleepLock`.
pub fn install_wait_hooks(hooks: WaitHooks) {
    *HOOKS.lock() = Some(hooks);
}

fn hooks() -> Option<WaitHooks> {
    *HOOKS.lock()
}

/// A mutual-exclusion lock whose waiters sleep (see the module documentation).
pub struct SleepLock<T> {
    inner: Mutex<T>,
    /// A thread is (about to go) waiting: the release wakes it.
    waiters: AtomicBool,
}

impl<T> SleepLock<T> {
    /// An unlocked lock around `value`.
    pub const fn new(value: T) -> SleepLock<T> {
        SleepLock {
            inner: Mutex::new(value),
            waiters: AtomicBool::new(false),
        }
    }

    /// Locks, sleeping while another thread holds the lock.
    pub fn lock(&self) -> SleepLockGuard<'_, T> {
        loop {
            if let Some(g) = self.try_lock() {
                return g;
            }
            let Some(hooks) = hooks() else {
                core::hint::spin_loop();
                continue;
            };
            self.waiters.store(true, Ordering::SeqCst);
            // Released between the attempt and the flag: nobody would wake us.
            if let Some(g) = self.try_lock() {
                return g;
            }
            (hooks.wait)(self.key());
        }
    }

    /// Locks if nobody holds the lock.
    pub fn try_lock(&self) -> Option<SleepLockGuard<'_, T>> {
        self.inner.try_lock().map(|guard| SleepLockGuard {
            guard: Some(guard),
            lock: self,
        })
    }

    fn key(&self) -> u64 {
        self as *const SleepLock<T> as usize as u64
    }
}

/// Holds a [`SleepLock`]; dropping it releases the lock and wakes its waiters.
pub struct SleepLockGuard<'a, T> {
    /// `Some` until the drop.
    guard: Option<MutexGuard<'a, T>>,
    lock: &'a SleepLock<T>,
}

impl<T> Deref for SleepLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("held until dropped")
    }
}

impl<T> DerefMut for SleepLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("held until dropped")
    }
}

impl<T> Drop for SleepLockGuard<'_, T> {
    fn drop(&mut self) {
        drop(self.guard.take());
        if self.lock.waiters.swap(false, Ordering::SeqCst) {
            if let Some(hooks) = hooks() {
                (hooks.wake)(self.lock.key());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn excludes_across_threads_and_releases() {
        let lock = Arc::new(SleepLock::new(0u64));
        let threads: std::vec::Vec<_> = (0..4)
            .map(|_| {
                let lock = lock.clone();
                std::thread::spawn(move || {
                    for _ in 0..10_000 {
                        *lock.lock() += 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*lock.lock(), 40_000);
        let held = lock.lock();
        assert!(lock.try_lock().is_none());
        drop(held);
        assert!(lock.try_lock().is_some());
    }
}
