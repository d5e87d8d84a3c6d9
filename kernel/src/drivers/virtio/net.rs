//! virtio-net (virtio 1.2 §5.1): Ethernet frames through a receive and a transmit
//! split virtqueue (`virtqueue`), over virtio-drivers' PCI or MMIO transport. Owns
//! feature negotiation (MAC, VERSION_1, checksum offload), the virtio-net header in
//! front of every frame, and keeping the receive ring full: each buffer is recycled
//! once its frame is copied out; receive interrupts (MSI-X on PCI, the device's IOAPIC
//! line on MMIO) wake the threads waiting on sockets, which then poll the TCP/IP stack
//! (`net`). Sending does not wait for the device: a frame stays queued (up to the
//! ring's size) and its buffer is reclaimed on a later send, so QEMU can take many at
//! once; transmit completions need no interrupt. `flush` waits until all are sent.
//!
//! Checksum offload, when the device offers it (QEMU does with a tap backend that has
//! vnet headers, never with user networking): with CSUM the stack leaves TCP/UDP
//! checksums empty and the driver asks the device to complete them (`NEEDS_CSUM`
//! with the pseudo-header sum in place); with GUEST_CSUM, received TCP frames the
//! device marks `DATA_VALID` skip verification, frames with a partial checksum (from
//! the host's own stack) are completed, and other TCP frames are verified here, so
//! the stack need not. The packet logic is `rumprun_net::offload`.
//!
//! TSO, when the device offers HOST_TSO4/HOST_TSO6 (QEMU does with a tap backend):
//! with both, large send (`rumprun_net::tso::Segmenter`): the stack is told a 64 KiB
//! MTU, peers' SYNs are given to it with a raised MSS (the real one remembered per
//! connection), so smoltcp builds segments of up to 64 KiB once, each queued as one
//! frame that the device (the host kernel) cuts at the real MSS; frames over the
//! wire's MTU that are not TCP go as IP fragments. Smaller TCP segments queued for a
//! connection since the last kick are still joined into one frame of up to 64 KiB
//! (`rumprun_net::tso::Joiner`; the only way with one family's TSO), so a burst is
//! one descriptor and one trip through the device model instead of one per segment.

use super::virtqueue::SplitQueue;
use super::{Interrupts, Transport};
use crate::drivers::netdev::{self, ChecksumOffload, NetDevice};
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, Ordering};
use rumprun_net::offload::{self, Transport as L4, Verdict};
use rumprun_net::tso::{Gso, Joiner, Large, Segmenter};
use spin::Mutex;
use virtio_drivers::transport::{DeviceStatus, Transport as _};
use virtio_drivers::PAGE_SIZE;

const QUEUE_SIZE: u16 = 64;
/// The wire's IP MTU (the device's `mtu` field is not negotiated).
const ETHERNET_MTU: usize = 1500;
const BUF_LEN: usize = 2048;
const RECEIVE_QUEUE: u16 = 0;
const TRANSMIT_QUEUE: u16 = 1;
/// How long a send waits for room in a full transmit ring before dropping the frame.
const FULL_RING_WAIT_NS: u64 = 10_000_000;
/// How long `flush` waits for the device to send what is queued.
const FLUSH_TIMEOUT_NS: u64 = 100_000_000;

/// Feature bits (virtio 1.2 §5.1.3, §6).
const F_CSUM: u64 = 1 << 0;
const F_GUEST_CSUM: u64 = 1 << 1;
const F_MAC: u64 = 1 << 5;
const F_HOST_TSO4: u64 = 1 << 11;
const F_HOST_TSO6: u64 = 1 << 12;
const F_ANY_LAYOUT: u64 = 1 << 27;
const F_EVENT_IDX: u64 = 1 << 29;
const F_VERSION_1: u64 = 1 << 32;

