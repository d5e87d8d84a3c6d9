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

use super::frames;
use crate::arch::paging::{phys_to_virt, PAGE_SIZE, PHYS_OFFSET};
use core::alloc::Layout;
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

#[global_allocator]
static ALLOCATOR: Talck<spin::Mutex<()>, GrowFromFrames> = Talc::new(GrowFromFrames {
    heaps: [Span::empty(); TRACKED],
    count: 0,
})
.lock();

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
    trim(&mut ALLOCATOR.lock())
}

/// `release` with the heap locked.
fn trim(talc: &mut Talc<GrowFromFrames>) -> usize {
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
        let _ = ALLOCATOR
            .lock()
            .claim(Span::from_base_size(base, EARLY_HEAP_SIZE));
    }
}
