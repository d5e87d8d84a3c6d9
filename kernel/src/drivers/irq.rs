//! Device interrupts: each driver that wants interrupts gets a vector (MSI-X) and a
//! handler; the trap handler calls `dispatch` for vectors in the device range. Handlers
//! run with interrupts off and only wake waiting threads (they must not block).

use spin::Mutex;

/// Device vectors: 0x30..0x40 (0x20 is the APIC timer, 0xff spurious).
pub const FIRST: u8 = 0x30;
const COUNT: usize = 16;

/// A device interrupt handler.
type Handler = fn();

static HANDLERS: Mutex<[Option<Handler>; COUNT]> = Mutex::new([None; COUNT]);

/// A vector for `handler`, or None when all are taken.
pub fn allocate(handler: Handler) -> Option<u8> {
    let mut h = HANDLERS.lock();
    let slot = h.iter().position(Option::is_none)?;
    h[slot] = Some(handler);
    Some(FIRST + slot as u8)
}

/// Runs the handler of `vector` (a device interrupt).
pub fn dispatch(vector: u8) {
    let handler = HANDLERS.try_lock().and_then(|h| {
        h.get(vector.wrapping_sub(FIRST) as usize)
            .copied()
            .flatten()
    });
    if let Some(f) = handler {
        f();
    }
}

pub fn is_device_vector(vector: i64) -> bool {
    (FIRST as i64..FIRST as i64 + COUNT as i64).contains(&vector)
}
