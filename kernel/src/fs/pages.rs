//! The page cache's kernel side: tmpfs keeps file data in physical frames
//! (`rumprun_vfs::pages`), counted by `mm::frames` as fork's copy-on-write frames are,
//! so that a file mapping maps the file's own frames (`mm::address_space`). This
//! module installs the hooks that give the VFS those frames, and tells every process
//! when a truncated file's pages go.

use crate::arch::paging::{phys_to_virt, PAGE_SIZE, PHYS_OFFSET};
use crate::mm::frames;

/// Installs the page hooks (before the first file gets data).
pub fn install() {
    rumprun_vfs::install_page_hooks(rumprun_vfs::PageHooks {
        alloc_zeroed: frames::alloc_zeroed_for_program,
        add_ref: frames::share,
        release: frames::free,
        read: |frame, offset, buf| {
            assert!(offset + buf.len() <= PAGE_SIZE as usize);
            // SAFETY: a frame the VFS holds a reference to, reached through the direct
            // map; the range lies within the page (checked above). Programs may write
            // the page meanwhile (a MAP_SHARED mapping), as they may on Linux.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    phys_to_virt(frame).add(offset),
                    buf.as_mut_ptr(),
                    buf.len(),
                )
            }
        },
        write: |frame, offset, data| {
            assert!(offset + data.len() <= PAGE_SIZE as usize);
            // SAFETY: as in `read`; the VFS writes only pages it owns (not borrowed
            // payload pages).
            unsafe {
                core::ptr::copy_nonoverlapping(
                    data.as_ptr(),
                    phys_to_virt(frame).add(offset),
                    data.len(),
                )
            }
        },
        copy: |from, to| {
            // SAFETY: two whole frames in the direct map; `to` is new, nobody else
            // holds it.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    phys_to_virt(from),
                    phys_to_virt(to),
                    PAGE_SIZE as usize,
                )
            }
        },
        invalidate,
        shared: frames::is_shared,
        spare: frames::spare,
    });
    // Clean pages of the image's files (read from its disk) go back when program
    // memory runs out.
    frames::set_reclaim_hook(rumprun_vfs::store::reclaim);
}

/// Pages `[first, end)` of file `key` left its page cache: every process drops its
/// mappings of them (in its own address space, which `in_process` switches to). A
/// vfork child is skipped: its tables are its parent's.
fn invalidate(key: (u64, u64), first: u64, end: u64) {
    let procs: alloc::vec::Vec<_> = crate::process::all()
        .filter(|p| !p.borrows_tables())
        .collect();
    for p in procs {
        crate::process::fork::in_process(p, || {
            crate::mm::address_space::drop_file_pages(key, first, end)
        });
    }
}

/// The physical page a baked file's data starts at, when it starts a page inside the
/// payload (which stays in place for good): the file borrows its pages, no copy.
pub fn payload_page(data: &[u8]) -> Option<u64> {
    let (start, end) = crate::payload::physical_range()?;
    let virt = data.as_ptr() as u64;
    let phys = virt.checked_sub(PHYS_OFFSET)?;
    (data.len() >= PAGE_SIZE as usize
        && phys.is_multiple_of(PAGE_SIZE)
        && start <= phys
        && phys + data.len() as u64 <= end)
        .then_some(phys)
}
