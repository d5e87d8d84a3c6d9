//! The kernel heap: talc, growing on demand by claiming contiguous runs of frames
//! (through the direct map), so the heap costs only what the kernel actually uses.
//! When no run of frames is left for an allocation, an infallible one ends in Rust's
//! allocation-failure panic ("memory allocation of N bytes failed"), which
//! `fault::kernel_panic` reports as running out of memory; what a program sizes is
//! allocated fallibly (`try_reserve`) and gives it an errno instead.
//!
//! Frames go back too: when program memory runs short, `release` trims the free
//! whole pages off the ends of every run the heap claimed (a run claimed for one big
//! buffer goes back whole once it is freed), so a burst of kernel allocations a
//! program caused (socket buffers, a full pipe, 65530 mappings) does not keep the
//! memory from programs for the rest of the VM's life.
//!
//! Small blocks go through free lists of their size class first ([`super::small`]):
//! most of the kernel's allocations are a few dozen bytes that live for one system
//! call, and a list push or pop costs a fraction of talc's malloc and free.

use super::frames;
use super::small::{class_layout, class_of, Lists};
use crate::arch::paging::{phys_to_virt, PAGE_SIZE, PHYS_OFFSET};
use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use talc::{OomHandler, Span, Talc, Talck};

/// Minimum growth step of the heap.
const GROW_STEP: usize = 128 * 1024;
/// Runs of frames `release` can give back (any beyond stay the heap's for good).
const TRACKED: usize = 4096;

/// Grows the heap from frames and remembers the runs it claimed (talc's heap spans).
pub struct GrowFromFrames {
    heaps: [Span; TRACKED],
    count: usize,
}

impl OomHandler for GrowFromFrames {
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        let need = layout.size() + layout.align() + 256;
        // A growth step if a run that long is free, else just what this allocation
        // needs (the last free frames are scattered).
        let grow = || {
            [need.max(GROW_STEP), need]
                .into_iter()
                .map(|bytes| bytes.div_ceil(PAGE_SIZE as usize))
                .find_map(|pages| frames::alloc_contiguous(pages).map(|p| (pages, p)))
        };
        // No run that long: the free ends of the heap's own runs may make one.
        let (pages, paddr) = grow()
            .or_else(|| (trim(talc) > 0).then(grow).flatten())
            .ok_or(())?;
        let span = Span::from_base_size(phys_to_virt(paddr), pages * PAGE_SIZE as usize);
        // SAFETY: the frames were just allocated and are reached through the direct map;
        // talc has sole use of them until `release` takes them back.
        let heap = unsafe { talc.claim(span) }?;
        let h = &mut talc.oom_handler;
        if h.count < TRACKED {
            h.heaps[h.count] = heap;
            h.count += 1;
        }
        Ok(())
    }
}

/// The kernel heap: talc, with free lists of small blocks in front.
struct Heap {
    talc: Talck<spin::Mutex<()>, GrowFromFrames>,
    /// Never held while `talc` is locked by the same path, except by `trim`, which
    /// takes it inside talc's lock (so the order is always talc, then these).
    small: spin::Mutex<Lists>,
}

#[global_allocator]
static HEAP: Heap = Heap {
    talc: Talc::new(GrowFromFrames {
        heaps: [Span::empty(); TRACKED],
        count: 0,
    })
    .lock(),
    small: spin::Mutex::new(Lists::new()),
};

