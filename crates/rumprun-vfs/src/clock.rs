//! The time source for inode timestamps: the kernel injects a [`Clock`] (anything that
//! says "now" as a [`Timespec`]) when it creates a file system. Closures and `fn`
//! pointers are clocks.

use crate::stat::Timespec;

/// Tells the current wall-clock time (CLOCK_REALTIME).
pub trait Clock: Send + Sync {
    /// Now.
    fn now(&self) -> Timespec;
}

impl<F: Fn() -> Timespec + Send + Sync> Clock for F {
    fn now(&self) -> Timespec {
        self()
    }
}

/// A clock that is always at the epoch (for tests and for file systems that do not care).
pub struct ZeroClock;

impl Clock for ZeroClock {
    fn now(&self) -> Timespec {
        Timespec::ZERO
    }
}
