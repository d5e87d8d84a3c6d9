//! Device interrupts: each driver that wants interrupts gets a vector and a handler
//! (a closure, so it can carry what it must acknowledge); the vector then reaches the
//! CPU through MSI-X (`pci`) or an IOAPIC line (`ioapic`). The trap handler calls
//! `dispatch` for vectors in the device range, then signals end of interrupt. Handlers
//! run with interrupts off and only acknowledge their device and wake waiting threads
//! (they must not block).

use alloc::boxed::Box;
use spin::Mutex;

/// Device vectors: 0x30..0x40 (0x20 is the APIC timer, 0xff spurious).
pub const FIRST: u8 = 0x30;
const COUNT: usize = 16;

/// A device interrupt handler.
pub type Handler = Box<dyn Fn() + Send + Sync>;

static HANDLERS: Mutex<[Option<Handler>; COUNT]> = Mutex::new([const { None }; COUNT]);

/// A vector for `handler`, or None when all are taken.
pub fn allocate(handler: Handler) -> Option<u8> {
    let mut h = HANDLERS.lock();
    let slot = h.iter().position(Option::is_none)?;
    h[slot] = Some(handler);
    Some(FIRST + slot as u8)
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