// SAFETY: small blocks are handed out once (popped from a list, or fresh from talc with
// their class's layout) and go back to talc with that same layout; everything else is
// talc's own GlobalAlloc.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        match class_of(layout) {
            Some(class) => {
                let kept = self.small.lock().pop(class);
                match kept {
                    Some(block) => block.as_ptr(),
                    // SAFETY: a class's layout has a non-zero size.
                    None => unsafe { self.talc.alloc(class_layout(class)) },
                }
            }
            // SAFETY: the caller's layout, as GlobalAlloc requires.
            None => unsafe { self.talc.alloc(layout) },
        }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match (class_of(layout), NonNull::new(ptr)) {
            (Some(class), Some(block)) => {
                // SAFETY: `ptr` was allocated with `layout`, so with its class's layout
                // (see `alloc`), and the caller no longer uses it.
                let kept = unsafe { self.small.lock().push(class, block) };
                if !kept {
                    // SAFETY: as above: it came from talc with this layout.
                    unsafe { self.talc.dealloc(ptr, class_layout(class)) }
                }
            }
            // SAFETY: `ptr` came from talc with `layout`.
            _ => unsafe { self.talc.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: GlobalAlloc's contract: `new_size`, rounded up to `layout.align()`,
        // does not overflow isize.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        match (class_of(layout), class_of(new_layout)) {
            // SAFETY: both large: talc's own block, as talc gave it.
            (None, None) => unsafe { self.talc.realloc(ptr, layout, new_size) },
            // The block already has the room of its whole class.
            (Some(old), Some(new)) if old == new => ptr,
            _ => {
                // SAFETY: a non-zero new layout (GlobalAlloc's contract).
                let new = unsafe { self.alloc(new_layout) };
                if !new.is_null() {
                    // SAFETY: both blocks hold at least the smaller size and are
                    // distinct allocations; the old one is freed with its layout.
                    unsafe {
                        core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                        self.dealloc(ptr, layout);
                    }
                }
                new
            }
        }
    }
}

/// The page-aligned run of addresses that holds `s` (empty for an empty span).
fn pages_over(s: Span) -> (u64, u64) {
    match s.get_base_acme() {
        Some((b, a)) if !s.is_empty() => (
            (b as u64) & !(PAGE_SIZE - 1),
            (a as u64).next_multiple_of(PAGE_SIZE),
        ),
        _ => (0, 0),
    }
}

/// Gives the frames of the heap's free whole pages at the ends of its runs back to
/// the frame allocator; returns how many. Called when program memory runs short
/// (`frames::free_at_least`), and by the heap itself when it cannot grow.
pub fn release() -> usize {
    trim(&mut HEAP.talc.lock())
}

/// `release` with the heap locked.
fn trim(talc: &mut Talc<GrowFromFrames>) -> usize {
    // The kept small blocks first, so that they do not hold whole pages.
    let taken = HEAP.small.lock().take_all();
    for (block, class) in taken {
        // SAFETY: a kept block came from talc with its class's layout and is unused.
        unsafe { talc.free(block, class_layout(class)) };
    }
    let mut freed = 0;
    let mut i = 0;
    while i < talc.oom_handler.count {
        let heap = talc.oom_handler.heaps[i];
        // SAFETY: `heap` is what claim or truncate returned for this run.
        let used = unsafe { talc.get_allocated_span(heap) };
        let (ub, ua) = pages_over(used);
        let (hb, ha) = pages_over(heap);
        if used.is_sized() && ub <= hb && ua >= ha {
            i += 1;
            continue; // no free whole page at either end
        }
        let keep = if used.is_sized() {
            Span::new(ub.max(hb) as *mut u8, ua.min(ha) as *mut u8).fit_within(heap)
        } else {
            Span::empty()
        };
        // SAFETY: `keep` lies in `heap` and holds all its allocated memory; talc is
        // locked, so nothing was allocated since get_allocated_span.
        let left = unsafe { talc.truncate(heap, keep) };
        // The pages of the run that `left` no longer touches leave the heap (a run
        // starts page-aligned and only ever shrinks to the pages over what is left,
        // so they are whole pages of its own).
        let (lb, la) = pages_over(left);
        for page in (hb..ha).step_by(PAGE_SIZE as usize) {
            if !(lb..la).contains(&page) {
                frames::free_unshared(page - PHYS_OFFSET);
                freed += 1;
            }
        }
        let h = &mut talc.oom_handler;
        if left.is_empty() {
            h.count -= 1;
            h.heaps[i] = h.heaps[h.count];
        } else {
            h.heaps[i] = left;
            i += 1;
        }
    }
    freed
}

/// A small static arena so the kernel can allocate before the frame allocator knows
/// the memory map.
const EARLY_HEAP_SIZE: usize = 64 * 1024;
#[repr(C, align(4096))]
struct EarlyHeap([u8; EARLY_HEAP_SIZE]);
static mut EARLY_HEAP: EarlyHeap = EarlyHeap([0; EARLY_HEAP_SIZE]);

pub fn init_early() {
    let base = (&raw mut EARLY_HEAP) as *mut u8;
    // SAFETY: EARLY_HEAP is a static used only as this heap memory, claimed once at boot.
    unsafe {
        let _ = HEAP
            .talc
            .lock()
            .claim(Span::from_base_size(base, EARLY_HEAP_SIZE));
    }
}
