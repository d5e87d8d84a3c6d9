//! The kernel heap: talc, growing on demand by claiming contiguous runs of frames
//! (through the direct map), so the heap costs only what the kernel actually uses.

use super::frames;
use crate::arch::paging::{phys_to_virt, PAGE_SIZE};
use core::alloc::Layout;
use talc::{OomHandler, Span, Talc, Talck};

/// Minimum growth step of the heap.
const GROW_STEP: usize = 128 * 1024;

pub struct GrowFromFrames;

impl OomHandler for GrowFromFrames {
    fn handle_oom(talc: &mut Talc<Self>, layout: Layout) -> Result<(), ()> {
        let want = (layout.size() + layout.align() + 256).max(GROW_STEP);
        let pages = want.div_ceil(PAGE_SIZE as usize);
        let paddr = frames::alloc_contiguous(pages).ok_or(())?;
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
