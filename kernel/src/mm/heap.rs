//! The kernel heap: talc, growing on demand by claiming contiguous runs of frames
//! (through the direct map), so the heap costs only what the kernel actually uses.
//! When no run of frames is left for an allocation, an infallible one ends in Rust's
//! allocation-failure panic ("memory allocation of N bytes failed"), which
//! `fault::kernel_panic` reports as running out of memory.

use super::frames;
use crate::arch::paging::{phys_to_virt, PAGE_SIZE};
use core::alloc::Layout;
use talc::{OomHandler, Span, Talc, Talck};

/// Minimum growth step of the heap.
const GROW_STEP: usize = 128 * 1024;

pub struct GrowFromFrames;

impl OomHandler for GrowFromFrames {
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        let need = layout.size() + layout.align() + 256;
        // A growth step if a run that long is free, else just what this allocation
        // needs (the last free frames are scattered).
        let (pages, paddr) = [need.max(GROW_STEP), need]
            .into_iter()
            .map(|bytes| bytes.div_ceil(PAGE_SIZE as usize))
            .find_map(|pages| frames::alloc_contiguous(pages).map(|p| (pages, p)))
            .ok_or(())?;
        let span = Span::from_base_size(phys_to_virt(paddr), pages * PAGE_SIZE as usize);
        // SAFETY: the frames were just allocated and are reached through the direct map;
        // talc gets sole use of them from now on (they are never freed).
        unsafe { talc.claim(span).map(|_| ()) }
    }
}

#[global_allocator]
static ALLOCATOR: Talck<spin::Mutex<()>, GrowFromFrames> = Talc::new(GrowFromFrames).lock();

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