/// virtio_net_hdr flags and gso types (§5.1.6).
const HDR_F_NEEDS_CSUM: u8 = 1;
const HDR_F_DATA_VALID: u8 = 2;
const HDR_GSO_TCPV4: u8 = 1;
const HDR_GSO_TCPV6: u8 = 4;
/// The header: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset, and with
/// VERSION_1 num_buffers.
const HEADER_LEN_V1: usize = 12;
const HEADER_LEN_LEGACY: usize = 10;
const HDR_GSO_TYPE: usize = 1;
const HDR_HDR_LEN: usize = 2;
const HDR_GSO_SIZE: usize = 4;
const HDR_CSUM_START: usize = 6;
const HDR_CSUM_OFFSET: usize = 8;

/// Whether checksum offload may be negotiated (`RUMPRUN_NET_OFFLOAD=0` turns it off,
/// to compare).
static OFFLOAD_ALLOWED: AtomicBool = AtomicBool::new(true);

/// Lets (or stops) cards started from now on negotiate checksum offload.
pub fn allow_offload(allowed: bool) {
    OFFLOAD_ALLOWED.store(allowed, Ordering::Relaxed);
}

pub struct VirtioNet {
    queues: Mutex<Queues>,
    mac: [u8; 6],
    interrupts: bool,
    offload: ChecksumOffload,
    header_len: usize,
    /// `Queues::segmenter` is there.
    large_send: bool,
}

/// The device and its two rings.
struct Queues {
    transport: Transport,
    rx: SplitQueue,
    tx: SplitQueue,
    /// With TSO: the TCP segments queued since the last kick, joined (sent at `kick`).
    joiner: Option<Joiner>,
    /// With TSO: where the stack writes each frame before the joiner takes it.
    scratch: Vec<u8>,
    /// With TSO over IPv4 and IPv6: large send (the stack builds segments of up to
    /// 64 KiB, this cuts them; see `rumprun_net::tso::Segmenter`).
    segmenter: Option<Segmenter>,
}

impl Queues {
    /// Hands an empty receive buffer back to the device.
    fn give_rx(&mut self, buf: Vec<u8>) {
        // The receive ring has a descriptor for each of its buffers: never full here.
        let _ = self.rx.add(buf, BUF_LEN, true);
        self.rx.notify(&mut self.transport);
    }

    /// Frees the buffers of frames the device has sent; true when none is left.
    fn reap_sent(&mut self) -> bool {
        while let Some((buf, _)) = self.tx.pop_used() {
            if let Some(j) = self.joiner.as_mut() {
                j.recycle(buf);
            }
        }
        self.tx.is_idle()
    }
}

/// A frame arrived: wake every I/O waiter (through the hook `netdev` was given); the
/// socket waiters poll the stack.
fn on_receive() {
    crate::drivers::netdev::frame_arrived();
}

/// Features we ask for among those offered. A device offering VERSION_1 must get it.
fn wanted_features(offered: u64) -> u64 {
    let mut wanted = F_VERSION_1 | F_MAC | F_ANY_LAYOUT | F_EVENT_IDX;
    if OFFLOAD_ALLOWED.load(Ordering::Relaxed) {
        wanted |= F_CSUM | F_GUEST_CSUM | F_HOST_TSO4 | F_HOST_TSO6;
    }
    let mut features = offered & wanted;
    if features & F_CSUM == 0 {
        // TSO needs the device to complete checksums (§5.1.3.1).
        features &= !(F_HOST_TSO4 | F_HOST_TSO6);
    }
    features
}

/// Device initialisation (§3.1.1) up to DRIVER_OK, with both rings set up and the
/// receive ring full. Returns the negotiated features.
fn initialise(transport: &mut Transport) -> Result<(u64, SplitQueue, SplitQueue), &'static str> {
    transport.set_status(DeviceStatus::empty());
    transport.set_status(DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER);
    let features = wanted_features(transport.read_device_features());
    transport.write_driver_features(features);
    let features_ok = DeviceStatus::ACKNOWLEDGE | DeviceStatus::DRIVER | DeviceStatus::FEATURES_OK;
    transport.set_status(features_ok);
    if !transport.get_status().contains(DeviceStatus::FEATURES_OK) {
        return Err("it refused our features");
    }
    transport.set_guest_page_size(PAGE_SIZE as u32);
    let event_idx = features & F_EVENT_IDX != 0;
    let mut rx = SplitQueue::new(transport, RECEIVE_QUEUE, QUEUE_SIZE, event_idx)?;
    let tx = match SplitQueue::new(transport, TRANSMIT_QUEUE, QUEUE_SIZE, event_idx) {
        Ok(tx) => tx,
        Err(why) => {
            // Reset before the receive ring is freed: the device lets go of it.
            transport.set_status(DeviceStatus::empty());
            return Err(why);
        }
    };
    while rx.has_room() {
        let _ = rx.add(vec![0u8; BUF_LEN], BUF_LEN, true);
    }
    transport.finish_init();
    rx.notify(transport);
    Ok((features, rx, tx))
}

