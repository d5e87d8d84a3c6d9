//! Advisory file locks of one file, as Linux keeps them: `flock` locks belong to an
//! open file description (whole file, shared or exclusive), POSIX record locks
//! (`fcntl` F_SETLK) to a process and cover byte ranges. Locks of different owners
//! conflict when one of them is exclusive (a write lock) and, for record locks, their
//! ranges overlap; an owner's own locks never conflict with each other (a new record
//! lock replaces what the process held over its range, splitting older ones). The two
//! kinds do not see each other, as on Linux.
//!
//! Only the rules live here; waiting for a conflicting lock and finding the file's
//! table are the kernel's.

use alloc::vec::Vec;

/// End of a record lock that reaches to the end of the file, however it grows.
pub const TO_EOF: u64 = u64::MAX;

/// A POSIX record lock: `[start, end)` of the file, held by process `pid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeLock {
    /// The process that holds it.
    pub pid: u32,
    /// First byte.
    pub start: u64,
    /// One past the last byte ([`TO_EOF`]: to the end of the file).
    pub end: u64,
    /// A write (exclusive) lock; else a read (shared) one.
    pub write: bool,
}

impl RangeLock {
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.start < end && start < self.end
    }
}

/// The locks of one file.
#[derive(Default, Debug)]
pub struct FileLocks {
    /// flock locks: (open file description, exclusive).
    flocks: Vec<(u64, bool)>,
    /// Record locks, in no particular order; one owner's never overlap.
    ranges: Vec<RangeLock>,
}

impl FileLocks {
    /// No lock of either kind is held.
    pub fn is_empty(&self) -> bool {
        self.flocks.is_empty() && self.ranges.is_empty()
    }

    /// The flock lock open file description `ofd` holds: Some(exclusive).
    pub fn flock_held(&self, ofd: u64) -> Option<bool> {
        self.flocks.iter().find(|l| l.0 == ofd).map(|l| l.1)
    }

    /// Whether a flock lock of another open file description keeps `ofd` from taking
    /// one (`exclusive` or shared).
    pub fn flock_conflicts(&self, ofd: u64, exclusive: bool) -> bool {
        self.flocks
            .iter()
            .any(|&(o, ex)| o != ofd && (ex || exclusive))
    }

    /// Takes (or converts to) a flock lock for `ofd` when nothing conflicts; returns
    /// whether it did. Holding the same kind already is success.
    pub fn flock(&mut self, ofd: u64, exclusive: bool) -> bool {
        if self.flock_conflicts(ofd, exclusive) {
            return false;
        }
        match self.flocks.iter_mut().find(|l| l.0 == ofd) {
            Some(l) => l.1 = exclusive,
            None => self.flocks.push((ofd, exclusive)),
        }
        true
    }

    /// Drops `ofd`'s flock lock; returns whether it had one.
    pub fn funlock(&mut self, ofd: u64) -> bool {
        let before = self.flocks.len();
        self.flocks.retain(|l| l.0 != ofd);
        self.flocks.len() != before
    }

    /// The first record lock of another process that conflicts with `pid` locking
    /// `[start, end)` for writing (`write`) or reading; None when it may.
    pub fn range_conflict(&self, pid: u32, start: u64, end: u64, write: bool) -> Option<RangeLock> {
        self.ranges
            .iter()
            .find(|l| l.pid != pid && (l.write || write) && l.overlaps(start, end))
            .copied()
    }

