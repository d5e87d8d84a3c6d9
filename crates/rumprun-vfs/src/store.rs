//! Read-only file data read into pages on demand: the page cache of a [`PageStore`],
//! a run of pages on a device (the baked image's file data region, on the image
//! attached as a disk). tmpfs files whose data lies there ([`crate::Inode::back_pages`])
//! read and map the store's pages; a write copies the page into one of the file's own.
//!
//! A page is read on its first use, with the following pages up to [`READ_AHEAD`]
//! in the same request; cached pages are *clean* (the device has them), so they are
//! dropped again when memory runs short: [`reclaim`] (which the kernel's frame
//! allocator calls when it has no frame left for a program or a file) and the store
//! itself before it reads when free memory is low. A page a mapping holds (another
//! reference) stays; the others go in clock order (a page used since the hand last
//! passed gets a second chance).
//!
//! Device reads happen with no lock of this module held (callers hold none of the
//! file's either: see tmpfs), so a thread waiting for the disk blocks nobody else.

use crate::errno::{Errno, VfsResult};
use crate::pages::{self, Frame, PAGE_SIZE};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use spin::Mutex;

/// Pages read in one device request at most (32 KiB: the Xen front-end's requests
/// take 44).
pub const READ_AHEAD: u64 = 8;

/// Below this many spare frames (2 MiB) the store drops clean pages before it reads
/// more, so the page cache does not eat the memory the kernel and programs need.
const LOW_SPARE: usize = 512;

/// Where a store's pages come from.
pub trait StoreSource: Send + Sync {
    /// Pages in the store.
    fn pages(&self) -> u64;
    /// Reads `buf.len() / PAGE_SIZE` pages from page `first` on into `buf`.
    fn read(&self, first: u64, buf: &mut [u8]) -> VfsResult<()>;
}

struct Cached {
    frame: Frame,
    /// Used since the clock hand last passed.
    used: bool,
}

struct Cache {
    pages: BTreeMap<u64, Cached>,
    /// Where the clock hand is (a page index).
    hand: u64,
}

/// Counters, for the boot log and tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StoreStats {
    /// Pages in the cache now.
    pub cached: u64,
    /// Pages read from the device so far.
    pub read: u64,
    /// Pages dropped to free memory so far.
    pub dropped: u64,
}

/// A run of read-only pages on a device, cached on demand.
pub struct PageStore {
    source: Box<dyn StoreSource>,
    cache: Mutex<Cache>,
    stats: Mutex<StoreStats>,
}

static STORES: Mutex<Vec<Weak<PageStore>>> = Mutex::new(Vec::new());