fn describe_offload(offered: u64, offload: ChecksumOffload) -> &'static str {
    match (offload.transmit, offload.receive_tcp) {
        (true, true) => "tx and rx",
        (true, false) => "tx only",
        (false, true) => "rx only",
        (false, false) if offered & (F_CSUM | F_GUEST_CSUM) == 0 => "none (not offered)",
        (false, false) => "none (turned off by RUMPRUN_NET_OFFLOAD=0)",
    }
}

pub fn start(mut transport: Transport, interrupts: Interrupts, verbose: bool) {
    let offered = transport.read_device_features();
    let (features, mut rx, mut tx) = match initialise(&mut transport) {
        Ok(started) => started,
        Err(why) => {
            // Reset: the device lets go of any ring before they are freed.
            transport.set_status(DeviceStatus::empty());
            kprintln!("rumprun: virtio-net: cannot start: {why}");
            return;
        }
    };
    let mac = match transport.read_config_space::<[u8; 6]>(0) {
        Ok(mac) if features & F_MAC != 0 => mac,
        _ => {
            // No address from the device: a fixed locally administered one.
            [0x02, 0, 0, 0, 0, 0x01]
        }
    };
    let irq = interrupts.connect(RECEIVE_QUEUE, on_receive);
    rx.set_interrupts(irq);
    tx.set_interrupts(false);
    for (queue, index) in [(&mut rx, RECEIVE_QUEUE), (&mut tx, TRANSMIT_QUEUE)] {
        if let Some(register) = super::doorbell(&interrupts, index) {
            // SAFETY: the queue's notification register in the device's memory BAR
            // (assigned below 4 GiB, in the direct map), which the device keeps for
            // as long as the driver (never stopped) runs.
            unsafe { queue.set_doorbell(register) };
        }
    }
    let offload = ChecksumOffload {
        transmit: features & F_CSUM != 0,
        receive_tcp: features & F_GUEST_CSUM != 0,
    };
    let header_len = if features & F_VERSION_1 != 0 {
        HEADER_LEN_V1
    } else {
        HEADER_LEN_LEGACY
    };
    let (tso4, tso6) = (features & F_HOST_TSO4 != 0, features & F_HOST_TSO6 != 0);
    let joiner = (tso4 || tso6).then(|| Joiner::new(header_len, tso4, tso6));
    // The stack sends one MTU for both families: large send only when the card cuts
    // both (QEMU's tap backend does).
    let segmenter = (tso4 && tso6).then(|| Segmenter::new(ETHERNET_MTU));
    let nic = Arc::new(VirtioNet {
        queues: Mutex::new(Queues {
            transport,
            rx,
            tx,
            joiner,
            scratch: Vec::new(),
            segmenter,
        }),
        mac,
        interrupts: irq,
        offload,
        header_len,
        large_send: tso4 && tso6,
    });
    let name = netdev::register(nic);
    if verbose {
        kprintln!(
            "rumprun: {name}: virtio-net, mac {}, {}, checksum offload: {}, TSO: {}{}",
            netdev::mac_string(mac),
            interrupts.describe(irq),
            describe_offload(offered, offload),
            match (tso4, tso6) {
                (true, true) => "IPv4 and IPv6",
                (true, false) => "IPv4",
                (false, true) => "IPv6",
                (false, false) => "none",
            },
            if tso4 && tso6 { " (large send)" } else { "" }
        );
    }
}

