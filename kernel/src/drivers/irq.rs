//! Device interrupts: each driver that wants interrupts gets a vector and a handler
//! (a closure, so it can carry what it must acknowledge); the vector then reaches the
//! CPU through MSI-X (`pci`) or an IOAPIC line (`ioapic`), or is injected by the
//! hypervisor straight into the CPU (Xen's event channel callback: `allocate_direct`).
//! The trap handler calls `dispatch` for vectors in the device range, then signals end
//! of interrupt to the local APIC for the vectors that came through it. Handlers
//! run with interrupts off and only acknowledge their device and wake waiting threads
//! (they must not block).

use alloc::boxed::Box;
use core::sync::atomic::{AtomicU16, Ordering};
use spin::Mutex;

/// Device vectors: 0x30..0x40 (0x20 is the APIC timer, 0xff spurious).
pub const FIRST: u8 = 0x30;
const COUNT: usize = 16;

/// A device interrupt handler.
pub type Handler = Box<dyn Fn() + Send + Sync>;

static HANDLERS: Mutex<[Option<Handler>; COUNT]> = Mutex::new([const { None }; COUNT]);

/// The vectors (bit `vector - FIRST`) that do not come through the local APIC.
static DIRECT: AtomicU16 = AtomicU16::new(0);

/// A vector for `handler`, or None when all are taken.
pub fn allocate(handler: Handler) -> Option<u8> {
    let mut h = HANDLERS.lock();
    let slot = h.iter().position(Option::is_none)?;
    h[slot] = Some(handler);
    Some(FIRST + slot as u8)
}

/// A vector for `handler` that the hypervisor injects into the CPU directly, not
/// through the local APIC (Xen's HVM_PARAM_CALLBACK_IRQ vector): it takes no end of
/// interrupt. One there is nothing in service for is not only wasted (a trap to the
/// hypervisor): on the Xen test host (Xen under QEMU's TCG) a vCPU sometimes made no
/// progress for minutes right after it, its CPU time growing.
pub fn allocate_direct(handler: Handler) -> Option<u8> {
    let vector = allocate(handler)?;
    DIRECT.fetch_or(1 << (vector - FIRST), Ordering::Relaxed);
    Some(vector)
}

/// Whether device `vector` came through the local APIC, which then wants an end of
/// interrupt.
pub fn needs_eoi(vector: u8) -> bool {
    DIRECT.load(Ordering::Relaxed) & (1 << vector.wrapping_sub(FIRST)) == 0
}

/// Runs the handler of `vector` (a device interrupt).
pub fn dispatch(vector: u8) {
    if let Some(h) = HANDLERS.try_lock() {
        if let Some(Some(f)) = h.get(vector.wrapping_sub(FIRST) as usize) {
            f();
        }
    }
}

pub fn is_device_vector(vector: i64) -> bool {
    (FIRST as i64..FIRST as i64 + COUNT as i64).contains(&vector)
}
