//! The physical frame allocator: a bitmap over all RAM, one bit per 4 KiB frame, set
//! when free. The bitmap itself lives in RAM the boot found free (sized to the highest
//! usable address, so a small VM pays a few bytes and a large one 32 KiB per GiB).
//! Frames are handed out zeroed on request.
//!
//! A frame of program memory may be mapped by several processes after fork
//! (copy-on-write, or MAP_SHARED): `share` counts an extra reference, `free` drops one
//! and only returns the frame once none is left. Extra references live in a sparse
//! two-level table (a 4 KiB block of counters per 8 MiB of RAM, made on first use), so
//! frames nobody shares cost nothing.

use crate::arch::paging::{phys_to_virt, BOOT_DIRECT_MAP_SIZE, PAGE_SIZE};
use spin::Mutex;

struct Bitmap {
    bits: &'static mut [u64],
    /// Lowest word that may hold a free frame.
    hint: usize,
    free: usize,
    total: usize,
}

static FRAMES_MAP: Mutex<Bitmap> = Mutex::new(Bitmap {
    bits: &mut [],
    hint: 0,
    free: 0,
    total: 0,
});

/// Sets the allocator up over the usable physical ranges `usable` minus `reserved`
/// (each `[start, end)`), placing the bitmap in the first free stretch of the boot
/// direct map that can hold it. Err when there is none (no usable memory at all).
pub fn init(usable: &[(u64, u64)], reserved: &[(u64, u64)]) -> Result<(), &'static str> {
    let top = usable.iter().map(|r| r.1).max().unwrap_or(0);
    let words = (top / PAGE_SIZE).div_ceil(64) as usize;
    let bytes = (words as u64 * 8).next_multiple_of(PAGE_SIZE);
    let overlaps = |a: u64, b: u64| reserved.iter().any(|r| a < r.1 && r.0 < b);
    let fits = |a: u64| {
        let b = a + bytes;
        b <= BOOT_DIRECT_MAP_SIZE && usable.iter().any(|r| r.0 <= a && b <= r.1) && !overlaps(a, b)
    };
    // The bitmap goes at the start of a usable range or right after a reserved one.
    let candidates = usable
        .iter()
        .map(|r| r.0)
        .chain(reserved.iter().map(|r| r.1));
    let at = candidates
        .map(|a| a.next_multiple_of(PAGE_SIZE))
        .filter(|&a| fits(a))
        .min()
        .ok_or("no free memory for the frame allocator's bitmap")?;
    // SAFETY: `at` was chosen above as a page-aligned range of `bytes` usable RAM that no
    // reserved range overlaps, inside the direct map; nothing else uses it yet.
    let bits = unsafe { core::slice::from_raw_parts_mut(phys_to_virt(at) as *mut u64, words) };
    bits.fill(0);
    FRAMES_MAP.lock().bits = bits;
    for &(start, end) in usable {
        add_range(start, end);
    }
    for &(start, end) in reserved.iter().chain([(at, at + bytes)].iter()) {
        reserve_range(start, end);
    }
    Ok(())
}