impl PageStore {
    /// A store over `source`; [`reclaim`] reaches it from now on.
    pub fn new(source: Box<dyn StoreSource>) -> Arc<PageStore> {
        let s = Arc::new(PageStore {
            source,
            cache: Mutex::new(Cache {
                pages: BTreeMap::new(),
                hand: 0,
            }),
            stats: Mutex::new(StoreStats::default()),
        });
        let mut all = STORES.lock();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&s));
        s
    }

    /// Pages in the store.
    pub fn pages(&self) -> u64 {
        self.source.pages()
    }

    /// The counters.
    pub fn stats(&self) -> StoreStats {
        let mut s = *self.stats.lock();
        s.cached = self.cache.lock().pages.len() as u64;
        s
    }

    /// Runs `f` on page `index` if it is cached (marking it used); None when it is
    /// not (the caller loads it with [`PageStore::load`], holding no lock, and tries
    /// again). Takes no lock but the cache's and does no I/O.
    pub fn with_cached<R>(&self, index: u64, f: impl FnOnce(&Frame) -> R) -> Option<R> {
        let mut c = self.cache.lock();
        let p = c.pages.get_mut(&index)?;
        p.used = true;
        Some(f(&p.frame))
    }

    /// Copies into `buf` the bytes from byte `offset` of page `first` on, through the
    /// following pages while they are cached (marking them used): one hold of the
    /// cache's lock and one search for the whole run. Returns the bytes copied (short
    /// at the first page not cached). Does no I/O.
    pub fn read_cached(&self, first: u64, offset: usize, buf: &mut [u8]) -> usize {
        let hooks = pages::hooks();
        let mut c = self.cache.lock();
        let (mut done, mut within, mut want) = (0, offset, first);
        for (&index, p) in c.pages.range_mut(first..) {
            if index != want || done == buf.len() {
                break;
            }
            let n = (PAGE_SIZE - within).min(buf.len() - done);
            p.used = true;
            p.frame.read_with(&hooks, within, &mut buf[done..done + n]);
            done += n;
            within = 0;
            want += 1;
        }
        done
    }

    /// True when page `index` is cached.
    pub fn is_cached(&self, index: u64) -> bool {
        self.cache.lock().pages.contains_key(&index)
    }

    /// Reads the pages of `[first, end)` that are not cached (in requests of up to
    /// [`READ_AHEAD`] pages, a lone missing page with the ones after it). EIO: the
    /// device failed or the range is not in the store; ENOMEM: no memory even after
    /// dropping clean pages.
    pub fn load(&self, first: u64, end: u64) -> VfsResult<()> {
        let end = end.min(self.pages());
        if first >= end {
            return Err(Errno::EIO);
        }
        let mut at = first;
        while at < end {
            if self.is_cached(at) {
                at += 1;
                continue;
            }
            // A run of missing pages from `at`, read ahead past `end` too.
            let limit = (at + READ_AHEAD).min(self.pages());
            let mut n = 1;
            while at + n < limit && !self.is_cached(at + n) {
                n += 1;
            }
            self.read_run(at, n)?;
            at += n;
        }
        Ok(())
    }

    fn read_run(&self, first: u64, n: u64) -> VfsResult<()> {
        if (pages::hooks().spare)() < LOW_SPARE {
            self.reclaim(2 * n as usize, false);
        }
        let mut frames = Vec::with_capacity(n as usize);
        for _ in 0..n {
            let f = match Frame::zeroed() {
                Some(f) => f,
                None => {
                    reclaim(n as usize);
                    Frame::zeroed().ok_or(Errno::ENOMEM)?
                }
            };
            frames.push(f);
        }
        let mut buf = alloc::vec![0u8; n as usize * PAGE_SIZE];
        self.source.read(first, &mut buf).map_err(|_| Errno::EIO)?;
        for (f, chunk) in frames.iter().zip(buf.chunks(PAGE_SIZE)) {
            f.write(0, chunk);
        }
        let mut c = self.cache.lock();
        for (i, frame) in frames.into_iter().enumerate() {
            // Another thread may have read the page meanwhile: keep its copy.
            c.pages
                .entry(first + i as u64)
                .or_insert(Cached { frame, used: true });
        }
        drop(c);
        self.stats.lock().read += n;
        Ok(())
    }

    /// Drops up to `want` cached pages that nothing else holds, in clock order;
    /// returns how many. With `try_only`, gives up when the cache is busy (the
    /// allocator's call, which may come from inside the store's own caller).
    pub fn reclaim(&self, want: usize, try_only: bool) -> usize {
        let mut c = if try_only {
            match self.cache.try_lock() {
                Some(c) => c,
                None => return 0,
            }
        } else {
            self.cache.lock()
        };
        let shared = pages::hooks().shared;
        let mut dropped = 0;
        // Two turns of the clock at most: the first clears the used bits.
        let mut steps = 2 * c.pages.len();
        while dropped < want && steps > 0 && !c.pages.is_empty() {
            let hand = c.hand;
            let next = c
                .pages
                .range(hand..)
                .next()
                .or_else(|| c.pages.iter().next())
                .map(|(&i, _)| i)
                .expect("not empty");
            c.hand = next + 1;
            steps -= 1;
            let p = c.pages.get_mut(&next).expect("found above");
            if shared(p.frame.id()) {
                continue;
            }
            if p.used {
                p.used = false;
                continue;
            }
            c.pages.remove(&next);
            dropped += 1;
        }
        drop(c);
        if dropped > 0 {
            if let Some(mut s) = self.stats.try_lock() {
                s.dropped += dropped as u64;
            }
        }
        dropped
    }
}

