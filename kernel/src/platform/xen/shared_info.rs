//! The shared info page (Xen's `struct shared_info`), mapped into one of our frames
//! with XENMEM_add_to_physmap: vCPU 0's event flags and time record, the event channel
//! pending and mask bitmaps, and the wall clock. Offsets are the x86_64 layout.

use super::hypercall;
use crate::arch::paging::phys_to_virt;
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// `vcpu_info[0]` fields.
const UPCALL_PENDING: usize = 0;
const UPCALL_MASK: usize = 1;
const PENDING_SEL: usize = 8;
/// `vcpu_info[0].time` (struct vcpu_time_info).
pub const VCPU0_TIME: usize = 32;
/// `evtchn_pending[64]`, `evtchn_mask[64]` (64-bit words).
const EVTCHN_PENDING: usize = 2048;
const EVTCHN_MASK: usize = 2560;
/// `wc_version`, `wc_sec`, `wc_nsec`, `wc_sec_hi`.
pub const WC_VERSION: usize = 3072;
pub const WC_SEC: usize = 3076;
pub const WC_NSEC: usize = 3080;
pub const WC_SEC_HI: usize = 3084;

static BASE: AtomicU64 = AtomicU64::new(0);

/// Maps the shared info page at the frame `paddr`.
pub fn map(paddr: u64) -> Result<(), i64> {
    hypercall::add_to_physmap(hypercall::XENMAPSPACE_SHARED_INFO, 0, paddr)?;
    BASE.store(phys_to_virt(paddr) as u64, Ordering::Release);
    Ok(())
}

pub fn is_mapped() -> bool {
    BASE.load(Ordering::Acquire) != 0
}

fn at<T>(offset: usize) -> *mut T {
    (BASE.load(Ordering::Acquire) as usize + offset) as *mut T
}

pub fn read_u32(offset: usize) -> u32 {
    // SAFETY: BASE is Xen's shared-info page, mapped at boot before these are used; callers
    // pass offsets of aligned fields inside it.
    unsafe { at::<u32>(offset).read_volatile() }
}

pub fn read_u64(offset: usize) -> u64 {
    // SAFETY: an aligned field inside the mapped shared-info page.
    unsafe { at::<u64>(offset).read_volatile() }
}

fn word(offset: usize, port: u32) -> &'static AtomicU64 {
    // SAFETY: the pending/mask bitmaps lie inside the shared-info page and `port` is an
    // event channel port (< 4096), so the word is inside them; Xen updates them atomically
    // too.
    unsafe { &*at::<AtomicU64>(offset + 8 * (port as usize / 64)) }
}

fn bit(port: u32) -> u64 {
    1 << (port % 64)
}

pub fn set_upcall_mask(masked: bool) {
    // SAFETY: vCPU 0's upcall-mask byte inside the shared-info page, which Xen accesses
    // atomically too.
    unsafe { &*at::<AtomicU8>(UPCALL_MASK) }.store(masked as u8, Ordering::SeqCst);
}

/// Clears vCPU 0's "event pending" flag and takes the selector of words with pending
/// events (Xen's two-level scheme).
pub fn take_pending_selector() -> u64 {
    // SAFETY: vCPU 0's upcall-pending byte inside the shared-info page.
    unsafe { &*at::<AtomicU8>(UPCALL_PENDING) }.store(0, Ordering::SeqCst);
    // SAFETY: vCPU 0's pending selector word inside the shared-info page (aligned).
    unsafe { &*at::<AtomicU64>(PENDING_SEL) }.swap(0, Ordering::SeqCst)
}

/// Takes the pending, unmasked ports of word `w` (clearing their pending bits).
pub fn take_pending_word(w: usize) -> u64 {
    // SAFETY: word `w` (< 64, the selector's bits) of the pending bitmap inside the shared-
    // info page.
    let pending = unsafe { &*at::<AtomicU64>(EVTCHN_PENDING + 8 * w) };
    // SAFETY: word `w` (< 64) of the mask bitmap inside the shared-info page.
    let mask = unsafe { &*at::<AtomicU64>(EVTCHN_MASK + 8 * w) };
    let ready = pending.load(Ordering::SeqCst) & !mask.load(Ordering::SeqCst);
    pending.fetch_and(!ready, Ordering::SeqCst);
    ready
}

pub fn clear_pending(port: u32) {
    word(EVTCHN_PENDING, port).fetch_and(!bit(port), Ordering::SeqCst);
}

pub fn set_masked(port: u32, masked: bool) {
    let w = word(EVTCHN_MASK, port);
    if masked {
        w.fetch_or(bit(port), Ordering::SeqCst);
    } else {
        w.fetch_and(!bit(port), Ordering::SeqCst);
    }
}

pub fn mask_all() {
    for w in 0..64 {
        // SAFETY: word `w` (< 64) of the mask bitmap inside the shared-info page.
        unsafe { &*at::<AtomicU64>(EVTCHN_MASK + 8 * w) }.store(u64::MAX, Ordering::SeqCst);
    }
}
