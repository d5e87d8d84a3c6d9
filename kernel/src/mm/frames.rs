//! The physical frame allocator: a bitmap over the first 4 GiB (the direct map), one
//! bit per 4 KiB frame, set when free. Frames are handed out zeroed on request.

use crate::arch::paging::{phys_to_virt, DIRECT_MAP_SIZE, PAGE_SIZE};
use spin::Mutex;

const FRAMES: usize = (DIRECT_MAP_SIZE / PAGE_SIZE) as usize;
const WORDS: usize = FRAMES / 64;

struct Bitmap {
    bits: [u64; WORDS],
    /// Lowest word that may hold a free frame.
    hint: usize,
    free: usize,
    total: usize,
}

static FRAMES_MAP: Mutex<Bitmap> = Mutex::new(Bitmap {
    bits: [0; WORDS],
    hint: 0,
    free: 0,
    total: 0,
});

/// Adds the usable physical range `[start, end)` (rounded inwards to whole frames).
pub fn add_range(start: u64, end: u64) {
    let first = start.div_ceil(PAGE_SIZE) as usize;
    let last = ((end.min(DIRECT_MAP_SIZE)) / PAGE_SIZE) as usize;
    let mut map = FRAMES_MAP.lock();
    let mut f = first;
    while f < last {
        // Whole words at a time where the range covers them (fast boot with big RAM).
        let (word, bit) = (f / 64, f % 64);
        let n = (64 - bit).min(last - f);
        let mask = if n == 64 {
            u64::MAX
        } else {
            ((1u64 << n) - 1) << bit
        };
        let added = (mask & !map.bits[word]).count_ones() as usize;
        map.bits[word] |= mask;
        map.free += added;
        map.total += added;
        f += n;
    }
    map.hint = 0;
}

/// Takes `[start, end)` out of the free set again (boot data, the image, ...).
pub fn reserve_range(start: u64, end: u64) {
    let first = (start / PAGE_SIZE) as usize;
    let last = (end.div_ceil(PAGE_SIZE) as usize).min(FRAMES);
    let mut map = FRAMES_MAP.lock();
    for f in first..last {
        if map.bits[f / 64] & (1 << (f % 64)) != 0 {
            map.bits[f / 64] &= !(1 << (f % 64));
            map.free -= 1;
            map.total -= 1;
        }
    }
}

/// One frame (physical address), not zeroed.
pub fn alloc() -> Option<u64> {
    let mut map = FRAMES_MAP.lock();
    let start = map.hint;
    for w in start..WORDS {
        let word = map.bits[w];
        if word != 0 {
            let bit = word.trailing_zeros() as usize;
            map.bits[w] &= !(1 << bit);
            map.hint = w;
            map.free -= 1;
            return Some(((w * 64 + bit) as u64) * PAGE_SIZE);
        }
    }
    None
}

/// One zeroed frame.
pub fn alloc_zeroed() -> Option<u64> {
    let f = alloc()?;
    unsafe { core::ptr::write_bytes(phys_to_virt(f), 0, PAGE_SIZE as usize) };
    Some(f)
}

/// `count` physically contiguous frames (not zeroed).
pub fn alloc_contiguous(count: usize) -> Option<u64> {
    let mut map = FRAMES_MAP.lock();
    let mut run = 0;
    let mut f = map.hint * 64;
    while f < FRAMES {
        if f.is_multiple_of(64) && run == 0 && map.bits[f / 64] == 0 {
            f += 64;
            continue;
        }
        if map.bits[f / 64] & (1 << (f % 64)) != 0 {
            run += 1;
            if run == count {
                let first = f + 1 - count;
                for g in first..=f {
                    map.bits[g / 64] &= !(1 << (g % 64));
                }
                map.free -= count;
                return Some(first as u64 * PAGE_SIZE);
            }
        } else {
            run = 0;
        }
        f += 1;
    }
    None
}

pub fn free(paddr: u64) {
    let f = (paddr / PAGE_SIZE) as usize;
    let mut map = FRAMES_MAP.lock();
    debug_assert!(
        map.bits[f / 64] & (1 << (f % 64)) == 0,
        "double free of frame"
    );
    map.bits[f / 64] |= 1 << (f % 64);
    map.free += 1;
    if f / 64 < map.hint {
        map.hint = f / 64;
    }
}

/// (free, total) frames.
pub fn stats() -> (usize, usize) {
    let map = FRAMES_MAP.lock();
    (map.free, map.total)
}
