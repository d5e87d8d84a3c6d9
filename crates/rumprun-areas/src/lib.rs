//! The bookkeeping of a program's address space, apart from page tables and frames,
//! so it is tested on the host: a map of non-overlapping areas `[start, end)`, each
//! with what the kernel keeps for it (protection, the file behind it and its offset,
//! sharing). [`Areas::carve`] cuts a range out of every area it overlaps, splitting
//! those that stick out at either edge (munmap; mprotect and mremap carve and put
//! back), [`Areas::find_gap_in`] finds where mmap puts a mapping (the highest free
//! range in a window, as Linux's top-down allocator does), [`Areas::find`] and
//! [`Areas::is_free`] answer the page-fault handler and MAP_FIXED_NOREPLACE.
//! [`Areas::merge`] joins adjacent areas that [`Area::joins`] allows (the same
//! protection and kind of memory, a file's offsets running on), as Linux merges
//! adjacent compatible mappings: after mprotect puts a split area back together, or a
//! program grows a mapping page by page, /proc/self/maps shows one area, and the count
//! of areas does not grow without bound. The kernel (`mm/address_space.rs`) maps and
//! frees the pages.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::btree_map::{self, BTreeMap};
use alloc::vec::Vec;
use core::ops::RangeBounds;

/// What an area holds besides its start (its key in the map).
pub trait Area: Clone {
    /// The end of the area (exclusive).
    fn end(&self) -> u64;
    /// The same area ending at `end` instead.
    fn with_end(&self, end: u64) -> Self;
    /// The part of this area (which starts at `start`) that begins at `from`
    /// (`start <= from < end`): the same end, a file offset moved on by `from - start`.
    fn tail(&self, start: u64, from: u64) -> Self;
    /// Whether `next`, which starts where this area (which starts at `start`) ends,
    /// may join it into one area (`with_end(next.end())`): they hold the same kind of
    /// memory with the same rights, and for a file, `next`'s offset follows on.
    /// Never, unless the implementation says so.
    fn joins(&self, start: u64, next: &Self) -> bool {
        let _ = (start, next);
        false
    }
}

/// The areas of one address space, by start address; they never overlap and none is
/// empty.
#[derive(Clone, Debug)]
pub struct Areas<A> {
    map: BTreeMap<u64, A>,
}

impl<A> Default for Areas<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A> Areas<A> {
    /// No areas.
    pub const fn new() -> Self {
        Areas {
            map: BTreeMap::new(),
        }
    }

    /// Every area with its start, in address order.
    pub fn iter(&self) -> btree_map::Iter<'_, u64, A> {
        self.map.iter()
    }

    /// The areas whose start lies in `starts`, in address order.
    pub fn range<R: RangeBounds<u64>>(&self, starts: R) -> btree_map::Range<'_, u64, A> {
        self.map.range(starts)
    }

    /// The area starting exactly at `start`, to change what it holds, or its end
    /// (brk growing its heap: only into free addresses).
    pub fn get_mut(&mut self, start: u64) -> Option<&mut A> {
        self.map.get_mut(&start)
    }

    /// Forgets every area.
    pub fn clear(&mut self) {
        self.map.clear();
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<A: Area> Areas<A> {
    /// The area holding `addr`, with its start.
    pub fn find(&self, addr: u64) -> Option<(u64, &A)> {
        let (&start, area) = self.map.range(..=addr).next_back()?;
        (addr < area.end()).then_some((start, area))
    }

    /// Whether no area overlaps `[start, end)`.
    pub fn is_free(&self, start: u64, end: u64) -> bool {
        self.map
            .range(..end)
            .next_back()
            .is_none_or(|(_, a)| a.end() <= start)
    }

    /// Puts `area` at `start`, in place of an area that starts there (brk shrinking
    /// its heap). The rest of the range must be free (`carve` it first) and the area
    /// not empty.
    pub fn insert(&mut self, start: u64, area: A) {
        debug_assert!(start < area.end(), "an empty area at {start:#x}");
        let replaced = self.map.remove(&start);
        debug_assert!(
            self.is_free(start, area.end()),
            "an area at {start:#x} over another"
        );
        drop(replaced);
        self.map.insert(start, area);
    }

    /// Cuts `[start, end)` out of every area (splitting at the edges: what lies
    /// outside the range stays) and returns the pieces that were removed, in address
    /// order, each with its start.
    pub fn carve(&mut self, start: u64, end: u64) -> Vec<(u64, A)> {
        let mut removed = Vec::new();
        if start >= end {
            return removed;
        }
        let overlapping: Vec<u64> = self
            .map
            .range(..end)
            .rev()
            .take_while(|(_, a)| a.end() > start)
            .map(|(&s, _)| s)
            .collect();
        for s in overlapping.into_iter().rev() {
            let Some(a) = self.map.remove(&s) else {
                continue;
            };
            if s < start {
                self.map.insert(s, a.with_end(start));
            }
            if a.end() > end {
                self.map.insert(end, a.tail(s, end));
            }
            let cut = s.max(start);
            let piece = if cut > s { a.tail(s, cut) } else { a.clone() };
            removed.push((cut, piece.with_end(a.end().min(end))));
        }
        removed
    }

    /// Applies `change` to what `[start, end)` holds, splitting the areas that stick
    /// out of it (mprotect). Holes in the range stay holes.
    pub fn change(&mut self, start: u64, end: u64, mut change: impl FnMut(&mut A)) {
        for (s, mut a) in self.carve(start, end) {
            change(&mut a);
            self.map.insert(s, a);
        }
    }

    /// Joins the areas that overlap or touch `[start, end]` with each other where
    /// [`Area::joins`] allows (after a change to that range: mmap, mprotect, mremap).
    pub fn merge(&mut self, start: u64, end: u64) {
        let mut starts: Vec<u64> = self
            .map
            .range(..=end)
            .rev()
            .take_while(|(_, a)| a.end() >= start)
            .map(|(&s, _)| s)
            .collect();
        starts.reverse();
        let mut iter = starts.into_iter();
        let Some(mut cur) = iter.next() else {
            return;
        };
        for next in iter {
            let joined = match (self.map.get(&cur), self.map.get(&next)) {
                (Some(a), Some(b)) if a.end() == next && a.joins(cur, b) => a.with_end(b.end()),
                _ => {
                    cur = next;
                    continue;
                }
            };
            self.map.remove(&next);
            self.map.insert(cur, joined);
        }
    }

    /// Whether `[start, end)` is wholly covered by areas (with no hole).
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut cur = start;
        while cur < end {
            match self.find(cur) {
                Some((_, a)) => cur = a.end(),
                None => return false,
            }
        }
        true
    }

    /// The highest free `len` bytes within `[bottom, top)`: their start.
    pub fn find_gap_in(&self, len: u64, bottom: u64, top: u64) -> Option<u64> {
        let mut top = top;
        for (&s, a) in self.map.range(..top).rev() {
            if a.end() <= top && top - a.end().max(bottom) >= len {
                return Some(top - len);
            }
            top = top.min(s);
            if top < bottom.saturating_add(len) {
                return None;
            }
        }
        (top >= bottom.saturating_add(len)).then(|| top - len)
    }
}
