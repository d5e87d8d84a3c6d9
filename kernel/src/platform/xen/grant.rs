//! The grant table (version 1): the first table frame mapped into one of our frames
//! with XENMAPSPACE_grant_table, and entries granting a backend domain access to one of
//! our pages. Grants are made once for a device's lifetime (rings and bounce pages), so
//! refs are handed out in order and never ended.

use super::hypercall;
use crate::arch::paging::phys_to_virt;
use core::sync::atomic::{fence, AtomicU16, AtomicU32, AtomicU64, Ordering};

const XENMAPSPACE_GRANT_TABLE: u32 = 1;
/// Entries in one frame (8 bytes each); refs below 8 are reserved for the toolstack.
const ENTRIES: u32 = 512;
const FIRST_FREE: u32 = 8;

const GTF_PERMIT_ACCESS: u16 = 1;
const GTF_READONLY: u16 = 1 << 2;

static TABLE: AtomicU64 = AtomicU64::new(0);
static NEXT: AtomicU32 = AtomicU32::new(FIRST_FREE);

/// Maps the grant table's first frame at our frame `paddr`.
pub fn init(paddr: u64) -> Result<(), &'static str> {
    hypercall::add_to_physmap(XENMAPSPACE_GRANT_TABLE, 0, paddr)
        .map_err(|_| "Xen refused to map the grant table")?;
    TABLE.store(phys_to_virt(paddr) as u64, Ordering::Release);
    Ok(())
}

/// Grants domain `domid` access to our page at `paddr`; returns the grant ref.
pub fn grant(domid: u16, paddr: u64, read_only: bool) -> Option<u32> {
    let table = TABLE.load(Ordering::Acquire);
    if table == 0 {
        return None;
    }
    let r = NEXT
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |r| {
            (r < ENTRIES).then_some(r + 1)
        })
        .ok()?;
    let entry = table as usize + 8 * r as usize;
    // SAFETY: `r < ENTRIES`, so the 8-byte entry lies inside the grant table pages mapped
    // at `table`.
    unsafe {
        ((entry + 2) as *mut u16).write_volatile(domid);
        ((entry + 4) as *mut u32).write_volatile((paddr >> 12) as u32);
    }
    // The flags last: they make the entry valid.
    fence(Ordering::SeqCst);
    let flags = GTF_PERMIT_ACCESS | if read_only { GTF_READONLY } else { 0 };
    // SAFETY: the flags field is an aligned u16 inside entry `r` of the mapped grant table,
    // which Xen also accesses atomically.
    unsafe { &*(entry as *const AtomicU16) }.store(flags, Ordering::SeqCst);
    Some(r)
}