impl VirtioNet {
    /// Whether a received frame (header first) may go to the stack, with its TCP
    /// checksum known good when the stack no longer checks it.
    fn accept_received(&self, packet: &mut [u8]) -> bool {
        if !self.offload.receive_tcp {
            return true;
        }
        let (header, frame) = packet.split_at_mut(self.header_len);
        if header[0] & HDR_F_NEEDS_CSUM != 0 {
            let start = u16::from_le_bytes([header[HDR_CSUM_START], header[HDR_CSUM_START + 1]]);
            let offset = u16::from_le_bytes([header[HDR_CSUM_OFFSET], header[HDR_CSUM_OFFSET + 1]]);
            return offload::complete_partial(frame, start.into(), offset.into());
        }
        if header[0] & HDR_F_DATA_VALID != 0 {
            return true;
        }
        match offload::verify(frame) {
            Verdict::Valid(_) | Verdict::Other => true,
            Verdict::Invalid(_) => false,
            // The stack checks reassembled UDP itself, but not TCP any more.
            Verdict::Fragment(L4::Udp) => true,
            Verdict::Fragment(L4::Tcp) => false,
        }
    }
}

impl VirtioNet {
    /// Sends a frame longer than the wire's MTU (large send): built in one of the
    /// joiner's buffers, then queued for the card to cut, or as IP fragments.
    fn send_large(&self, q: &mut Queues, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> bool {
        // what is held goes first, to keep the order
        self.send_joined(q);
        let total = self.header_len + len;
        let mut buf = match q.joiner.as_mut() {
            Some(j) => j.buffer(total),
            None => vec![0u8; total],
        };
        fill(&mut buf[self.header_len..total]);
        let large = q
            .segmenter
            .as_ref()
            .and_then(|s| s.transmit(&mut buf[self.header_len..total]));
        match large {
            Some(Large::Cut(gso)) => self.enqueue(q, buf, total, Some(gso)),
            Some(Large::Fragments(fragments)) => fragments.into_iter().all(|f| {
                let mut b = vec![0u8; self.header_len + f.len()];
                b[self.header_len..].copy_from_slice(&f);
                let n = b.len();
                self.enqueue(q, b, n, None)
            }),
            Some(Large::Drop) => false,
            None => self.enqueue(q, buf, total, None),
        }
    }

    /// Queues the frame the joiner holds, if any.
    fn send_joined(&self, q: &mut Queues) {
        if let Some((buf, len, gso)) = q.joiner.as_mut().and_then(|j| j.take()) {
            self.enqueue(q, buf, len, gso);
        }
    }

    /// Queues `buf` (a frame behind `header_len` bytes for the header) for sending:
    /// the header asks the device to complete the TCP/UDP checksum (with checksum
    /// offload) and, for a joined frame, to cut it as `gso` says. Not notified here:
    /// `kick` does it once for a batch of frames (`netdev::kick_pending`; each notification is a
    /// trap to the device model, under TCG most of a request's cost when every frame
    /// had its own). The frame is `buf[header_len..len]`. False when the ring stayed
    /// full and the frame was dropped.
    fn enqueue(&self, q: &mut Queues, mut buf: Vec<u8>, len: usize, gso: Option<Gso>) -> bool {
        let (header, body) = buf[..len].split_at_mut(self.header_len);
        let partial = match gso {
            Some(g) => {
                header[HDR_GSO_TYPE] = if g.ipv6 { HDR_GSO_TCPV6 } else { HDR_GSO_TCPV4 };
                header[HDR_HDR_LEN..HDR_HDR_LEN + 2]
                    .copy_from_slice(&(g.header_len as u16).to_le_bytes());
                header[HDR_GSO_SIZE..HDR_GSO_SIZE + 2]
                    .copy_from_slice(&(g.mss as u16).to_le_bytes());
                Some(g.partial)
            }
            None if self.offload.transmit => offload::prepare_transmit(body),
            None => None,
        };
        if let Some(partial) = partial {
            header[0] = HDR_F_NEEDS_CSUM;
            header[HDR_CSUM_START..HDR_CSUM_START + 2]
                .copy_from_slice(&(partial.start as u16).to_le_bytes());
            header[HDR_CSUM_OFFSET..HDR_CSUM_OFFSET + 2]
                .copy_from_slice(&(partial.offset as u16).to_le_bytes());
        }
        q.reap_sent();
        if !q.tx.has_room() {
            // The ring is full: tell the device about what it holds and give it a
            // moment rather than drop the frame (a dropped TCP segment costs a
            // retransmission timeout).
            let Queues { transport, tx, .. } = &mut *q;
            tx.notify(transport);
            let deadline = crate::time::monotonic_ns() + FULL_RING_WAIT_NS;
            while !q.reap_sent() && !q.tx.has_room() && crate::time::monotonic_ns() < deadline {
                crate::arch::cpu::pause();
            }
        }
        q.tx.add(buf, len, false).is_ok()
    }
}

impl NetDevice for VirtioNet {
    fn mac(&self) -> [u8; 6] {
        self.mac
    }
    fn interrupt_driven(&self) -> bool {
        self.interrupts
    }
    fn checksum_offload(&self) -> ChecksumOffload {
        self.offload
    }
    fn large_send(&self) -> bool {
        self.large_send
    }
    fn transmit(&self, frame: &[u8]) -> bool {
        self.transmit_with(frame.len(), &mut |buf| buf.copy_from_slice(frame))
    }
    fn transmit_with(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> bool {
        let mut q = self.queues.lock();
        if q.segmenter.as_ref().is_some_and(|s| s.is_large(len)) {
            return self.send_large(&mut q, len, fill);
        }
        if q.joiner.is_some() {
            // A segment that continues the held frame is written straight into it;
            // others go through a buffer kept for this (not allocated and zeroed each
            // time), the first of a run copied from there into the joiner's.
            let Queues {
                joiner, scratch, ..
            } = &mut *q;
            if joiner
                .as_mut()
                .is_some_and(|j| j.push_with(len, fill, scratch))
            {
                return true;
            }
            // Not joined: what is held goes first, to keep the order, then the frame
            // alone or as the start of the next run.
            self.send_joined(&mut q);
            let Queues {
                joiner, scratch, ..
            } = &mut *q;
            if joiner.as_mut().is_some_and(|j| j.push(&scratch[..len])) {
                return true;
            }
            let mut buf = vec![0u8; self.header_len + len];
            buf[self.header_len..].copy_from_slice(&q.scratch[..len]);
            if let Some(s) = q.segmenter.as_ref() {
                // a SYN's MSS back to the wire's (the frame is not large)
                let _ = s.transmit(&mut buf[self.header_len..]);
            }
            return self.enqueue(&mut q, buf, self.header_len + len, None);
        }
        // Written straight behind the virtio-net header, in the buffer the ring takes.
        let mut buf = vec![0u8; self.header_len + len];
        fill(&mut buf[self.header_len..]);
        let total = buf.len();
        self.enqueue(&mut q, buf, total, None)
    }
    fn kick(&self) {
        let mut q = self.queues.lock();
        self.send_joined(&mut q);
        let Queues { transport, tx, .. } = &mut *q;
        tx.notify(transport);
    }
    fn receive(&self) -> Option<Vec<u8>> {
        let mut q = self.queues.lock();
        loop {
            let (mut buf, len) = q.rx.pop_used()?;
            let len = len.min(buf.len());
            let mut frame = (len > self.header_len && self.accept_received(&mut buf[..len]))
                .then(|| buf[self.header_len..len].to_vec());
            q.give_rx(buf);
            if let (Some(s), Some(f)) = (q.segmenter.as_mut(), frame.as_mut()) {
                s.received(f);
            }
            if frame.is_some() {
                return frame;
            }
        }
    }
    fn frame_waiting(&self) -> bool {
        self.queues.lock().rx.has_used()
    }
    fn flush(&self) {
        self.kick();
        let deadline = crate::time::monotonic_ns() + FLUSH_TIMEOUT_NS;
        while !self.queues.lock().reap_sent() && crate::time::monotonic_ns() < deadline {
            crate::arch::cpu::pause();
        }
    }
}
