//! Network interfaces found at boot, in discovery order (`eth0`, `eth1`, ...): raw
//! Ethernet frames in and out. The TCP/IP stack sits on top; virtio-net is the first
//! implementation, Xen's netfront will be another.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use spin::{Mutex, Once};

/// A network card as the stack sees it.
pub trait NetDevice: Send + Sync {
    /// The hardware (MAC) address.
    fn mac(&self) -> [u8; 6];
    /// Largest frame it carries, Ethernet header included.
    fn mtu(&self) -> usize {
        1514
    }
    /// Whether a received frame raises an interrupt that wakes I/O waiters (else the
    /// stack must be polled periodically).
    fn interrupt_driven(&self) -> bool;
    /// Queues one frame for sending; false when the device has no room right now.
    /// The card may hold queued frames back until `kick`.
    fn transmit(&self, frame: &[u8]) -> bool;
    /// Tells the card about the frames queued since the last kick: the stack kicks
    /// once after each poll, so a poll that sends many frames rings the doorbell once.
    fn kick(&self) {}
    /// Waits (briefly) until every queued frame has left, before the VM powers off.
    fn flush(&self) {}
    /// The next received frame, if any.
    fn receive(&self) -> Option<Vec<u8>>;
    /// Which checksums the card (with its driver) takes off the stack's hands.
    fn checksum_offload(&self) -> ChecksumOffload {
        ChecksumOffload::default()
    }
}

/// Checksums a card computes or checks so the TCP/IP stack need not.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct ChecksumOffload {
    /// TCP and UDP checksums of sent frames: the stack leaves them empty.
    pub transmit: bool,
    /// TCP checksums of received frames: every frame handed to the stack has a
    /// verified one (or is not TCP).
    pub receive_tcp: bool,
}

static NICS: Mutex<Vec<Arc<dyn NetDevice>>> = Mutex::new(Vec::new());

/// What runs when a card has received a frame (or finished sending): installed once at
/// boot by the layer that waits on cards (`main` installs the I/O wait queue's
/// `fd::wait::notify`), so that drivers need not know what sits above them.
static ON_FRAME: Once<fn()> = Once::new();

/// Sets what `frame_arrived` runs (once, at boot, before the cards are probed).
pub fn set_frame_hook(hook: fn()) {
    ON_FRAME.call_once(|| hook);
}

/// Called by a driver (from its interrupt handler) when a frame arrived or a send
/// finished: wakes whoever waits on the cards.
pub fn frame_arrived() {
    if let Some(hook) = ON_FRAME.get() {
        hook();
    }
}

/// Adds an interface; returns its name.
pub fn register(dev: Arc<dyn NetDevice>) -> String {
    let mut n = NICS.lock();
    n.push(dev);
    format!("eth{}", n.len() - 1)
}

/// Whether every interface wakes waiters by interrupt (true when there are none).
pub fn all_interrupt_driven() -> bool {
    NICS.lock().iter().all(|n| n.interrupt_driven())
}

/// Whether some interface wakes waiters by interrupt.
pub fn any_interrupt_driven() -> bool {
    NICS.lock().iter().any(|n| n.interrupt_driven())
}

/// Every interface, in order.
pub fn all() -> Vec<Arc<dyn NetDevice>> {
    NICS.lock().clone()
}

/// Kicks every card (see `NetDevice::kick`).
pub fn kick_all() {
    for nic in NICS.lock().iter() {
        nic.kick();
    }
}

pub fn mac_string(mac: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    )
}