/// Adds the usable physical range `[start, end)` (rounded inwards to whole frames).
fn add_range(start: u64, end: u64) {
    let mut map = FRAMES_MAP.lock();
    let first = start.div_ceil(PAGE_SIZE) as usize;
    let last = ((end / PAGE_SIZE) as usize).min(map.bits.len() * 64);
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
fn reserve_range(start: u64, end: u64) {
    let mut map = FRAMES_MAP.lock();
    let first = (start / PAGE_SIZE) as usize;
    let last = (end.div_ceil(PAGE_SIZE) as usize).min(map.bits.len() * 64);
    for f in first..last {
        if map.bits[f / 64] & (1 << (f % 64)) != 0 {
            map.bits[f / 64] &= !(1 << (f % 64));
            map.free -= 1;
            map.total -= 1;
        }
    }
}

/// The highest physical address the allocator may hand out, plus one.
pub fn end() -> u64 {
    FRAMES_MAP.lock().bits.len() as u64 * 64 * PAGE_SIZE
}

/// One frame (physical address), not zeroed.
pub fn alloc() -> Option<u64> {
    let mut map = FRAMES_MAP.lock();
    let start = map.hint;
    for w in start..map.bits.len() {
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

/// Frames only the kernel may take (its heap, page tables, kernel stacks): program
/// memory and file pages stop short of them, so that a program that fills the RAM
/// is told it ran out of memory (ENOMEM, or killed with a report) while the kernel
/// can still allocate what reporting and cleaning up need.
pub const KERNEL_RESERVE: usize = 128;

/// True when the kernel's own allocations have eaten half of `KERNEL_RESERVE`: what a
/// program asks of the kernel's heap (more mappings, ...) is refused with ENOMEM from
/// here on, so that the rest stays for what the kernel must do (reports, cleaning up
/// after a killed process).
pub fn kernel_low() -> bool {
    !free_at_least(KERNEL_RESERVE / 2)
}

/// Whether at least `n` frames are free, after taking back what the kernel heap holds
/// free (`heap::release`) if not. Not to be called with the heap locked (nothing that
/// holds it allocates frames for programs or faults on program memory).
pub fn free_at_least(n: usize) -> bool {
    let free = || FRAMES_MAP.lock().free;
    free() >= n || (super::heap::release() > 0 && free() >= n)
}

/// What frees clean file pages when program memory runs out (the page cache's
/// `rumprun_vfs::store::reclaim`, installed by `fs::pages`): asked for a number of
/// frames, returns how many it freed. It must not wait for a lock.
static RECLAIM: Mutex<Option<ReclaimHook>> = Mutex::new(None);

/// Asked for a number of frames, frees clean file pages and says how many.
type ReclaimHook = fn(usize) -> usize;

/// Frames freed per call of the reclaim hook when the allocator runs dry.
const RECLAIM_BATCH: usize = 32;

/// Installs the hook that drops clean file pages when memory runs out.
pub fn set_reclaim_hook(hook: ReclaimHook) {
    *RECLAIM.lock() = Some(hook);
}

/// Frames left for program memory and file data (above the kernel's reserve).
pub fn spare() -> usize {
    FRAMES_MAP.lock().free.saturating_sub(KERNEL_RESERVE)
}

/// True when a frame for program memory or file data is left, after taking back what
/// the kernel heap holds free and then asking the page cache to drop clean pages if
/// there was none. No lock of this module is held while the hook runs.
fn program_frame_left() -> bool {
    if free_at_least(KERNEL_RESERVE + 1) {
        return true;
    }
    let hook = *RECLAIM.lock();
    hook.is_some_and(|h| h(RECLAIM_BATCH) > 0) && FRAMES_MAP.lock().free > KERNEL_RESERVE
}

/// One frame for program memory or file data (not zeroed); None when only the
/// kernel's reserve is left (and the page cache had no clean page to give back).
pub fn alloc_for_program() -> Option<u64> {
    if !program_frame_left() {
        return None;
    }
    alloc()
}

/// As `alloc_for_program`, zeroed.
pub fn alloc_zeroed_for_program() -> Option<u64> {
    if !program_frame_left() {
        return None;
    }
    alloc_zeroed()
}

/// One zeroed frame.
pub fn alloc_zeroed() -> Option<u64> {
    let f = alloc()?;
    // SAFETY: `alloc` just handed out this frame, so no one else uses it; the direct map
    // covers all RAM.
    unsafe { core::ptr::write_bytes(phys_to_virt(f), 0, PAGE_SIZE as usize) };
    Some(f)
}

/// `count` physically contiguous frames (not zeroed).
pub fn alloc_contiguous(count: usize) -> Option<u64> {
    let mut map = FRAMES_MAP.lock();
    let mut run = 0;
    let mut f = map.hint * 64;
    while f < map.bits.len() * 64 {
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

/// Counters per block of the extra-reference table: one u16 per frame.
const REF_BLOCK: usize = 2048;

/// Extra references per frame (0: one owner), in blocks of `REF_BLOCK` frames.
static REFS: Mutex<alloc::vec::Vec<Option<alloc::boxed::Box<[u16; REF_BLOCK]>>>> =
    Mutex::new(alloc::vec::Vec::new());

/// Adds a reference to the frame at `paddr` (another page table maps it). False when
/// the counter is full or its block cannot be allocated: the caller must copy instead.
pub fn share(paddr: u64) -> bool {
    let f = (paddr / PAGE_SIZE) as usize;
    let mut refs = REFS.lock();
    if refs.len() <= f / REF_BLOCK {
        refs.resize_with(f / REF_BLOCK + 1, || None);
    }
    let block = match &mut refs[f / REF_BLOCK] {
        Some(b) => b,
        slot => {
            let layout = core::alloc::Layout::new::<[u16; REF_BLOCK]>();
            // SAFETY: the layout has a non-zero size.
            let p = unsafe { alloc::alloc::alloc_zeroed(layout) } as *mut [u16; REF_BLOCK];
            if p.is_null() {
                return false;
            }
            // SAFETY: `p` was just allocated with the Box's layout, and all-zero bytes
            // are a valid [u16; N].
            slot.insert(unsafe { alloc::boxed::Box::from_raw(p) })
        }
    };
    let c = &mut block[f % REF_BLOCK];
    if *c == u16::MAX {
        return false;
    }
    *c += 1;
    true
}

/// True when more than one page table maps the frame at `paddr`.
pub fn is_shared(paddr: u64) -> bool {
    let f = (paddr / PAGE_SIZE) as usize;
    let refs = REFS.lock();
    refs.get(f / REF_BLOCK)
        .and_then(|b| b.as_ref())
        .is_some_and(|b| b[f % REF_BLOCK] != 0)
}

/// Drops one extra reference; true if there was one (the frame stays in use).
fn unshare(f: usize) -> bool {
    let mut refs = REFS.lock();
    match refs.get_mut(f / REF_BLOCK).and_then(|b| b.as_mut()) {
        Some(b) if b[f % REF_BLOCK] != 0 => {
            b[f % REF_BLOCK] -= 1;
            true
        }
        _ => false,
    }
}

/// Drops a reference to the frame at `paddr`; the last one returns it to the free set.
pub fn free(paddr: u64) {
    if !unshare((paddr / PAGE_SIZE) as usize) {
        free_unshared(paddr);
    }
}

/// Returns a frame that was never shared to the free set without looking at the
/// reference counts: the kernel heap's (`heap::release`), which may be locked here
/// (the counts' table allocates under its own lock).
pub fn free_unshared(paddr: u64) {
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
