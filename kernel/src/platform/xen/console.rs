//! The PV console: the `xencons_interface` ring shared with xenconsoled (page and event
//! channel from HVM params). Until it is set up, and if it never is, output goes to I/O
//! port 0xE9, which Xen prints in its own log as `(dN)` lines.

use super::{evtchn, hypercall};
use crate::arch::cpu;
use crate::arch::paging::phys_to_virt;
use core::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};

const IN: usize = 0;
const IN_SIZE: u32 = 1024;
const OUT: usize = 1024;
const OUT_SIZE: u32 = 2048;
const IN_CONS: usize = 3072;
const IN_PROD: usize = 3076;
const OUT_CONS: usize = 3080;
const OUT_PROD: usize = 3084;

/// Xen's debug port.
const EARLY_PORT: u16 = 0xe9;

/// How long a write waits for room in a full ring before dropping output.
const FULL_RING_WAIT_MS: u64 = 2000;

static RING: AtomicU64 = AtomicU64::new(0);
static PORT: AtomicU32 = AtomicU32::new(0);

/// Switches output from port 0xE9 to the PV console ring.
pub fn init() -> Result<(), &'static str> {
    let pfn = hypercall::hvm_get_param(hypercall::HVM_PARAM_CONSOLE_PFN)
        .map_err(|_| "no console page")?;
    let port = hypercall::hvm_get_param(hypercall::HVM_PARAM_CONSOLE_EVTCHN)
        .map_err(|_| "no console event channel")?;
    if pfn == 0 {
        return Err("no console page");
    }
    PORT.store(port as u32, Ordering::Relaxed);
    RING.store(phys_to_virt(pfn << 12) as u64, Ordering::Release);
    // Input arrives with an event: the interrupt wakes a halted CPU so that readers
    // polling the console see it at once.
    evtchn::bind(port as u32, || {})
}

fn idx(ring: u64, off: usize) -> *mut u32 {
    (ring as usize + off) as *mut u32
}

fn get(ring: u64, off: usize) -> u32 {
    // SAFETY: `ring` is the console ring page Xen gave at boot (direct map) and `off` an
    // aligned index field inside it.
    unsafe { idx(ring, off).read_volatile() }
}

fn set(ring: u64, off: usize, v: u32) {
    // SAFETY: as in `get`: an aligned index field of the console ring page.
    unsafe { idx(ring, off).write_volatile(v) }
}

pub fn write(bytes: &[u8]) {
    let ring = RING.load(Ordering::Acquire);
    if ring == 0 {
        for &b in bytes {
            cpu::outb(EARLY_PORT, b);
        }
        return;
    }
    let port = PORT.load(Ordering::Relaxed);
    let mut sent = 0;
    while sent < bytes.len() {
        let prod = get(ring, OUT_PROD);
        let room = (OUT_SIZE - prod.wrapping_sub(get(ring, OUT_CONS))) as usize;
        if room == 0 {
            if !wait_for_room(ring, port) {
                return; // xenconsoled is gone: drop the rest rather than hang
            }
            continue;
        }
        let n = room.min(bytes.len() - sent);
        for (i, &b) in bytes[sent..sent + n].iter().enumerate() {
            let at = ring as usize + OUT + (prod as usize + i) % OUT_SIZE as usize;
            // SAFETY: `at` is inside the ring page's output buffer (index taken modulo
            // OUT_SIZE).
            unsafe { (at as *mut u8).write_volatile(b) };
        }
        fence(Ordering::SeqCst);
        set(ring, OUT_PROD, prod.wrapping_add(n as u32));
        evtchn::notify(port);
        sent += n;
    }
}

fn wait_for_room(ring: u64, port: u32) -> bool {
    let deadline = evtchn::deadline_in_ms(FULL_RING_WAIT_MS);
    while get(ring, OUT_PROD).wrapping_sub(get(ring, OUT_CONS)) >= OUT_SIZE {
        if super::clock::system_time_ns() >= deadline {
            return false;
        }
        evtchn::poll(port, deadline);
    }
    true
}

/// Waits until xenconsoled has taken everything written (before shutting down, so
/// the last lines reach the log), at most `FULL_RING_WAIT_MS`.
pub fn flush() {
    let ring = RING.load(Ordering::Acquire);
    if ring == 0 {
        return;
    }
    let port = PORT.load(Ordering::Relaxed);
    let deadline = evtchn::deadline_in_ms(FULL_RING_WAIT_MS);
    while get(ring, OUT_PROD) != get(ring, OUT_CONS) && super::clock::system_time_ns() < deadline {
        evtchn::poll(port, deadline);
    }
}

pub fn has_input() -> bool {
    let ring = RING.load(Ordering::Acquire);
    ring != 0 && get(ring, IN_PROD) != get(ring, IN_CONS)
}

/// Takes what the console has received (0 when nothing is waiting).
pub fn try_read(buf: &mut [u8]) -> usize {
    let ring = RING.load(Ordering::Acquire);
    if ring == 0 {
        return 0;
    }
    let cons = get(ring, IN_CONS);
    let n = (get(ring, IN_PROD).wrapping_sub(cons) as usize).min(buf.len());
    fence(Ordering::SeqCst);
    for (i, b) in buf[..n].iter_mut().enumerate() {
        let at = ring as usize + IN + (cons as usize + i) % IN_SIZE as usize;
        // SAFETY: `at` is inside the ring page's input buffer (index taken modulo IN_SIZE).
        *b = unsafe { (at as *const u8).read_volatile() };
    }
    fence(Ordering::SeqCst);
    set(ring, IN_CONS, cons.wrapping_add(n as u32));
    if n > 0 {
        evtchn::notify(PORT.load(Ordering::Relaxed));
    }
    n
}
