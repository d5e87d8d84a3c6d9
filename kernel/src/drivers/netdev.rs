//! Network interfaces found at boot, in discovery order (`eth0`, `eth1`, ...): raw
//! Ethernet frames in and out. The TCP/IP stack sits on top; virtio-net is the first
//! implementation, Xen's netfront will be another.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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
    /// Queues one frame of `len` bytes that `fill` writes (every byte of it) into a
    /// buffer of the card's: the same as `transmit` without a frame buffer of the
    /// caller's in between. The default builds one.
    fn transmit_with(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> bool {
        let mut frame = alloc::vec![0u8; len];
        fill(&mut frame);
        self.transmit(&frame)
    }
    /// Tells the card about the frames queued since the last kick: kicks come once per
    /// batch of stack polls (see `kick_pending`), so the doorbell rings once for many
    /// frames.
    fn kick(&self) {}
    /// Waits (briefly) until every queued frame has left, before the VM powers off.
    fn flush(&self) {}
    /// The next received frame, if any.
    fn receive(&self) -> Option<Vec<u8>>;
    /// Whether a received frame waits that `receive` has not returned yet: a cheap look
    /// at the card (no interrupt involved), for the network layer's last look after a
    /// poll (`net::poll_stack`). False for a card that cannot tell cheaply.
    fn frame_waiting(&self) -> bool {
        false
    }
    /// Which checksums the card (with its driver) takes off the stack's hands.
    /// Whether the card cuts TCP segments of up to 64 KiB for the stack (large send:
    /// its `transmit` takes frames over `mtu`; `rumprun_net::tso::Segmenter`).
    fn large_send(&self) -> bool {
        false
    }
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

/// Whether some interface holds a received frame not yet taken (`NetDevice::frame_waiting`).
pub fn any_frame_waiting() -> bool {
    NICS.lock().iter().any(|n| n.frame_waiting())
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

// ----- batched kicks -----
//
// Each kick is a trap into the device model (under TCG most of a small request's
// cost when every reply had its own). A server's event loop writes its replies one
// syscall each and then waits (epoll_wait): the first poll that queues frames after
// a wait point kicks at once (a lone reply leaves as soon as it is written), and the
// frames of later polls before the next wait point join a batch that is kicked once,
// when the CPU is about to wait (a thread blocks or the CPU halts: the scheduler
// calls `kick_pending`; a readiness check or a sleep on sockets: the network layer
// does), when a ring fills (the driver), or at the latest `KICK_DELAY_NS` after the
// batch began (the timer, for a program that computes without entering the kernel).
// 50 replies then ring the doorbell twice rather than 50 times.

/// The longest a queued frame waits for its kick.
pub const KICK_DELAY_NS: u64 = 1_000_000;

/// A frame was queued since the last `schedule_kick`.
static QUEUED: AtomicBool = AtomicBool::new(false);
/// A poll queued frames since the last wait point (`kick_pending`).
static SINCE_WAIT: AtomicBool = AtomicBool::new(false);
/// When the pending batch must be kicked at the latest (monotonic ns); 0: none pending.
static KICK_DUE: AtomicU64 = AtomicU64::new(0);

/// Called by the stack's device layer for each frame it hands to a card.
pub fn frame_queued() {
    QUEUED.store(true, Ordering::Relaxed);
}

/// After a stack poll: kicks at once the frames of the first poll since the last wait
/// point; later ones join the pending batch, whose kick is armed when it starts.
pub fn schedule_kick(now_ns: u64) {
    if !QUEUED.swap(false, Ordering::Relaxed) {
        return;
    }
    if !SINCE_WAIT.swap(true, Ordering::Relaxed) {
        kick_all();
        return;
    }
    let started = KICK_DUE
        .compare_exchange(
            0,
            now_ns + KICK_DELAY_NS,
            Ordering::Relaxed,
            Ordering::Relaxed,
        )
        .is_ok();
    if started {
        KICK.arm(kick_due());
    }
}

/// A wait point: kicks the cards if frames wait for it.
pub fn kick_pending() {
    SINCE_WAIT.store(false, Ordering::Relaxed);
    // Both swapped (no short circuit): frames of a poll still running elsewhere are
    // kicked too rather than forgotten.
    let queued = QUEUED.swap(false, Ordering::Relaxed);
    if (KICK_DUE.swap(0, Ordering::Relaxed) != 0) | queued {
        kick_all();
    }
}

/// The pending batch's latest kick, as a timer in the scheduler's deadline queue
/// (armed when a batch starts): it fires on the timer interrupt of a program that
/// computes without entering the kernel.
static KICK: crate::sched::deadlines::Timer = crate::sched::deadlines::Timer::new(kick_if_due);

/// When the pending batch must be kicked, if one is pending.
fn kick_due() -> Option<u64> {
    match KICK_DUE.load(Ordering::Relaxed) {
        0 => None,
        at => Some(at),
    }
}

fn kick_if_due(now: u64) -> Option<u64> {
    if kick_due().is_some_and(|at| at <= now) {
        kick_pending();
    }
    kick_due()
}

pub fn mac_string(mac: [u8; 6]) -> String {
    format!(
        "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
        mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]
    )
}
