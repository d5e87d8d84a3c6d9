//! What virtio-drivers needs from the kernel: DMA memory (contiguous frames, used
//! through the direct map), MMIO addresses (through the direct map too), and physical
//! addresses of buffers. Drivers only hand it kernel buffers (heap or direct map),
//! never program memory, so translation is a subtraction.

use crate::arch::paging::{phys_to_virt, KERNEL_VMA, PHYS_OFFSET};
use crate::mm::frames;
use core::ptr::NonNull;
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

pub struct KernelHal;

/// The physical address of kernel memory (the kernel image or the direct map).
pub(super) fn virt_to_phys(v: u64) -> u64 {
    if v >= KERNEL_VMA {
        v - KERNEL_VMA
    } else {
        assert!(
            v >= PHYS_OFFSET,
            "virtio: buffer {v:#x} is not kernel memory"
        );
        v - PHYS_OFFSET
    }
}

// SAFETY: DMA memory comes from whole, physically contiguous frames that nothing else
// uses until dma_dealloc frees them; physical and virtual addresses are related by the
// direct map, which covers all RAM; a shared buffer is kernel memory whose physical
// address virt_to_phys computes (no IOMMU, no bounce buffers).
unsafe impl Hal for KernelHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let paddr = frames::alloc_contiguous(pages).expect("virtio: out of memory for DMA");
        let vaddr = phys_to_virt(paddr);
        // SAFETY: the frames were just allocated for this call (`pages` contiguous ones)
        // and are reached through the direct map, so the range is ours to zero.
        unsafe { core::ptr::write_bytes(vaddr, 0, pages * 4096) };
        (paddr as PhysAddr, NonNull::new(vaddr).unwrap())
    }

    unsafe fn dma_dealloc(paddr: PhysAddr, _vaddr: NonNull<u8>, pages: usize) -> i32 {
        for i in 0..pages as u64 {
            frames::free(paddr + i * 4096);
        }
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(phys_to_virt(paddr)).unwrap()
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        virt_to_phys(buffer.as_ptr() as *mut u8 as u64) as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}