/// Drops up to `want` clean cached pages of every store (the frame allocator's call
/// when memory runs out); returns how many went. Never waits for a lock.
pub fn reclaim(want: usize) -> usize {
    let stores: Vec<Arc<PageStore>> = match STORES.try_lock() {
        Some(all) => all.iter().filter_map(Weak::upgrade).collect(),
        None => return 0,
    };
    let mut dropped = 0;
    for s in stores {
        if dropped >= want {
            break;
        }
        dropped += s.reclaim(want - dropped, true);
    }
    dropped
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::sync::atomic::{AtomicU64, Ordering};

    /// Page `i` is filled with byte `i`; counts reads.
    struct Pattern {
        pages: u64,
        reads: Arc<AtomicU64>,
    }

    impl StoreSource for Pattern {
        fn pages(&self) -> u64 {
            self.pages
        }
        fn read(&self, first: u64, buf: &mut [u8]) -> VfsResult<()> {
            self.reads.fetch_add(1, Ordering::Relaxed);
            for (i, page) in buf.chunks_mut(PAGE_SIZE).enumerate() {
                page.fill((first + i as u64) as u8);
            }
            Ok(())
        }
    }

    fn byte(s: &PageStore, index: u64) -> Option<u8> {
        s.with_cached(index, |f| {
            let mut b = [0u8; 1];
            f.read(100, &mut b);
            b[0]
        })
    }

    #[test]
    fn pages_load_on_demand_with_read_ahead_and_are_dropped_in_clock_order() {
        let reads = Arc::new(AtomicU64::new(0));
        let s = PageStore::new(Box::new(Pattern {
            pages: 20,
            reads: reads.clone(),
        }));
        assert_eq!(byte(&s, 3), None);
        s.load(3, 4).unwrap();
        // One request: pages 3..11.
        assert_eq!(reads.load(Ordering::Relaxed), 1);
        assert_eq!(s.stats().cached, READ_AHEAD);
        assert_eq!(byte(&s, 3), Some(3));
        assert_eq!(byte(&s, 10), Some(10));
        assert_eq!(byte(&s, 11), None);
        // Already there: no read.
        s.load(4, 9).unwrap();
        assert_eq!(reads.load(Ordering::Relaxed), 1);
        // Past the end: EIO.
        assert_eq!(s.load(20, 21), Err(Errno::EIO));
        // The first turn clears the used bits, the second drops.
        assert_eq!(s.reclaim(3, false), 3);
        assert_eq!(s.stats().cached, READ_AHEAD - 3);
        assert_eq!(s.stats().dropped, 3);
        // A page touched since then survives the next pass; a mapped one always.
        assert_eq!(byte(&s, 9), Some(9));
        let mapped = s.with_cached(10, |f| f.new_ref().unwrap()).unwrap();
        assert_eq!(s.reclaim(3, false), 3);
        assert!(s.is_cached(9) && s.is_cached(10));
        assert_eq!(s.reclaim(100, false), 1);
        assert!(!s.is_cached(9) && s.is_cached(10));
        assert_eq!(s.reclaim(100, true), 0, "page 10 is mapped");
        (pages::hooks().release)(mapped);
        assert_eq!(reclaim(100), 1);
        assert_eq!(s.stats().cached, 0);
        // Read again after dropping: same bytes.
        s.load(10, 11).unwrap();
        assert_eq!(byte(&s, 10), Some(10));
        assert_eq!(byte(&s, 17), Some(17));
    }
}