    /// Sets `pid`'s lock over `[start, end)`: `Some(write)` locks, None unlocks. What
    /// the process held over the range before is replaced (older locks are cut at
    /// its edges); neighbouring locks of the same kind are merged, as Linux does.
    /// The caller checked `range_conflict` first.
    pub fn set_range(&mut self, pid: u32, start: u64, end: u64, lock: Option<bool>) {
        if start >= end {
            return;
        }
        let mut kept = Vec::with_capacity(self.ranges.len() + 2);
        for l in self.ranges.drain(..) {
            if l.pid != pid || !l.overlaps(start, end) {
                kept.push(l);
                continue;
            }
            if l.start < start {
                kept.push(RangeLock { end: start, ..l });
            }
            if l.end > end {
                kept.push(RangeLock { start: end, ..l });
            }
        }
        self.ranges = kept;
        let Some(write) = lock else { return };
        let (mut start, mut end) = (start, end);
        // Merge with the process's adjacent locks of the same kind.
        self.ranges.retain(|l| {
            let joins = l.pid == pid && l.write == write && (l.end == start || l.start == end);
            if joins {
                start = start.min(l.start);
                end = end.max(l.end);
            }
            !joins
        });
        self.ranges.push(RangeLock {
            pid,
            start,
            end,
            write,
        });
    }

    /// Drops every record lock of `pid` (it closed a descriptor of the file, or ended);
    /// returns whether it had any.
    pub fn release_pid(&mut self, pid: u32) -> bool {
        let before = self.ranges.len();
        self.ranges.retain(|l| l.pid != pid);
        self.ranges.len() != before
    }

    /// The record locks, in no particular order.
    pub fn ranges(&self) -> &[RangeLock] {
        &self.ranges
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted(f: &FileLocks) -> Vec<(u32, u64, u64, bool)> {
        let mut v: Vec<_> = f
            .ranges()
            .iter()
            .map(|l| (l.pid, l.start, l.end, l.write))
            .collect();
        v.sort();
        v
    }

    #[test]
    fn flock_shared_and_exclusive_between_descriptions() {
        let mut f = FileLocks::default();
        assert!(f.flock(1, false));
        assert!(f.flock(2, false), "shared locks coexist");
        assert!(!f.flock(3, true), "exclusive conflicts with shared");
        assert!(!f.flock(1, true), "1 cannot convert while 2 shares");
        assert_eq!(
            f.flock_held(1),
            Some(false),
            "a refused conversion keeps the lock"
        );
        assert!(f.funlock(2));
        assert!(f.flock(1, true), "converted once alone");
        assert!(f.flock(1, true), "the same lock again");
        assert!(!f.flock(2, false));
        assert!(f.funlock(1) && !f.funlock(1));
        assert!(f.is_empty());
    }

    #[test]
    fn record_locks_conflict_only_between_processes_and_overlaps() {
        let mut f = FileLocks::default();
        f.set_range(10, 0, 100, Some(true));
        assert_eq!(f.range_conflict(10, 50, 60, true), None, "own lock");
        let c = f.range_conflict(20, 50, 60, false).unwrap();
        assert_eq!((c.pid, c.start, c.end, c.write), (10, 0, 100, true));
        assert_eq!(f.range_conflict(20, 100, 200, true), None, "adjacent");
        f.set_range(20, 100, TO_EOF, Some(false));
        assert_eq!(f.range_conflict(30, 5000, 5001, false), None, "read + read");
        assert!(f.range_conflict(30, 5000, 5001, true).is_some());
    }

    #[test]
    fn unlocking_the_middle_splits_and_relocking_merges() {
        let mut f = FileLocks::default();
        f.set_range(1, 0, 100, Some(true));
        f.set_range(1, 40, 60, None);
        assert_eq!(sorted(&f), [(1, 0, 40, true), (1, 60, 100, true)]);
        f.set_range(1, 45, 50, Some(false));
        assert_eq!(
            sorted(&f),
            [(1, 0, 40, true), (1, 45, 50, false), (1, 60, 100, true)]
        );
        f.set_range(1, 40, 60, Some(true));
        assert_eq!(
            sorted(&f),
            [(1, 0, 100, true)],
            "merged with both neighbours"
        );
        f.set_range(1, 10, 20, Some(false));
        assert_eq!(
            sorted(&f),
            [(1, 0, 10, true), (1, 10, 20, false), (1, 20, 100, true)],
            "a read lock inside a write lock converts that part"
        );
        f.set_range(2, 200, 300, Some(true));
        assert!(f.release_pid(1));
        assert_eq!(sorted(&f), [(2, 200, 300, true)]);
        assert!(!f.release_pid(1));
    }
}
